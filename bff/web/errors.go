// Package web holds what every Jifen handler shares: the one function that
// turns an error into the HTTP error shape, strict JSON binding, and the
// request-scoped values (request id, caller) set by middleware.
package web

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/domain"
)

var statusOf = map[domain.Code]int{
	domain.Invalid:             http.StatusBadRequest,
	domain.InvalidCode:         http.StatusBadRequest,
	domain.CodeUsed:            http.StatusBadRequest,
	domain.Unauthorized:        http.StatusUnauthorized,
	domain.Forbidden:           http.StatusForbidden,
	domain.AccountHeld:         http.StatusForbidden,
	domain.NotFound:            http.StatusNotFound,
	domain.Conflict:            http.StatusConflict,
	domain.IdempotencyConflict: http.StatusConflict,
	domain.AlreadySignedIn:     http.StatusConflict,
	domain.OrderNotPaid:        http.StatusConflict,
	domain.PointsInsufficient:  http.StatusUnprocessableEntity,
	domain.RuleViolation:       http.StatusUnprocessableEntity,
	domain.RateLimited:         http.StatusTooManyRequests,
	domain.Unavailable:         http.StatusServiceUnavailable,
	domain.Misconfigured:       http.StatusServiceUnavailable,
	CodeTooLarge:               http.StatusRequestEntityTooLarge,
	CodeMethodNotAllowed:       http.StatusMethodNotAllowed,
}

// UnavailableRetryAfter is the Retry-After (seconds) of a 503 UNAVAILABLE:
// long enough for a restarted database or Redis, or an open circuit, to
// come back.
const UnavailableRetryAfter = "2"

// OrderNotPaidRetryAfter is the Retry-After (seconds) of a 409
// ORDER_NOT_PAID: a refund that overtook its order's paid event, which the
// order system is delivering (or retrying) too.
const OrderNotPaidRetryAfter = "10"

// Extra codes only HTTP produces.
const (
	CodeTooLarge         domain.Code = "BODY_TOO_LARGE"
	CodeMethodNotAllowed domain.Code = "METHOD_NOT_ALLOWED"
)

// ErrorBody is the error shape of every non-2xx answer.
type ErrorBody struct {
	Error     ErrorDetail `json:"error"`
	RequestID string      `json:"request_id"`
}

// ErrorDetail names the code, a readable message and, for validation, fields.
type ErrorDetail struct {
	Code    domain.Code       `json:"code"`
	Message string            `json:"message"`
	Fields  map[string]string `json:"fields,omitempty"`
}

// Fail writes err in the error shape and aborts the chain. Anything that is
// not a *domain.Error is a 500 whose details are logged, never shown. A
// request given an ErrorPage (SetErrorPage) gets its error in that shape.
func Fail(c *gin.Context, err error) {
	status, d := Describe(c, err)
	if c.Writer.Header().Get("Retry-After") == "" {
		switch {
		case status == http.StatusTooManyRequests:
			c.Header("Retry-After", "1")
		case d.Code == domain.Unavailable:
			c.Header("Retry-After", UnavailableRetryAfter)
		case d.Code == domain.OrderNotPaid:
			c.Header("Retry-After", OrderNotPaidRetryAfter)
		}
	}
	abort(c, status, d)
}

// Describe is the status and the public detail of err, as Fail writes
// them (the console page shows the same in HTML). A non-domain error is
// logged with the request id and described as internal.
func Describe(c *gin.Context, err error) (int, ErrorDetail) {
	var de *domain.Error
	if !errors.As(err, &de) {
		slog.ErrorContext(c.Request.Context(), "internal error", "request_id", RequestID(c), "path", c.FullPath(), "err", err.Error())
		return http.StatusInternalServerError, ErrorDetail{Code: domain.Internal, Message: "internal error; quote the request id when reporting it"}
	}
	status, ok := statusOf[de.Code]
	if !ok {
		// A code without a status is a bug in this table, not the
		// client's fault.
		slog.ErrorContext(c.Request.Context(), "error code without an HTTP status", "request_id", RequestID(c), "path", c.FullPath(), "code", string(de.Code), "err", err.Error())
		status = http.StatusInternalServerError
	}
	if de.Code == domain.Unavailable {
		// A store or upstream that cannot be reached: the client retries,
		// an operator watches the rate; not a bug.
		slog.WarnContext(c.Request.Context(), "unavailable", "request_id", RequestID(c), "path", c.FullPath(), "err", err.Error())
	}
	return status, ErrorDetail{Code: de.Code, Message: de.Message, Fields: de.Fields}
}

func abort(c *gin.Context, status int, d ErrorDetail) {
	if v, ok := c.Get(keyErrorPage); ok {
		c.Abort()
		v.(ErrorPage)(c, status, d)
		return
	}
	c.AbortWithStatusJSON(status, ErrorBody{Error: d, RequestID: RequestID(c)})
}
