package signinstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/signin"
	"github.com/jifen/jifen/repo"
)

// Calendar implements signin.Calendar with one Redis bitmap per member and
// month: bit d is day d, bit 0 marks the month as built from SQL (a month
// without sign-ins is still a key). Building only ever sets bits, so a
// sign-in marked while a rebuild runs is never lost.
//
// A mark that cannot reach Redis (an outage on this instance, the breaker
// open) is remembered and sent again every RetryEvery until Redis takes
// it, and meanwhile this instance reads those members' months from SQL
// (and builds them again, which sets the day too). Other instances read
// the bitmap without the day until the mark lands, within RetryEvery of
// this instance reaching Redis again. Should it never do so (it crashed),
// the month is rebuilt from SQL when its key expires: a key lives at most
// TTL from when it was created, as a mark or a build sets its expiry only
// when it has none or a later one, and never pushes it back.
type Calendar struct {
	R *repo.Redis
	// TTL is how long a month's bitmap lives at most (0: DefaultCalendarTTL).
	TTL time.Duration
	// RetryEvery is how often marks that failed are sent again (0: 200 ms).
	RetryEvery time.Duration

	mu       sync.Mutex
	unsent   map[month]uint64 // the days (bits) of marks that did not land
	retrying bool
}

// DefaultCalendarTTL is how long a month's bitmap lives at most: the
// longest a sign-in lost from it stays unseen, when the instance that could
// not mark it crashed before it could send the mark again.
const DefaultCalendarTTL = 10 * time.Minute

var _ signin.Calendar = (*Calendar)(nil)

// month is one member's month.
type month struct {
	member int64
	first  domain.Day
}

func (c *Calendar) key(memberID int64, first domain.Day) string {
	return c.R.Key("signin", "{m:"+strconv.FormatInt(memberID, 10)+"}", fmt.Sprintf("%04d%02d", first.Year, first.Month))
}

func (c *Calendar) ttl() time.Duration {
	if c.TTL > 0 {
		return c.TTL
	}
	return DefaultCalendarTTL
}

func firstOf(day domain.Day) domain.Day { return domain.Day{Year: day.Year, Month: day.Month, Day: 1} }

// setScript: KEYS one month's bitmap; ARGV the longest life in ms, then the
// bits to set. The expiry is set when the key has none or a later one
// (a key of an older release, or one built with a longer TTL), never
// pushed back.
var setScript = redis.NewScript(`
for i = 2, #ARGV do redis.call('SETBIT', KEYS[1], ARGV[i], 1) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 or ttl > tonumber(ARGV[1]) then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return 1
`)

type bits struct {
	key  string
	bits []any
}

// set runs setScript for each key in one pipeline (not a MULTI: the keys
// of different members are in different Cluster slots).
func (c *Calendar) set(ctx context.Context, sets []bits) error {
	ttl := c.ttl().Milliseconds()
	send := func() ([]*redis.Cmd, error) {
		cmds := make([]*redis.Cmd, len(sets))
		_, err := c.R.C.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, s := range sets {
				cmds[i] = setScript.EvalSha(ctx, p, []string{s.key}, append([]any{ttl}, s.bits...)...)
			}
			return nil
		})
		return cmds, err
	}
	if len(sets) == 0 {
		return nil
	}
	cmds, err := send()
	if err != nil && slices.ContainsFunc(cmds, func(c *redis.Cmd) bool { return c != nil && redis.HasErrorPrefix(c.Err(), "NOSCRIPT") }) {
		if err := setScript.Load(ctx, c.R.C).Err(); err != nil {
			return err
		}
		_, err = send()
	}
	return err
}

