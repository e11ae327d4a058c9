// Package audit records who changed what: every console or guide action
// that moves points or edits rules writes one row, in the same unit of work
// as the change, so the trail can never disagree with the data.
package audit

import (
	"context"
	"encoding/json"
	"reflect"
	"time"
)

// Entry is one audited action.
type Entry struct {
	ID        int64     `json:"id"`
	Actor     string    `json:"actor"`      // console username or guide userid
	ActorRole string    `json:"actor_role"` // admin, marketer, auditor, guide
	Action    string    `json:"action"`     // e.g. points.adjust, rule.update
	Target    string    `json:"target"`     // e.g. member:42, rule:7
	Detail    string    `json:"detail"`     // JSON or text
	CreatedAt time.Time `json:"created_at"`
}

// Store persists audit entries.
type Store interface {
	Insert(ctx context.Context, e *Entry) error
	// List returns entries newest first with id < before (0: from the newest),
	// optionally only those for target.
	List(ctx context.Context, target string, before int64, limit int) ([]Entry, error)
	// Search is List narrowed by every field of f that is set.
	Search(ctx context.Context, f Filter, before int64, limit int) ([]Entry, error)
}

// Filter narrows the trail; a zero field matches every entry.
type Filter struct {
	Actor  string    // exactly this username or guide userid
	Action string    // exactly, or every action under a prefix ending in "." ("rule." for rule.create, rule.update …)
	Target string    // exactly (member:42)
	From   time.Time // created at or after
	To     time.Time // created before
}

// Trail is the audit trail as handlers see it: they record and read
// through it, never through the Store.
type Trail struct {
	Store Store
}

// Record writes e in the unit of work in ctx.
func (t *Trail) Record(ctx context.Context, e *Entry) error { return t.Store.Insert(ctx, e) }

// List returns entries newest first with id < before (0: from the newest),
// optionally only those for target.
func (t *Trail) List(ctx context.Context, target string, before int64, limit int) ([]Entry, error) {
	return t.Store.List(ctx, target, before, limit)
}

// Search returns entries newest first with id < before (0: from the
// newest), narrowed by every field of f that is set.
func (t *Trail) Search(ctx context.Context, f Filter, before int64, limit int) ([]Entry, error) {
	return t.Store.Search(ctx, f, before, limit)
}

// Actor is the console user an audited edit names.
type Actor struct{ Name, Role string }

// Row is the entry of an edit a made at at: detail is kept as JSON.
func Row(a Actor, action, target string, detail any, at time.Time) *Entry {
	b, _ := json.Marshal(detail)
	return &Entry{Actor: a.Name, ActorRole: a.Role, Action: action, Target: target, Detail: string(b), CreatedAt: at}
}

// Changes is what an edit changed, as an audit detail keeps it: each key
// of to whose value differs from the one in from, as [old, new]. Times
// are the same when they are the same instant.
func Changes(from, to map[string]any) map[string][2]any {
	out := map[string][2]any{}
	for k, v := range to {
		if !same(from[k], v) {
			out[k] = [2]any{from[k], v}
		}
	}
	return out
}

func same(a, b any) bool {
	if ta, ok := a.(time.Time); ok {
		tb, ok := b.(time.Time)
		return ok && ta.Equal(tb)
	}
	return reflect.DeepEqual(a, b)
}
