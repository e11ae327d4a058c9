package lottery

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/audit"
	"github.com/jifen/jifen/domain/batch"
	"github.com/jifen/jifen/domain/ledger"
)

// Points is the part of the ledger a draw uses; both calls join the
// transaction in ctx.
type Points interface {
	Spend(ctx context.Context, in ledger.SpendInput) (ledger.Entry, error)
	Earn(ctx context.Context, in ledger.EarnInput) (ledger.Entry, error)

	// For group commit (group.go): ApplyWithoutIDs runs many earns and
	// spends in the caller's unit of work; entry ids are zero until it
	// ends.
	ApplyWithoutIDs(ctx context.Context, ops []ledger.Op) ([]ledger.Entry, []error, error)
}

// Service runs campaigns and draws.
type Service struct {
	Store  Store
	Gate   Gate
	Points Points
	Tx     domain.UnitOfWork
	Clock  domain.Clock
	// Audit records the console's edits of campaigns and prizes, each in
	// the unit of work of the edit (audit.go).
	Audit audit.Store
	// GroupCommit commits concurrent draws in groups (group.go); the zero
	// value commits each draw alone.
	GroupCommit batch.Settings
	// CampaignTTL is how long a draw may use a campaign read earlier
	// (0: read it for every draw). Edits made through this Service are
	// seen at once; edits made by another process within CampaignTTL.
	// Stock, won and per-member limits never come from the cache: they are
	// read in the draw's transaction.
	CampaignTTL time.Duration
	// Rand gives the draws' chances: a uniform integer in [0, n), safe
	// for concurrent use. Nil is RandBelow (crypto/rand); `jifen seed`
	// sets a seeded one, so that a seed makes the same history again.
	Rand func(n int64) int64

	group     batch.Committer[*drawJob]
	campMu    sync.Mutex
	campCache map[int64]cachedCampaign
	campGen   map[int64]uint64 // edits made here, per campaign
	// copies runs the copies of one draw request (member and key) one at
	// a time, so each finds the first's draw.
	copies domain.KeyLocks
}

func (s *Service) randBelow(n int64) int64 {
	if s.Rand != nil {
		return s.Rand(n)
	}
	return RandBelow(n)
}

// pityOrder is the pity rule's order of prizes, drawn from s's chances.
func (s *Service) pityOrder(prizes []Prize) []Prize { return pityOrder(prizes, s.randBelow) }

type cachedCampaign struct {
	c  *Campaign
	at time.Time
}

// campaign returns the campaign for a draw, from the cache when fresh
// enough. The result is shared: never modify it.
func (s *Service) campaign(ctx context.Context, id int64) (*Campaign, error) {
	if s.CampaignTTL <= 0 {
		return s.Store.Campaign(ctx, id)
	}
	s.campMu.Lock()
	e, ok := s.campCache[id]
	gen := s.campGen[id]
	s.campMu.Unlock()
	if ok && time.Since(e.at) < s.CampaignTTL {
		return e.c, nil
	}
	at := time.Now()
	c, err := s.Store.Campaign(ctx, id)
	if err != nil {
		return nil, err
	}
	s.campMu.Lock()
	// An edit made here while we read makes this read stale: not cached.
	if s.campGen[id] == gen {
		if s.campCache == nil {
			s.campCache = map[int64]cachedCampaign{}
		}
		s.campCache[id] = cachedCampaign{c: c, at: at}
	}
	s.campMu.Unlock()
	return c, nil
}

// forget drops a campaign from the cache after an edit.
func (s *Service) forget(id int64) {
	s.campMu.Lock()
	delete(s.campCache, id)
	if s.campGen == nil {
		s.campGen = map[int64]uint64{}
	}
	s.campGen[id]++
	s.campMu.Unlock()
}

// missName is what a draw that won nothing shows.
const missName = "谢谢参与"

