// Package task is the task center (任务中心): marketer-defined tasks that a
// member completes step by step (browse a page for N seconds, share, review
// an order, complete the profile, follow the official account), once, daily
// or weekly, and whose reward the member claims explicitly.
//
// Invariants: progress is one row per member, task and period ("once",
// "d20261123" for a Shanghai day, "w2026-48" for an ISO week), never above
// the target; an event that counted (a browse token's nonce, a review
// event id, an official-account push) is stored unique, so a replay counts
// nothing; the reward is paid once per period by a ledger Earn keyed by
// member, task and period, in the same transaction that marks the claim.
package task

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/ledger"
	"github.com/jifen/jifen/domain/member"
)

// Type is what a member does to make progress.
type Type string

// The task types.
const (
	Browse          Type = "browse"
	Share           Type = "share"
	Review          Type = "review"
	ProfileComplete Type = "profile_complete"
	FollowOfficial  Type = "follow_official_account"
)

// Period is how often a task can be done and claimed.
type Period string

// The periods. Days are Asia/Shanghai; weeks are ISO weeks of Shanghai days.
const (
	Once   Period = "once"
	Daily  Period = "daily"
	Weekly Period = "weekly"
)

// Status of a task. Deleted tasks are kept (progress rows name them) but
// no longer shown anywhere.
const (
	Active  = "active"
	Paused  = "paused"
	Deleted = "deleted"
)

