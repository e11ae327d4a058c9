package console

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/web"
	"github.com/jifen/jifen/domain/ledger"
)

type entryJSON struct {
	ID           int64     `json:"id"`
	Kind         string    `json:"kind"`
	Amount       int64     `json:"amount"`
	Delta        int64     `json:"delta"`
	BalanceAfter int64     `json:"balance_after"`
	Title        string    `json:"title"`
	RefType      string    `json:"ref_type"`
	RefID        string    `json:"ref_id"`
	Operator     string    `json:"operator"`
	Reason       string    `json:"reason"`
	CreatedAt    time.Time `json:"created_at"`
}

func toEntryJSON(e ledger.Entry) entryJSON {
	return entryJSON{ID: e.ID, Kind: string(e.Kind), Amount: e.Amount, Delta: e.Delta, BalanceAfter: e.BalanceAfter,
		Title: e.Title, RefType: e.Ref.Type, RefID: e.Ref.ID, Operator: e.Operator, Reason: e.Reason, CreatedAt: e.CreatedAt.UTC()}
}

// MemberLedger handles GET /api/v1/console/members/{id}/ledger: the
// balance and the journal of one member, newest first.
func (h *Handlers) MemberLedger(c *gin.Context) {
	id, err := web.PathID(c, "id")
	if err != nil {
		web.Fail(c, err)
		return
	}
	page, err := web.ParsePage(c)
	if err != nil {
		web.Fail(c, err)
		return
	}
	ctx := c.Request.Context()
	if _, err := h.Members.Get(ctx, id); err != nil {
		web.Fail(c, err)
		return
	}
	bal, err := h.Ledger.Balance(ctx, id)
	if err != nil {
		web.Fail(c, err)
		return
	}
	entries, next, err := h.Ledger.Entries(ctx, id, page.Limit, page.Cursor)
	if err != nil {
		web.Fail(c, err)
		return
	}
	out := make([]entryJSON, 0, len(entries))
	for _, e := range entries {
		out = append(out, toEntryJSON(e))
	}
	c.JSON(http.StatusOK, gin.H{
		"member_id": id,
		"account":   gin.H{"available": bal.Available, "pending": bal.Pending, "held": bal.Held, "debt": bal.Debt, "lifetime_earned": bal.LifetimeEarned},
		"entries":   out, "next_cursor": web.NextCursor(next),
	})
}
