package shopper_test

import (
	"strings"
	"testing"

	"github.com/jifen/jifen/cmd/jifen/app/apptest"
)

// A code is the one value a client puts into our outgoing WeChat and WeCom
// URLs: one that could add a parameter, or that is not a code at all, is
// 400 INVALID_CODE before anything is sent, for the shopper's login, the
// phone code and the guide's login alike.
func TestLoginCodesAreChecked(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	tok, _, _ := h.Login(apptest.UniqueUser("codes"))
	user := apptest.UniqueUser("inject")
	bad := map[string]string{
		"extra parameter": "sim:" + user + ":1&appid=evil",
		"space":           "sim:" + user + ": 2",
		"quote":           `sim:` + user + `:"3`,
		"percent":         "sim:" + user + ":%41",
		"NUL":             "sim:" + user + ":4\x00",
		"hash":            "sim:" + user + ":5#x",
		"too long":        "sim:" + user + ":" + strings.Repeat("9", 200),
	}
	routes := []struct {
		name, path string
		hdr        []string
	}{
		{"shopper login", "/api/v1/shopper/login", nil},
		{"phone", "/api/v1/shopper/phone", apptest.Auth(tok)},
		{"guide login", "/api/v1/guide/login", nil},
	}
	for _, rt := range routes {
		for name, code := range bad {
			r := h.Do("POST", rt.path, map[string]string{"code": code}, rt.hdr...)
			if r.Status != 400 || r.ErrorCode() != "INVALID_CODE" {
				t.Errorf("%s with a code with %s: %d %s; want 400 INVALID_CODE", rt.name, name, r.Status, r.Body)
			}
		}
	}
	if n := countRows(t, h, "members"); n != 1 {
		t.Fatalf("bad codes created members: %d", n)
	}
}
