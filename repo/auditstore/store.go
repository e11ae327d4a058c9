// Package auditstore is the gorm implementation of audit.Store.
package auditstore

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jifen/jifen/domain/audit"
	"github.com/jifen/jifen/repo"
)

type row struct {
	ID        int64 `gorm:"primaryKey"`
	Actor     string
	ActorRole string
	Action    string
	Target    string
	Detail    string
	CreatedAt time.Time
}

func (row) TableName() string { return "audit_log" }

// Store implements audit.Store.
type Store struct{ DB *repo.DB }

var _ audit.Store = (*Store)(nil)

// Insert writes an entry in the caller's unit of work.
func (s *Store) Insert(ctx context.Context, e *audit.Entry) error {
	r := row{Actor: e.Actor, ActorRole: e.ActorRole, Action: e.Action, Target: e.Target, Detail: e.Detail, CreatedAt: e.CreatedAt.UTC()}
	if err := s.DB.Conn(ctx).Create(&r).Error; err != nil {
		return err
	}
	e.ID = r.ID
	return nil
}

// InsertMany writes entries in the caller's unit of work with one
// multi-row INSERT (per 500 rows) and sets no ids: in a pipelined
// transaction it travels with the next statement or the COMMIT
// (repo.DB.Later). A group of console adjustments writes its rows so.
func (s *Store) InsertMany(ctx context.Context, es []audit.Entry) error {
	for lo := 0; lo < len(es); lo += insertChunk {
		part := es[lo:min(lo+insertChunk, len(es))]
		args := make([]any, 0, 6*len(part))
		for _, e := range part {
			args = append(args, e.Actor, e.ActorRole, e.Action, e.Target, e.Detail, e.CreatedAt.UTC())
		}
		if err := s.DB.Later(ctx, nil, `INSERT INTO audit_log (actor, actor_role, action, target, detail, created_at) VALUES `+
			repo.RowsOf(len(part), 6), args...); err != nil {
			return fmt.Errorf("insert audit rows: %w", err)
		}
	}
	return nil
}

// insertChunk caps the rows of one INSERT of InsertMany.
const insertChunk = 500

// List reads entries newest first.
func (s *Store) List(ctx context.Context, target string, before int64, limit int) ([]audit.Entry, error) {
	return s.Search(ctx, audit.Filter{Target: target}, before, limit)
}

// Search reads entries newest first, narrowed by f. Actor, action and
// target each have an index (migrations 103 and 780) that also orders by
// id, so a filtered page reads only the rows it shows.
func (s *Store) Search(ctx context.Context, f audit.Filter, before int64, limit int) ([]audit.Entry, error) {
	q := s.DB.Conn(ctx).Order("id DESC").Limit(limit)
	if f.Target != "" {
		q = q.Where("target = ?", f.Target)
	}
	if f.Actor != "" {
		q = q.Where("actor = ?", f.Actor)
	}
	if prefix, ok := strings.CutSuffix(f.Action, "."); ok {
		q = q.Where("action >= ? AND action < ?", prefix+".", prefix+"/") // '/' follows '.'
	} else if f.Action != "" {
		q = q.Where("action = ?", f.Action)
	}
	if !f.From.IsZero() {
		q = q.Where("created_at >= ?", f.From.UTC())
	}
	if !f.To.IsZero() {
		q = q.Where("created_at < ?", f.To.UTC())
	}
	if before > 0 {
		q = q.Where("id < ?", before)
	}
	var rows []row
	if err := q.Find(&rows).Error; err != nil {
		return nil, err
	}
	out := make([]audit.Entry, len(rows))
	for i, r := range rows {
		out[i] = audit.Entry{ID: r.ID, Actor: r.Actor, ActorRole: r.ActorRole, Action: r.Action, Target: r.Target, Detail: r.Detail, CreatedAt: r.CreatedAt}
	}
	return out, nil
}
