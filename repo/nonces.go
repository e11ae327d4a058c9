package repo

import (
	"context"
	"time"
)

// Nonces remembers the nonces of signed callbacks (WeCom, the official
// account) for as long as their timestamps are accepted, so that a
// captured callback cannot be played again. Losing them (a flushed Redis)
// reopens replays only inside the callbacks' timestamp window; the events
// themselves stay idempotent in SQL.
type Nonces struct{ R *Redis }

// Claim records nonce for scope until ttl ends; false when it is recorded
// already.
func (n *Nonces) Claim(ctx context.Context, scope, nonce string, ttl time.Duration) (bool, error) {
	return n.R.C.SetNX(ctx, n.R.Key("cbnonce", scope, nonce), 1, ttl).Result()
}

// Release forgets nonce, so that the sender's retry of a callback that
// failed is processed.
func (n *Nonces) Release(ctx context.Context, scope, nonce string) error {
	return n.R.C.Del(ctx, n.R.Key("cbnonce", scope, nonce)).Err()
}
