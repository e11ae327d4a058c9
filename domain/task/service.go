package task

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/audit"
	"github.com/jifen/jifen/domain/ledger"
)

// Service runs the task center.
type Service struct {
	Store     Store
	Tx        domain.UnitOfWork
	Ledger    Ledger
	Members   Members
	Followers Followers // nil: the follow task cannot be completed
	Clock     domain.Clock
	// Audit records the console's edits of tasks, each in the unit of
	// work of the edit (audit.go).
	Audit audit.Store
	// TokenKey signs browse start tokens (HMAC-SHA256).
	TokenKey []byte
}

// Create adds a task (audited as task.create).
func (s *Service) Create(ctx context.Context, a Actor, in Input) (*Task, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	now := s.Clock.Now()
	t := fromInput(in)
	t.CreatedAt, t.UpdatedAt = now, now
	err := s.Tx.InTx(ctx, func(ctx context.Context) error {
		if err := s.Store.Create(ctx, t); err != nil {
			return fmt.Errorf("create task: %w", err)
		}
		return s.audit(ctx, a, "task.create", t.ID, taskFields(t))
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

// Update replaces a task's fields. Progress already made stays: a changed
// target applies to what members have and to what they will do. The
// audit row (task.update) names the fields that changed, old and new.
func (s *Service) Update(ctx context.Context, a Actor, id int64, in Input) (*Task, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	var out *Task
	err := s.Tx.InTx(ctx, func(ctx context.Context) error {
		old, err := s.Store.Get(ctx, id)
		if err != nil {
			return err
		}
		t := fromInput(in)
		t.ID, t.CreatedAt, t.UpdatedAt = id, old.CreatedAt, s.Clock.Now()
		if err := s.Store.Update(ctx, t); err != nil {
			return err
		}
		out = t
		return s.audit(ctx, a, "task.update", id, map[string]any{"title": t.Title, "changes": audit.Changes(taskFields(old), taskFields(t))})
	})
	return out, err
}

// Delete hides a task from the console and from members (audited as
// task.delete).
func (s *Service) Delete(ctx context.Context, a Actor, id int64) error {
	return s.Tx.InTx(ctx, func(ctx context.Context) error {
		t, err := s.Store.Get(ctx, id)
		if err != nil {
			return err
		}
		t.Status, t.UpdatedAt = Deleted, s.Clock.Now()
		if err := s.Store.Update(ctx, t); err != nil {
			return err
		}
		return s.audit(ctx, a, "task.delete", id, map[string]any{"type": t.Type, "title": t.Title})
	})
}

// Get returns one task.
func (s *Service) Get(ctx context.Context, id int64) (*Task, error) { return s.Store.Get(ctx, id) }

// List returns a page of tasks by id and the cursor of the next page (0 at the end).
func (s *Service) List(ctx context.Context, after int64, limit int) ([]Task, int64, error) {
	ts, err := s.Store.List(ctx, after, limit+1)
	if err != nil {
		return nil, 0, err
	}
	var next int64
	if len(ts) > limit {
		ts = ts[:limit]
		next = ts[limit-1].ID
	}
	return ts, next, nil
}

func fromInput(in Input) *Task {
	return &Task{Type: Type(in.Type), Title: in.Title, Period: Period(in.Period), Target: in.Target, Reward: in.Reward,
		MinSeconds: in.MinSeconds, Page: in.Page, ValidFrom: utc(in.ValidFrom), ValidTo: utc(in.ValidTo), Status: in.Status}
}

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC().Truncate(time.Second)
	return &u
}

// live returns the member-visible tasks at now (optionally of some types).
func (s *Service) live(ctx context.Context, now time.Time, types ...Type) ([]Task, error) {
	all, err := s.Store.Active(ctx, types...)
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, t := range all {
		if t.Live(now) {
			out = append(out, t)
		}
	}
	return out, nil
}

// liveTask returns one task a member may act on now; NotFound otherwise.
func (s *Service) liveTask(ctx context.Context, id int64, now time.Time) (*Task, error) {
	t, err := s.Store.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if !t.Live(now) {
		return nil, domain.Errorf(domain.NotFound, "no task %d", id)
	}
	return t, nil
}

// profileComplete reports whether the member has bound a phone and set a birthday.
func (s *Service) profileComplete(ctx context.Context, memberID int64) (bool, error) {
	m, err := s.Members.ByID(ctx, memberID)
	if err != nil {
		return false, err
	}
	return m.Phone != "" && m.Birthday != "", nil
}

// Tasks returns every live task with the member's progress in its current period.
func (s *Service) Tasks(ctx context.Context, memberID int64) ([]View, error) {
	now := s.Clock.Now()
	ts, err := s.live(ctx, now)
	if err != nil {
		return nil, err
	}
	keys := make([]ProgressKey, len(ts))
	for i := range ts {
		keys[i] = ProgressKey{MemberID: memberID, TaskID: ts[i].ID, Period: ts[i].PeriodKey(now)}
	}
	ps, err := s.Store.Progress(ctx, memberID, keys)
	if err != nil {
		return nil, err
	}
	complete := false
	for _, t := range ts {
		if t.Type == ProfileComplete {
			if complete, err = s.profileComplete(ctx, memberID); err != nil {
				return nil, err
			}
			break
		}
	}
	out := make([]View, len(ts))
	for i, t := range ts {
		p := ps[keys[i]]
		// The profile is read, not written: the row is made when claimed.
		if t.Type == ProfileComplete && complete && p.Count < t.Target {
			p.Count = t.Target
		}
		out[i] = view(t, keys[i].Period, p)
	}
	return out, nil
}

// viewOf reads one task's view for the member.
func (s *Service) viewOf(ctx context.Context, memberID int64, t *Task, now time.Time) (View, error) {
	k := ProgressKey{MemberID: memberID, TaskID: t.ID, Period: t.PeriodKey(now)}
	ps, err := s.Store.Progress(ctx, memberID, []ProgressKey{k})
	if err != nil {
		return View{}, err
	}
	return view(*t, k.Period, ps[k]), nil
}

// step counts one event for every live task of typ: the event (source,
// id) counts once for the member, ever. It reports whether it counted.
func (s *Service) step(ctx context.Context, memberID int64, typ Type, source, eventID string) (bool, error) {
	now := s.Clock.Now()
	counted := true
	err := s.Tx.InTx(ctx, func(ctx context.Context) error {
		if eventID != "" {
			if err := s.Store.RecordEvent(ctx, source, eventID, memberID, now); err != nil {
				if errors.Is(err, ErrDuplicate) {
					counted = false
					return nil
				}
				return err
			}
		}
		ts, err := s.live(ctx, now, typ)
		if err != nil {
			return err
		}
		for _, t := range ts {
			if err := s.Store.Advance(ctx, ProgressKey{MemberID: memberID, TaskID: t.ID, Period: t.PeriodKey(now)}, t.Target, now); err != nil {
				return err
			}
		}
		return nil
	})
	return counted, err
}

// Shared counts one share for the member's share tasks and returns them.
func (s *Service) Shared(ctx context.Context, memberID int64) ([]View, error) {
	if _, err := s.step(ctx, memberID, Share, "", ""); err != nil {
		return nil, err
	}
	return s.viewsOf(ctx, memberID, Share)
}

func (s *Service) viewsOf(ctx context.Context, memberID int64, typ Type) ([]View, error) {
	all, err := s.Tasks(ctx, memberID)
	if err != nil {
		return nil, err
	}
	out := []View{}
	for _, v := range all {
		if v.Task.Type == typ {
			out = append(out, v)
		}
	}
	return out, nil
}

// ReviewEvent is the order system's notice that a member reviewed an order.
type ReviewEvent struct {
	EventID  string
	MemberID int64
	OrderID  string
}

// Reviewed counts a review once per event id. It reports whether the
// event counted (false for a replay).
func (s *Service) Reviewed(ctx context.Context, ev ReviewEvent) (bool, error) {
	f := map[string]string{}
	if ev.EventID == "" || utf8.RuneCountInString(ev.EventID) > 64 {
		f["event_id"] = "required, at most 64 characters"
	}
	if ev.MemberID <= 0 {
		f["member_id"] = "must be a positive member id"
	}
	if ev.OrderID == "" || utf8.RuneCountInString(ev.OrderID) > 64 {
		f["order_id"] = "required, at most 64 characters"
	}
	if len(f) > 0 {
		return false, &domain.Error{Code: domain.Invalid, Message: "the review event has invalid fields", Fields: f}
	}
	if _, err := s.Members.ByID(ctx, ev.MemberID); err != nil {
		return false, err
	}
	return s.step(ctx, ev.MemberID, Review, "review", ev.EventID)
}

// Followed completes the follow task of the member behind an official-
// account openid (a subscribe push). Unknown followers are ignored: they
// may follow before ever opening the mini-program. eventID makes a
// repeated push count once.
func (s *Service) Followed(ctx context.Context, openid, eventID string) (bool, error) {
	if s.Followers == nil || openid == "" {
		return false, nil
	}
	unionid, err := s.Followers.UnionID(ctx, openid)
	if err != nil {
		return false, err
	}
	if unionid == "" {
		return false, nil
	}
	m, err := s.Members.ByUnionID(ctx, unionid)
	if domain.ErrorCode(err) == domain.NotFound {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return s.step(ctx, m.ID, FollowOfficial, "oa", eventID)
}

// ClaimResult answers a claim.
type ClaimResult struct {
	View     View
	Points   int64
	Balance  int64
	Replayed bool
}

// Claim pays the task's reward for the current period, once. A claim
// with the same idempotency key as the one that paid answers the first
// result again; any other second claim is Conflict; an unfinished task is
// RuleViolation.
func (s *Service) Claim(ctx context.Context, memberID, taskID int64, idemKey string) (ClaimResult, error) {
	now := s.Clock.Now()
	var res ClaimResult
	err := s.Tx.InTx(ctx, func(ctx context.Context) error {
		t, err := s.Store.Get(ctx, taskID)
		if err != nil {
			return err
		}
		k := ProgressKey{MemberID: memberID, TaskID: t.ID, Period: t.PeriodKey(now)}
		replay := false
		if idemKey != "" {
			// The key of a claim paid in an earlier period (a retry that
			// crossed midnight, the week's end, or the task's valid_to)
			// replays that claim.
			prior, found, err := s.Store.ClaimedWithKey(ctx, memberID, t.ID, idemKey)
			if err != nil {
				return err
			}
			if found {
				k.Period, replay = prior.Period, true
			}
		}
		if !replay && !t.Live(now) {
			return domain.Errorf(domain.NotFound, "no task %d", taskID)
		}
		if t.Type == ProfileComplete {
			ok, err := s.profileComplete(ctx, memberID)
			if err != nil {
				return err
			}
			if ok {
				if err := s.Store.Advance(ctx, k, t.Target, now); err != nil {
					return err
				}
			}
		}
		marked, err := s.Store.MarkClaimed(ctx, k, t.Target, idemKey, now)
		if err != nil {
			return err
		}
		if !marked {
			ps, err := s.Store.Progress(ctx, memberID, []ProgressKey{k})
			if err != nil {
				return err
			}
			p := ps[k]
			switch {
			case p.ClaimedAt != nil && idemKey != "" && p.ClaimKey == idemKey:
				res.Replayed = true
			case p.ClaimedAt != nil:
				return domain.Errorf(domain.Conflict, "task %d already claimed for this period", t.ID)
			default:
				return domain.Errorf(domain.RuleViolation, "task %d is not finished (%d of %d)", t.ID, min(p.Count, t.Target), t.Target)
			}
		}
		e, err := s.Ledger.Earn(ctx, ledger.EarnInput{MemberID: memberID, Points: t.Reward,
			Key: "task:" + strconv.FormatInt(memberID, 10) + ":" + strconv.FormatInt(t.ID, 10) + ":" + k.Period,
			Ref: ledger.Ref{Type: "task", ID: strconv.FormatInt(t.ID, 10) + ":" + k.Period}, Title: "任务奖励", Operator: "system"})
		if err != nil {
			return err
		}
		v, err := s.viewOf(ctx, memberID, t, now)
		if err != nil {
			return err
		}
		res.View, res.Points, res.Balance = v, e.Amount, e.BalanceAfter
		return nil
	})
	if err == nil && !res.Replayed {
		// The earn's entry still counts points past their expiry instant
		// (and not pending points come due) when nothing has settled the
		// account since: the answer shows the balance as every read does.
		// A replay answers the first claim's figure.
		shown, _ := s.Ledger.Shown(ctx, map[int64]int64{memberID: res.Balance})
		res.Balance = shown[memberID]
	}
	return res, err
}
