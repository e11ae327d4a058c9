package reminder

import (
	"testing"
	"time"

	"github.com/jifen/jifen/domain"
)

func TestRetryAtByErrcode(t *testing.T) {
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, domain.Shanghai)
	tomorrow := time.Date(2026, 11, 24, 0, 0, 0, 0, domain.Shanghai)
	tests := []struct {
		name     string
		code     int64
		ch       Channel
		attempt  int
		from, to time.Time // the retry falls in [from, to)
	}{
		{"45011 per-minute limit", CodeMinuteLimit, Subscribe, 1, now.Add(time.Minute), now.Add(75 * time.Second)},
		{"robot 45009 is its minute limit", CodeRobotLimit, Robot, 1, now.Add(time.Minute), now.Add(75 * time.Second)},
		{"45009 daily quota", CodeDailyQuota, Subscribe, 1, tomorrow, tomorrow.Add(30 * time.Minute)},
		{"45009 on the 4th attempt still waits for tomorrow", CodeDailyQuota, Template, 4, tomorrow, tomorrow.Add(30 * time.Minute)},
		{"-1 first backoff", CodeBusy, Subscribe, 1, now.Add(time.Minute), now.Add(72 * time.Second)},
		{"5xx third backoff", 0, WeCom, 3, now.Add(4 * time.Minute), now.Add(288 * time.Second)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for id := int64(1); id <= 50; id++ {
				if got := retryAt(tt.code, tt.ch, tt.attempt, id, now); got.Before(tt.from) || !got.Before(tt.to) {
					t.Fatalf("row %d: retry at %v, want in [%v, %v)", id, got, tt.from, tt.to)
				}
			}
		})
	}
	// Rows that failed together do not all come back together.
	seen := map[time.Time]bool{}
	for id := int64(1); id <= 50; id++ {
		seen[retryAt(CodeBusy, Subscribe, 1, id, now)] = true
	}
	if len(seen) < 40 {
		t.Fatalf("50 rows retried at %d distinct times: no jitter", len(seen))
	}
}
