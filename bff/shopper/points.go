package shopper

import (
	"time"

	"github.com/jifen/jifen/domain/ledger"
)

type expiringJSON struct {
	Amount    int64     `json:"amount"`
	ExpiresAt time.Time `json:"expires_at"`
}

type pointsJSON struct {
	Available int64          `json:"available"`
	Pending   int64          `json:"pending"`
	Held      int64          `json:"held"`
	Debt      int64          `json:"debt"`
	Expiring  []expiringJSON `json:"expiring"`
}

func toPointsJSON(b ledger.Balance) pointsJSON {
	p := pointsJSON{Available: b.Available, Pending: b.Pending, Held: b.Held, Debt: b.Debt, Expiring: []expiringJSON{}}
	for _, e := range b.Expiring {
		p.Expiring = append(p.Expiring, expiringJSON{Amount: e.Amount, ExpiresAt: e.ExpiresAt.UTC()})
	}
	return p
}

type entryJSON struct {
	ID           int64     `json:"id"`
	Kind         string    `json:"kind"`
	Delta        int64     `json:"delta"`
	BalanceAfter int64     `json:"balance_after"`
	Title        string    `json:"title"`
	CreatedAt    time.Time `json:"created_at"`
}

func toEntryJSON(e ledger.Entry) entryJSON {
	return entryJSON{ID: e.ID, Kind: string(e.Kind), Delta: e.Delta, BalanceAfter: e.BalanceAfter, Title: e.Title, CreatedAt: e.CreatedAt.UTC()}
}
