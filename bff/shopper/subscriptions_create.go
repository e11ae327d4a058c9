package shopper

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/web"
)

type subscriptionsRequest struct {
	Results map[string]string `json:"results"`
}

// CreateSubscriptions handles POST /api/v1/shopper/subscriptions
// {"results":{template_id: "accept"|"reject"|"ban"|"filter"}}: what
// wx.requestSubscribeMessage answered. Each accept is one more send.
func (h *Handlers) CreateSubscriptions(c *gin.Context) {
	var req subscriptionsRequest
	if err := web.Bind(c, &req); err != nil {
		web.Fail(c, err)
		return
	}
	granted, err := h.Subscriptions.Record(c.Request.Context(), web.MemberID(c), req.Results)
	if err != nil {
		web.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"granted": granted})
}
