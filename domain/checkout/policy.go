package checkout

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/audit"
)

// Actor is the console user editing the policy.
type Actor struct{ Name, Role string }

// Policy returns the current policy.
func (s *Service) Policy(ctx context.Context) (Policy, error) { return s.Store.Policy(ctx) }

// UpdatePolicy stores p as the next version. p.Version must be the
// version the marketer edited (else Conflict); the audit row
// (checkout_policy.update) commits with it. Quotes and holds on every
// instance use it from the next request.
func (s *Service) UpdatePolicy(ctx context.Context, a Actor, p Policy) (Policy, error) {
	if p.Version <= 0 {
		return Policy{}, domain.FieldError("version", "required: the version being edited")
	}
	if err := p.Validate(); err != nil {
		return Policy{}, err
	}
	now := s.Clock.Now().UTC().Truncate(time.Millisecond) // as stored
	err := s.Tx.InTx(ctx, func(ctx context.Context) error {
		cur, err := s.Store.Policy(ctx)
		if err != nil {
			return err
		}
		if cur.Version != p.Version {
			return domain.Errorf(domain.Conflict, "the policy is at version %d, not %d: reload and edit again", cur.Version, p.Version)
		}
		p.Version, p.UpdatedBy, p.UpdatedAt = cur.Version+1, a.Name, now
		if err := s.Store.InsertPolicy(ctx, &p); err != nil {
			if errors.Is(err, ErrStaleVersion) {
				return domain.Errorf(domain.Conflict, "the policy was edited meanwhile: reload and edit again")
			}
			return err
		}
		b, _ := json.Marshal(map[string]any{"version": p.Version, "enabled": p.Enabled, "points_per_unit": p.PointsPerUnit,
			"unit_fen": p.UnitFen, "max_share_permille": p.MaxSharePermille, "min_order_fen": p.MinOrderFen,
			"excluded_categories": p.ExcludedCategories})
		return s.Audit.Insert(ctx, &audit.Entry{Actor: a.Name, ActorRole: a.Role, Action: "checkout_policy.update",
			Target: "checkout_policy", Detail: string(b), CreatedAt: now})
	})
	if err != nil {
		return Policy{}, err
	}
	return p, nil
}
