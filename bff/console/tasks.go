package console

import (
	"time"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/web"
	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/task"
)

// taskActor is the console user editing tasks, for their audit rows.
func taskActor(c *gin.Context) task.Actor {
	cl := web.Claims(c)
	return task.Actor{Name: cl.Subject, Role: cl.Role}
}

// taskRequest is the body of POST and PUT /console/tasks. Times are
// RFC 3339; status defaults to active.
type taskRequest struct {
	Type         string  `json:"type"`
	Title        string  `json:"title"`
	Period       string  `json:"period"`
	Target       int     `json:"target"`
	RewardPoints int64   `json:"reward_points"`
	MinSeconds   int     `json:"min_seconds"`
	Page         string  `json:"page"`
	ValidFrom    *string `json:"valid_from" bind:"nullable"`
	ValidTo      *string `json:"valid_to" bind:"nullable"`
	Status       string  `json:"status"`
}

func (r taskRequest) input() (task.Input, error) {
	in := task.Input{Type: r.Type, Title: r.Title, Period: r.Period, Target: r.Target, Reward: r.RewardPoints,
		MinSeconds: r.MinSeconds, Page: r.Page, Status: r.Status}
	if in.Status == "" {
		in.Status = task.Active
	}
	for _, f := range []struct {
		name string
		raw  *string
		dst  **time.Time
	}{{"valid_from", r.ValidFrom, &in.ValidFrom}, {"valid_to", r.ValidTo, &in.ValidTo}} {
		if f.raw == nil || *f.raw == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339, *f.raw)
		if err != nil {
			return in, domain.FieldError(f.name, "must be an RFC 3339 time, e.g. 2026-12-01T00:00:00+08:00")
		}
		if !web.TimeFits(t) {
			return in, domain.FieldError(f.name, web.ProblemTimeSpan)
		}
		*f.dst = &t
	}
	return in, nil
}

type taskJSON struct {
	ID           int64      `json:"id"`
	Type         string     `json:"type"`
	Title        string     `json:"title"`
	Period       string     `json:"period"`
	Target       int        `json:"target"`
	RewardPoints int64      `json:"reward_points"`
	MinSeconds   int        `json:"min_seconds"`
	Page         string     `json:"page"`
	ValidFrom    *time.Time `json:"valid_from"`
	ValidTo      *time.Time `json:"valid_to"`
	Status       string     `json:"status"`
	CreatedAt    time.Time  `json:"created_at"`
	UpdatedAt    time.Time  `json:"updated_at"`
}

func toTaskJSON(t *task.Task) taskJSON {
	return taskJSON{ID: t.ID, Type: string(t.Type), Title: t.Title, Period: string(t.Period), Target: t.Target,
		RewardPoints: t.Reward, MinSeconds: t.MinSeconds, Page: t.Page, ValidFrom: t.ValidFrom, ValidTo: t.ValidTo,
		Status: t.Status, CreatedAt: t.CreatedAt.UTC(), UpdatedAt: t.UpdatedAt.UTC()}
}
