package reminder

import (
	"fmt"
	"strings"
	"time"

	"github.com/jifen/jifen/domain"
)

// QuietHours is a daily window, in minutes of the Shanghai day, in which
// nothing is sent. From == To means no window; From > To wraps midnight
// (21:00–09:00).
type QuietHours struct {
	From, To int
}

// ParseQuietHours reads "HH:MM-HH:MM" ("" for none). A window covering the
// whole day would never let anything out and is refused.
func ParseQuietHours(field, s string) (QuietHours, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return QuietHours{}, nil
	}
	a, b, ok := strings.Cut(s, "-")
	from, err1 := parseHHMM(a)
	to, err2 := parseHHMM(b)
	if !ok || err1 != nil || err2 != nil {
		return QuietHours{}, domain.FieldError(field, `must be "HH:MM-HH:MM", e.g. "21:00-09:00"`)
	}
	if from == to {
		return QuietHours{}, domain.FieldError(field, "covers the whole day: nothing could ever be sent")
	}
	return QuietHours{From: from, To: to}, nil
}

func parseHHMM(s string) (int, error) {
	t, err := time.Parse("15:04", strings.TrimSpace(s))
	if err != nil {
		return 0, err
	}
	return t.Hour()*60 + t.Minute(), nil
}

// String formats the window as HH:MM-HH:MM ("" for none).
func (q QuietHours) String() string {
	if q.From == q.To {
		return ""
	}
	return fmt.Sprintf("%02d:%02d-%02d:%02d", q.From/60, q.From%60, q.To/60, q.To%60)
}

// Wait reports whether t is inside the window and, if so, when it ends.
func (q QuietHours) Wait(t time.Time) (time.Time, bool) {
	if q.From == q.To {
		return t, false
	}
	m := dayMinute(t, domain.Shanghai)
	inside := q.From < q.To && m >= q.From && m < q.To || q.From > q.To && (m >= q.From || m < q.To)
	if !inside {
		return t, false
	}
	day := domain.DayOf(t)
	if q.From > q.To && m >= q.From {
		day = day.AddDays(1)
	}
	return day.Start().Add(time.Duration(q.To) * time.Minute), true
}
