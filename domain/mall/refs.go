package mall

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/jifen/jifen/domain"
)

// Stores tells whether a store exists (the stores guides work in).
type Stores interface {
	StoreExists(ctx context.Context, id int64) (bool, error)
}

// StoresFunc adapts a function to Stores.
type StoresFunc func(ctx context.Context, id int64) (bool, error)

// StoreExists calls f.
func (f StoresFunc) StoreExists(ctx context.Context, id int64) (bool, error) { return f(ctx, id) }

// checkRefs refuses an item naming what does not exist, which no shopper
// could ever redeem or collect: a tier that is not configured (TierCodes),
// a pickup store that is not there (Stores). Without them (nil) nothing is
// checked.
func (s *Service) checkRefs(ctx context.Context, it *Item) error {
	if s.TierCodes != nil {
		for i, t := range it.Tiers {
			if !slices.Contains(s.TierCodes, t) {
				return domain.FieldError(fmt.Sprintf("tiers[%d]", i), fmt.Sprintf("unknown tier %q (want one of %s)", t, strings.Join(s.TierCodes, ", ")))
			}
		}
	}
	if s.Stores == nil {
		return nil
	}
	for i, id := range it.Stores {
		ok, err := s.Stores.StoreExists(ctx, id)
		if err != nil {
			return err
		}
		if !ok {
			return domain.FieldError(fmt.Sprintf("stores[%d]", i), fmt.Sprintf("no store %d", id))
		}
	}
	return nil
}
