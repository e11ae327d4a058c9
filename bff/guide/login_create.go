package guide

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/auth"
	"github.com/jifen/jifen/bff/web"
)

type loginRequest struct {
	Code string `json:"code"`
}

// Login handles POST /api/v1/guide/login: WeCom OAuth code → guide token.
func (h *Handlers) Login(c *gin.Context) {
	var req loginRequest
	if err := web.Bind(c, &req); err != nil {
		web.Fail(c, err)
		return
	}
	g, err := h.Guides.Login(c.Request.Context(), req.Code)
	if err != nil {
		web.Fail(c, err)
		return
	}
	tok, err := h.Tokens.Sign(auth.Guide, strconv.FormatInt(g.ID, 10), "guide")
	if err != nil {
		web.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"access_token": tok, "expires_in": int64(h.Tokens.TTL.Seconds()), "guide": web.ToGuideJSON(g)})
}
