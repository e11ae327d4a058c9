package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestBirthdaysAndTierReviewRunOnTheEmbeddedStore(t *testing.T) {
	migratedDataDir(t)
	var out, errb bytes.Buffer
	if code := run([]string{"birthdays", "--day", "2026-11-25"}, &out, &errb); code != 0 || !strings.Contains(out.String(), "birthdays 2026-11-25: 0 members paid") {
		t.Fatalf("birthdays: %d %q %q", code, out.String(), errb.String())
	}
	if code := run([]string{"birthdays", "--day", "someday"}, &out, &errb); code != 2 {
		t.Fatalf("bad day: %d", code)
	}
	out.Reset()
	if code := run([]string{"tier-review"}, &out, &errb); code != 0 || !strings.Contains(out.String(), "tier-review: 0 members moved down") {
		t.Fatalf("tier-review: %d %q %q", code, out.String(), errb.String())
	}
}
