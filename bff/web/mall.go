package web

import (
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/mall"
)

// ParseMallPage reads ?category=, ?limit= (1–100, default 20) and ?cursor=
// (a next_cursor of a previous page: "<sort>.<id>") for the catalogue.
func ParseMallPage(c *gin.Context) (mall.Page, error) {
	p := mall.Page{Category: strings.TrimSpace(c.Query("category"))}
	if len(p.Category) > 32 {
		return p, domain.FieldError("category", "at most 32 characters")
	}
	var err error
	if p.Limit, err = parseLimit(c); err != nil {
		return p, err
	}
	if s := c.Query("cursor"); s != "" {
		sortPart, idPart, ok := strings.Cut(s, ".")
		so, err1 := strconv.Atoi(sortPart)
		id, err2 := strconv.ParseInt(idPart, 10, 64)
		if !ok || err1 != nil || err2 != nil || id < 1 {
			return p, domain.FieldError("cursor", "must be a next_cursor from a previous page")
		}
		p.After = &mall.Cursor{Sort: so, ID: id}
	}
	return p, nil
}

// MallCursor formats the catalogue's next cursor (nil at the end).
func MallCursor(c *mall.Cursor) *string {
	if c == nil {
		return nil
	}
	s := strconv.Itoa(c.Sort) + "." + strconv.FormatInt(c.ID, 10)
	return &s
}

// OptTime is nil (JSON null) for a zero time, else the time in UTC.
func OptTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}
