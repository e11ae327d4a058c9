package repo

import "gorm.io/gorm"

// KeysetPage reads one page of q, newest first: rows with id < cursor
// (cursor 0: from the newest), at most limit of them, and the cursor of the
// next page (0 at the end). q carries the filters; KeysetPage adds the id
// order, the cursor and the limit, reading one row more to know whether
// another page exists. Pages stay stable while new rows arrive.
func KeysetPage[R any](q *gorm.DB, limit int, cursor int64, id func(*R) int64) ([]R, int64, error) {
	q = q.Order("id DESC").Limit(limit + 1)
	if cursor > 0 {
		q = q.Where("id < ?", cursor)
	}
	var rows []R
	if err := q.Find(&rows).Error; err != nil {
		return nil, 0, err
	}
	var next int64
	if len(rows) > limit {
		rows = rows[:limit]
		next = id(&rows[limit-1])
	}
	return rows, next, nil
}