// Month reads the bitmap. A month with a mark of this instance still
// unsent reads as missing: SQL has the day, the bitmap may not.
func (c *Calendar) Month(ctx context.Context, memberID int64, first domain.Day) (uint64, bool, error) {
	if c.unsentIn(memberID, first) {
		return 0, false, nil
	}
	b, err := c.R.C.Get(ctx, c.key(memberID, first)).Bytes()
	if err != nil {
		return 0, false, nil // missing or unreachable: rebuild from SQL
	}
	var bits uint64
	for i := 0; i < len(b)*8 && i < 32; i++ {
		if b[i/8]&(0x80>>(i%8)) != 0 {
			bits |= 1 << i
		}
	}
	return bits, bits&1 == 1, nil
}

// Fill marks the month as built with days.
func (c *Calendar) Fill(ctx context.Context, memberID int64, first domain.Day, days []int) error {
	set := bits{key: c.key(memberID, first), bits: []any{0}}
	for _, d := range days {
		set.bits = append(set.bits, d)
	}
	return c.set(ctx, []bits{set})
}

// Mark sets one day's bit. On a month not built yet the key holds that bit
// without bit 0, so it still reads as missing and is rebuilt. A mark that
// fails is sent again until it lands (the error reports the first try).
func (c *Calendar) Mark(ctx context.Context, memberID int64, day domain.Day) error {
	return c.MarkMany(ctx, []int64{memberID}, day)
}

// MarkMany sets one day's bit for many members in one pipeline; marks that
// fail are sent again until they land (the error reports the first try).
func (c *Calendar) MarkMany(ctx context.Context, members []int64, day domain.Day) error {
	marks := make(map[month]uint64, len(members))
	for _, m := range members {
		marks[month{member: m, first: firstOf(day)}] |= 1 << day.Day
	}
	err := c.send(ctx, marks)
	if err != nil {
		slog.WarnContext(ctx, "sign-in calendar: marks did not reach Redis; retrying, and this instance reads those months from SQL meanwhile",
			"members", len(members), "err", err.Error())
		c.remember(marks)
	}
	return err
}

func (c *Calendar) send(ctx context.Context, marks map[month]uint64) error {
	sets := make([]bits, 0, len(marks))
	for m, days := range marks {
		set := bits{key: c.key(m.member, m.first)}
		for d := 1; d <= 31; d++ {
			if days&(1<<d) != 0 {
				set.bits = append(set.bits, d)
			}
		}
		sets = append(sets, set)
	}
	return c.set(ctx, sets)
}

func (c *Calendar) remember(marks map[month]uint64) {
	c.mu.Lock()
	if c.unsent == nil {
		c.unsent = map[month]uint64{}
	}
	for m, days := range marks {
		c.unsent[m] |= days
	}
	start := !c.retrying
	c.retrying = true
	c.mu.Unlock()
	if start {
		go c.retry()
	}
}

func (c *Calendar) unsentIn(memberID int64, first domain.Day) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.unsent[month{member: memberID, first: first}] != 0
}

// retry sends the unsent marks until Redis takes them all, or until the
// client is closed (the process is ending: the months' TTL heals them).
func (c *Calendar) retry() {
	every := c.RetryEvery
	if every <= 0 {
		every = 200 * time.Millisecond
	}
	for {
		time.Sleep(every)
		c.mu.Lock()
		marks := make(map[month]uint64, len(c.unsent))
		for m, days := range c.unsent {
			marks[m] = days
		}
		c.mu.Unlock()
		err := c.send(context.Background(), marks)
		if err != nil && !errors.Is(err, redis.ErrClosed) {
			continue
		}
		c.mu.Lock()
		for m, days := range marks {
			// Only what was sent: a mark remembered meanwhile waits for
			// the next round.
			if c.unsent[m] &^= days; c.unsent[m] == 0 {
				delete(c.unsent, m)
			}
		}
		done := len(c.unsent) == 0
		if done {
			c.retrying = false
		}
		c.mu.Unlock()
		if err == nil {
			slog.Info("sign-in calendar: the marks that had failed reached Redis", "months", len(marks))
		}
		if done {
			return
		}
	}
}
