package domain

import (
	"sync"
	"time"
)

// Shanghai is the time zone of every calendar day in Jifen.
var Shanghai = mustLoadShanghai()

func mustLoadShanghai() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		// No tzdata on the host: China has had no DST since 1991, so a fixed
		// zone is exact for every date Jifen deals with.
		return time.FixedZone("Asia/Shanghai", 8*3600)
	}
	return loc
}

// Clock is the only source of "now". Services read it once per unit of work.
type Clock interface{ Now() time.Time }

// SystemClock reads the wall clock.
type SystemClock struct{}

// Now returns the current time.
func (SystemClock) Now() time.Time { return time.Now() }

// FakeClock is a settable clock for tests and simulations.
type FakeClock struct {
	mu sync.Mutex
	t  time.Time
}

// NewFakeClock starts a fake clock at t.
func NewFakeClock(t time.Time) *FakeClock { return &FakeClock{t: t} }

// Now returns the fake time.
func (c *FakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

// Set moves the clock to t.
func (c *FakeClock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// Advance moves the clock forward by d.
func (c *FakeClock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// Day is an Asia/Shanghai calendar date.
type Day struct {
	Year  int
	Month time.Month
	Day   int
}

// DayOf returns the Shanghai calendar day of t.
func DayOf(t time.Time) Day {
	y, m, d := t.In(Shanghai).Date()
	return Day{y, m, d}
}

// ParseDay parses "2006-01-02".
func ParseDay(s string) (Day, error) {
	t, err := time.ParseInLocation("2006-01-02", s, Shanghai)
	if err != nil {
		return Day{}, FieldError("date", "must be YYYY-MM-DD")
	}
	return DayOf(t), nil
}

// Start is 00:00 of the day in Shanghai.
func (d Day) Start() time.Time { return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, Shanghai) }

// AddDays returns the day n days later (n may be negative).
func (d Day) AddDays(n int) Day { return DayOf(d.Start().AddDate(0, 0, n)) }

// Before reports whether d is earlier than o.
func (d Day) Before(o Day) bool { return d.Start().Before(o.Start()) }

// String formats the day as YYYY-MM-DD.
func (d Day) String() string { return d.Start().Format("2006-01-02") }

// Int returns the day as yyyymmdd, a compact sortable key for storage.
func (d Day) Int() int { return d.Year*10000 + int(d.Month)*100 + d.Day }

// OffsetClock is a base clock shifted forward by an offset that can grow
// while the process runs: the demo and staging clock (setting clock.offset,
// moved by POST /_sim/clock). It never moves backwards, so every timestamp
// the service writes keeps its order.
type OffsetClock struct {
	base   Clock
	mu     sync.Mutex
	offset time.Duration
}

// NewOffsetClock shifts base forward by offset (negative counts as zero).
func NewOffsetClock(base Clock, offset time.Duration) *OffsetClock {
	return &OffsetClock{base: base, offset: max(offset, 0)}
}

// Now returns the base time plus the offset.
func (c *OffsetClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.base.Now().Add(c.offset)
}

// Offset returns how far ahead of the base clock this clock runs.
func (c *OffsetClock) Offset() time.Duration { c.mu.Lock(); defer c.mu.Unlock(); return c.offset }

// Advance moves the clock forward by d and returns the new offset; a
// negative d is refused as Invalid.
func (c *OffsetClock) Advance(d time.Duration) (time.Duration, error) {
	if d < 0 {
		return 0, FieldError("advance", "the clock only moves forward")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
	return c.offset, nil
}
