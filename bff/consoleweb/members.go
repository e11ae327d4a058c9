package consoleweb

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/console"
	"github.com/jifen/jifen/bff/web"
	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/audit"
	"github.com/jifen/jifen/domain/ledger"
	"github.com/jifen/jifen/domain/member"
	"github.com/jifen/jifen/domain/risk"
)

type searchData struct {
	Kinds   []member.SearchBy
	By      string
	Q       string
	From    string
	To      string
	Asked   bool
	Errors  []string
	Members []*member.Member
}

// searchMembers is GET /console/members: the search form and, when asked,
// the results (the same Directory.Search as GET /api/v1/console/members).
func (h *Handlers) searchMembers(c *gin.Context) {
	d := searchData{Kinds: member.SearchKinds, By: c.DefaultQuery("by", string(member.ByPhoneLast4)), Q: c.Query("q"),
		From: c.Query("from"), To: c.Query("to"), Asked: c.Query("q") != ""}
	status := http.StatusOK
	if d.Asked {
		q, err := console.ParseMemberQuery(func(k string) string {
			if k == "by" {
				return d.By
			}
			return c.Query(k)
		})
		if err == nil {
			d.Members, err = h.API.Directory.Search(c.Request.Context(), q)
		}
		if err != nil {
			var detail web.ErrorDetail
			status, detail = web.Describe(c, err)
			d.Errors = problems(h.lang(c), detail)
		}
		if len(d.Members) == 1 && c.GetHeader("HX-Request") == "" {
			c.Redirect(http.StatusSeeOther, fmt.Sprintf("/console/members/%d", d.Members[0].ID))
			return
		}
	}
	if c.GetHeader("HX-Request") != "" {
		// While the marketer types, a half-typed key is not an error worth a
		// 4xx (htmx would not show it): the fragment says what is wrong.
		h.renderBlock(c, http.StatusOK, "members", "results", h.page(c, "search.title", d))
		return
	}
	h.render(c, status, "members", "search.title", d)
}

type memberData struct {
	console.MemberView
	Days       []calendarDay
	Entries    []ledger.Entry
	NextCursor int64
	Audit      []audit.Entry
	// Hold and Flags are risk control's view of the member (nil and none
	// when risk control is not wired).
	Hold  *risk.Hold
	Flags []risk.Flag
	// AdjustKey is generated with the form, so submitting the same form
	// twice (a double click, a reload that re-posts) pays once.
	AdjustKey string
	Adjusted  *ledger.Entry
	Form      adjustForm
}

type adjustForm struct {
	Delta  string
	Reason string
	Errors []string
}

type calendarDay struct {
	Day    int
	Signed bool
}

func monthDays(month string, signed []int) []calendarDay {
	first, err := time.ParseInLocation("2006-01", month, domain.Shanghai)
	if err != nil {
		return nil
	}
	n := first.AddDate(0, 1, -1).Day()
	on := map[int]bool{}
	for _, d := range signed {
		on[d] = true
	}
	out := make([]calendarDay, n)
	for i := range out {
		out[i] = calendarDay{Day: i + 1, Signed: on[i+1]}
	}
	return out
}

func pathID(c *gin.Context) (int64, error) { return web.PathID(c, "id") }

func (h *Handlers) loadMember(c *gin.Context, id, cursor int64) (memberData, error) {
	ctx := c.Request.Context()
	var d memberData
	var err error
	if d.MemberView, err = h.API.Member(ctx, id); err != nil {
		return d, err
	}
	d.Days = monthDays(d.Calendar.Month, d.Calendar.SignedDays)
	if d.Entries, d.NextCursor, err = h.API.Ledger.Entries(ctx, id, 20, cursor); err != nil {
		return d, err
	}
	if d.Audit, err = h.API.Audit.List(ctx, fmt.Sprintf("member:%d", id), 0, 10); err != nil {
		return d, err
	}
	if h.API.Risk != nil {
		if d.Hold, d.Flags, err = h.API.Risk.Member(ctx, id, 10); err != nil {
			return d, err
		}
	}
	d.AdjustKey = randomHex(16)
	return d, nil
}

// memberPage is GET /console/members/{id}.
func (h *Handlers) memberPage(c *gin.Context) {
	id, err := pathID(c)
	if err != nil {
		h.fail(c, err)
		return
	}
	page, err := web.ParsePage(c)
	if err != nil {
		h.fail(c, err)
		return
	}
	d, err := h.loadMember(c, id, page.Cursor)
	if err != nil {
		h.fail(c, err)
		return
	}
	if s := c.Query("adjusted"); s != "" {
		if eid, err := strconv.ParseInt(s, 10, 64); err == nil {
			for i := range d.Entries {
				if d.Entries[i].ID == eid {
					d.Adjusted = &d.Entries[i]
				}
			}
		}
	}
	h.render(c, http.StatusOK, "member", "member.title", d, id)
}

// journalRows is GET /console/members/{id}/journal?cursor=: the next page
// of the journal as table rows, for htmx's "load more" (keyset paging by
// entry id, as GET /api/v1/console/members/{id}/ledger).
func (h *Handlers) journalRows(c *gin.Context) {
	id, err := pathID(c)
	if err != nil {
		h.fail(c, err)
		return
	}
	page, err := web.ParsePage(c)
	if err != nil {
		h.fail(c, err)
		return
	}
	if _, err := h.API.Members.Get(c.Request.Context(), id); err != nil {
		h.fail(c, err)
		return
	}
	var d memberData
	d.Member = &member.Member{ID: id}
	if d.Entries, d.NextCursor, err = h.API.Ledger.Entries(c.Request.Context(), id, page.Limit, page.Cursor); err != nil {
		h.fail(c, err)
		return
	}
	h.renderBlock(c, http.StatusOK, "member", "journal-rows", h.page(c, "journal.title", d))
}

// adjust is POST /console/members/{id}/adjustments (admin, marketer):
// AdjustPoints, the same call as the JSON API's, with the key the form
// was rendered with.
func (h *Handlers) adjust(c *gin.Context) {
	id, err := pathID(c)
	if err != nil {
		h.fail(c, err)
		return
	}
	form := adjustForm{Delta: strings.TrimSpace(c.PostForm("delta")), Reason: c.PostForm("reason")}
	key := c.PostForm("idempotency_key")
	delta, perr := strconv.ParseInt(form.Delta, 10, 64)
	switch {
	case perr != nil:
		err = domain.FieldError("delta", "problem.whole_points")
	case key == "" || len(key) > 64:
		err = domain.FieldError("idempotency_key", "problem.no_key")
	default:
		var e ledger.Entry
		e, err = h.API.AdjustPoints(c.Request.Context(), web.Claims(c), id, delta, form.Reason, key)
		if err == nil {
			c.Redirect(http.StatusSeeOther, fmt.Sprintf("/console/members/%d?adjusted=%d", id, e.ID))
			return
		}
	}
	status, detail := web.Describe(c, err)
	if detail.Code == domain.NotFound || detail.Code == domain.Forbidden || status >= 500 {
		h.fail(c, err)
		return
	}
	d, lerr := h.loadMember(c, id, 0)
	if lerr != nil {
		h.fail(c, lerr)
		return
	}
	form.Errors = problems(h.lang(c), detail)
	d.Form = form
	h.render(c, status, "member", "member.title", d, id)
}
