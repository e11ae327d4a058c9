package reminder

import (
	"errors"
	"fmt"
	"strconv"
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
// whole day would never let anything out and is refused. The error says
// which is wrong: the shape, a time that is no time of day (24:00), or
// the whole day.
func ParseQuietHours(field, s string) (QuietHours, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return QuietHours{}, nil
	}
	const shape = `must be "HH:MM-HH:MM", e.g. "21:00-09:00"`
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return QuietHours{}, domain.FieldError(field, shape)
	}
	from, err := parseHHMM(a)
	if err == nil {
		var to int
		if to, err = parseHHMM(b); err == nil {
			if from == to {
				return QuietHours{}, domain.FieldError(field, "covers the whole day: nothing could ever be sent")
			}
			return QuietHours{From: from, To: to}, nil
		}
	}
	if errors.Is(err, errNotHHMM) {
		return QuietHours{}, domain.FieldError(field, err.Error()+": "+shape)
	}
	return QuietHours{}, domain.FieldError(field, err.Error())
}

var errNotHHMM = errors.New("not HH:MM")

// parseHHMM reads "HH:MM" (or "H:MM") as minutes of the day.
func parseHHMM(s string) (int, error) {
	s = strings.TrimSpace(s)
	h, m, ok := strings.Cut(s, ":")
	if !ok || len(h) < 1 || len(h) > 2 || len(m) != 2 || !digits(h) || !digits(m) {
		return 0, fmt.Errorf("%q is %w", s, errNotHHMM)
	}
	hh, _ := strconv.Atoi(h)
	mm, _ := strconv.Atoi(m)
	if hh > 23 || mm > 59 {
		return 0, fmt.Errorf("%q is not a time of day (00:00 to 23:59; a window to midnight ends at 00:00)", s)
	}
	return hh*60 + mm, nil
}

func digits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
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
