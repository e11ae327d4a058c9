package web_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/web"
	"github.com/jifen/jifen/domain"
)

// One table from domain code to status: an outage is 503 with Retry-After
// logged at WARN, a code missing from the table is a bug (500, logged at
// ERROR), never the client's fault.
func TestFail(t *testing.T) {
	var logs bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&logs, nil)))
	defer slog.SetDefault(prev)
	gin.SetMode(gin.TestMode)

	cases := []struct {
		name       string
		err        error
		status     int
		code       domain.Code
		retryAfter bool
		level      string
	}{
		{"outage", fmt.Errorf("load member: %w", fmt.Errorf("%w (dial tcp: connection refused)", domain.Errorf(domain.Unavailable, "the database is unavailable"))),
			503, domain.Unavailable, true, "level=WARN"},
		{"misconfigured", domain.Errorf(domain.Misconfigured, "fix the page"), 503, domain.Misconfigured, false, ""},
		{"unknown code", domain.Errorf(domain.Code("NEW_CODE"), "nobody mapped me"), 500, domain.Code("NEW_CODE"), false, "level=ERROR"},
		{"too large", domain.Errorf(web.CodeTooLarge, "big"), 413, web.CodeTooLarge, false, ""},
		{"bug", fmt.Errorf("nil map"), 500, domain.Internal, false, "level=ERROR"},
		{"invalid", domain.FieldError("delta", "out of range"), 400, domain.Invalid, false, ""},
		{"refund before paid", domain.Errorf(domain.OrderNotPaid, "send it again"), 409, domain.OrderNotPaid, true, ""},
	}
	for _, tc := range cases {
		logs.Reset()
		rec := httptest.NewRecorder()
		c, _ := gin.CreateTestContext(rec)
		c.Request = httptest.NewRequest("GET", "/x", nil)
		web.Fail(c, tc.err)
		if rec.Code != tc.status || !strings.Contains(rec.Body.String(), `"code":"`+string(tc.code)+`"`) {
			t.Errorf("%s: %d %s; want %d %s", tc.name, rec.Code, rec.Body, tc.status, tc.code)
		}
		if got := rec.Header().Get("Retry-After") != ""; got != tc.retryAfter {
			t.Errorf("%s: Retry-After %q", tc.name, rec.Header().Get("Retry-After"))
		}
		if tc.level != "" && !strings.Contains(logs.String(), tc.level) {
			t.Errorf("%s: logged %q; want %s", tc.name, logs.String(), tc.level)
		}
		if tc.status < http.StatusInternalServerError && logs.Len() > 0 {
			t.Errorf("%s: a client error was logged: %s", tc.name, logs.String())
		}
	}
}
