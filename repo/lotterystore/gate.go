package lotterystore

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/batch"
	"github.com/jifen/jifen/domain/lottery"
	"github.com/jifen/jifen/repo"
)

// Gate implements lottery.Gate in Redis. A campaign's keys share the hash
// tag {lot:<id>} (not the member's {m:<id>}): the reserve script touches the
// campaign's stock hash and one member's hash at once, so they must live in
// one Cluster slot. Each hash carries a field "_ok" written only by a
// rebuild: a hash without it (lost, or half-recreated by a late release) is
// rebuilt from SQL before use.
type Gate struct {
	R *repo.Redis
	// TTL of a member's counters (refreshed on every draw); 8 days when zero.
	TTL time.Duration
	// Pipelines is how many pipelines of reserves may be in flight at once:
	// reserves that arrive while they are travel together in the next one
	// (each script still runs alone and atomically on the server; a lone
	// reserve is sent at once). 2 when zero; negative: each Reserve is its
	// own round trip.
	Pipelines int

	reserves batch.Committer[*reserveJob]
}

type reserveJob struct {
	ctx  context.Context
	r    lottery.Reservation
	n    int
	err  error
	done chan struct{}
}

var _ lottery.Gate = (*Gate)(nil)

func (g *Gate) stockKey(campaignID int64) string {
	return g.R.Key("lottery", fmt.Sprintf("{lot:%d}", campaignID), "stock")
}

func (g *Gate) memberKey(campaignID, memberID int64) string {
	return g.R.Key("lottery", fmt.Sprintf("{lot:%d}", campaignID), "m", strconv.FormatInt(memberID, 10))
}

// copyKey is the copy marker of one member's draws with one
// Idempotency-Key (domain.CopyWindow): how many reservations they hold.
func (g *Gate) copyKey(campaignID, memberID int64, key string) string {
	return g.R.Key("lottery", fmt.Sprintf("{lot:%d}", campaignID), "copy", strconv.FormatInt(memberID, 10), key)
}

// copyTTL is the copy marker's lifetime in milliseconds.
var copyTTL = domain.CopyWindow.Milliseconds()

func (g *Gate) ttl() int64 {
	if g.TTL <= 0 {
		return int64((8 * 24 * time.Hour).Seconds())
	}
	return int64(g.TTL.Seconds())
}

func dayField(day int) string { return "d:" + strconv.Itoa(day) }

// reserveScript: KEYS stock, member, copy marker; ARGV day field, limit
// total, limit daily, prize id, ttl, idempotency key ("" = no marker),
// marker ttl (ms). Returns the lottery.Outcome (0 when the stock hash is
// missing, 6 when only the member's is, 7 for a limit while the marker
// counts a reservation of a copy). A reservation counts one in the marker.
var reserveScript = redis.NewScript(`
local function refuse(out)
  if ARGV[6] ~= '' and tonumber(redis.call('GET', KEYS[3]) or '0') > 0 then return 7 end
  return out
end
if redis.call('HEXISTS', KEYS[1], '_ok') == 0 then return 0 end
if redis.call('HEXISTS', KEYS[2], '_ok') == 0 then return 6 end
local total = tonumber(redis.call('HGET', KEYS[2], 'total') or '0')
local today = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0')
if tonumber(ARGV[2]) > 0 and total >= tonumber(ARGV[2]) then return refuse(1) end
if tonumber(ARGV[3]) > 0 and today >= tonumber(ARGV[3]) then return refuse(2) end
local out = 4
local left = redis.call('HGET', KEYS[1], ARGV[4])
if left then
  if tonumber(left) > 0 then
    redis.call('HINCRBY', KEYS[1], ARGV[4], -1)
    out = 5
  else
    out = 3
  end
end
redis.call('HINCRBY', KEYS[2], 'total', 1)
redis.call('HINCRBY', KEYS[2], ARGV[1], 1)
redis.call('EXPIRE', KEYS[2], ARGV[5])
if ARGV[6] ~= '' then
  redis.call('INCR', KEYS[3])
  redis.call('PEXPIRE', KEYS[3], ARGV[7])
end
return out
`)

// releaseScript: KEYS stock, member, copy marker; ARGV day field, prize
// id, unit (0/1), idempotency key ("" = no marker).
var releaseScript = redis.NewScript(`
if ARGV[4] ~= '' and redis.call('DECR', KEYS[3]) <= 0 then redis.call('DEL', KEYS[3]) end
if redis.call('HEXISTS', KEYS[2], '_ok') == 1 then
  redis.call('HINCRBY', KEYS[2], 'total', -1)
  redis.call('HINCRBY', KEYS[2], ARGV[1], -1)
end
if ARGV[3] == '1' and redis.call('HEXISTS', KEYS[1], '_ok') == 1 and redis.call('HEXISTS', KEYS[1], ARGV[2]) == 1 then
  redis.call('HINCRBY', KEYS[1], ARGV[2], 1)
end
return 1
`)

// adjustScript: KEYS stock; ARGV prize id, delta (never below 0), or "sold"
// to set 0.
var adjustScript = redis.NewScript(`
if redis.call('HEXISTS', KEYS[1], '_ok') == 0 or redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
if ARGV[2] == 'sold' then redis.call('HSET', KEYS[1], ARGV[1], 0) return 1 end
local v = redis.call('HINCRBY', KEYS[1], ARGV[1], ARGV[2])
if v < 0 then redis.call('HSET', KEYS[1], ARGV[1], 0) end
return 1
`)

