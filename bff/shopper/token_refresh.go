package shopper

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/auth"
	"github.com/jifen/jifen/bff/web"
	"github.com/jifen/jifen/domain"
)

type refreshRequest struct {
	RefreshToken string `json:"refresh_token"`
}

// bindRefresh binds a refresh or logout body: refresh_token is required.
func bindRefresh(c *gin.Context) (refreshRequest, error) {
	var req refreshRequest
	if err := web.Bind(c, &req); err != nil {
		return req, err
	}
	if strings.TrimSpace(req.RefreshToken) == "" {
		return req, domain.FieldError("refresh_token", "required")
	}
	return req, nil
}

// Refresh handles POST /api/v1/shopper/token/refresh: spends the refresh
// token and returns a new pair. A reused refresh token revokes its family.
func (h *Handlers) Refresh(c *gin.Context) {
	req, err := bindRefresh(c)
	if err != nil {
		web.Fail(c, err)
		return
	}
	memberID, sid, next, err := h.Sessions.Rotate(c.Request.Context(), auth.Shopper, req.RefreshToken)
	if err != nil {
		web.Fail(c, err)
		return
	}
	access, err := h.Tokens.SignSession(auth.Shopper, strconv.FormatInt(memberID, 10), "", sid)
	if err != nil {
		web.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, tokenResponse{AccessToken: access, RefreshToken: next, ExpiresIn: int64(h.Tokens.TTL.Seconds())})
}

// Logout handles POST /api/v1/shopper/logout: revokes the refresh family,
// and with it every access token of that login at once.
func (h *Handlers) Logout(c *gin.Context) {
	req, err := bindRefresh(c)
	if err != nil {
		web.Fail(c, err)
		return
	}
	if err = h.Sessions.Revoke(c.Request.Context(), req.RefreshToken); err != nil {
		web.Fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
