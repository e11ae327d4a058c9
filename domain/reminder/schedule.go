package reminder

import (
	"context"
	"log/slog"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/jifen/jifen/domain"
)

var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// Cron is a parsed five-field cron expression, read in Asia/Shanghai.
type Cron struct {
	Expr  string
	sched cron.Schedule
}

// ParseCron parses expr and refuses one that never fires (31 February…).
func ParseCron(field, expr string) (Cron, error) {
	s, err := cronParser.Parse("CRON_TZ=Asia/Shanghai " + expr)
	if err != nil {
		return Cron{}, domain.FieldError(field, "not a cron expression (minute hour day month weekday): "+err.Error())
	}
	if s.Next(time.Now()).IsZero() {
		return Cron{}, domain.FieldError(field, "never fires: no date matches it (such as 31 February)")
	}
	return Cron{Expr: expr, sched: s}, nil
}

// Next is the first firing after t (zero if none).
func (c Cron) Next(t time.Time) time.Time { return c.sched.Next(t) }

// Job is one periodic task of the scheduler.
type Job struct {
	Name string
	// When is nil for a job that runs on every tick (the dispatcher).
	When *Cron
	Run  func(ctx context.Context, now time.Time) error
	next time.Time
}

// Scheduler runs the jobs of one instance: each cron job when its time has
// come, every other job on every tick. Jobs are idempotent and lease their
// work, so every instance may run a scheduler.
type Scheduler struct {
	Clock domain.Clock
	Log   *slog.Logger
	Jobs  []*Job
	// Observe, when set, hears of every run of a job: how long it took
	// (wall time) and its error (the metrics).
	Observe func(job string, took time.Duration, err error)
	primed  bool
}

// Tick runs what is due at the clock's now. On the first tick a cron job
// whose last firing was within a day runs at once: the run a restart
// interrupted resumes (a finished one is a no-op).
func (s *Scheduler) Tick(ctx context.Context) {
	now := s.Clock.Now()
	if !s.primed {
		for _, j := range s.Jobs {
			if j.When != nil {
				j.next = j.When.Next(now.Add(-24 * time.Hour))
			}
		}
		s.primed = true
	}
	for _, j := range s.Jobs {
		if j.When != nil && now.Before(j.next) {
			continue
		}
		started := time.Now()
		err := j.Run(ctx, now)
		if s.Observe != nil {
			s.Observe(j.Name, time.Since(started), err)
		}
		if err != nil && s.Log != nil {
			s.Log.Error("reminder job failed", "job", j.Name, "err", err.Error())
		}
		if j.When != nil {
			j.next = j.When.Next(now)
		}
	}
}

// Loop ticks every interval until ctx ends.
func (s *Scheduler) Loop(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		s.Tick(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
