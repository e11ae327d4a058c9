package console_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/jifen/jifen/cmd/jifen/app/apptest"
)

// A CSV saved by Excel ("CSV UTF-8") starts with a byte-order mark: the
// header is still the header, not a code a shopper would receive. Codes
// that are not printable UTF-8 text are refused, and the error names the
// line of the file (the header and blank lines count).
func TestImportMallCodesFromFiles(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	marketer := h.ConsoleLogin("marketer")
	r := h.Do("POST", "/api/v1/console/mall/items", `{"kind":"coupon","name":"券","category":"coffee","points":1,"stock":10,"enabled":true}`,
		apptest.Auth(marketer)...)
	if r.Status != 201 {
		t.Fatalf("create item: %d %s", r.Status, r.Body)
	}
	path := fmt.Sprintf("/api/v1/console/mall/items/%d/codes", int64(r.JSON()["item"].(map[string]any)["id"].(float64)))
	csv := append(apptest.Auth(marketer), "Content-Type", "text/csv")

	r = h.Do("POST", path, "\xef\xbb\xbfcode\r\nREAL-1\r\n", csv...)
	if r.Status != 200 || r.JSON()["added"] != 1.0 || r.JSON()["skipped"] != 0.0 {
		t.Fatalf("Excel CSV: %d %s, want added 1", r.Status, r.Body)
	}
	var codes []string
	if err := h.Env.DB.Conn(context.Background()).Table("mall_codes").Pluck("code", &codes).Error; err != nil {
		t.Fatal(err)
	}
	if len(codes) != 1 || codes[0] != "REAL-1" {
		t.Fatalf("codes in the pool: %q", codes)
	}
	// Without a header, a BOM before the first code is not part of it.
	if r := h.Do("POST", path, "\xef\xbb\xbfREAL-1\n", csv...); r.Status != 200 || r.JSON()["added"] != 0.0 {
		t.Fatalf("BOM before a known code: %d %s, want added 0", r.Status, r.Body)
	}

	bad := []struct {
		name, body, line string
	}{
		{"invalid UTF-8", "code\nOK-1\nBAD-\xff\n", "line 3"},
		{"control character", "code\nOK-1\nBAD\x07-2\n", "line 3"},
		{"zero-width space", "OK-1\nBAD\u200b-3\n", "line 2"},
		{"a BOM past the start", "code\nOK-1\n\ufeffBAD-4\n", "line 3"},
		{"too long, after a blank line", "code\n\nOK-1\n" + strings.Repeat("X", 65) + "\n", "line 4"},
	}
	for _, tc := range bad {
		r := h.Do("POST", path, tc.body, csv...)
		msg, _ := r.Fields()["codes"].(string)
		if r.Status != 400 || r.ErrorCode() != "INVALID" || !strings.HasPrefix(msg, tc.line+":") {
			t.Errorf("%s: %d %s, want 400 INVALID naming %s", tc.name, r.Status, r.Body, tc.line)
		}
	}
	if n := count(t, h, "mall_codes"); n != 1 {
		t.Fatalf("%d codes in the pool after refused imports, want 1", n)
	}
}
