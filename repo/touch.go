package repo

import (
	"context"
	"slices"
	"sync"
)

// Members' views cached outside the database (GET /shopper/me's, in Redis)
// stay true because every store method that changes what such a view shows
// — a member's points (ledger_accounts), tier (member_tiers) or profile
// (members) — calls Touch with the members it changed. Inside a
// transaction Touch only records them; the transaction's end (commit or
// rollback, after the last retry) hands them to the hook once, so a reader
// that rebuilds a view from the database after that moment reads what was
// committed. A write outside a transaction hands them over at once (the
// store calls Touch after its statement). Rolled-back writes invalidate
// too: one view rebuilt for nothing, never one kept stale.

type touchKey struct{}

type touched struct {
	mu  sync.Mutex
	ids []int64
}

// OnTouch sets the hook that receives the members a unit of work changed
// (nil: nobody caches; Touch costs nothing). Set it before serving.
func (d *DB) OnTouch(fn func(ctx context.Context, memberIDs []int64)) { d.onTouch = fn }

// Touch records that the caller changed what members' cached views show.
func (d *DB) Touch(ctx context.Context, memberIDs ...int64) {
	if d.onTouch == nil || len(memberIDs) == 0 {
		return
	}
	if t, ok := ctx.Value(touchKey{}).(*touched); ok && InTransaction(ctx) {
		t.mu.Lock()
		t.ids = append(t.ids, memberIDs...)
		t.mu.Unlock()
		return
	}
	d.onTouch(context.WithoutCancel(ctx), memberIDs)
}

// touching starts recording the members a new outermost transaction
// changes; done hands them to the hook.
func (d *DB) touching(ctx context.Context) (context.Context, func()) {
	if d.onTouch == nil {
		return ctx, func() {}
	}
	t := &touched{}
	return context.WithValue(ctx, touchKey{}, t), func() {
		t.mu.Lock()
		ids := t.ids
		t.ids = nil
		t.mu.Unlock()
		if len(ids) > 0 {
			// A group's statements touch a member once each (its sign-in
			// row, its account…): one invalidation is enough.
			slices.Sort(ids)
			d.onTouch(context.WithoutCancel(ctx), slices.Compact(ids))
		}
	}
}
