package console

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"golang.org/x/crypto/bcrypt"

	"github.com/jifen/jifen/bff/auth"
	"github.com/jifen/jifen/bff/web"
	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/audit"
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
	u, tok, err := h.SignIn(c.Request.Context(), c.ClientIP(), req.Username, req.Password)
	if err != nil {
		if s := RetryAfterSeconds(err); s != "" {
			c.Header("Retry-After", s)
		}
		web.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"access_token": tok, "expires_in": int64(h.Tokens.TTL.Seconds()), "role": u.Role})
}

// SignIn checks a console user's password and issues a console token. The
// JSON login and the console page's sign-in form both go through it, and
// so through the one throttle: a username or an IP with too many failures
// is refused (429 RATE_LIMITED, LockedError) before the password is
// checked; each failed and each refused attempt leaves an audit row.
func (h *Handlers) SignIn(ctx context.Context, ip, username, password string) (User, string, error) {
	if err := h.Throttle.Check(ctx, username, ip); err != nil {
		if aerr := h.auditSignIn(ctx, "console.login_locked", username, ip, map[string]any{"retry_after": RetryAfterSeconds(err)}); aerr != nil {
			return User{}, "", aerr
		}
		return User{}, "", err
	}
	u, ok := h.Users[username]
	hash := u.PasswordHash
	if !ok {
		hash = h.dummy
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(password)) != nil || !ok {
		userN, ipN := h.Throttle.Failed(ctx, username, ip)
		if aerr := h.auditSignIn(ctx, "console.login_failed", username, ip, map[string]any{"user_failures": userN, "ip_failures": ipN}); aerr != nil {
			return User{}, "", aerr
		}
		return User{}, "", domain.Errorf(domain.Unauthorized, "wrong username or password")
	}
	h.Throttle.Succeeded(ctx, username)
	tok, err := h.Tokens.Sign(auth.Console, u.Username, u.Role)
	return u, tok, err
}

// auditSignIn records a failed or refused sign-in: the username tried (cut
// to the column), the client IP and the counts.
func (h *Handlers) auditSignIn(ctx context.Context, action, username, ip string, detail map[string]any) error {
	if len(username) > 64 {
		username = username[:64]
	}
	if !utf8.ValidString(username) {
		username = strings.ToValidUTF8(username, "?")
	}
	b, _ := json.Marshal(detail)
	return h.Audit.Record(ctx, &audit.Entry{Actor: username, ActorRole: "", Action: action, Target: "ip:" + ip,
		Detail: string(b), CreatedAt: h.Throttle.Clock.Now()})
}
