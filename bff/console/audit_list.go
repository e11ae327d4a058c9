package console

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/web"
	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/audit"
)

// ParseAuditFilter reads ?actor=&action=&target=&from=&to= (the JSON API
// and the console page take the same parameters): from and to are
// Asia/Shanghai days, both included, not before 2000-01-01 (a day of year
// 0 or 1 begins before year 1 in UTC, which MySQL's driver cannot write);
// an action ending in "." is a prefix ("rule." for every rule change).
func ParseAuditFilter(get func(string) string) (audit.Filter, error) {
	f := audit.Filter{Actor: get("actor"), Action: get("action"), Target: get("target")}
	for _, v := range []struct{ name, value string }{{"actor", f.Actor}, {"action", f.Action}, {"target", f.Target}} {
		if len(v.value) > 64 {
			return f, domain.FieldError(v.name, "at most 64 characters")
		}
	}
	for _, name := range []string{"from", "to"} {
		s := get(name)
		if s == "" {
			continue
		}
		day, err := domain.ParseDay(s)
		if err != nil {
			return f, domain.FieldError(name, "a date YYYY-MM-DD")
		}
		if day.Before(firstDay) {
			return f, domain.FieldError(name, "a date YYYY-MM-DD, not before 2000-01-01")
		}
		if name == "from" {
			f.From = day.Start()
		} else {
			f.To = day.AddDays(1).Start() // the whole day
		}
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		return f, domain.FieldError("to", "must not be before from")
	}
	return f, nil
}

// firstDay is the earliest from or to the audit log and the analytics
// take: a day of year 0 or 1 begins before year 1 in UTC, which MySQL's
// driver cannot write.
var firstDay = domain.Day{Year: 2000, Month: time.January, Day: 1}

// AuditList handles GET /api/v1/console/audit?actor=&action=&target=&from=&to=&limit=&cursor=:
// who changed what, newest first.
func (h *Handlers) AuditList(c *gin.Context) {
	page, err := web.ParsePage(c)
	if err != nil {
		web.Fail(c, err)
		return
	}
	f, err := ParseAuditFilter(c.Query)
	if err != nil {
		web.Fail(c, err)
		return
	}
	rows, err := h.Audit.Search(c.Request.Context(), f, page.Cursor, page.Limit)
	if err != nil {
		web.Fail(c, err)
		return
	}
	var next int64
	if len(rows) == page.Limit {
		next = rows[len(rows)-1].ID
	}
	if rows == nil {
		rows = []audit.Entry{}
	}
	c.JSON(http.StatusOK, gin.H{"entries": rows, "next_cursor": web.NextCursor(next)})
}
