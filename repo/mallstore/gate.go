package mallstore

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/mall"
	"github.com/jifen/jifen/repo"
)

// Gate implements mall.Gate in Redis. An item's keys share the hash tag
// {mall:<id>}: the reserve script touches the item's stock hash and one
// member's hash at once, so they must live in one Cluster slot. Each hash
// carries a field "_ok" written only by a rebuild: a hash without it (lost,
// or half-recreated by a late release) is rebuilt from SQL before use.
type Gate struct {
	R *repo.Redis
	// TTL of a member's counters (refreshed on every reservation); 8 days
	// when zero.
	TTL time.Duration
}

var _ mall.Gate = (*Gate)(nil)

func (g *Gate) stockKey(itemID int64) string {
	return g.R.Key("mall", fmt.Sprintf("{mall:%d}", itemID), "stock")
}

func (g *Gate) memberKey(itemID, memberID int64) string {
	return g.R.Key("mall", fmt.Sprintf("{mall:%d}", itemID), "m", strconv.FormatInt(memberID, 10))
}

// copyKey is the copy marker of one member's redemptions with one
// Idempotency-Key (domain.CopyWindow): how many reservations they hold.
func (g *Gate) copyKey(itemID, memberID int64, key string) string {
	return g.R.Key("mall", fmt.Sprintf("{mall:%d}", itemID), "copy", strconv.FormatInt(memberID, 10), key)
}

// copyTTL is the copy marker's lifetime in milliseconds.
var copyTTL = domain.CopyWindow.Milliseconds()

func (g *Gate) keys(r mall.Reservation) []string {
	return []string{g.stockKey(r.ItemID), g.memberKey(r.ItemID, r.MemberID), g.copyKey(r.ItemID, r.MemberID, r.Key)}
}

func (g *Gate) ttl() int64 {
	if g.TTL <= 0 {
		return int64((8 * 24 * time.Hour).Seconds())
	}
	return int64(g.TTL.Seconds())
}

func dayField(day int) string { return "d:" + strconv.Itoa(day) }

// reserveScript: KEYS stock, member, copy marker; ARGV day field, limit
// total, limit daily, ttl, idempotency key ("" = no marker), marker ttl
// (ms). Returns the mall.Outcome: 6 for a limit or no stock while the
// marker counts a reservation of a copy. A reservation counts one in the
// marker. Without limits the member's hash is neither read nor written.
var reserveScript = redis.NewScript(`
local function refuse(out)
  if ARGV[5] ~= '' and tonumber(redis.call('GET', KEYS[3]) or '0') > 0 then return 6 end
  return out
end
if redis.call('HEXISTS', KEYS[1], '_ok') == 0 then return 0 end
local limited = tonumber(ARGV[2]) > 0 or tonumber(ARGV[3]) > 0
if limited then
  if redis.call('HEXISTS', KEYS[2], '_ok') == 0 then return 5 end
  local total = tonumber(redis.call('HGET', KEYS[2], 'total') or '0')
  local today = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0')
  if tonumber(ARGV[2]) > 0 and total >= tonumber(ARGV[2]) then return refuse(1) end
  if tonumber(ARGV[3]) > 0 and today >= tonumber(ARGV[3]) then return refuse(2) end
end
if tonumber(redis.call('HGET', KEYS[1], 'left') or '0') <= 0 then return refuse(3) end
redis.call('HINCRBY', KEYS[1], 'left', -1)
if limited then
  redis.call('HINCRBY', KEYS[2], 'total', 1)
  redis.call('HINCRBY', KEYS[2], ARGV[1], 1)
  redis.call('EXPIRE', KEYS[2], ARGV[4])
end
if ARGV[5] ~= '' then
  redis.call('INCR', KEYS[3])
  redis.call('PEXPIRE', KEYS[3], ARGV[6])
end
return 4
`)

// releaseScript: KEYS stock, member, copy marker; ARGV day field, limited
// (0/1), idempotency key ("" = no marker).
var releaseScript = redis.NewScript(`
if ARGV[3] ~= '' and redis.call('DECR', KEYS[3]) <= 0 then redis.call('DEL', KEYS[3]) end
if ARGV[2] == '1' and redis.call('HEXISTS', KEYS[2], '_ok') == 1 then
  redis.call('HINCRBY', KEYS[2], 'total', -1)
  redis.call('HINCRBY', KEYS[2], ARGV[1], -1)
end
if redis.call('HEXISTS', KEYS[1], '_ok') == 1 then
  redis.call('HINCRBY', KEYS[1], 'left', 1)
end
return 1
`)

// soldOutScript: KEYS stock. Sets left to 0 when the hash is there.
var soldOutScript = redis.NewScript(`
if redis.call('HEXISTS', KEYS[1], '_ok') == 1 then redis.call('HSET', KEYS[1], 'left', 0) end
return 1
`)

// Reserve runs the reserve script.
func (g *Gate) Reserve(ctx context.Context, r mall.Reservation) (mall.Outcome, error) {
	n, err := reserveScript.Run(ctx, g.R.C, g.keys(r), dayField(r.Day), r.LimitTotal, r.LimitDaily, g.ttl(), r.Key, copyTTL).Int()
	if err != nil {
		return 0, err
	}
	outcomes := [...]mall.Outcome{mall.GateNotReady, mall.GateLimitTotal, mall.GateLimitDaily, mall.GateOutOfStock,
		mall.GateReserved, mall.GateMemberNotReady, mall.GateCopyInFlight}
	if n < 0 || n >= len(outcomes) {
		return 0, fmt.Errorf("mall gate: reserve answered %d", n)
	}
	return outcomes[n], nil
}

// Release gives a reservation back.
func (g *Gate) Release(ctx context.Context, r mall.Reservation) error {
	limited := "0"
	if r.LimitTotal > 0 || r.LimitDaily > 0 {
		limited = "1"
	}
	return releaseScript.Run(ctx, g.R.C, g.keys(r), dayField(r.Day), limited, r.Key).Err()
}

// SoldOut sets the item's counter to 0 (when it is there).
func (g *Gate) SoldOut(ctx context.Context, itemID int64) error {
	return soldOutScript.Run(ctx, g.R.C, []string{g.stockKey(itemID)}).Err()
}

// Rebuild loads what is left of the item from SQL values.
func (g *Gate) Rebuild(ctx context.Context, itemID, left int64) error {
	return g.R.RebuildHash(ctx, g.stockKey(itemID), 0, "left", left)
}

// RebuildMember loads the member's counters from SQL values.
func (g *Gate) RebuildMember(ctx context.Context, itemID, memberID int64, day int, u mall.Usage) error {
	return g.R.RebuildHash(ctx, g.memberKey(itemID, memberID), g.ttl(), "total", u.Total, dayField(day), u.Today)
}

// Reset drops the item's stock counter.
func (g *Gate) Reset(ctx context.Context, itemID int64) error {
	return g.R.C.Del(ctx, g.stockKey(itemID)).Err()
}
