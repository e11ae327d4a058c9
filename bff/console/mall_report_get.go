package console

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/web"
	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/mall"
)

// MallReport handles GET /api/v1/console/mall/report?from=&to=&low_stock=:
// live redemptions by item and day (points spent, cash taken), codes left
// per coupon pool and items with little stock left.
func (h *Handlers) MallReport(c *gin.Context) {
	today := domain.DayOf(h.Mall.Clock.Now())
	from, to := today.AddDays(-6), today
	var err error
	if s := c.Query("from"); s != "" {
		if from, err = domain.ParseDay(s); err != nil {
			web.Fail(c, domain.FieldError("from", "must be YYYY-MM-DD"))
			return
		}
	}
	if s := c.Query("to"); s != "" {
		if to, err = domain.ParseDay(s); err != nil {
			web.Fail(c, domain.FieldError("to", "must be YYYY-MM-DD"))
			return
		}
	}
	low := int64(10)
	if s := c.Query("low_stock"); s != "" {
		if low, err = strconv.ParseInt(s, 10, 64); err != nil {
			web.Fail(c, domain.FieldError("low_stock", "must be an integer"))
			return
		}
	}
	rep, err := h.Mall.Report(c.Request.Context(), from, to, low)
	if err != nil {
		web.Fail(c, err)
		return
	}
	days := make([]gin.H, 0, len(rep.Days))
	for _, d := range rep.Days {
		days = append(days, gin.H{"item_id": d.ItemID, "item_name": d.ItemName, "day": dayString(d.Day),
			"redemptions": d.Redemptions, "points": d.Points, "cash_fen": d.CashFen})
	}
	pools := make([]gin.H, 0, len(rep.Pools))
	for _, p := range rep.Pools {
		pools = append(pools, gin.H{"item_id": p.ItemID, "item_name": p.ItemName, "codes_left": p.Left})
	}
	low2 := make([]gin.H, 0, len(rep.LowStock))
	for i := range rep.LowStock {
		it := &rep.LowStock[i]
		low2 = append(low2, gin.H{"item_id": it.ID, "item_name": it.Name, "stock": it.Stock, "sold": it.Sold, "left": it.Left()})
	}
	c.JSON(http.StatusOK, gin.H{"from": from.String(), "to": to.String(), "by_item_day": days, "points_spent": rep.PointsSpent,
		"cash_fen": rep.CashFen, "code_pools": pools, "low_stock": low2})
}

func dayString(yyyymmdd int) string {
	return mall.DayOf(yyyymmdd).String()
}
