package repo_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jifen/jifen/repo"
	"github.com/jifen/jifen/repo/testenv"
)

// CaseUpdate sets a column every row shares with its one value and the
// others with CASE; both must land on each row as given, on both backends.
func TestCaseUpdateWritesSharedAndPerRowValues(t *testing.T) {
	env := testenv.New(t)
	ctx := context.Background()
	db := env.DB.Conn(ctx)
	if err := db.Exec("CREATE TABLE case_t (id BIGINT PRIMARY KEY, a BIGINT NOT NULL, b VARCHAR(8) NOT NULL, at DATETIME NOT NULL)").Error; err != nil {
		t.Fatal(err)
	}
	for id := 1; id <= 4; id++ {
		if err := db.Exec("INSERT INTO case_t (id, a, b, at) VALUES (?, 0, '', ?)", id, time.Unix(0, 0).UTC()).Error; err != nil {
			t.Fatal(err)
		}
	}
	at := time.Date(2026, 11, 24, 1, 2, 3, 0, time.UTC)
	ids := []int64{1, 2, 3}
	q, args := repo.CaseUpdate("case_t", "id", len(ids), []string{"a", "b", "at"}, func(i int) (any, []any) {
		return ids[i], []any{int64(10 * (i + 1)), "same", at}
	})
	if strings.Count(q, "CASE") != 1 {
		t.Errorf("want CASE only for the column whose values differ: %s", q)
	}
	if err := db.Exec(q, args...).Error; err != nil {
		t.Fatal(err)
	}
	var rows []struct {
		ID, A int64
		B     string
		At    time.Time
	}
	if err := db.Raw("SELECT id, a, b, at FROM case_t ORDER BY id").Scan(&rows).Error; err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		wantA, wantB, wantAt := 10*r.ID, "same", at
		if r.ID == 4 { // not in the update
			wantA, wantB, wantAt = 0, "", time.Unix(0, 0).UTC()
		}
		if r.A != wantA || r.B != wantB || !r.At.Equal(wantAt) {
			t.Errorf("row %d = (%d, %q, %v), want (%d, %q, %v)", r.ID, r.A, r.B, r.At, wantA, wantB, wantAt)
		}
	}
}
