package task

import (
	"context"
	"strconv"

	"github.com/jifen/jifen/domain/audit"
)

// Actor is the console user editing tasks. Each edit writes one audit
// row in its unit of work, on task:{id}: task.create, task.update,
// task.delete.
type Actor = audit.Actor

func (s *Service) audit(ctx context.Context, a Actor, action string, id int64, detail any) error {
	return s.Audit.Insert(ctx, audit.Row(a, action, "task:"+strconv.FormatInt(id, 10), detail, s.Clock.Now()))
}

// taskFields is what the trail keeps of a task; a validity bound nil is
// none.
func taskFields(t *Task) map[string]any {
	d := map[string]any{"type": t.Type, "title": t.Title, "period": t.Period, "target": t.Target, "reward_points": t.Reward,
		"min_seconds": t.MinSeconds, "page": t.Page, "valid_from": nil, "valid_to": nil, "status": t.Status}
	if t.ValidFrom != nil {
		d["valid_from"] = t.ValidFrom.UTC()
	}
	if t.ValidTo != nil {
		d["valid_to"] = t.ValidTo.UTC()
	}
	return d
}
