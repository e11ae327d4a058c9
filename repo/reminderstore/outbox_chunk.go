package reminderstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/jifen/jifen/domain/reminder"
)

var _ reminder.ChunkStore = (*Outbox)(nil)

// errChunkLost rolls BeginChunk's transaction back when a row's lease ended.
var errChunkLost = errors.New("outbox chunk: a row is no longer claimed")

type quotaKey struct {
	member   int64
	template string
}

// BeginChunk implements reminder.ChunkStore: the members' subscriptions
// are locked in one statement (ordered, so chunks of two workers wait for
// each other instead of deadlocking), the sends spent in one UPDATE per
// distinct count, and the rows marked sending in one UPDATE whose count
// proves every row was still ours.
func (s *Outbox) BeginChunk(ctx context.Context, token string, rows []reminder.Delivery, now, until time.Time) (begun, noQuota []reminder.Delivery, lost bool, err error) {
	err = s.DB.InTx(ctx, func(ctx context.Context) error {
		begun, noQuota = nil, nil
		db := s.db(ctx)
		want := map[quotaKey]int64{}
		var members []int64
		for _, r := range rows {
			if r.Channel == reminder.Subscribe {
				k := quotaKey{r.MemberID, r.Message.TemplateID}
				if want[k] == 0 {
					members = append(members, r.MemberID)
				}
				want[k]++
			}
		}
		have := map[quotaKey]int64{}
		if len(members) > 0 {
			var subs []subscriptionRow
			if err := s.DB.ForUpdate(db.Where("member_id IN ?", members).Order("member_id, template_id")).Find(&subs).Error; err != nil {
				return fmt.Errorf("lock subscriptions: %w", err)
			}
			for _, sub := range subs {
				have[quotaKey{sub.MemberID, sub.TemplateID}] = sub.Quota
			}
		}
		spent := map[quotaKey]int64{}
		var ids []int64
		for _, r := range rows {
			if r.Channel == reminder.Subscribe {
				k := quotaKey{r.MemberID, r.Message.TemplateID}
				if have[k]-spent[k] <= 0 {
					noQuota = append(noQuota, r)
					continue
				}
				spent[k]++
			}
			begun = append(begun, r)
			ids = append(ids, r.ID)
		}
		// Usually every member appears once: one UPDATE for all of them.
		byCount := map[int64][]quotaKey{}
		for k, n := range spent {
			byCount[n] = append(byCount[n], k)
		}
		for n, keys := range byCount {
			var cond []string
			var args []any
			args = append(args, n)
			for _, k := range keys {
				cond = append(cond, "(member_id = ? AND template_id = ?)")
				args = append(args, k.member, k.template)
			}
			res := db.Exec(`UPDATE reminder_subscriptions SET quota = quota - ? WHERE `+strings.Join(cond, " OR "), args...)
			if res.Error != nil {
				return fmt.Errorf("spend quotas: %w", res.Error)
			}
			if res.RowsAffected != int64(len(keys)) {
				return fmt.Errorf("spend quotas: %d of %d subscriptions updated", res.RowsAffected, len(keys))
			}
		}
		if len(ids) > 0 {
			res := db.Model(&outboxRow{}).Where("id IN ? AND owner = ? AND status = ?", ids, token, string(reminder.Claimed)).
				Updates(map[string]any{"status": string(reminder.Sending), "attempts": gorm.Expr("attempts + 1"),
					"attempted_at": now.UTC(), "lease_until": until.UTC()})
			if res.Error != nil {
				return fmt.Errorf("begin chunk: %w", res.Error)
			}
			if res.RowsAffected != int64(len(ids)) {
				return errChunkLost
			}
		}
		if len(noQuota) > 0 {
			return s.FinishChunk(ctx, token, outcomes(noQuota, reminder.Skipped, "no subscription quota left", now))
		}
		return nil
	})
	if errors.Is(err, errChunkLost) {
		return nil, nil, true, nil
	}
	if err != nil {
		return nil, nil, false, err
	}
	return begun, noQuota, false, nil
}

func outcomes(rows []reminder.Delivery, st reminder.Status, reason string, now time.Time) []reminder.Outcome {
	out := make([]reminder.Outcome, len(rows))
	for i, r := range rows {
		out[i] = reminder.Outcome{ID: r.ID, Status: st, Reason: reason, Next: now, Now: now}
	}
	return out
}

// FinishChunk implements reminder.ChunkStore: one UPDATE per distinct
// outcome (one in the usual chunk, all sent), with Finish's conditions.
func (s *Outbox) FinishChunk(ctx context.Context, token string, outs []reminder.Outcome) error {
	type group struct {
		o   reminder.Outcome
		ids []int64
	}
	var groups []*group
	for _, o := range outs {
		var g *group
		for _, have := range groups {
			h := have.o
			if h.Status == o.Status && h.ErrCode == o.ErrCode && h.Reason == o.Reason && h.Next.Equal(o.Next) && h.Now.Equal(o.Now) {
				g = have
				break
			}
		}
		if g == nil {
			g = &group{o: o}
			groups = append(groups, g)
		}
		g.ids = append(g.ids, o.ID)
	}
	for _, g := range groups {
		if err := s.finish(ctx, g.ids, token, g.o.Status, g.o.ErrCode, g.o.Reason, g.o.Next, g.o.Now); err != nil {
			return err
		}
	}
	return nil
}

// finish is Finish for several rows with one outcome.
func (s *Outbox) finish(ctx context.Context, ids []int64, token string, st reminder.Status, errcode int64, reason string, next, now time.Time) error {
	set := map[string]any{"status": string(st), "err_code": errcode, "reason": reason, "lease_until": never, "updated_at": now.UTC()}
	switch st {
	case reminder.Pending:
		set["next_at"] = next.UTC()
		set["owner"] = ""
	case reminder.Sent:
		set["sent_at"] = now.UTC()
	}
	return s.db(ctx).Model(&outboxRow{}).
		Where("id IN ? AND owner = ? AND status IN ?", ids, token,
			[]string{string(reminder.Claimed), string(reminder.Sending), string(reminder.Uncertain)}).
		Updates(set).Error
}
