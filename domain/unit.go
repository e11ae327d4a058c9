package domain

import "context"

// UnitOfWork runs fn in one unit of work whose transaction travels in ctx;
// a call made inside another one joins it. repo.DB implements it (MySQL or
// SQLite). Every service that writes takes one; there is no other
// declaration of it.
type UnitOfWork interface {
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
	// InTransaction reports whether ctx carries a unit of work already.
	InTransaction(ctx context.Context) bool
	// InGroupTx runs fn as InTx does, for a group of requests committed
	// together: the store may save what nobody reads before the end as
	// late as the end, so a group costs the server fewer requests (repo.DB
	// says how).
	InGroupTx(ctx context.Context, fn func(ctx context.Context) error) error
}
