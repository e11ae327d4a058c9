package mall

import (
	"context"
	"fmt"

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

// checkStores refuses a pickup item naming a store that does not exist:
// its shoppers would spend their points on a code no guide can verify.
// Without Stores (nil) nothing is checked.
func (s *Service) checkStores(ctx context.Context, it *Item) error {
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
