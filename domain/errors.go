// Package domain holds the types shared by every capability: the one error
// type, the clock and the calendar day. Capability packages (ledger, member,
// …) live below it and import nothing from gin, gorm, go-redis or the WeChat
// SDK; they declare the interfaces they need and cmd/jifen wires them.
package domain

import (
	"errors"
	"fmt"
)

// Code classifies a domain error. bff maps each code to one HTTP status.
type Code string

// The codes. Keep the list short: a new code needs a reason a client would
// act on differently.
const (
	Invalid             Code = "INVALID"              // 400: the request is malformed or fails validation
	InvalidCode         Code = "INVALID_CODE"         // 400: WeChat rejected the login/phone code (40029)
	CodeUsed            Code = "CODE_USED"            // 400: WeChat code already used (40163)
	Unauthorized        Code = "UNAUTHORIZED"         // 401
	Forbidden           Code = "FORBIDDEN"            // 403
	AccountHeld         Code = "ACCOUNT_HELD"         // 403: the member is held for risk review; spends refused, earning goes on
	NotFound            Code = "NOT_FOUND"            // 404
	Conflict            Code = "CONFLICT"             // 409
	IdempotencyConflict Code = "IDEMPOTENCY_CONFLICT" // 409: same key, different request
	AlreadySignedIn     Code = "ALREADY_SIGNED_IN"    // 409
	OrderNotPaid        Code = "ORDER_NOT_PAID"       // 409: a refund of an order whose paid event has not arrived; send it again after the paid event
	PointsInsufficient  Code = "POINTS_INSUFFICIENT"  // 422
	RuleViolation       Code = "RULE_VIOLATION"       // 422: allowed input, refused by a business rule
	RateLimited         Code = "RATE_LIMITED"         // 429
	Unavailable         Code = "UNAVAILABLE"          // 503: an upstream (WeChat) is down; retry later
	Misconfigured       Code = "MISCONFIGURED"        // 503: a setting is wrong; an operator must fix it, retrying will not help
	Internal            Code = "INTERNAL"             // 500: never shown with details
)

// Error is the one error type of the domain. Fields, when set, name the
// request fields that failed validation and why.
type Error struct {
	Code    Code
	Message string
	Fields  map[string]string
}

func (e *Error) Error() string {
	if len(e.Fields) == 0 {
		return fmt.Sprintf("%s: %s", e.Code, e.Message)
	}
	return fmt.Sprintf("%s: %s %v", e.Code, e.Message, e.Fields)
}

// Errorf builds an *Error with a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// FieldError builds an Invalid error naming one field.
func FieldError(field, problem string) *Error {
	return &Error{Code: Invalid, Message: field + ": " + problem, Fields: map[string]string{field: problem}}
}

// ErrorCode returns the code of the first *Error in err's chain, Internal
// for any other error and "" for nil.
func ErrorCode(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

// ErrorMessage returns the human message of a domain error, or a generic
// text for anything else (whose details must not reach a client).
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}

// Problems collects what is wrong with the fields of a set of rules, so a
// validator names every wrong field at once (configuration and console
// edits alike).
type Problems map[string]string

// Add records why field is wrong.
func (p Problems) Add(field, why string) { p[field] = why }

// Check records the fields of err, a validation *Error; other errors are
// recorded under "" so that they are not lost.
func (p Problems) Check(err error) {
	var de *Error
	switch {
	case err == nil:
	case errors.As(err, &de) && len(de.Fields) > 0:
		for k, why := range de.Fields {
			p[k] = why
		}
	default:
		p[""] = err.Error()
	}
}

// Err is nil when nothing was recorded, else one Invalid error with
// message and every field.
func (p Problems) Err(message string) error {
	if len(p) == 0 {
		return nil
	}
	return &Error{Code: Invalid, Message: message, Fields: p}
}

// Parsed records the problem of a parsed points value, if any:
// bad.Parsed(domain.ParsePointsOrZero(field, v)).
func (p Problems) Parsed(_ Points, err error) { p.Check(err) }
