package console

import (
	"time"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/web"
	"github.com/jifen/jifen/domain/ruleadmin"
	"github.com/jifen/jifen/domain/rules"
)

// ruleRequest is what a marketer may send for a rule: the editable fields
// only (id, budget_remaining and timestamps are the server's), strictly.
type ruleRequest struct {
	Name       string           `json:"name"`
	Trigger    rules.Trigger    `json:"trigger"`
	Status     rules.Status     `json:"status"`
	Priority   int              `json:"priority"`
	Stacking   rules.Stacking   `json:"stacking"`
	ValidFrom  *time.Time       `json:"valid_from"`
	ValidTo    *time.Time       `json:"valid_to"`
	Conditions rules.Conditions `json:"conditions"`
	Effect     rules.Effect     `json:"effect"`
	Caps       rules.Caps       `json:"caps"`
	Budget     int64            `json:"budget"`
	// Version is required on update: the version being edited.
	Version int `json:"version"`
}

func (r ruleRequest) rule() rules.Rule {
	return rules.Rule{Name: r.Name, Trigger: r.Trigger, Status: r.Status, Priority: r.Priority, Stacking: r.Stacking,
		ValidFrom: r.ValidFrom, ValidTo: r.ValidTo, Conditions: r.Conditions, Effect: r.Effect, Caps: r.Caps,
		Budget: r.Budget, Version: r.Version}
}

func actor(c *gin.Context) ruleadmin.Actor {
	cl := web.Claims(c)
	return ruleadmin.Actor{Name: cl.Subject, Role: cl.Role}
}
