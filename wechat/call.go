package wechat

import (
	"context"
	"fmt"
	"regexp"
	"sync/atomic"
	"time"

	"github.com/jifen/jifen/domain"
)

// DefaultCallTimeout bounds one attempt of a WeChat call, token fetch
// included. Retries get their own.
const DefaultCallTimeout = 5 * time.Second

// busyBackoff is the pause before retrying a −1 (system busy).
const busyBackoff = 100 * time.Millisecond

// WeChat error codes the policy acts on.
const (
	errBusy        = -1
	errInvalidCode = 40029
	errCodeUsed    = 40163
	errUserBlocked = 40226 // code2Session: a high-risk user, WeChat refuses the login
	errRateLimited = 45011
	errQuotaDaily  = 45009 // daily quota of the API reached (wxacode)
	errBadScene    = 40169 // wxacode: scene invalid
	errBadPage     = 41030 // wxacode: page not in the published mini-program
	errBadAppID    = 40013 // the appid (or corpid) is not WeChat's
	errBadSecret   = 40125 // the appsecret is not the app's
	errIPDenied    = 40164 // the server's IP is not in the app's allowlist
)

// settingErrcodes are WeChat's answers to a wrong setting: an operator
// must fix the configuration, so they are 503 MISCONFIGURED, never retried.
var settingErrcodes = map[int64]bool{errBadAppID: true, errBadSecret: true, errIPDenied: true}

// Option tunes a MiniProgram or Work.
type Option func(*caller)

// WithCallTimeout sets the time one attempt of a call may take
// (DefaultCallTimeout otherwise).
func WithCallTimeout(d time.Duration) Option {
	return func(c *caller) { c.timeout = d }
}

// attempt makes one call with the access token (when the API takes one) and
// returns WeChat's errcode (0 when the call got no WeChat answer or
// succeeded) and the error.
type attempt func(ctx context.Context, token string) (errcode int64, err error)

// CallObserver hears of every attempt of a WeChat or WeCom call (token
// fetches and reminder sends included): the API's name and WeChat's
// errcode (0 with a nil error: success; 0 with an error: no answer from
// WeChat). A call that never went out (no access token) is not an attempt:
// its token fetch is.
type CallObserver func(api string, errcode int64, err error)

var callObserver atomic.Pointer[CallObserver]

// ObserveCalls sets the process-wide CallObserver (the metrics), like
// Configure sets the HTTP client; nil stops observing.
func ObserveCalls(fn CallObserver) {
	if fn == nil {
		callObserver.Store(nil)
		return
	}
	callObserver.Store(&fn)
}

func observe(api string, code int64, err error) {
	if fn := callObserver.Load(); fn != nil {
		(*fn)(api, code, err)
	}
}

// caller runs SDK calls under the package's error policy.
type caller struct {
	tokens      tokenSource
	staleToken  map[int64]bool // errcodes meaning the access token is no longer valid
	timeout     time.Duration
	busyBackoff time.Duration
}

func newCaller(tokens tokenSource, staleToken []int64, opts []Option) caller {
	c := caller{tokens: tokens, staleToken: map[int64]bool{}, timeout: DefaultCallTimeout, busyBackoff: busyBackoff}
	for _, code := range staleToken {
		c.staleToken[code] = true
	}
	for _, o := range opts {
		o(&c)
	}
	return c
}

// do runs fn, retrying once on −1 and, when withToken, once on a stale
// access token, and maps the outcome to a *domain.Error.
func (c *caller) do(ctx context.Context, api string, withToken bool, fn attempt) error {
	busyRetried, tokenRetried := false, false
	for {
		code, token, err := c.once(ctx, api, withToken, fn)
		switch {
		case code == 0 && err == nil:
			return nil
		case code == 0 && settingErrcodes[errcode(err)]:
			// Only a token fetch returns its errcode this way (once).
			return misconfigured(api, err)
		case code == 0:
			return unavailable(api, err)
		case code == errBusy && !busyRetried:
			busyRetried = true
			if err := sleep(ctx, c.busyBackoff); err != nil {
				return unavailable(api, err)
			}
		case withToken && c.staleToken[code] && !tokenRetried:
			tokenRetried = true
			if err := c.tokens.refresh(ctx, token, c.timeout); err != nil {
				return unavailable(api, err)
			}
		default:
			return fromErrcode(api, code, err)
		}
	}
}

// once makes one attempt under the call timeout, fetching the access token
// first when withToken, and returns the token it used. The attempt is
// observed only when it was made: a failed token fetch is observed as
// itself.
func (c *caller) once(ctx context.Context, api string, withToken bool, fn attempt) (int64, string, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	var token string
	if withToken {
		var err error
		if token, err = c.tokens.get(ctx); err != nil {
			return 0, "", err
		}
	}
	code, err := fn(ctx, token)
	if code != 0 && err == nil {
		// Some SDK calls return no error for an errcode; keep one to wrap.
		err = fmt.Errorf("errcode %d", code)
	}
	observe(api, code, err)
	return code, token, err
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// fromErrcode maps a WeChat errcode the policy does not retry (any more).
func fromErrcode(api string, code int64, cause error) error {
	switch code {
	case errInvalidCode:
		return fail(domain.InvalidCode, "WeChat rejected the code", api, cause)
	case errCodeUsed:
		return fail(domain.CodeUsed, "the code has already been used", api, cause)
	case errUserBlocked:
		// WeChat's verdict on the user, not an outage: another code of
		// the same user is refused too, so this is no retry.
		return fail(domain.Forbidden, "WeChat refuses this user's login (a high-risk account); retrying will not help", api, cause)
	case errRateLimited, errQuotaDaily:
		return fail(domain.RateLimited, "WeChat is limiting calls; retry in a minute", api, cause)
	case errBadScene:
		return fail(domain.Invalid, "WeChat rejected the mini-program code scene", api, cause)
	case errBadAppID, errBadSecret, errIPDenied:
		return misconfigured(api, cause)
	case errBadPage:
		return fail(domain.Misconfigured, "the mini-program page for codes is not published (check referral.qrcode_page)", api, cause)
	}
	return unavailable(api, cause)
}

func misconfigured(api string, cause error) error {
	return fail(domain.Misconfigured, "the WeChat appid, secret or IP allowlist is wrong; an operator must fix the configuration", api, cause)
}

func unavailable(api string, cause error) error {
	return fail(domain.Unavailable, "WeChat is unavailable; retry later", api, cause)
}

// fail returns a *domain.Error (found by errors.As and domain.ErrorCode)
// that also wraps the cause for logs. The message is for the client; the
// cause never reaches it.
func fail(code domain.Code, msg, api string, cause error) error {
	return fmt.Errorf("%w (wechat %s: %w)", domain.Errorf(code, "%s", msg), api, redacted{cause})
}

// credentialParam finds credentials in the URLs the SDK puts in its errors.
var credentialParam = regexp.MustCompile(`(secret|access_token)=[^&\s"]*`)

// redacted blanks credentials out of an error's text.
type redacted struct{ err error }

func (r redacted) Error() string { return credentialParam.ReplaceAllString(r.err.Error(), "${1}=***") }
func (r redacted) Unwrap() error { return r.err }
