package reminder

import (
	"context"
	"encoding/json"
	"strconv"

	"github.com/jifen/jifen/domain/audit"
)

// Audited runs write, a change of one campaign, and records it in the audit
// trail (action "campaign.<verb>", target "campaign:<id>", by actor in
// role), both in one unit of work so the trail never disagrees with the
// campaign. Who may write is the caller's question.
func (c *Campaigns) Audited(ctx context.Context, actor, role, verb string, write func(ctx context.Context) (*Campaign, error)) (*Campaign, error) {
	var out *Campaign
	err := c.Tx.InTx(ctx, func(ctx context.Context) error {
		camp, err := write(ctx)
		if err != nil {
			return err
		}
		out = camp
		detail, _ := json.Marshal(map[string]any{"name": camp.Name, "status": camp.Status, "version": camp.Version,
			"holdout_permille": camp.Spec.HoldoutPermille})
		return c.Audit.Insert(ctx, &audit.Entry{Actor: actor, ActorRole: role, Action: "campaign." + verb,
			Target: "campaign:" + strconv.FormatInt(camp.ID, 10), Detail: string(detail), CreatedAt: c.Clock.Now()})
	})
	return out, err
}
