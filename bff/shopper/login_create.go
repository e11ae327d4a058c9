package shopper

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/auth"
	"github.com/jifen/jifen/bff/web"
	"github.com/jifen/jifen/domain/member"
)

type loginRequest struct {
	Code       string `json:"code"`
	InviteCode string `json:"invite_code"`
	Scene      string `json:"scene"`
}

type tokenResponse struct {
	AccessToken  string      `json:"access_token"`
	RefreshToken string      `json:"refresh_token"`
	ExpiresIn    int64       `json:"expires_in"`
	Member       *memberJSON `json:"member,omitempty"`
	IsNew        *bool       `json:"is_new,omitempty"`
}

// Login handles POST /api/v1/shopper/login: wx.login code → tokens. The
// refresh token is stored in the login's own unit of work
// (member.Service.Sessions): a returning member's login is one commit, and
// a token never exists for a login that rolled back.
func (h *Handlers) Login(c *gin.Context) {
	var req loginRequest
	if err := web.Bind(c, &req); err != nil {
		web.Fail(c, err)
		return
	}
	l, err := h.Members.Login(c.Request.Context(), req.Code, member.LoginInfo{InviteCode: req.InviteCode, Scene: req.Scene})
	if err != nil {
		web.Fail(c, err)
		return
	}
	if l.IsNew && h.Referrals != nil && strings.TrimSpace(req.InviteCode) != "" {
		// Only an invite code binds a member at their first login.
		h.Referrals.AfterLogin(c.Request.Context(), l.Member.ID)
	}
	if l.Session == nil {
		web.Fail(c, fmt.Errorf("login of member %d started no session", l.Member.ID))
		return
	}
	resp, err := h.tokens(l.Member.ID, *l.Session)
	if err != nil {
		web.Fail(c, err)
		return
	}
	mj := toMemberJSON(l.Member)
	resp.Member, resp.IsNew = &mj, &l.IsNew
	c.JSON(http.StatusOK, resp)
}

// tokens signs the first access token of a started session.
func (h *Handlers) tokens(memberID int64, s member.Session) (*tokenResponse, error) {
	access, err := h.Tokens.SignSession(auth.Shopper, strconv.FormatInt(memberID, 10), "", s.ID)
	if err != nil {
		return nil, err
	}
	return &tokenResponse{AccessToken: access, RefreshToken: s.Refresh, ExpiresIn: int64(h.Tokens.TTL.Seconds())}, nil
}
