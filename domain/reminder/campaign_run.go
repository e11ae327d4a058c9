package reminder

import (
	"context"
	"fmt"
	"time"

	"github.com/jifen/jifen/domain"
)

// RunReport counts what one RunDue did.
type RunReport struct {
	Claimed  int // runs started or resumed
	Members  int // audience members seen
	Enqueued int // new outbox rows
	Finished int // runs completed
}

// RunDue runs every campaign due at now: it claims each with a conditional
// update (so two instances never run one campaign at once), pages through
// the audience, enqueues one message per member on the first channel that
// reaches them (or a skipped "none" row saying why), and ends the run: done
// for a single run, scheduled at the next firing for a cron. A crashed run
// is resumed by whoever claims it after its lease, under the same run
// number, so members already enqueued get nothing new.
func (s *Campaigns) RunDue(ctx context.Context, now time.Time) (RunReport, error) {
	var rep RunReport
	due, err := s.Store.DueCampaigns(ctx, now, 20)
	if err != nil {
		return rep, fmt.Errorf("due campaigns: %w", err)
	}
	for i := range due {
		c := &due[i]
		run := c.OpenRun
		if run == 0 {
			run = c.Runs + 1
		}
		ok, err := s.Store.ClaimCampaign(ctx, c, run, now, now.Add(s.lease()))
		if err != nil {
			return rep, fmt.Errorf("claim campaign %d: %w", c.ID, err)
		}
		if !ok {
			continue // another instance has it
		}
		rep.Claimed++
		if err := s.run(ctx, c, run, now, &rep); err != nil {
			return rep, fmt.Errorf("campaign %d run %d: %w", c.ID, run, err)
		}
	}
	return rep, nil
}

func (s *Campaigns) run(ctx context.Context, c *Campaign, run int, now time.Time, rep *RunReport) error {
	key := c.Key(run)
	stopped := false
	err := s.eachAudiencePage(ctx, c, now, func(ms []AudienceMember) (bool, error) {
		rep.Members += len(ms)
		ds, err := s.deliveries(ctx, c, key, now, ms)
		if err != nil {
			return false, err
		}
		// The heartbeat and the page commit together: a pause or cancel
		// committed first stops the run before it enqueues more, and a
		// cancel committed after sees (and skips) this page.
		err = s.Tx.InTx(ctx, func(ctx context.Context) error {
			alive, err := s.Store.Heartbeat(ctx, c.ID, run, s.Clock.Now().Add(s.lease()))
			if err != nil || !alive {
				stopped = !alive
				return err
			}
			ids := make([]int64, len(ds))
			for i, d := range ds {
				ids[i] = d.MemberID
			}
			// A resumed run may choose another channel for a member than the
			// interrupted one did: one message per member and run.
			have, err := s.Store.Enqueued(ctx, key, ids)
			if err != nil {
				return err
			}
			fresh := ds[:0]
			for _, d := range ds {
				if !have[d.MemberID] {
					fresh = append(fresh, d)
				}
			}
			n, err := s.Outbox.Enqueue(ctx, fresh)
			rep.Enqueued += n
			return err
		})
		return err == nil && !stopped, err
	})
	if err != nil || stopped {
		return err
	}
	st, next := CampaignDone, (*time.Time)(nil)
	if c.Spec.Schedule.Cron != "" {
		cr, err := parseCron(c.Spec.Schedule.Cron)
		if err != nil {
			return err
		}
		n := cr.Next(s.Clock.Now()).UTC()
		st, next = CampaignScheduled, &n
	}
	ok, err := s.Store.FinishRun(ctx, c.ID, run, st, next, s.Clock.Now())
	if ok {
		rep.Finished++
	}
	return err
}

