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
	u, tok, err := h.SignIn(req.Username, req.Password)
	if err != nil {
		web.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"access_token": tok, "expires_in": int64(h.Tokens.TTL.Seconds()), "role": u.Role})
}

// SignIn checks a console user's password and issues a console token. The
// JSON login and the console page's sign-in form both go through it.
func (h *Handlers) SignIn(username, password string) (User, string, error) {
	u, ok := h.Users[username]
	hash := u.PasswordHash
	if !ok {
		hash = h.dummy
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(password)) != nil || !ok {
		return User{}, "", domain.Errorf(domain.Unauthorized, "wrong username or password")
	}
	tok, err := h.Tokens.Sign(auth.Console, u.Username, u.Role)
	return u, tok, err
}
