package repo

import (
	"database/sql/driver"
	"fmt"
	"time"
)

// AnyTime scans a time column read by plain SQL (or an aggregate of one):
// MySQL returns a time, SQLite the stored text.
type AnyTime struct{ T time.Time }

// Value makes gorm treat AnyTime as a column, not a relation.
func (a AnyTime) Value() (driver.Value, error) { return a.T, nil }

// Scan implements sql.Scanner.
func (a *AnyTime) Scan(v any) error {
	switch x := v.(type) {
	case time.Time:
		a.T = x.UTC()
		return nil
	case nil:
		a.T = time.Time{}
		return nil
	case []byte:
		v = string(x)
	}
	str, ok := v.(string)
	if !ok {
		return fmt.Errorf("scan time from %T", v)
	}
	for _, layout := range []string{"2006-01-02 15:04:05.999999999-07:00", time.RFC3339Nano, "2006-01-02 15:04:05.999999999"} {
		if t, err := time.Parse(layout, str); err == nil {
			a.T = t.UTC()
			return nil
		}
	}
	return fmt.Errorf("scan time from %q", str)
}
