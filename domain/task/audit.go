package task

import (
	"context"
	"encoding/json"
	"strconv"

	"github.com/jifen/jifen/domain/audit"
)

// Actor is the console user editing tasks. Each edit writes one audit
// row in its unit of work, on task:{id}: task.create, task.update,
// task.delete.
type Actor struct{ Name, Role string }

func (s *Service) audit(ctx context.Context, a Actor, action string, id int64, detail any) error {
	b, _ := json.Marshal(detail)
	return s.Audit.Insert(ctx, &audit.Entry{Actor: a.Name, ActorRole: a.Role, Action: action,
		Target: "task:" + strconv.FormatInt(id, 10), Detail: string(b), CreatedAt: s.Clock.Now()})
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
