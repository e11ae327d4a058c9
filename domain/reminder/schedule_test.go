package reminder_test

import (
	"context"
	"testing"
	"time"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/reminder"
)

func TestParseCronRefusesExpressionsThatNeverFire(t *testing.T) {
	for _, tc := range []struct {
		expr string
		ok   bool
	}{
		{"0 2 * * *", true},
		{"*/5 * * * *", true},
		{"0 0 30 2 *", false}, // 30 February
		{"0 0 31 4 *", false}, // 31 April
		{"61 * * * *", false},
		{"not cron", false},
		{"", false},
	} {
		_, err := reminder.ParseCron("schedule.cron", tc.expr)
		if (err == nil) != tc.ok {
			t.Errorf("ParseCron(%q) err = %v, want ok=%v", tc.expr, err, tc.ok)
		}
		if err != nil && domain.ErrorCode(err) != domain.Invalid {
			t.Errorf("ParseCron(%q) code %s, want INVALID", tc.expr, domain.ErrorCode(err))
		}
	}
}

func TestSchedulerRunsADailyJobAtItsShanghaiTimeAndCatchesUpOnce(t *testing.T) {
	clock := domain.NewFakeClock(time.Date(2026, 11, 23, 1, 0, 0, 0, domain.Shanghai))
	c, err := reminder.ParseCron("c", "0 2 * * *")
	if err != nil {
		t.Fatal(err)
	}
	var runs []time.Time
	s := &reminder.Scheduler{Clock: clock, Jobs: []*reminder.Job{{Name: "x", When: &c,
		Run: func(_ context.Context, now time.Time) error { runs = append(runs, now); return nil }}}}
	ctx := context.Background()
	s.Tick(ctx) // 01:00: yesterday's 02:00 is within a day → catch up once
	s.Tick(ctx)
	if len(runs) != 1 {
		t.Fatalf("runs after start %d, want 1 catch-up", len(runs))
	}
	clock.Set(time.Date(2026, 11, 23, 1, 59, 0, 0, domain.Shanghai))
	s.Tick(ctx)
	clock.Set(time.Date(2026, 11, 23, 2, 0, 0, 0, domain.Shanghai))
	s.Tick(ctx)
	s.Tick(ctx)
	if len(runs) != 2 || !runs[1].Equal(clock.Now()) {
		t.Fatalf("runs %v, want the 02:00 run once", runs)
	}
	clock.Advance(24 * time.Hour)
	s.Tick(ctx)
	if len(runs) != 3 {
		t.Fatalf("runs %d, want the next day's run", len(runs))
	}
}
