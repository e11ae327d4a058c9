package repo

import "strings"

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
// every column in cols is set with CASE key WHEN … THEN … END. row(i)
// gives row i's key and its values in the order of cols.
func CaseUpdate(table, key string, n int, cols []string, row func(i int) (any, []any)) (string, []any) {
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
		q.WriteString(col + " = CASE " + key)
		for i := range n {
			q.WriteString(" WHEN ? THEN ?")
			args = append(args, keys[i], vals[i][c])
		}
		q.WriteString(" END")
	}
	q.WriteString(" WHERE " + key + " IN (" + Marks(n) + ")")
	args = append(args, keys...)
	return q.String(), args
}
