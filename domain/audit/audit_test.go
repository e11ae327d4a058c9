package audit_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/jifen/jifen/domain/audit"
)

func TestChangesKeepsOnlyWhatChanged(t *testing.T) {
	at := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	from := map[string]any{"points": int64(400), "stock": int64(5), "name": "杯", "ends_at": at, "starts_at": nil}
	to := map[string]any{"points": int64(350), "stock": int64(5), "name": "杯", "ends_at": at.In(time.FixedZone("CST", 8*3600)),
		"starts_at": at}
	b, _ := json.Marshal(audit.Changes(from, to))
	if want := `{"points":[400,350],"starts_at":[null,"2026-12-01T00:00:00Z"]}`; string(b) != want {
		t.Fatalf("changes = %s, want %s", b, want)
	}
}
