package guide

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/web"
)

// CreatePush handles POST /api/v1/guide/pushes: a WeCom customer broadcast
// to the guide's customers with points expiring soon (once per customer
// per day). It takes no body.
func (h *Handlers) CreatePush(c *gin.Context) {
	res, err := h.Guides.Push(c.Request.Context(), guideID(c))
	if err != nil {
		web.Fail(c, err)
		return
	}
	fail := res.FailList
	if fail == nil {
		fail = []string{}
	}
	c.JSON(http.StatusCreated, gin.H{"msgid": res.MsgID, "recipients": res.Recipients, "skipped": res.Skipped, "fail_list": fail})
}
