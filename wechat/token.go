package wechat

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/silenceper/wechat/v2/util"
)

// tokenSource keeps one app's access token in Redis, shared by every
// instance of the service, and fetches a new one under a Redis lock so
// that one instance at a time asks WeChat: /cgi-bin/token retires the
// previous token five minutes after each call, so instances fetching
// their own would keep invalidating each other's.
//
// The mini-program and the official account use stable_token, which
// answers the current token instead of rotating it; a refresh after WeChat
// refused a token asks plainly first (another system may have rotated it:
// the answer is then the new one) and forces a new token only when WeChat
// answers the very token it refused, since forced refreshes are limited
// (20 a day, one per 30 s).
//
// Redis only holds what can be rebuilt, so an outage of Redis is no outage
// of WeChat: while Redis does not answer, the process serves the last token
// it fetched (local) until it expires, and when it has none fetches one
// itself, without the lock. stable_token (and WeCom's gettoken) answer the
// current token without retiring the one other instances hold.
type tokenSource struct {
	cache *RedisCache
	key   string // cache key of the token; key+":lock" guards its refresh
	fetch fetchToken
	local *localToken
}

func newTokenSource(c *RedisCache, key string, fetch fetchToken) tokenSource {
	return tokenSource{cache: c, key: key, fetch: fetch, local: &localToken{}}
}

// localToken is the process's copy of the last token it fetched. Its mutex
// also makes the process fetch once at a time while Redis is unreachable.
type localToken struct {
	mu      sync.Mutex
	token   string
	expires time.Time
}

func (l *localToken) keep(tok string, d time.Duration) {
	l.token, l.expires = tok, time.Now().Add(d)
}

// current is the kept token unless it has expired or is stale.
func (l *localToken) current(stale string) string {
	if l.token == "" || l.token == stale || !time.Now().Before(l.expires) {
		return ""
	}
	return l.token
}

// fetchToken asks WeChat for a token; force asks for a new one.
type fetchToken func(ctx context.Context, force bool) (token string, ttl time.Duration, err error)

const (
	// tokenEarly is how long before WeChat's expiry a cached token is
	// replaced.
	tokenEarly = 5 * time.Minute
	// tokenLockTTL bounds how long a crashed holder blocks refreshes.
	tokenLockTTL = 10 * time.Second
	tokenPoll    = 25 * time.Millisecond
)

func (t tokenSource) get(ctx context.Context) (string, error) {
	tok, err := t.cache.value(ctx, t.key)
	switch {
	case err != nil:
		return t.withoutRedis(ctx, "", err)
	case tok != "":
		return tok, nil
	}
	return t.renew(ctx, "")
}

// refresh replaces stale, a token WeChat has just refused, within timeout.
// When another instance has replaced it already, its token is kept.
func (t tokenSource) refresh(ctx context.Context, stale string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	_, err := t.renew(ctx, stale)
	return err
}

// cached is the token in Redis, "" when there is none or Redis did not
// answer.
func (t tokenSource) cached(ctx context.Context) string {
	tok, _ := t.cache.value(ctx, t.key)
	return tok
}

// renew returns a token other than stale ("" when none is known bad):
// the cached one if another instance refreshed it, else one it fetches
// while holding the lock.
func (t tokenSource) renew(ctx context.Context, stale string) (string, error) {
	for {
		release, ok, err := t.cache.lock(ctx, t.key+":lock", tokenLockTTL)
		if err != nil {
			return t.withoutRedis(ctx, stale, fmt.Errorf("access token lock: %w", err))
		}
		if ok {
			tok, err := t.fetchLocked(ctx, stale)
			release()
			return tok, err
		}
		if err := sleep(ctx, tokenPoll); err != nil {
			return "", fmt.Errorf("access token: waiting for another instance's refresh: %w", err)
		}
		if cur := t.cached(ctx); cur != "" && cur != stale {
			return cur, nil
		}
	}
}

