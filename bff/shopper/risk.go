package shopper

import (
	"log/slog"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/web"
	"github.com/jifen/jifen/domain/risk"
)

// DeviceHeader names the mini-program's device id, which the velocity
// rules count by (optional: a request without it is counted by IP and
// phone only).
const DeviceHeader = "X-Device-Id"

// spendAllowed answers 403 ACCOUNT_HELD when the caller is held for risk
// review and reports whether the spend may go on.
func (h *Handlers) spendAllowed(c *gin.Context) bool {
	if err := h.Risk.CheckSpend(c.Request.Context(), web.MemberID(c)); err != nil {
		web.Fail(c, err)
		return false
	}
	return true
}

// observe counts an action that committed against the velocity rules. It
// never changes the answer: the action happened, and a flag is for the
// reviewers.
func (h *Handlers) observe(c *gin.Context, a risk.Action) {
	ev := risk.Event{MemberID: web.MemberID(c), Action: a, DeviceID: c.GetHeader(DeviceHeader), IP: c.ClientIP()}
	if _, err := h.Risk.Observe(c.Request.Context(), ev); err != nil {
		slog.WarnContext(c.Request.Context(), "risk: not evaluated", "request_id", web.RequestID(c), "action", string(a), "err", err.Error())
	}
}
