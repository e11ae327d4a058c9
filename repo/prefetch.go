package repo

import (
	"context"
	"database/sql"
)

// Prefetch is what a read sent ahead in a pipelined transaction
// (PrefetchRows) found for a set of ids, kept until the reader it was sent
// for takes it (TakePrefetch, once: a later reader reads again).
type Prefetch[V any] struct {
	asked map[int64]bool
	found map[int64]V
}

// Covers reports whether the read asked for every one of ids.
func (p *Prefetch[V]) Covers(ids []int64) bool {
	for _, id := range ids {
		if !p.asked[id] {
			return false
		}
	}
	return true
}

// Pick returns what the read found of ids (ids without a row are absent).
func (p *Prefetch[V]) Pick(ids []int64) map[int64]V {
	out := make(map[int64]V, len(ids))
	for _, id := range ids {
		if v, ok := p.found[id]; ok {
			out[id] = v
		}
	}
	return out
}

// PrefetchRows sends the read q of the rows of ids with the next statement
// of the pipelined transaction in ctx (DB.LaterRead); scan turns the
// current row into its id and value. What it finds is kept under key until
// TakePrefetch. Outside a pipelined transaction it does nothing: the reader
// then reads for itself.
func PrefetchRows[V any](ctx context.Context, d *DB, key any, ids []int64, scan func(*sql.Rows) (int64, V, error), q string, args ...any) error {
	if !Pipelined(ctx) || len(ids) == 0 {
		return nil
	}
	_, set := Local(ctx, key)
	return d.LaterRead(ctx, func(rows *sql.Rows) error {
		p := &Prefetch[V]{asked: make(map[int64]bool, len(ids)), found: make(map[int64]V, len(ids))}
		for _, id := range ids {
			p.asked[id] = true
		}
		for rows.Next() {
			id, v, err := scan(rows)
			if err != nil {
				return err
			}
			p.found[id] = v
		}
		if err := rows.Err(); err != nil {
			return err
		}
		set(p)
		return nil
	}, q, args...)
}

// TakePrefetch returns the Prefetch kept under key in the pipelined
// transaction in ctx and forgets it; nil when there is none.
func TakePrefetch[V any](ctx context.Context, key any) *Prefetch[V] {
	v, set := Local(ctx, key)
	if v == nil {
		return nil
	}
	set(nil)
	p, _ := v.(*Prefetch[V])
	return p
}
