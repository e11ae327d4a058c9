package domain

import "context"

// EachPage reads rows in id order, batch at a time (read returns up to
// limit rows with id > after, ascending), calls visit on each and returns
// how many it visited. The audits of `jifen reconcile` page this way.
func EachPage[T any](ctx context.Context, batch int, read func(ctx context.Context, after int64, limit int) ([]T, error), id func(T) int64, visit func(T)) (int, error) {
	if batch <= 0 {
		batch = 500
	}
	n := 0
	for after := int64(0); ; {
		rows, err := read(ctx, after, batch)
		if err != nil || len(rows) == 0 {
			return n, err
		}
		for _, r := range rows {
			n++
			after = id(r)
			visit(r)
		}
	}
}
