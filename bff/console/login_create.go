package console

import (
	"net/http"

	"github.com/gin-gonic/gin"
	"golang.org/x/crypto/bcrypt"

	"github.com/jifen/jifen/bff/auth"
	"github.com/jifen/jifen/bff/web"
	"github.com/jifen/jifen/domain"
)

type loginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// Login handles POST /api/v1/console/login.
func (h *Handlers) Login(c *gin.Context) {
	var req loginRequest
	if err := web.Bind(c, &req); err != nil {
		web.Fail(c, err)
		return
	}
	if req.Username == "" || req.Password == "" {
		web.Fail(c, domain.FieldError("username", "username and password required"))
		return
	}
	u, ok := h.Users[req.Username]
	hash := u.PasswordHash
	if !ok {
		hash = h.dummy
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(req.Password)) != nil || !ok {
		web.Fail(c, domain.Errorf(domain.Unauthorized, "wrong username or password"))
		return
	}
	tok, err := h.Tokens.Sign(auth.Console, u.Username, u.Role)
	if err != nil {
		web.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"access_token": tok, "expires_in": int64(h.Tokens.TTL.Seconds()), "role": u.Role})
}
