package shopper

import (
	"context"
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

// Login handles POST /api/v1/shopper/login: wx.login code → tokens.
func (h *Handlers) Login(c *gin.Context) {
	var req loginRequest
	if err := web.Bind(c, &req); err != nil {
		web.Fail(c, err)
		return
	}
	// The refresh token is stored in the login's own transaction: a
	// returning member's login is one commit (the member row's update and
	// the token together), and a token never exists for a login that
	// rolled back.
	var issued *tokenResponse
	info := member.LoginInfo{InviteCode: req.InviteCode, Scene: req.Scene,
		InLogin: func(ctx context.Context, m *member.Member) (err error) {
			issued, err = h.issueCtx(ctx, m.ID)
			return err
		}}
	m, isNew, ran, err := h.Members.LoginOnce(c.Request.Context(), req.Code, info)
	if err != nil {
		web.Fail(c, err)
		return
	}
	if isNew && h.Referrals != nil && strings.TrimSpace(req.InviteCode) != "" {
		// Only an invite code binds a member at their first login.
		h.Referrals.AfterLogin(c.Request.Context(), m.ID)
	}
	resp := issued
	if !ran {
		// A racing first login created the member; this one read it back.
		if resp, err = h.issue(c, m.ID); err != nil {
			web.Fail(c, err)
			return
		}
	}
	mj := toMemberJSON(m)
	resp.Member, resp.IsNew = &mj, &isNew
	c.JSON(http.StatusOK, resp)
}

func (h *Handlers) issue(c *gin.Context, memberID int64) (*tokenResponse, error) {
	return h.issueCtx(c.Request.Context(), memberID)
}

// issueCtx starts a login session for memberID (in ctx's transaction when
// it carries one) and signs its first access token.
func (h *Handlers) issueCtx(ctx context.Context, memberID int64) (*tokenResponse, error) {
	refresh, sid, err := h.Sessions.Issue(ctx, auth.Shopper, memberID)
	if err != nil {
		return nil, err
	}
	access, err := h.Tokens.SignSession(auth.Shopper, strconv.FormatInt(memberID, 10), "", sid)
	if err != nil {
		return nil, err
	}
	return &tokenResponse{AccessToken: access, RefreshToken: refresh, ExpiresIn: int64(h.Tokens.TTL.Seconds())}, nil
}
