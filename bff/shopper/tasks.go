package shopper

import (
	"time"

	"github.com/jifen/jifen/domain/task"
)

// taskViewJSON is a task with the caller's progress in its current period.
type taskViewJSON struct {
	ID           int64      `json:"id"`
	Type         string     `json:"type"`
	Title        string     `json:"title"`
	Period       string     `json:"period"`
	PeriodKey    string     `json:"period_key"`
	Target       int        `json:"target"`
	Progress     int        `json:"progress"`
	State        string     `json:"state"`
	RewardPoints int64      `json:"reward_points"`
	MinSeconds   int        `json:"min_seconds"`
	Page         string     `json:"page"`
	ValidTo      *time.Time `json:"valid_to"`
	ClaimedAt    *time.Time `json:"claimed_at"`
}

func toTaskViewJSON(v task.View) taskViewJSON {
	t := v.Task
	return taskViewJSON{ID: t.ID, Type: string(t.Type), Title: t.Title, Period: string(t.Period), PeriodKey: v.Period,
		Target: t.Target, Progress: v.Progress, State: string(v.State), RewardPoints: t.Reward, MinSeconds: t.MinSeconds,
		Page: t.Page, ValidTo: t.ValidTo, ClaimedAt: v.ClaimedAt}
}

func toTaskViews(vs []task.View) []taskViewJSON {
	out := make([]taskViewJSON, len(vs))
	for i, v := range vs {
		out[i] = toTaskViewJSON(v)
	}
	return out
}
