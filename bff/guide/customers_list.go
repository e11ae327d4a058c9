package guide

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/web"
	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/guide"
)

// Customers handles GET /api/v1/guide/customers?expiring_within_days=&limit=&cursor=:
// the guide's own customers by member id. A filtered page may hold fewer
// than limit customers; follow next_cursor until null.
func (h *Handlers) Customers(c *gin.Context) {
	page, err := web.ParsePage(c)
	if err != nil {
		web.Fail(c, err)
		return
	}
	q := guide.CustomerQuery{After: page.Cursor, Limit: page.Limit}
	if s := c.Query("expiring_within_days"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 366 {
			web.Fail(c, domain.FieldError("expiring_within_days", "must be an integer from 1 to 366"))
			return
		}
		q.ExpiringWithinDays = n
	}
	cs, next, err := h.Guides.Customers(c.Request.Context(), guideID(c), q)
	if err != nil {
		web.Fail(c, err)
		return
	}
	out := make([]customerJSON, len(cs))
	for i, cu := range cs {
		out[i] = toCustomerJSON(cu)
	}
	c.JSON(http.StatusOK, gin.H{"customers": out, "next_cursor": web.NextCursor(next)})
}
