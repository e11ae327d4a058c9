package web

import (
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/domain"
)

// Page is a keyset page request: Cursor 0 starts at the newest.
type Page struct {
	Limit  int
	Cursor int64
}

// ParsePage reads ?limit= (1–100, default 20) and ?cursor= (an id from a
// previous answer's next_cursor).
func ParsePage(c *gin.Context) (Page, error) {
	var p Page
	var err error
	if p.Limit, err = parseLimit(c); err != nil {
		return p, err
	}
	if s := c.Query("cursor"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 1 {
			return p, domain.FieldError("cursor", "must be a next_cursor from a previous page")
		}
		p.Cursor = n
	}
	return p, nil
}

// parseLimit reads ?limit= (1–100, default 20).
func parseLimit(c *gin.Context) (int, error) {
	s := c.Query("limit")
	if s == "" {
		return 20, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 100 {
		return 20, domain.FieldError("limit", "must be an integer from 1 to 100")
	}
	return n, nil
}

// NextCursor is nil (JSON null) at the end of the list.
func NextCursor(next int64) *int64 {
	if next == 0 {
		return nil
	}
	return &next
}

// PathID parses a positive integer path parameter.
func PathID(c *gin.Context, name string) (int64, error) {
	n, err := strconv.ParseInt(c.Param(name), 10, 64)
	if err != nil || n < 1 {
		return 0, domain.Errorf(domain.NotFound, "no %s %q", name, c.Param(name))
	}
	return n, nil
}
