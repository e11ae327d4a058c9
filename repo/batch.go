package repo

import (
	"strings"
	"time"
)

// Helpers for multi-row statements (group commit). They build SQL text
// with ? placeholders that both dialects accept.

// Marks is n comma-separated placeholders.
func Marks(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// RowsOf is n rows of cols placeholders for a multi-row INSERT … VALUES.
func RowsOf(n, cols int) string {
	row := "(" + Marks(cols) + ")"
	return strings.TrimSuffix(strings.Repeat(row+", ", n), ", ")
}

// CaseUpdate builds one UPDATE of n rows of table keyed by the column key:
// every column in cols is set with CASE key WHEN … THEN … END, or with its
// one value when every row has the same (the CASE of each column is
// evaluated for every row: n² comparisons the server spares). row(i)
// gives row i's key and its values in the order of cols.
func CaseUpdate(table, key string, n int, cols []string, row func(i int) (any, []any)) (string, []any) {
	return ScopedCaseUpdate(table, "", nil, key, n, cols, row)
}

// ScopedCaseUpdate is CaseUpdate of rows whose key is unique only within
// scope (a condition with its args, such as "campaign_id = ?"): the rows
// updated are those of scope with the keys given.
func ScopedCaseUpdate(table, scope string, scopeArgs []any, key string, n int, cols []string, row func(i int) (any, []any)) (string, []any) {
	keys := make([]any, n)
	vals := make([][]any, n)
	for i := range n {
		keys[i], vals[i] = row(i)
	}
	var q strings.Builder
	args := make([]any, 0, n*(2*len(cols)+1))
	q.WriteString("UPDATE " + table + " SET ")
	for c, col := range cols {
		if c > 0 {
			q.WriteString(", ")
		}
		if v, ok := sameValue(vals, c); ok {
			q.WriteString(col + " = ?")
			args = append(args, v)
			continue
		}
		q.WriteString(col + " = CASE " + key)
		for i := range n {
			q.WriteString(" WHEN ? THEN ?")
			args = append(args, keys[i], vals[i][c])
		}
		q.WriteString(" END")
	}
	q.WriteString(" WHERE ")
	if scope != "" {
		q.WriteString(scope + " AND ")
		args = append(args, scopeArgs...)
	}
	q.WriteString(key + " IN (" + Marks(n) + ")")
	args = append(args, keys...)
	return q.String(), args
}

// sameValue reports column c's value when every row has the same one
// (values of comparable types only; times by instant and zone).
func sameValue(vals [][]any, c int) (any, bool) {
	first := vals[0][c]
	for _, row := range vals[1:] {
		v := row[c]
		switch a := first.(type) {
		case time.Time:
			b, ok := v.(time.Time)
			if !ok || !a.Equal(b) || a.Location() != b.Location() {
				return nil, false
			}
		case int64, int, string, bool:
			if v != first {
				return nil, false
			}
		default:
			return nil, false
		}
	}
	return first, true
}
