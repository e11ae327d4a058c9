package consoleweb_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/jifen/jifen/configs"
)

// consolePage fails unless p is a console page (HTML, the console's
// Content-Security-Policy and X-Frame-Options) with status.
func consolePage(t *testing.T, what string, p page, status int) {
	t.Helper()
	if p.status != status || !strings.HasPrefix(p.header.Get("Content-Type"), "text/html") || !strings.Contains(p.body, `id="error"`) ||
		!strings.Contains(p.header.Get("Content-Security-Policy"), "frame-ancestors 'none'") || p.header.Get("X-Frame-Options") != "DENY" {
		t.Errorf("%s: %d %q CSP %q XFO %q %.300s", what, p.status, p.header.Get("Content-Type"),
			p.header.Get("Content-Security-Policy"), p.header.Get("X-Frame-Options"), p.body)
	}
}

// Under /console/ every answer is a console page, errors too: an unknown
// page, a wrong method, a body over the limit and the per-IP rate limit
// answered the API's JSON, without the console's security headers.
func TestConsoleErrorsAreConsolePages(t *testing.T) {
	t.Parallel()
	s := newSite(t, func(c *configs.Config) { c.RateLimit.PerIPPerMinute = 30 })
	m := s.client()
	m.signIn("marketer")
	consolePage(t, "GET /console/nonexistent", m.get("/console/nonexistent"), http.StatusNotFound)
	consolePage(t, "GET /console/static/nonexistent.js", m.get("/console/static/nonexistent.js"), http.StatusNotFound)
	consolePage(t, "PUT /console/members", m.do("PUT", "/console/members", url.Values{}), http.StatusMethodNotAllowed)

	p := m.get("/console/rules/new")
	big := ruleForm(field(t, csrfRe, p), map[string]string{"name": strings.Repeat("x", 1100*1024)})
	consolePage(t, "a 1.1 MB form", m.do("POST", "/console/rules", big), http.StatusRequestEntityTooLarge)
	// Without a Content-Length (chunked), the limit is met while reading.
	req, _ := http.NewRequest("POST", s.srv.URL+"/console/rules", io.MultiReader(strings.NewReader(big.Encode())))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := m.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	consolePage(t, "a 1.1 MB form, chunked", page{status: resp.StatusCode, header: resp.Header, body: string(b)}, http.StatusRequestEntityTooLarge)

	for i := 0; i < 40; i++ {
		if r := m.get("/console/dashboard"); r.status == http.StatusTooManyRequests {
			consolePage(t, "rate limited", r, http.StatusTooManyRequests)
			if r.header.Get("Retry-After") == "" {
				t.Errorf("rate limited without Retry-After")
			}
			return
		}
	}
	t.Errorf("40 pages at 30 a minute were never limited")
}
