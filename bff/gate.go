package bff

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/redis/go-redis/v9"

	"github.com/jifen/jifen/bff/auth"
	"github.com/jifen/jifen/bff/web"
	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/session"
)

// The rate limits are GCRA buckets in Redis ("generic cell rate"): a key
// holds the theoretical arrival time (TAT, µs on Redis's clock) of the
// next request; each request moves it one interval (a minute ÷ the limit)
// further, and a request that would move it more than a minute past now
// waits. A full minute's limit may come at once (the burst), then one
// request per interval. A hot key takes several cells at once and spends
// them without Redis (leases.go).
//
// gcraScript: KEYS the bucket; ARGV the interval and the burst span (µs),
// and the cells asked for (at least 1). Returns {cells, 0}: the cells
// taken, at least 1 and at most those that fit, the request's own among
// them; or {0, µs} when not even one fits: the µs to wait.
var gcraScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local fit = math.floor((now + burst - tat) / interval)
if fit < 1 then return {0, math.ceil(tat + interval - now - burst)} end
local k = math.min(tonumber(ARGV[3]), fit)
local nxt = tat + k * interval
redis.call('SET', KEYS[1], string.format('%d', nxt), 'PX', math.ceil((nxt - now) / 1000))
return {k, 0}
`)

// minuteUS is the span every limit is stated over.
const minuteUS = 60_000_000

// limit is one per-minute rate limit on keys under prefix, with the cells
// its hot keys have leased.
type limit struct {
	prefix    string
	perMinute int
	leases    *leases
}

func newLimit(prefix string, perMinute int) limit {
	return limit{prefix: prefix, perMinute: perMinute, leases: newLeases(perMinute)}
}

// check is one request's check of a limit: passed by a leased cell, or
// asked of Redis by the script queued in a pipeline.
type check struct {
	l      limit
	key    string
	ask    int64 // cells to ask for; 0: none (leased)
	cmd    *redis.Cmd
	leased bool // a leased cell passed the request
}

// check counts a request of key and spends a leased cell on it if the key
// has one.
func (l limit) check(key string) *check {
	leased, ask := l.leases.take(key, time.Now())
	return &check{l: l, key: key, ask: ask, leased: leased}
}

// queue adds the script to pipe when the check asks for cells.
func (c *check) queue(ctx context.Context, pipe redis.Pipeliner) {
	if c.ask == 0 {
		return
	}
	interval := minuteUS / int64(c.l.perMinute)
	if interval < 1 {
		interval = 1
	}
	c.cmd = gcraScript.EvalSha(ctx, pipe, []string{c.l.prefix + c.key}, interval, interval*int64(c.l.perMinute), c.ask)
}

// waited reads the check's answer and keeps what it leased: ok false when
// the request must wait (secs to wait, at least 1); an error (Redis
// unreachable) lets the request through.
func (c *check) waited() (secs int, ok bool) {
	if c == nil || c.ask == 0 {
		return 0, true
	}
	var got []int64
	if c.cmd != nil {
		got, _ = c.cmd.Int64Slice()
	}
	if len(got) != 2 { // no answer: Redis unreachable
		got = []int64{0, 0}
	}
	c.l.leases.got(c.key, c.ask, got[0], c.leased, time.Now())
	if c.leased || got[0] >= 1 || got[1] <= 0 {
		return 0, true
	}
	return max(1, int((got[1]+999_999)/1_000_000)), false
}

// runLimits sends pipe (loading the script once if Redis lost it).
func runLimits(ctx context.Context, rdb redis.UniversalClient, build func(redis.Pipeliner)) error {
	pipe := rdb.Pipeline()
	build(pipe)
	cmds, err := pipe.Exec(ctx)
	if noScript(cmds) {
		if err := gcraScript.Load(ctx, rdb).Err(); err != nil {
			return err
		}
		pipe = rdb.Pipeline()
		build(pipe)
		_, err = pipe.Exec(ctx)
	}
	return err
}

// noScript reports whether a command of cmds found the script gone. Not
// only the first error says so: Exec returns the first command's error,
// and a denylist GET before the script answers redis.Nil, which let the
// script's NOSCRIPT pass for an answer and the request through uncounted.
func noScript(cmds []redis.Cmder) bool {
	for _, c := range cmds {
		if err := c.Err(); err != nil && redis.HasErrorPrefix(err, "NOSCRIPT") {
			return true
		}
	}
	return false
}

func tooMany(c *gin.Context, secs int) {
	c.Header("Retry-After", strconv.Itoa(secs))
	web.Fail(c, domain.Errorf(domain.RateLimited, "too many requests; retry in %d s", secs))
}

// rateLimit allows l.perMinute requests per key. keyOf returns "" to skip.
// When Redis is unreachable the request is let through: rate limiting
// protects the service, it must not take it down.
func rateLimit(rdb redis.UniversalClient, l limit, keyOf func(*gin.Context) string) gin.HandlerFunc {
	return func(c *gin.Context) {
		k := keyOf(c)
		if k == "" {
			c.Next()
			return
		}
		ck := l.check(k)
		if ck.ask > 0 {
			if err := runLimits(c.Request.Context(), rdb, func(p redis.Pipeliner) { ck.queue(c.Request.Context(), p) }); err != nil {
				slog.WarnContext(c.Request.Context(), "rate limiter unavailable", "err", err.Error())
			}
		}
		if secs, ok := ck.waited(); !ok {
			tooMany(c, secs)
			return
		}
		c.Next()
	}
}

// gate admits a request to an authenticated route in ONE Redis round
// trip: the per-IP limit, the session denylist and the per-caller limit
// travel in one pipeline. The answers are read in the order the separate
// checks had: per IP (429), the bearer token (401, checked locally before
// anything is sent), the session (401), per caller (429). Unlike checks
// made one after another, the caller's bucket also counts a request that
// the per-IP limit or the denylist then refuses. Redis unreachable: the
// limits let the request through and the denylist asks the database
// (session.Service.Check), as before.
//
// prefetch, by route, queues in the same pipeline the Redis reads the
// route's handler will make for the caller (GET /shopper/me's cached
// answer); what it queued is handed to the handler only when the gate
// admits the request.
func gate(rdb redis.UniversalClient, byIP, byCaller limit, tokens *auth.Tokens, sessions *session.Service,
	denyKeys func([]string) []string, audience string, prefetch map[string]Prefetch) gin.HandlerFunc {
	return func(c *gin.Context) {
		ctx := c.Request.Context()
		raw, bearer := strings.CutPrefix(c.GetHeader("Authorization"), "Bearer ")
		var cl *auth.Claims
		authErr := errNoBearer
		switch {
		case len(c.Request.Header.Values("Authorization")) > 1:
			// Which one counts would be the first hop's choice or the
			// last's: none does.
			authErr = errTwoBearers
		case bearer && raw != "":
			cl, authErr = tokens.Verify(raw, audience)
		}
		ipCheck := byIP.check(c.ClientIP())
		var callerCheck *check
		if authErr == nil {
			callerCheck = byCaller.check(audience + ":" + cl.Subject)
		}
		var fetched func(*gin.Context)
		var denyCmds []*redis.StringCmd
		var ids []string
		if authErr == nil {
			ids = session.DenyIDs(cl.Sid, cl.ID)
		}
		err := runLimits(ctx, rdb, func(p redis.Pipeliner) {
			ipCheck.queue(ctx, p)
			if authErr != nil {
				return
			}
			if len(ids) > 0 && denyKeys != nil {
				// One GET a key, not an MGET: on a Redis Cluster the keys
				// live in different slots (CROSSSLOT), and the pipeline
				// sends each GET to its node. runLimits may build the
				// pipeline twice (NOSCRIPT): only the last build's answers
				// count.
				denyCmds = denyCmds[:0]
				for _, k := range denyKeys(ids) {
					denyCmds = append(denyCmds, p.Get(ctx, k))
				}
			}
			callerCheck.queue(ctx, p)
			if pf := prefetch[c.FullPath()]; pf != nil {
				fetched = pf(ctx, p, cl.SubjectID())
			}
		})
		if err == redis.Nil { // a denylist key not set: the usual answer
			err = nil
		}
		if err != nil {
			slog.WarnContext(ctx, "rate limiter unavailable", "err", err.Error())
		}
		// Both answers are read before either refuses: a check that asked
		// for a lease must learn what Redis gave it.
		ipSecs, ipOK := ipCheck.waited()
		callerSecs, callerOK := callerCheck.waited()
		if !ipOK {
			tooMany(c, ipSecs)
			return
		}
		if authErr != nil {
			web.Fail(c, authErr)
			return
		}
		if err := checkSession(ctx, sessions, denyCmds, cl); err != nil {
			web.Fail(c, err)
			return
		}
		if !callerOK {
			tooMany(c, callerSecs)
			return
		}
		web.SetClaims(c, cl)
		if fetched != nil && err == nil {
			fetched(c)
		}
		c.Next()
	}
}

// errNoBearer answers an authenticated route called without a token.
var errNoBearer error = domain.Errorf(domain.Unauthorized, "Authorization: Bearer <access token> required")

// errTwoBearers answers a request with more than one Authorization header.
var errTwoBearers error = domain.Errorf(domain.Unauthorized, "Authorization: one Bearer <access token>, given once")

// Prefetch queues a handler's Redis reads for the caller in the gate's
// pipeline; done (nil: nothing queued) hands them to the handler.
type Prefetch func(ctx context.Context, p redis.Pipeliner, subjectID int64) (done func(*gin.Context))

// checkSession reads the denylist's answer from the pipeline as
// sessionstore.Denylist.Denied would (the ready key first, then the ids'),
// and asks it (the database when Redis cannot say) whenever Redis's answer
// is not to be trusted.
func checkSession(ctx context.Context, sessions *session.Service, deny []*redis.StringCmd, cl *auth.Claims) error {
	if len(deny) == 0 || deny[0].Err() != nil || deny[0].Val() == "" { // no ready key (redis.Nil) or no answer
		return sessions.Check(ctx, cl.Sid, cl.ID)
	}
	for _, cmd := range deny[1:] {
		switch err := cmd.Err(); {
		case err == nil && cmd.Val() != "":
			return session.Closed()
		case err == nil:
			return sessions.Check(ctx, cl.Sid, cl.ID) // no answer read: ask
		case err != redis.Nil:
			return sessions.Check(ctx, cl.Sid, cl.ID)
		}
	}
	return nil
}