func (t tokenSource) fetchLocked(ctx context.Context, stale string) (string, error) {
	if cur := t.cached(ctx); cur != "" && cur != stale {
		return cur, nil
	}
	t.local.mu.Lock()
	defer t.local.mu.Unlock()
	tok, keep, err := t.fetchFresh(ctx, stale)
	if err != nil {
		return "", err
	}
	t.local.keep(tok, keep)
	// Redis failing now, after the lock, leaves the token to this process
	// (local) until Redis answers again.
	_ = t.cache.SetContext(ctx, t.key, tok, keep)
	return tok, nil
}

// withoutRedis returns a token other than stale while Redis is
// unreachable (cause): the process's own copy, else one it fetches
// without the lock and keeps until it expires.
func (t tokenSource) withoutRedis(ctx context.Context, stale string, cause error) (string, error) {
	t.local.mu.Lock()
	defer t.local.mu.Unlock()
	if tok := t.local.current(stale); tok != "" {
		return tok, nil
	}
	tok, keep, err := t.fetchFresh(ctx, stale)
	if err != nil {
		return "", fmt.Errorf("%w (Redis unreachable: %v)", err, cause)
	}
	t.local.keep(tok, keep)
	return tok, nil
}

// fetchFresh asks WeChat for a token other than stale, forcing a new one
// only when WeChat answers stale, and returns how long to keep it.
func (t tokenSource) fetchFresh(ctx context.Context, stale string) (string, time.Duration, error) {
	tok, ttl, err := t.fetch(ctx, false)
	if err == nil && stale != "" && tok == stale {
		tok, ttl, err = t.fetch(ctx, true)
	}
	if err != nil {
		return "", 0, fmt.Errorf("access token: %w", err)
	}
	keep := ttl - tokenEarly
	if keep < ttl/2 {
		keep = ttl / 2
	}
	return tok, keep, nil
}

// tokenAnswer is what the token APIs answer.
type tokenAnswer struct {
	util.CommonError
	AccessToken string `json:"access_token"`
	ExpiresIn   int64  `json:"expires_in"`
}

func (a tokenAnswer) result(api string) (string, time.Duration, error) {
	if a.AccessToken == "" || a.ExpiresIn <= 0 {
		return "", 0, errors.New(api + ": answer without access_token or expires_in")
	}
	return a.AccessToken, time.Duration(a.ExpiresIn) * time.Second, nil
}

// stableToken fetches tokens of a mini-program or official account
// (POST cgi-bin/stable_token; the secret travels in the body).
func stableToken(appID, secret string) fetchToken {
	return func(ctx context.Context, force bool) (string, time.Duration, error) {
		var a tokenAnswer
		body := map[string]any{"grant_type": "client_credential", "appid": appID, "secret": secret, "force_refresh": force}
		err := postJSON(ctx, "stable_token", hostWeChat+"/cgi-bin/stable_token", body, &a)
		observe("stable_token", errcode(err), err)
		if err != nil {
			return "", 0, err
		}
		return a.result("stable_token")
	}
}

// workToken fetches a WeCom app's token (GET cgi-bin/gettoken), which
// WeCom keeps the same while it is valid.
func workToken(corpID, secret string) fetchToken {
	return func(ctx context.Context, _ bool) (string, time.Duration, error) {
		var a tokenAnswer
		err := getJSON(ctx, "gettoken", endpoint(hostWeCom, "/cgi-bin/gettoken", url.Values{"corpid": {corpID}, "corpsecret": {secret}}), &a)
		observe("gettoken", errcode(err), err)
		if err != nil {
			return "", 0, err
		}
		return a.result("gettoken")
	}
}

// unlock deletes a lock only while it still holds the owner's value.
var unlock = redis.NewScript(`if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end return 0`)

// lock takes key for ttl unless another holds it; release frees it if it
// is still this holder's.
func (c *RedisCache) lock(ctx context.Context, key string, ttl time.Duration) (release func(), ok bool, err error) {
	owner := rand.Text()
	ok, err = c.rdb.SetNX(ctx, c.prefix+key, owner, ttl).Result()
	if err != nil || !ok {
		return nil, false, err
	}
	return func() { _ = unlock.Run(context.WithoutCancel(ctx), c.rdb, []string{c.prefix + key}, owner).Err() }, true, nil
}