// Task is a marketer-defined task.
type Task struct {
	ID         int64
	Type       Type
	Title      string
	Period     Period
	Target     int
	Reward     int64
	MinSeconds int    // browse: seconds between start and progress
	Page       string // browse: the page to stay on (mini-program path)
	ValidFrom  *time.Time
	ValidTo    *time.Time
	Status     string
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// Input is what the console sends to create or replace a task.
type Input struct {
	Type       string
	Title      string
	Period     string
	Target     int
	Reward     int64
	MinSeconds int
	Page       string
	ValidFrom  *time.Time
	ValidTo    *time.Time
	Status     string
}

// maxReward bounds one claim; a typo of a few zeros should not mint millions.
const maxReward = 1_000_000

// Validate checks the input and returns every wrong field at once.
func (in Input) Validate() error {
	f := map[string]string{}
	switch Type(in.Type) {
	case Browse, Share, Review, ProfileComplete, FollowOfficial:
	default:
		f["type"] = "must be browse, share, review, profile_complete or follow_official_account"
	}
	if n := utf8.RuneCountInString(strings.TrimSpace(in.Title)); n < 1 || n > 64 {
		f["title"] = "required, at most 64 characters"
	}
	switch Period(in.Period) {
	case Once, Daily, Weekly:
	default:
		f["period"] = "must be once, daily or weekly"
	}
	switch {
	case in.Target < 1 || in.Target > 100:
		f["target"] = "must be from 1 to 100"
	case (Type(in.Type) == ProfileComplete || Type(in.Type) == FollowOfficial) && in.Target != 1:
		f["target"] = "must be 1 for " + in.Type
	}
	if in.Reward < 1 || in.Reward > maxReward {
		f["reward_points"] = fmt.Sprintf("must be from 1 to %d", maxReward)
	}
	if Type(in.Type) == Browse {
		if in.MinSeconds < 1 || in.MinSeconds > 3600 {
			f["min_seconds"] = "must be from 1 to 3600 for browse tasks"
		}
		if in.Page == "" {
			f["page"] = "required for browse tasks"
		}
	} else {
		if in.MinSeconds != 0 {
			f["min_seconds"] = "only browse tasks have a minimum duration"
		}
	}
	if utf8.RuneCountInString(in.Page) > 128 {
		f["page"] = "at most 128 characters"
	}
	if in.ValidFrom != nil && in.ValidTo != nil && !in.ValidTo.After(*in.ValidFrom) {
		f["valid_to"] = "must be after valid_from"
	}
	switch in.Status {
	case Active, Paused:
	default:
		f["status"] = "must be active or paused"
	}
	if len(f) > 0 {
		return &domain.Error{Code: domain.Invalid, Message: "the task has invalid fields", Fields: f}
	}
	return nil
}

// Live reports whether the task is shown to members at now.
func (t *Task) Live(now time.Time) bool {
	return t.Status == Active && (t.ValidFrom == nil || !now.Before(*t.ValidFrom)) && (t.ValidTo == nil || now.Before(*t.ValidTo))
}

// PeriodKey names the period of t containing now: "once", "d20261123" or
// "w2026-48" (ISO week of the Shanghai day).
func (t *Task) PeriodKey(now time.Time) string {
	switch t.Period {
	case Daily:
		return fmt.Sprintf("d%d", domain.DayOf(now).Int())
	case Weekly:
		y, w := domain.DayOf(now).Start().ISOWeek()
		return fmt.Sprintf("w%d-%02d", y, w)
	}
	return "once"
}

// State of a task for a member in the current period.
type State string

// The states.
const (
	Todo       State = "todo"
	InProgress State = "in_progress"
	Claimable  State = "claimable"
	Claimed    State = "claimed"
)

// Progress is a member's row for a task in one period.
type Progress struct {
	MemberID  int64
	TaskID    int64
	Period    string
	Count     int
	ClaimedAt *time.Time
	ClaimKey  string
}

// View is a task as a member sees it now.
type View struct {
	Task      Task
	Period    string
	Progress  int
	State     State
	ClaimedAt *time.Time
}

func view(t Task, period string, p Progress) View {
	v := View{Task: t, Period: period, Progress: min(p.Count, t.Target), ClaimedAt: p.ClaimedAt}
	switch {
	case p.ClaimedAt != nil:
		v.State = Claimed
	case p.Count >= t.Target:
		v.State = Claimable
	case p.Count > 0:
		v.State = InProgress
	default:
		v.State = Todo
	}
	return v
}

// Store persists tasks, progress and counted events. Every method joins
// the transaction in ctx.
type Store interface {
	Create(ctx context.Context, t *Task) error
	// Update replaces the editable fields of t (by ID); NotFound when missing or deleted.
	Update(ctx context.Context, t *Task) error
	// Get returns a task that is not deleted; NotFound otherwise.
	Get(ctx context.Context, id int64) (*Task, error)
	// List returns tasks that are not deleted, by id, after cursor (0: from the start).
	List(ctx context.Context, after int64, limit int) ([]Task, error)
	// Active returns the active tasks, of the given types (none: all).
	Active(ctx context.Context, types ...Type) ([]Task, error)
	// Progress returns the member's rows for the given task periods.
	Progress(ctx context.Context, memberID int64, keys []ProgressKey) (map[ProgressKey]Progress, error)
	// Advance adds one step to the member's row of the task period, creating
	// it, never above target.
	Advance(ctx context.Context, k ProgressKey, target int, now time.Time) error
	// MarkClaimed sets the claim on a row that reached target and is not
	// claimed yet; false when no such row.
	MarkClaimed(ctx context.Context, k ProgressKey, target int, claimKey string, now time.Time) (bool, error)
	// ClaimedWithKey returns the member's claimed row of the task whose
	// claim carried claimKey, in whichever period; found false when none.
	ClaimedWithKey(ctx context.Context, memberID, taskID int64, claimKey string) (p Progress, found bool, err error)
	// RecordEvent stores an event that counted; ErrDuplicate when seen before.
	RecordEvent(ctx context.Context, source, eventID string, memberID int64, now time.Time) error
}

// ProgressKey names one progress row.
type ProgressKey struct {
	MemberID int64
	TaskID   int64
	Period   string
}

// ErrDuplicate is returned (wrapped) by Store.RecordEvent for an event seen before.
var ErrDuplicate = fmt.Errorf("task: event already counted")

// Ledger pays rewards.
type Ledger interface {
	Earn(ctx context.Context, in ledger.EarnInput) (ledger.Entry, error)
	// Shown is what reads show of the members' points after their earns
	// committed, given each earn entry's BalanceAfter (a claim's answer:
	// ledger.Service.Shown).
	Shown(ctx context.Context, afterEarn map[int64]int64) (map[int64]int64, error)
}

// Members finds members for profile completion and the official account.
type Members interface {
	ByID(ctx context.Context, id int64) (*member.Member, error)
	ByUnionID(ctx context.Context, unionid string) (*member.Member, error)
}

// Followers resolves an official-account openid to the unionid shared with
// the mini-program (the user-info API).
type Followers interface {
	UnionID(ctx context.Context, openid string) (string, error)
}
