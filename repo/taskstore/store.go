// Package taskstore keeps the task center in SQL: tasks, each member's
// progress per task period, and the events that counted (task.Store).
package taskstore

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/task"
	"github.com/jifen/jifen/repo"
)

type taskRow struct {
	ID         int64 `gorm:"primaryKey"`
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
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

func (taskRow) TableName() string { return "tasks" }

type progressRow struct {
	MemberID  int64  `gorm:"primaryKey"`
	TaskID    int64  `gorm:"primaryKey"`
	Period    string `gorm:"primaryKey"`
	Count     int
	ClaimedAt *time.Time
	ClaimKey  string
	UpdatedAt time.Time
}

func (progressRow) TableName() string { return "task_progress" }

type eventRow struct {
	Source    string `gorm:"primaryKey"`
	EventID   string `gorm:"primaryKey"`
	MemberID  int64
	CreatedAt time.Time
}

func (eventRow) TableName() string { return "task_events" }

// Store implements task.Store.
type Store struct{ DB *repo.DB }

var _ task.Store = (*Store)(nil)

func toRow(t *task.Task) *taskRow {
	return &taskRow{ID: t.ID, Type: string(t.Type), Title: t.Title, Period: string(t.Period), Target: t.Target, Reward: t.Reward,
		MinSeconds: t.MinSeconds, Page: t.Page, ValidFrom: utcp(t.ValidFrom), ValidTo: utcp(t.ValidTo), Status: t.Status,
		CreatedAt: t.CreatedAt.UTC(), UpdatedAt: t.UpdatedAt.UTC()}
}

func (r *taskRow) toDomain() task.Task {
	return task.Task{ID: r.ID, Type: task.Type(r.Type), Title: r.Title, Period: task.Period(r.Period), Target: r.Target,
		Reward: r.Reward, MinSeconds: r.MinSeconds, Page: r.Page, ValidFrom: utcp(r.ValidFrom), ValidTo: utcp(r.ValidTo),
		Status: r.Status, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
}

func utcp(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// Create inserts a task and sets its id.
func (s *Store) Create(ctx context.Context, t *task.Task) error {
	r := toRow(t)
	if err := s.DB.Conn(ctx).Create(r).Error; err != nil {
		return err
	}
	t.ID = r.ID
	return nil
}

// Update replaces a task's fields.
func (s *Store) Update(ctx context.Context, t *task.Task) error {
	r := toRow(t)
	res := s.DB.Conn(ctx).Model(&taskRow{}).Where("id = ? AND status <> ?", t.ID, task.Deleted).Updates(map[string]any{
		"type": r.Type, "title": r.Title, "period": r.Period, "target": r.Target, "reward": r.Reward,
		"min_seconds": r.MinSeconds, "page": r.Page, "valid_from": r.ValidFrom, "valid_to": r.ValidTo,
		"status": r.Status, "updated_at": r.UpdatedAt})
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		// MySQL counts changed rows: an update to the values the task
		// already has changes none. Only a task gone is NotFound.
		_, err := s.Get(ctx, t.ID)
		return err
	}
	return nil
}

// Get reads a task that is not deleted.
func (s *Store) Get(ctx context.Context, id int64) (*task.Task, error) {
	var rs []taskRow
	if err := s.DB.Conn(ctx).Where("id = ? AND status <> ?", id, task.Deleted).Limit(1).Find(&rs).Error; err != nil {
		return nil, err
	}
	if len(rs) == 0 {
		return nil, domain.Errorf(domain.NotFound, "no task %d", id)
	}
	t := rs[0].toDomain()
	return &t, nil
}

// List reads tasks by id after a cursor.
func (s *Store) List(ctx context.Context, after int64, limit int) ([]task.Task, error) {
	var rs []taskRow
	err := s.DB.Conn(ctx).Where("id > ? AND status <> ?", after, task.Deleted).Order("id").Limit(limit).Find(&rs).Error
	return toTasks(rs), err
}

// Active reads the active tasks of some types (none: all).
func (s *Store) Active(ctx context.Context, types ...task.Type) ([]task.Task, error) {
	q := s.DB.Conn(ctx).Where("status = ?", task.Active)
	if len(types) > 0 {
		names := make([]string, len(types))
		for i, t := range types {
			names[i] = string(t)
		}
		q = q.Where("type IN ?", names)
	}
	var rs []taskRow
	err := q.Order("id").Find(&rs).Error
	return toTasks(rs), err
}

func toTasks(rs []taskRow) []task.Task {
	out := make([]task.Task, len(rs))
	for i := range rs {
		out[i] = rs[i].toDomain()
	}
	return out
}

// Progress reads the member's rows of the given task periods.
func (s *Store) Progress(ctx context.Context, memberID int64, keys []task.ProgressKey) (map[task.ProgressKey]task.Progress, error) {
	out := map[task.ProgressKey]task.Progress{}
	if len(keys) == 0 {
		return out, nil
	}
	ids, periods := make([]int64, 0, len(keys)), make([]string, 0, len(keys))
	want := map[task.ProgressKey]bool{}
	for _, k := range keys {
		ids, periods = append(ids, k.TaskID), append(periods, k.Period)
		want[k] = true
	}
	var rs []progressRow
	if err := s.DB.Conn(ctx).Where("member_id = ? AND task_id IN ? AND period IN ?", memberID, ids, periods).Find(&rs).Error; err != nil {
		return nil, fmt.Errorf("task progress of member %d: %w", memberID, err)
	}
	for _, r := range rs {
		k := task.ProgressKey{MemberID: r.MemberID, TaskID: r.TaskID, Period: r.Period}
		if want[k] {
			out[k] = task.Progress{MemberID: r.MemberID, TaskID: r.TaskID, Period: r.Period, Count: r.Count,
				ClaimedAt: utcp(r.ClaimedAt), ClaimKey: r.ClaimKey}
		}
	}
	return out, nil
}

func (s *Store) row(ctx context.Context, k task.ProgressKey) *gorm.DB {
	return s.DB.Conn(ctx).Model(&progressRow{}).Where("member_id = ? AND task_id = ? AND period = ?", k.MemberID, k.TaskID, k.Period)
}

// Advance adds one step below target: update the row when it exists,
// else insert it; a concurrent insert of the same row makes the insert a
// no-op, and the update is tried once more.
func (s *Store) Advance(ctx context.Context, k task.ProgressKey, target int, now time.Time) error {
	for attempt := 0; attempt < 2; attempt++ {
		res := s.row(ctx, k).Where("count < ?", target).Updates(map[string]any{"count": gorm.Expr("count + 1"), "updated_at": now.UTC()})
		if res.Error != nil || res.RowsAffected > 0 {
			return res.Error
		}
		ins := s.DB.Conn(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&progressRow{MemberID: k.MemberID, TaskID: k.TaskID,
			Period: k.Period, Count: 1, UpdatedAt: now.UTC()})
		if ins.Error != nil || ins.RowsAffected > 0 {
			return ins.Error
		}
	}
	return nil // the row exists at target
}

// MarkClaimed claims a finished, unclaimed row.
func (s *Store) MarkClaimed(ctx context.Context, k task.ProgressKey, target int, claimKey string, now time.Time) (bool, error) {
	res := s.row(ctx, k).Where("count >= ? AND claimed_at IS NULL", target).
		Updates(map[string]any{"claimed_at": now.UTC(), "claim_key": claimKey, "updated_at": now.UTC()})
	return res.RowsAffected == 1, res.Error
}

// ClaimedWithKey finds the member's claimed row of the task with claimKey
// (the primary key's member and task prefix: a row per period).
func (s *Store) ClaimedWithKey(ctx context.Context, memberID, taskID int64, claimKey string) (task.Progress, bool, error) {
	var rs []progressRow
	err := s.DB.Conn(ctx).Where("member_id = ? AND task_id = ? AND claim_key = ? AND claimed_at IS NOT NULL", memberID, taskID, claimKey).
		Limit(1).Find(&rs).Error
	if err != nil {
		return task.Progress{}, false, fmt.Errorf("claim %q of member %d: %w", claimKey, memberID, err)
	}
	if len(rs) == 0 {
		return task.Progress{}, false, nil
	}
	r := rs[0]
	return task.Progress{MemberID: r.MemberID, TaskID: r.TaskID, Period: r.Period, Count: r.Count,
		ClaimedAt: utcp(r.ClaimedAt), ClaimKey: r.ClaimKey}, true, nil
}

// RecordEvent stores a counted event, unique by source and id.
func (s *Store) RecordEvent(ctx context.Context, source, eventID string, memberID int64, now time.Time) error {
	err := s.DB.Conn(ctx).Create(&eventRow{Source: source, EventID: eventID, MemberID: memberID, CreatedAt: now.UTC()}).Error
	if repo.IsDuplicate(err) {
		return fmt.Errorf("%s event %s: %w", source, eventID, task.ErrDuplicate)
	}
	return err
}