// eachAudiencePage calls fn with each page of c's audience at now until fn
// returns false. With expiring_within_days the ledger pages the members
// whose points expire in [now, now+N days) and the other filters apply per
// page; otherwise the members are paged with their balances.
func (s *Campaigns) eachAudiencePage(ctx context.Context, c *Campaign, now time.Time, fn func([]AudienceMember) (bool, error)) error {
	a := c.Spec.Audience
	page := s.Page
	if page <= 0 {
		page = 500
	}
	lowest := ""
	if len(s.Config.Tiers) > 0 {
		lowest = s.Config.Tiers[0]
	}
	after := int64(0)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		var ms []AudienceMember
		var last int64
		more := false
		if a.ExpiringWithinDays > 0 {
			exp, err := s.Ledger.ExpiringBetween(ctx, now, now.AddDate(0, 0, a.ExpiringWithinDays), after, page)
			if err != nil {
				return fmt.Errorf("expiring points: %w", err)
			}
			if len(exp) == 0 {
				return nil
			}
			more, last = len(exp) == page, exp[len(exp)-1].MemberID
			ids := make([]int64, 0, len(exp))
			for _, e := range exp {
				if e.Amount > 0 && e.Amount >= a.MinPoints {
					ids = append(ids, e.MemberID)
				}
			}
			keep, err := s.Audience.Filter(ctx, ids, a, lowest, now)
			if err != nil {
				return fmt.Errorf("audience filters: %w", err)
			}
			for _, e := range exp {
				if keep[e.MemberID] {
					ms = append(ms, AudienceMember{MemberID: e.MemberID, Points: e.Amount, FirstExpiry: e.FirstExpiry})
				}
			}
		} else {
			var err error
			ms, err = s.Audience.Balances(ctx, a, lowest, now, after, page)
			if err != nil {
				return fmt.Errorf("audience: %w", err)
			}
			if len(ms) == 0 {
				return nil
			}
			more, last = len(ms) == page, ms[len(ms)-1].MemberID
		}
		if len(ms) > 0 {
			goOn, err := fn(ms)
			if err != nil || !goOn {
				return err
			}
		}
		if !more {
			return nil
		}
		after = last
	}
}

// deliveries builds one outbox row per member of a page: the first of the
// campaign's channels that reaches them, rendered with the builtin and the
// campaign's variables, or a skipped "none" row with the reasons.
func (s *Campaigns) deliveries(ctx context.Context, c *Campaign, key string, now time.Time, ms []AudienceMember) ([]Delivery, error) {
	ids := make([]int64, len(ms))
	for i, m := range ms {
		ids[i] = m.MemberID
	}
	rcpt, err := s.Recipients.Recipients(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("recipients: %w", err)
	}
	ts := map[Channel]MessageTemplate{}
	for ch, name := range c.Spec.Templates {
		if t, ok := s.Config.Templates[name]; ok {
			ts[ch] = t
		}
	}
	quiet := c.Spec.Quiet()
	out := make([]Delivery, 0, len(ms))
	for _, m := range ms {
		r, ok := rcpt[m.MemberID]
		if !ok {
			r = Recipient{MemberID: m.MemberID}
		}
		d := Delivery{Campaign: key, MemberID: m.MemberID, NextAt: now, Quiet: quiet}
		ch, to, reason := Choose(r, c.Spec.Channels, ts)
		d.Channel = ch
		if ch == None {
			d.Status, d.Reason = Skipped, reason
			out = append(out, d)
			continue
		}
		vars := map[string]string{"points": FormatPoints(m.Points), "nickname": r.Nickname, "expire_date": ""}
		if !m.FirstExpiry.IsZero() {
			vars["expire_date"] = ChineseDate(domain.DayOf(m.FirstExpiry))
		}
		for k, v := range c.Spec.Variables {
			vars[k] = v
		}
		d.Message = ts[ch].Render(to, vars)
		if HeldOut(CampaignKeyPrefix(c.ID), m.MemberID, c.Spec.HoldoutPermille) {
			holdOut(&d, now)
		}
		out = append(out, d)
	}
	return out, nil
}

func (s *Campaigns) lease() time.Duration {
	if s.Lease <= 0 {
		return 5 * time.Minute
	}
	return s.Lease
}
