package consoleweb

import (
	"encoding/csv"
	"fmt"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/web"
)

// bom makes Excel read the file as UTF-8, so Chinese reasons and titles
// open correctly.
const bom = "\uFEFF"

// journalCSV is GET /console/members/{id}/journal.csv: the member's whole
// journal, newest first, streamed a page at a time through the same
// Ledger.Entries keyset paging as the JSON API, so a long history never
// sits in memory.
func (h *Handlers) journalCSV(c *gin.Context) {
	id, err := pathID(c)
	if err != nil {
		h.fail(c, err)
		return
	}
	ctx := c.Request.Context()
	if _, err := h.API.Members.Get(ctx, id); err != nil {
		h.fail(c, err)
		return
	}
	l := h.lang(c)
	c.Header("Content-Type", "text/csv; charset=utf-8")
	c.Header("Content-Disposition", fmt.Sprintf(`attachment; filename="member-%d-journal.csv"`, id))
	w := csv.NewWriter(c.Writer)
	_, _ = c.Writer.WriteString(bom)
	_ = w.Write([]string{l.T("journal.time"), "id", l.T("journal.kind"), l.T("journal.delta"), l.T("journal.after"),
		l.T("journal.what"), l.T("adjust.reason"), l.T("audit.actor"), "ref"})
	var cursor int64
	for {
		entries, next, err := h.API.Ledger.Entries(ctx, id, 100, cursor)
		if err != nil {
			// The header is sent: all that is left is to cut the file short
			// and say so in its last line.
			_ = w.Write([]string{"# export failed; request id " + web.RequestID(c)})
			w.Flush()
			return
		}
		for _, e := range entries {
			_ = w.Write([]string{l.Time(e.CreatedAt), strconv.FormatInt(e.ID, 10), l.T("kind." + string(e.Kind)),
				strconv.FormatInt(e.Delta, 10), strconv.FormatInt(e.BalanceAfter, 10), text(e.Title), text(e.Reason), text(e.Operator),
				text(e.Ref.Type + ":" + e.Ref.ID)})
		}
		w.Flush()
		if next == 0 || w.Error() != nil {
			return
		}
		cursor = next
	}
}

// text keeps free text from being run as a spreadsheet formula: a cell
// that starts with = + - @ gets a leading apostrophe.
func text(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