// CreateCampaign validates and stores a campaign with its prizes
// (audited as lottery_campaign.create).
func (s *Service) CreateCampaign(ctx context.Context, a Actor, c *Campaign) error {
	if err := c.Validate(); err != nil {
		return err
	}
	now := s.Clock.Now()
	c.CreatedAt, c.UpdatedAt = now, now
	for i := range c.Prizes {
		c.Prizes[i].Won = 0
	}
	return s.Tx.InTx(ctx, func(ctx context.Context) error {
		if err := s.Store.CreateCampaign(ctx, c); err != nil {
			return err
		}
		d := campaignFields(c)
		d["prizes"] = len(c.Prizes)
		return s.audit(ctx, a, "lottery_campaign.create", c.ID, d)
	})
}

// UpdateCampaign replaces a campaign's own fields (window, cost, limits,
// pity, consolation); its prizes are edited one by one. The audit row
// (lottery_campaign.update) names the fields that changed, old and new.
func (s *Service) UpdateCampaign(ctx context.Context, a Actor, c *Campaign) (*Campaign, error) {
	err := s.Tx.InTx(ctx, func(ctx context.Context) error {
		cur, err := s.Store.Campaign(ctx, c.ID)
		if err != nil {
			return err
		}
		c.Prizes = cur.Prizes
		if err := c.Validate(); err != nil {
			return err
		}
		c.CreatedAt, c.UpdatedAt = cur.CreatedAt, s.Clock.Now()
		if err := s.Store.UpdateCampaign(ctx, c); err != nil {
			return err
		}
		return s.audit(ctx, a, "lottery_campaign.update", c.ID,
			map[string]any{"name": c.Name, "changes": audit.Changes(campaignFields(cur), campaignFields(c))})
	})
	s.forget(c.ID)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// Campaign returns a campaign with its prizes.
func (s *Service) Campaign(ctx context.Context, id int64) (*Campaign, error) {
	return s.Store.Campaign(ctx, id)
}

// Campaigns lists campaigns newest first.
func (s *Service) Campaigns(ctx context.Context, limit int, cursor int64) ([]Campaign, int64, error) {
	return s.Store.Campaigns(ctx, limit, cursor)
}

// AddPrize adds a prize to a campaign (audited as lottery_prize.create).
func (s *Service) AddPrize(ctx context.Context, a Actor, p *Prize) error {
	if err := p.Validate(""); err != nil {
		return err
	}
	err := s.Tx.InTx(ctx, func(ctx context.Context) error {
		if _, err := s.Store.Campaign(ctx, p.CampaignID); err != nil {
			return err
		}
		if err := s.Store.CreatePrize(ctx, p); err != nil {
			return err
		}
		d := prizeFields(p)
		d["prize_id"] = p.ID
		return s.audit(ctx, a, "lottery_prize.create", p.CampaignID, d)
	})
	s.forget(p.CampaignID)
	if err != nil {
		return err
	}
	return s.Gate.Reset(ctx, p.CampaignID)
}

// UpdatePrize replaces a prize's fields; its stock may not go below what
// was already won. The audit row (lottery_prize.update) names the fields
// that changed, old and new.
func (s *Service) UpdatePrize(ctx context.Context, a Actor, p *Prize) error {
	if err := p.Validate(""); err != nil {
		return err
	}
	err := s.Tx.InTx(ctx, func(ctx context.Context) error {
		c, err := s.Store.Campaign(ctx, p.CampaignID)
		if err != nil {
			return err
		}
		var cur *Prize
		for i := range c.Prizes {
			if c.Prizes[i].ID == p.ID {
				cur = &c.Prizes[i]
			}
		}
		if cur == nil {
			return domain.Errorf(domain.NotFound, "campaign %d has no prize %d", p.CampaignID, p.ID)
		}
		if err := s.Store.UpdatePrize(ctx, p); err != nil {
			return err
		}
		return s.audit(ctx, a, "lottery_prize.update", p.CampaignID,
			map[string]any{"prize_id": p.ID, "name": p.Name, "changes": audit.Changes(prizeFields(cur), prizeFields(p))})
	})
	s.forget(p.CampaignID)
	if err != nil {
		return err
	}
	// The Gate's copy of the stock is stale now; it is rebuilt on the next draw.
	return s.Gate.Reset(ctx, p.CampaignID)
}

// Chances returns the campaign and what the member may still do in it today.
func (s *Service) Chances(ctx context.Context, memberID, campaignID int64) (*Campaign, Chances, error) {
	c, err := s.Store.Campaign(ctx, campaignID)
	if err != nil {
		return nil, Chances{}, err
	}
	st, err := s.Store.MemberState(ctx, campaignID, memberID)
	if err != nil {
		return nil, Chances{}, err
	}
	return c, c.chances(st.today(domain.DayOf(s.Clock.Now()).Int())), nil
}

// MyDraws lists the member's draws in a campaign, newest first.
func (s *Service) MyDraws(ctx context.Context, memberID, campaignID int64, limit int, cursor int64) ([]Draw, int64, error) {
	if _, err := s.Store.Campaign(ctx, campaignID); err != nil {
		return nil, 0, err
	}
	return s.Store.Draws(ctx, campaignID, memberID, limit, cursor)
}

// Draw draws once for the member. The same key returns the first draw.
// Limits reached and a closed campaign are RuleViolation (422), too few
// points PointsInsufficient (422).
func (s *Service) Draw(ctx context.Context, memberID, campaignID int64, key string) (Draw, error) {
	key = strings.TrimSpace(key)
	if key == "" || len(key) > 100 {
		return Draw{}, domain.FieldError("Idempotency-Key", "1 to 100 characters")
	}
	unlock, err := s.copies.Lock(ctx, memberID, key)
	if err != nil {
		return Draw{}, err
	}
	defer unlock()
	c, err := s.campaign(ctx, campaignID)
	if err != nil {
		return Draw{}, err
	}
	// A replay is found under the member lock in the transaction; before
	// that, only a refusal (closed, limits) looks for one: a replay is
	// answered even when the campaign has closed or the limit is reached.
	refuse := func(err error) (Draw, error) {
		if prior, found, perr := s.Store.DrawByKey(ctx, memberID, key); perr != nil {
			return Draw{}, perr
		} else if found {
			return replay(prior, campaignID)
		}
		return Draw{}, err
	}
	now := s.Clock.Now()
	if !c.Open(now) {
		return refuse(domain.Errorf(domain.RuleViolation, "campaign %d is not open now (%s – %s)", c.ID,
			c.StartsAt.In(domain.Shanghai).Format("2006-01-02 15:04"), c.EndsAt.In(domain.Shanghai).Format("2006-01-02 15:04")))
	}
	total := TotalWeight(c.Prizes)
	if total <= 0 {
		return refuse(domain.Errorf(domain.RuleViolation, "campaign %d has no prizes to draw", c.ID))
	}
	day := domain.DayOf(now).Int()
	picked := c.Prizes[Pick(c.Prizes, s.randBelow(total))]
	res := Reservation{CampaignID: c.ID, MemberID: memberID, Day: day, PrizeID: picked.ID, LimitTotal: c.LimitTotal, LimitDaily: c.LimitDaily, Key: key}
	var out Outcome
	var rebuilt bool
	// A limit that a copy of this draw holds (on another instance: the
	// copies lock above is this process's) turns it away only once that
	// copy has given its reservation back; until then its draw is looked
	// for and the Gate asked again (domain.AwaitCopy).
	var rerr error
	prior, found, err := domain.AwaitCopy(ctx, "draw", func() bool {
		out, rebuilt, rerr = s.reserve(ctx, c, res)
		return errors.Is(rerr, domain.ErrCopyInFlight)
	}, func() (Draw, bool, error) { return s.Store.DrawByKey(ctx, memberID, key) })
	switch {
	case err != nil:
		return Draw{}, err
	case found:
		return replay(prior, campaignID)
	case domain.ErrorCode(rerr) == domain.RuleViolation:
		return refuse(rerr)
	case rerr != nil:
		return Draw{}, rerr
	}
	unit := out == GateReserved
	var d Draw
	var took takeInfo
	grouped := false
	if s.grouping(ctx) {
		r := s.submit(&drawJob{ctx: ctx, c: c, memberID: memberID, key: key, now: now, day: day, picked: picked,
			gateOut: out == GateOutOfStock, firstSeen: rebuilt})
		if !r.alone {
			d, took, err, grouped = r.d, r.took, r.err, true
		}
	}
	if !grouped {
		err = s.Tx.InTx(ctx, func(ctx context.Context) error {
			d, took, err = s.commit(ctx, c.ID, memberID, key, now, day, picked, out == GateOutOfStock)
			return err
		})
	}
	if err != nil || d.Replayed {
		// Given back even when the request's ctx has ended (the reason the
		// draw failed, often): a reservation left taken would hold stock
		// and limits until the counters are rebuilt.
		if rerr := s.Gate.Release(context.WithoutCancel(ctx), res, unit); rerr != nil && err == nil {
			err = rerr
		}
		if errors.Is(err, ErrDuplicateDraw) {
			return s.replayKey(ctx, memberID, campaignID, key)
		}
		if err != nil {
			return Draw{}, err
		}
		return replay(d, campaignID)
	}
	// Keep the Gate's stock close to SQL. The draw has committed: an error
	// here leaves a stale counter, which costs at most a SQL refusal later.
	if unit && d.PrizeID != picked.ID {
		if took.soldOut {
			_ = s.Gate.SoldOut(ctx, c.ID, picked.ID)
		} else {
			_ = s.Gate.AdjustStock(ctx, c.ID, picked.ID, 1)
		}
	}
	if took.other != 0 {
		_ = s.Gate.AdjustStock(ctx, c.ID, took.other, -1)
	}
	return d, nil
}

// reserve asks the Gate, rebuilding its counters from SQL when missing;
// rebuilt reports that it did (a member's first draw, or the Gate lost its
// counters). When the counters are gone again after each rebuild, the draw
// goes on without the Gate (GateUnlimited: no unit reserved): a Redis that
// keeps losing its keys never fails a draw while SQL answers.
func (s *Service) reserve(ctx context.Context, c *Campaign, r Reservation) (Outcome, bool, error) {
	rebuilt := false
	for attempt := 0; attempt < 3; attempt++ {
		out, err := s.Gate.Reserve(ctx, r)
		if err != nil {
			return 0, false, fmt.Errorf("lottery gate: %w", err)
		}
		switch out {
		case GateLimitTotal:
			return 0, false, c.limitTotal()
		case GateLimitDaily:
			return 0, false, c.limitDaily()
		case GateCopyInFlight:
			return 0, false, domain.ErrCopyInFlight
		case GateMemberNotReady:
			// Only the member's counters are missing (a first draw): no
			// campaign read. They only serve the limits; without limits
			// zeros do (SQL checks the limits anyway), so no read at all.
			var st MemberState
			if c.LimitTotal > 0 || c.LimitDaily > 0 {
				var err error
				if st, err = s.Store.MemberState(ctx, c.ID, r.MemberID); err != nil {
					return 0, false, err
				}
			}
			if err := s.Gate.RebuildMember(ctx, c.ID, r.MemberID, r.Day, st.today(r.Day)); err != nil {
				return 0, false, fmt.Errorf("lottery gate rebuild: %w", err)
			}
			rebuilt = true
			continue
		case GateNotReady:
			fresh, err := s.Store.Campaign(ctx, c.ID)
			if err != nil {
				return 0, false, err
			}
			st, err := s.Store.MemberState(ctx, c.ID, r.MemberID)
			if err != nil {
				return 0, false, err
			}
			if err := s.Gate.Rebuild(ctx, fresh, r.MemberID, r.Day, st.today(r.Day)); err != nil {
				return 0, false, fmt.Errorf("lottery gate rebuild: %w", err)
			}
			rebuilt = true
			continue
		}
		return out, rebuilt, nil
	}
	// The counters keep vanishing (a flush still under way): SQL alone
	// decides this draw, as it decides every draw anyway. Nothing was
	// taken from the Gate, so there is nothing to give back.
	return GateUnlimited, true, nil
}

type takeInfo struct {
	// soldOut: SQL had no unit of the picked prize left (claimSoldOut).
	// A draw stopped by the member's own limit is not: the unit the Gate
	// reserved goes back to it.
	soldOut bool
	other   int64 // a stocked prize the pity rule took instead
}

// commit is the unit of work of one draw: SQL decides, whatever the Gate
// said. It reads the campaign again (the draw may have used a cached copy).
func (s *Service) commit(ctx context.Context, campaignID, memberID int64, key string, now time.Time, day int, picked Prize, gateOut bool) (Draw, takeInfo, error) {
	var took takeInfo
	st, err := s.Store.LockMember(ctx, campaignID, memberID)
	if err != nil {
		return Draw{}, took, err
	}
	c, err := s.Store.Campaign(ctx, campaignID)
	if err != nil {
		return Draw{}, took, err
	}
	for _, p := range c.Prizes {
		if p.ID == picked.ID {
			picked = p
		}
	}
	// Under the member lock a concurrent request with the same key has
	// either committed (found here) or not started its writes.
	if prior, found, err := s.Store.DrawByKey(ctx, memberID, key); err != nil {
		return Draw{}, took, err
	} else if found {
		prior.Replayed = true
		return prior, took, nil
	}
	d, st, err := c.admit(st.today(day), memberID, key, day, now)
	if err != nil {
		return Draw{}, took, err
	}
	// A unit of stock is taken in SQL, the row's own check deciding.
	claimSQL := func(p Prize) (claim, error) {
		wins := 0
		if p.PerMemberLimit > 0 {
			var err error
			if wins, err = s.Store.MemberWins(ctx, c.ID, memberID, p.ID); err != nil {
				return 0, err
			}
		}
		return claimPrize(p, wins, func() (bool, error) { return s.Store.TakeStock(ctx, p.ID) })
	}
	w := drawing{c: c, prizes: c.Prizes, picked: picked, gateOut: gateOut, misses: st.MissStreak, claim: claimSQL, order: s.pityOrder}
	if took, err = w.win(&d); err != nil {
		return Draw{}, took, err
	}
	if d.CostPoints > 0 {
		if _, err := s.Points.Spend(ctx, d.costSpend()); err != nil {
			return Draw{}, took, err
		}
	}
	if in, ok := d.prizeEarn(); ok {
		if _, err := s.Points.Earn(ctx, in); err != nil {
			return Draw{}, took, err
		}
	}
	if err := s.Store.InsertDraw(ctx, &d); err != nil {
		return Draw{}, took, err
	}
	st.count(d)
	return d, took, s.Store.SaveMember(ctx, c.ID, memberID, st)
}

// count adds the draw to the member's counters (the miss streak grows on
// a draw that won nothing and starts over on any other).
func (st *MemberState) count(d Draw) {
	st.Draws++
	st.DayDraws++
	if d.PrizeKind == KindNothing {
		st.MissStreak++
	} else {
		st.MissStreak = 0
	}
}

// award sets what the draw won: prize, or else the campaign's
// consolation, or else nothing.
func (d *Draw) award(c *Campaign, prize *Prize) {
	switch {
	case prize != nil:
		d.PrizeID, d.PrizeKind, d.PrizeName, d.Points, d.CouponCode = prize.ID, prize.Kind, prize.Name, prize.Points, prize.CouponCode
	case c.ConsolationName != "":
		d.PrizeID, d.PrizeKind, d.PrizeName, d.Points, d.CouponCode = 0, KindGift, c.ConsolationName, c.ConsolationPoints, ""
		if c.ConsolationPoints > 0 {
			d.PrizeKind = KindPoints
		}
	default:
		d.PrizeID, d.PrizeKind, d.PrizeName, d.Points, d.CouponCode = 0, KindNothing, missName, 0, ""
	}
}

func (s *Service) replayKey(ctx context.Context, memberID, campaignID int64, key string) (Draw, error) {
	prior, found, err := s.Store.DrawByKey(ctx, memberID, key)
	if err != nil {
		return Draw{}, err
	}
	if !found {
		return Draw{}, domain.Errorf(domain.Conflict, "a draw with this idempotency key is in flight; retry")
	}
	return replay(prior, campaignID)
}

func replay(prior Draw, campaignID int64) (Draw, error) {
	if prior.CampaignID != campaignID {
		return Draw{}, domain.Errorf(domain.IdempotencyConflict, "idempotency key %q was used for a draw in another campaign", prior.Key)
	}
	prior.Replayed = true
	return prior, nil
}

// newRef names a draw attempt in the ledger (its entries' reference).
func newRef() string {
	b := make([]byte, 10)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
