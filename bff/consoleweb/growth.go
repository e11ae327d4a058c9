package consoleweb

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/web"
	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/referral"
	"github.com/jifen/jifen/domain/task"
)

type tasksData struct {
	Tasks []task.Task
	Next  int64
}

// listTasks is GET /console/tasks: every task by id, 50 a page
// (task.Service.List, as GET /api/v1/console/tasks).
func (h *Handlers) listTasks(c *gin.Context) {
	page, err := web.ParsePage(c)
	if err != nil {
		h.fail(c, err)
		return
	}
	var d tasksData
	if d.Tasks, d.Next, err = h.API.Tasks.List(c.Request.Context(), page.Cursor, 50); err != nil {
		h.fail(c, err)
		return
	}
	h.render(c, http.StatusOK, "tasks", "tasks.title", d)
}

// tiersPage is GET /console/tiers: the levels as configured (tiers.levels),
// the growth in yuan that reaches each, its price in points and benefits.
func (h *Handlers) tiersPage(c *gin.Context) {
	h.render(c, http.StatusOK, "tiers", "tiers.title", h.API.Tiers.Levels)
}

type referralsData struct {
	Limit  int
	Report referral.Report
}

// referralReport is GET /console/referrals?limit=20: the top inviters and
// the pairs flagged for review (referral.Service.Report, as GET
// /api/v1/console/referrals/report).
func (h *Handlers) referralReport(c *gin.Context) {
	d := referralsData{Limit: 20}
	if s := c.Query("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			h.fail(c, domain.FieldError("limit", "must be an integer from 1 to 100"))
			return
		}
		d.Limit = n
	}
	var err error
	if d.Report, err = h.API.Referrals.Report(c.Request.Context(), d.Limit); err != nil {
		h.fail(c, err)
		return
	}
	h.render(c, http.StatusOK, "referrals", "referrals.title", d)
}
