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
	domain.NotFound:            http.StatusNotFound,
	domain.Conflict:            http.StatusConflict,
	domain.IdempotencyConflict: http.StatusConflict,
	domain.AlreadySignedIn:     http.StatusConflict,
	domain.PointsInsufficient:  http.StatusUnprocessableEntity,
	domain.RuleViolation:       http.StatusUnprocessableEntity,
	domain.RateLimited:         http.StatusTooManyRequests,
	domain.Unavailable:         http.StatusServiceUnavailable,
	domain.Misconfigured:       http.StatusServiceUnavailable,
}

// Extra codes only HTTP produces.
const (
	CodeTooLarge domain.Code = "BODY_TOO_LARGE"
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
// not a *domain.Error is a 500 whose details are logged, never shown.
func Fail(c *gin.Context, err error) {
	status, d := Describe(c, err)
	if status == http.StatusTooManyRequests && c.Writer.Header().Get("Retry-After") == "" {
		c.Header("Retry-After", "1")
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
		status = http.StatusBadRequest
	}
	if de.Code == CodeTooLarge {
		status = http.StatusRequestEntityTooLarge
	}
	return status, ErrorDetail{Code: de.Code, Message: de.Message, Fields: de.Fields}
}

func abort(c *gin.Context, status int, d ErrorDetail) {
	c.AbortWithStatusJSON(status, ErrorBody{Error: d, RequestID: RequestID(c)})
}
