package console

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/web"
	"github.com/jifen/jifen/domain/risk"
)

// Risk control's review (issue #24): the policy, the review queue, a
// member's flags and hold, and the reviewers' decisions. Reads are any
// role's; the router lets only Writers decide.

type riskPolicyJSON struct {
	Version   int         `json:"version"`
	Rules     []risk.Rule `json:"rules"`
	UpdatedBy string      `json:"updated_by"`
	UpdatedAt *time.Time  `json:"updated_at"`
}

func toRiskPolicyJSON(p risk.Policy) riskPolicyJSON {
	rules := p.Rules
	if rules == nil {
		rules = []risk.Rule{}
	}
	return riskPolicyJSON{Version: p.Version, Rules: rules, UpdatedBy: p.UpdatedBy, UpdatedAt: web.OptTime(p.UpdatedAt)}
}

type riskRuleRequest struct {
	Name        string         `json:"name" bind:"required"`
	Action      risk.Action    `json:"action" bind:"required"`
	Dimension   risk.Dimension `json:"dimension" bind:"required"`
	MaxPerHour  int64          `json:"max_per_hour" bind:"required"`
	Hold        bool           `json:"hold" bind:"required"`
	Enabled     bool           `json:"enabled" bind:"required"`
	Distinct    bool           `json:"distinct"`
	Kind        string         `json:"kind"`
	MaxLength   int            `json:"max_length"`
	WindowHours int            `json:"window_hours"`
	MaxMinutes  int            `json:"max_minutes"`
	MinPoints   int64          `json:"min_points"`
	MaxSharePct int            `json:"max_share_pct"`
	MinTimes    int            `json:"min_times"`
	Span        int64          `json:"span"`
	MaxMembers  int            `json:"max_members"`
	MinRewards  int            `json:"min_rewards"`
}

type riskPolicyRequest struct {
	Version int               `json:"version" bind:"required"`
	Rules   []riskRuleRequest `json:"rules" bind:"required"`
}

// RiskPolicy handles GET /api/v1/console/risk/policy.
func (h *Handlers) RiskPolicy(c *gin.Context) {
	p, err := h.Risk.Policy(c.Request.Context())
	if err != nil {
		web.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"policy": toRiskPolicyJSON(p)})
}

// UpdateRiskPolicy handles PUT /api/v1/console/risk/policy: every rule,
// and the version edited (409 when another edit came first). Audited.
func (h *Handlers) UpdateRiskPolicy(c *gin.Context) {
	var req riskPolicyRequest
	if err := web.Bind(c, &req); err != nil {
		web.Fail(c, err)
		return
	}
	p := risk.Policy{Version: req.Version, Rules: make([]risk.Rule, len(req.Rules))}
	for i, r := range req.Rules {
		p.Rules[i] = risk.Rule(r)
	}
	cl := web.Claims(c)
	p, err := h.Risk.UpdatePolicy(c.Request.Context(), risk.Actor{Name: cl.Subject, Role: cl.Role}, p)
	if err != nil {
		web.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"policy": toRiskPolicyJSON(p)})
}

type riskFlagJSON struct {
	ID        int64          `json:"id"`
	MemberID  int64          `json:"member_id"`
	Rule      string         `json:"rule"`
	Action    risk.Action    `json:"action"`
	Dimension risk.Dimension `json:"dimension"`
	Key       string         `json:"key"`
	Count     int64          `json:"count"`
	Limit     int64          `json:"max_per_hour"`
	Window    time.Time      `json:"window_start"`
	Held      bool           `json:"held"`
	Status    string         `json:"status"`
	DecidedBy string         `json:"decided_by"`
	DecidedAt *time.Time     `json:"decided_at"`
	Note      string         `json:"note"`
	// Evidence is what a pattern rule saw (a referral ring: its members
	// and bindings); null for a velocity rule.
	Evidence  json.RawMessage `json:"evidence"`
	CreatedAt time.Time       `json:"created_at"`
}

func toRiskFlagsJSON(fs []risk.Flag) []riskFlagJSON {
	out := make([]riskFlagJSON, len(fs))
	for i, f := range fs {
		out[i] = riskFlagJSON{ID: f.ID, MemberID: f.MemberID, Rule: f.Rule, Action: f.Action, Dimension: f.Dimension, Key: f.Key,
			Count: f.Count, Limit: f.Limit, Window: f.Window.UTC(), Held: f.Held, Status: f.Status, DecidedBy: f.DecidedBy,
			DecidedAt: web.OptTime(f.DecidedAt), Note: f.Note, CreatedAt: f.CreatedAt.UTC()}
		if f.Evidence != "" {
			out[i].Evidence = json.RawMessage(f.Evidence)
		}
	}
	return out
}

