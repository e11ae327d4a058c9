package mall

import (
	"context"
	"fmt"

	"github.com/jifen/jifen/domain"
)

// Violation is a broken mall invariant.
type Violation struct {
	ItemID int64
	Rule   string
	Detail string
}

// The invariants Check verifies.
const (
	RuleSoldWithinStock = "sold <= stock"
	RuleSoldRedemptions = "sold == live redemptions"
	RuleCodesOnce       = "each code given once, to the redemption that shows it"
)

// Check verifies every item's stock and code invariants, batchSize items
// at a time, and returns what is broken and how many items it checked.
func Check(ctx context.Context, a Auditor, batchSize int) ([]Violation, int, error) {
	var out []Violation
	n, err := domain.EachPage(ctx, batchSize, a.Audit, func(it ItemAudit) int64 { return it.ItemID }, func(it ItemAudit) {
		if it.Sold > it.Stock {
			out = append(out, Violation{it.ItemID, RuleSoldWithinStock, fmt.Sprintf("sold %d, stock %d", it.Sold, it.Stock)})
		}
		if it.Sold != it.LiveRedemptions {
			out = append(out, Violation{it.ItemID, RuleSoldRedemptions, fmt.Sprintf("sold %d, live redemptions %d", it.Sold, it.LiveRedemptions)})
		}
		if it.CodesGiven != it.CodedRedemptions || it.CodesMismatched != 0 {
			out = append(out, Violation{it.ItemID, RuleCodesOnce, fmt.Sprintf("codes given %d, redemptions with a code %d, mismatched %d",
				it.CodesGiven, it.CodedRedemptions, it.CodesMismatched)})
		}
	})
	if err != nil {
		return nil, n, err
	}
	return out, n, nil
}
