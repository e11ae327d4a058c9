package web

import (
	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/auth"
)

const (
	keyRequestID = "jifen.request_id"
	keyClaims    = "jifen.claims"
	keyErrorPage = "jifen.error_page"
)

// ErrorPage writes an error answer in a route group's own shape, status
// and detail as Describe gives them, instead of Fail's JSON.
type ErrorPage func(c *gin.Context, status int, d ErrorDetail)

// SetErrorPage makes Fail answer this request's errors with w: the
// console's pages answer theirs — the rate limit's, the body limit's — as
// pages of the console rather than the API's JSON.
func SetErrorPage(c *gin.Context, w ErrorPage) { c.Set(keyErrorPage, w) }

// SetRequestID stores the request id.
func SetRequestID(c *gin.Context, id string) { c.Set(keyRequestID, id) }

// RequestID returns the request id set by middleware.
func RequestID(c *gin.Context) string { return c.GetString(keyRequestID) }

// SetClaims stores the verified caller.
func SetClaims(c *gin.Context, cl *auth.Claims) { c.Set(keyClaims, cl) }

// Claims returns the verified caller; nil on public routes.
func Claims(c *gin.Context) *auth.Claims {
	v, _ := c.Get(keyClaims)
	cl, _ := v.(*auth.Claims)
	return cl
}

// MemberID is the caller's member id on shopper routes.
func MemberID(c *gin.Context) int64 {
	if cl := Claims(c); cl != nil {
		return cl.SubjectID()
	}
	return 0
}