type riskHoldJSON struct {
	FlagID    *int64    `json:"flag_id"`
	Reason    string    `json:"reason"`
	HeldBy    string    `json:"held_by"`
	CreatedAt time.Time `json:"created_at"`
}

func toRiskHoldJSON(h *risk.Hold) *riskHoldJSON {
	if h == nil {
		return nil
	}
	j := &riskHoldJSON{Reason: h.Reason, HeldBy: h.By, CreatedAt: h.CreatedAt.UTC()}
	if h.FlagID != 0 {
		id := h.FlagID
		j.FlagID = &id
	}
	return j
}

// RiskFlags handles GET /api/v1/console/risk/flags?status=&limit=&cursor=:
// flags newest first; status=open is the review queue.
func (h *Handlers) RiskFlags(c *gin.Context) {
	page, err := web.ParsePage(c)
	if err != nil {
		web.Fail(c, err)
		return
	}
	fs, err := h.Risk.Flags(c.Request.Context(), risk.FlagQuery{Status: c.Query("status"), Before: page.Cursor, Limit: page.Limit})
	if err != nil {
		web.Fail(c, err)
		return
	}
	var next int64
	if len(fs) == page.Limit {
		next = fs[len(fs)-1].ID
	}
	c.JSON(http.StatusOK, gin.H{"flags": toRiskFlagsJSON(fs), "next_cursor": web.NextCursor(next)})
}

// MemberRisk handles GET /api/v1/console/members/{id}/risk: the member's
// hold (null when none) and newest flags.
func (h *Handlers) MemberRisk(c *gin.Context) {
	id, err := web.PathID(c, "id")
	if err != nil {
		web.Fail(c, err)
		return
	}
	hold, fs, err := h.Risk.Member(c.Request.Context(), id, 100)
	if err != nil {
		web.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"member_id": id, "hold": toRiskHoldJSON(hold), "flags": toRiskFlagsJSON(fs)})
}

type riskDecisionRequest struct {
	Decision string `json:"decision" bind:"required"`
	Note     string `json:"note"`
}

// DecideRiskFlag handles POST /api/v1/console/risk/flags/{id}/decision
// {"decision":"clear"|"confirm","note"}: closes an open flag (409 when
// decided already). Clearing a member's last open flag lifts the hold a
// rule placed. Audited.
func (h *Handlers) DecideRiskFlag(c *gin.Context) {
	id, err := web.PathID(c, "id")
	if err != nil {
		web.Fail(c, err)
		return
	}
	var req riskDecisionRequest
	if err := web.Bind(c, &req); err != nil {
		web.Fail(c, err)
		return
	}
	cl := web.Claims(c)
	f, err := h.Risk.Decide(c.Request.Context(), risk.Actor{Name: cl.Subject, Role: cl.Role}, id, req.Decision, req.Note)
	if err != nil {
		web.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"flag": toRiskFlagsJSON([]risk.Flag{f})[0]})
}

type holdRequest struct {
	Reason string `json:"reason" bind:"required"`
}

// HoldMember handles POST /api/v1/console/members/{id}/hold {"reason"}:
// pauses the member's spends (409 when held already). Audited.
func (h *Handlers) HoldMember(c *gin.Context) {
	id, err := web.PathID(c, "id")
	if err != nil {
		web.Fail(c, err)
		return
	}
	var req holdRequest
	if err := web.Bind(c, &req); err != nil {
		web.Fail(c, err)
		return
	}
	cl := web.Claims(c)
	hold, err := h.Risk.PlaceHold(c.Request.Context(), risk.Actor{Name: cl.Subject, Role: cl.Role}, id, req.Reason)
	if err != nil {
		web.Fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, gin.H{"member_id": id, "hold": toRiskHoldJSON(&hold)})
}

type releaseRequest struct {
	Note string `json:"note"`
}

// ReleaseMember handles POST /api/v1/console/members/{id}/hold/release
// {"note"}: lifts the hold (404 when not held); open flags stay in the
// queue. Audited.
func (h *Handlers) ReleaseMember(c *gin.Context) {
	id, err := web.PathID(c, "id")
	if err != nil {
		web.Fail(c, err)
		return
	}
	var req releaseRequest
	if err := web.Bind(c, &req); err != nil {
		web.Fail(c, err)
		return
	}
	cl := web.Claims(c)
	if err := h.Risk.ReleaseHold(c.Request.Context(), risk.Actor{Name: cl.Subject, Role: cl.Role}, id, req.Note); err != nil {
		web.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"member_id": id, "hold": nil})
}
