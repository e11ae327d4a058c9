package console

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/web"
	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/member"
)

type memberJSON struct {
	ID          int64     `json:"id"`
	Nickname    string    `json:"nickname"`
	PhoneMasked string    `json:"phone_masked"`
	OpenID      string    `json:"openid"`
	UnionID     string    `json:"unionid"`
	Birthday    string    `json:"birthday"`
	CreatedAt   time.Time `json:"created_at"`
	LastActive  time.Time `json:"last_active"`
}

func toMemberJSON(m *member.Member) memberJSON {
	return memberJSON{ID: m.ID, Nickname: m.Nickname, PhoneMasked: m.PhoneMasked(), OpenID: m.OpenID, UnionID: m.UnionID,
		Birthday: m.Birthday, CreatedAt: m.CreatedAt.UTC(), LastActive: m.LastActive.UTC()}
}

// ParseMemberQuery reads ?by=&q=&from=&to=&limit= (the JSON API and the
// console page take the same parameters).
func ParseMemberQuery(get func(string) string) (member.Query, error) {
	q := member.Query{By: member.SearchBy(get("by")), Value: get("q")}
	if q.By == "" {
		q.By = member.ByID
	}
	for _, d := range []struct {
		name string
		dst  *domain.Day
	}{{"from", &q.From}, {"to", &q.To}} {
		if s := get(d.name); s != "" {
			day, err := domain.ParseDay(s)
			if err != nil {
				return q, domain.FieldError(d.name, "a date YYYY-MM-DD")
			}
			*d.dst = day
		}
	}
	if s := get("limit"); s != "" {
		// A limit given is 1 or more: the search takes zero for "none
		// given" (20), and ?limit=0 was answered with 20 members where
		// every other list answers 400.
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return q, domain.FieldError("limit", "must be an integer from 1 to 50")
		}
		q.Limit = n
	}
	return q, nil
}

// SearchMembers handles GET /api/v1/console/members: find members by id,
// phone, the phone's last four digits, nickname prefix, openid or unionid.
func (h *Handlers) SearchMembers(c *gin.Context) {
	q, err := ParseMemberQuery(c.Query)
	if err != nil {
		web.Fail(c, err)
		return
	}
	found, err := h.Directory.Search(c.Request.Context(), q)
	if err != nil {
		web.Fail(c, err)
		return
	}
	out := make([]memberJSON, 0, len(found))
	for _, m := range found {
		out = append(out, toMemberJSON(m))
	}
	c.JSON(http.StatusOK, gin.H{"members": out})
}