// Reserve runs the reserve script, in a pipeline with the reserves that
// arrive at the same time (see Pipelines).
func (g *Gate) Reserve(ctx context.Context, r lottery.Reservation) (lottery.Outcome, error) {
	var n int
	var err error
	if g.Pipelines < 0 {
		n, err = reserveScript.Run(ctx, g.R.C, g.reserveKeys(r), g.reserveArgs(r)...).Int()
	} else {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		// Once queued the reserve is answered whatever happens to ctx (a
		// request whose ctx ends before its pipeline leaves is not sent):
		// it may already have been taken, and the caller releases it.
		j := &reserveJob{ctx: ctx, r: r, done: make(chan struct{})}
		pipes := g.Pipelines
		if pipes == 0 {
			pipes = 2
		}
		g.reserves.Submit(batch.Settings{Committers: pipes, Max: 256}, g.sendReserves, j)
		<-j.done
		n, err = j.n, j.err
	}
	if err != nil {
		return 0, err
	}
	outcomes := [...]lottery.Outcome{lottery.GateNotReady, lottery.GateLimitTotal, lottery.GateLimitDaily,
		lottery.GateOutOfStock, lottery.GateUnlimited, lottery.GateReserved, lottery.GateMemberNotReady, lottery.GateCopyInFlight}
	if n < 0 || n >= len(outcomes) {
		return 0, fmt.Errorf("lottery gate: reserve answered %d", n)
	}
	return outcomes[n], nil
}

func (g *Gate) reserveKeys(r lottery.Reservation) []string {
	return []string{g.stockKey(r.CampaignID), g.memberKey(r.CampaignID, r.MemberID), g.copyKey(r.CampaignID, r.MemberID, r.Key)}
}

func (g *Gate) reserveArgs(r lottery.Reservation) []any {
	return []any{dayField(r.Day), r.LimitTotal, r.LimitDaily, r.PrizeID, g.ttl(), r.Key, copyTTL}
}

// sendReserves runs the jobs' reserve scripts in one pipeline. A server
// that does not have the script yet answers NOSCRIPT: those jobs run it
// again one by one (which loads it).
func (g *Gate) sendReserves(jobs []*reserveJob) {
	ctx := context.WithoutCancel(jobs[0].ctx)
	pipe := g.R.C.Pipeline()
	cmds := make([]*redis.Cmd, len(jobs))
	for i, j := range jobs {
		if j.err = j.ctx.Err(); j.err == nil {
			cmds[i] = reserveScript.EvalSha(ctx, pipe, g.reserveKeys(j.r), g.reserveArgs(j.r)...)
		}
	}
	if pipe.Len() > 0 {
		_, _ = pipe.Exec(ctx) // each command carries its own error
	}
	for i, j := range jobs {
		if cmds[i] == nil {
			close(j.done)
			continue
		}
		j.n, j.err = cmds[i].Int()
		if j.err != nil && redis.HasErrorPrefix(j.err, "NOSCRIPT") {
			j.n, j.err = reserveScript.Run(ctx, g.R.C, g.reserveKeys(j.r), g.reserveArgs(j.r)...).Int()
		}
		close(j.done)
	}
}

// Release gives a reservation back.
func (g *Gate) Release(ctx context.Context, r lottery.Reservation, unit bool) error {
	u := "0"
	if unit {
		u = "1"
	}
	return releaseScript.Run(ctx, g.R.C, g.reserveKeys(r), dayField(r.Day), r.PrizeID, u, r.Key).Err()
}

// AdjustStock adds delta to a prize's counter.
func (g *Gate) AdjustStock(ctx context.Context, campaignID, prizeID, delta int64) error {
	return adjustScript.Run(ctx, g.R.C, []string{g.stockKey(campaignID)}, prizeID, delta).Err()
}

// SoldOut sets a prize's counter to 0.
func (g *Gate) SoldOut(ctx context.Context, campaignID, prizeID int64) error {
	return adjustScript.Run(ctx, g.R.C, []string{g.stockKey(campaignID)}, prizeID, "sold").Err()
}

// Rebuild loads the stock and the member's counters from SQL values.
func (g *Gate) Rebuild(ctx context.Context, c *lottery.Campaign, memberID int64, day int, st lottery.MemberState) error {
	var args []any
	for _, p := range c.Prizes {
		if p.Stock != lottery.Unlimited && !p.Empty() {
			args = append(args, p.ID, max(0, p.Stock-p.Won))
		}
	}
	if err := g.R.RebuildHash(ctx, g.stockKey(c.ID), 0, args...); err != nil {
		return err
	}
	return g.RebuildMember(ctx, c.ID, memberID, day, st)
}

// RebuildMember loads the member's counters from SQL values.
func (g *Gate) RebuildMember(ctx context.Context, campaignID, memberID int64, day int, st lottery.MemberState) error {
	return g.R.RebuildHash(ctx, g.memberKey(campaignID, memberID), g.ttl(), "total", st.Draws, dayField(day), st.DayDraws)
}

// Reset drops the campaign's stock counters.
func (g *Gate) Reset(ctx context.Context, campaignID int64) error {
	return g.R.C.Del(ctx, g.stockKey(campaignID)).Err()
}
