package domain

import "context"

// UnitOfWork runs fn in one unit of work whose transaction travels in ctx;
// a call made inside another one joins it. repo.DB implements it (MySQL or
// SQLite). Every service that writes takes one; there is no other
// declaration of it.
type UnitOfWork interface {
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
}
