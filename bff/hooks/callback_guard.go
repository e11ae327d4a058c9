package hooks

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"time"

	"github.com/jifen/jifen/domain"
)

// Nonces is the replay memory of the signed WeChat callbacks (repo.Nonces).
type Nonces interface {
	Claim(ctx context.Context, scope, nonce string, ttl time.Duration) (bool, error)
	Release(ctx context.Context, scope, nonce string) error
}

// CallbackGuard is what the WeCom and official-account callbacks go
// through after the signature: a timestamp within Window of the clock
// (±5 minutes), a nonce not seen in that time, and a time Budget for the
// work. A signature covers the timestamp and the nonce, so a captured
// callback can only be replayed inside the window and, with the nonce
// recorded, not at all.
type CallbackGuard struct {
	Clock  domain.Clock
	Window time.Duration
	Nonces Nonces
	// Budget bounds the work of one callback (lookups at WeChat, SQL), so
	// that the answer comes before WeChat gives up on it (5 s) and sends
	// the callback again while the first one still runs. Work that does not
	// fit is answered 503 and its nonce forgotten: WeChat's retry does it.
	// 0: no budget beyond the request's.
	Budget time.Duration
}

// run checks timestamp and nonce of an authentic callback, then does work
// within the budget. A nonce already seen is not worked again (nil: the
// caller answers "success"). When work fails the nonce is forgotten, so
// that WeChat's retry of the same callback is worked. Without Redis the
// nonce cannot be checked: the callback is worked anyway (the timestamp
// window still holds, and every event is idempotent in SQL).
func (g *CallbackGuard) run(ctx context.Context, scope, timestamp, nonce string, work func(context.Context) error) error {
	ts, perr := strconv.ParseInt(timestamp, 10, 64)
	if perr != nil {
		return domain.Errorf(domain.Unauthorized, "timestamp must be Unix seconds")
	}
	skew := g.Clock.Now().Sub(time.Unix(ts, 0))
	if skew > g.Window || skew < -g.Window {
		return domain.Errorf(domain.Unauthorized, "timestamp outside the %s window", g.Window)
	}
	// Kept a little past both ends of the window, while the timestamp that
	// came with it is still accepted.
	fresh, err := g.Nonces.Claim(ctx, scope, nonce, 2*g.Window+time.Minute)
	claimed := err == nil
	switch {
	case err != nil:
		slog.WarnContext(ctx, "callback nonce not checked", "scope", scope, "err", err.Error())
	case !fresh:
		return nil
	}
	wctx, cancel := ctx, context.CancelFunc(func() {})
	if g.Budget > 0 {
		wctx, cancel = context.WithTimeout(ctx, g.Budget)
	}
	defer cancel()
	err = work(wctx)
	if err != nil && claimed {
		_ = g.Nonces.Release(context.WithoutCancel(ctx), scope, nonce)
	}
	if err != nil && errors.Is(wctx.Err(), context.DeadlineExceeded) && ctx.Err() == nil {
		return domain.Errorf(domain.Unavailable, "callback not handled within %s; WeChat's retry will be", g.Budget)
	}
	return err
}
