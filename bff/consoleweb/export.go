package consoleweb

import (
	"encoding/csv"
	"fmt"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/web"
	"github.com/jifen/jifen/domain/member"
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

// text keeps free text from being run as a spreadsheet formula
// (web.CSVText).
func text(s string) string { return web.CSVText(s) }

// deliveriesCSV is GET /console/campaigns/{id}/deliveries.csv: every
// message of the campaign over all its runs, by id — run, member, channel,
// status, WeChat errcode, reason, attempts and the last attempt — streamed
// a page at a time through reminder.Campaigns.Deliveries.
func (h *Handlers) deliveriesCSV(c *gin.Context) {
	id, err := pathID(c)
	if err != nil {
		h.fail(c, err)
		return
	}
	ctx := c.Request.Context()
	if _, err := h.API.Campaigns.Get(ctx, id); err != nil {
		h.fail(c, err)
		return
	}
	l := h.lang(c)
	c.Header("Content-Type", "text/csv; charset=utf-8")
	c.Header("Content-Disposition", fmt.Sprintf(`attachment; filename="campaign-%d-deliveries.csv"`, id))
	w := csv.NewWriter(c.Writer)
	_, _ = c.Writer.WriteString(bom)
	_ = w.Write([]string{"id", l.T("export.run"), l.T("member.id"), l.T("export.channel"), l.T("export.status"), "errcode",
		l.T("export.reason"), l.T("export.attempts"), l.T("export.attempted_at")})
	var after int64
	for {
		ds, err := h.API.Campaigns.Deliveries(ctx, id, after, 500)
		if err != nil {
			_ = w.Write([]string{"# export failed; request id " + web.RequestID(c)})
			w.Flush()
			return
		}
		for _, d := range ds {
			attempted := ""
			if !d.AttemptedAt.IsZero() && d.Attempts > 0 {
				attempted = l.Time(d.AttemptedAt)
			}
			_ = w.Write([]string{strconv.FormatInt(d.ID, 10), d.Campaign, strconv.FormatInt(d.MemberID, 10),
				l.T("channel." + string(d.Channel)), l.T("ostatus." + string(d.Status)), strconv.FormatInt(d.ErrCode, 10),
				text(d.Reason), strconv.Itoa(d.Attempts), attempted})
			after = d.ID
		}
		w.Flush()
		if len(ds) < 500 || w.Error() != nil {
			return
		}
	}
}

// membersCSV is GET /console/members.csv: every member by id — id,
// nickname, the masked phone (as the search shows it), registered and last
// active (Asia/Shanghai) — streamed 500 at a time through
// member.Directory.Export.
func (h *Handlers) membersCSV(c *gin.Context) {
	l := h.lang(c)
	c.Header("Content-Type", "text/csv; charset=utf-8")
	c.Header("Content-Disposition", `attachment; filename="members.csv"`)
	w := csv.NewWriter(c.Writer)
	_, _ = c.Writer.WriteString(bom)
	_ = w.Write([]string{l.T("member.id"), l.T("member.nickname"), l.T("member.phone"), l.T("member.registered"), l.T("member.active")})
	err := h.API.Directory.Export(c.Request.Context(), 500, func(ms []*member.Member) error {
		for _, m := range ms {
			_ = w.Write([]string{strconv.FormatInt(m.ID, 10), text(m.Nickname), m.PhoneMasked(), l.Time(m.CreatedAt), l.Time(m.LastActive)})
		}
		w.Flush()
		return w.Error()
	})
	if err != nil {
		_ = w.Write([]string{"# export failed; request id " + web.RequestID(c)})
		w.Flush()
	}
}
