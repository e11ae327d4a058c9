package console

import (
	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/auth"
	"github.com/jifen/jifen/bff/web"
	"github.com/jifen/jifen/domain"
)

// Current returns a verified console token's claims as console.users has
// its user now: Unauthorized when the user is no longer there, a copy
// with the role it has now when that changed. A token outlives a restart
// with other users (auth.access_ttl, up to a day; the console pages renew
// theirs), so the role it was signed with is not the last word.
func (h *Handlers) Current(cl *auth.Claims) (*auth.Claims, error) {
	u, ok := h.Users[cl.Subject]
	if !ok {
		return nil, domain.Errorf(domain.Unauthorized, "this console user no longer exists; sign in again")
	}
	if u.Role != cl.Role {
		now := *cl // the verified claims are shared: change a copy
		now.Role = u.Role
		cl = &now
	}
	return cl, nil
}

// CurrentUser lets the console routes' callers through as Current has
// them.
func (h *Handlers) CurrentUser(c *gin.Context) {
	cl, err := h.Current(web.Claims(c))
	if err != nil {
		web.Fail(c, err)
		return
	}
	web.SetClaims(c, cl)
	c.Next()
}
