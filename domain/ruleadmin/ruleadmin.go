// Package ruleadmin is the console's side of the rule engine: every rule
// created, edited or deleted writes an audit row (rule.create, rule.update,
// rule.delete) in the same unit of work as the change, so the trail always
// names who changed which version.
package ruleadmin

import (
	"context"
	"encoding/json"
	"strconv"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/audit"
	"github.com/jifen/jifen/domain/rules"
)

// Actor is the console user.
type Actor struct{ Name, Role string }

// Service edits rules with an audit trail.
type Service struct {
	Rules *rules.Service
	Audit audit.Store
	Tx    domain.UnitOfWork
	Clock domain.Clock
}

func (s *Service) audit(ctx context.Context, a Actor, action string, id int64, detail any) error {
	b, _ := json.Marshal(detail)
	return s.Audit.Insert(ctx, &audit.Entry{Actor: a.Name, ActorRole: a.Role, Action: action,
		Target: "rule:" + strconv.FormatInt(id, 10), Detail: string(b), CreatedAt: s.Clock.Now()})
}

// Create stores a new rule (version 1).
func (s *Service) Create(ctx context.Context, a Actor, r rules.Rule) (rules.Rule, error) {
	var out rules.Rule
	err := s.Tx.InTx(ctx, func(ctx context.Context) error {
		var err error
		if out, err = s.Rules.Create(ctx, r); err != nil {
			return err
		}
		return s.audit(ctx, a, "rule.create", out.ID, out)
	})
	return out, err
}

// Update stores a new version of a rule.
func (s *Service) Update(ctx context.Context, a Actor, r rules.Rule) (rules.Rule, error) {
	var out rules.Rule
	err := s.Tx.InTx(ctx, func(ctx context.Context) error {
		var err error
		if out, err = s.Rules.Update(ctx, r); err != nil {
			return err
		}
		return s.audit(ctx, a, "rule.update", out.ID, out)
	})
	return out, err
}

// Delete soft-deletes a rule.
func (s *Service) Delete(ctx context.Context, a Actor, id int64) error {
	return s.Tx.InTx(ctx, func(ctx context.Context) error {
		cur, err := s.Rules.Get(ctx, id)
		if err != nil {
			return err
		}
		if cur.Status == rules.Deleted {
			return domain.Errorf(domain.NotFound, "rule %d is deleted", id)
		}
		if err := s.Rules.Delete(ctx, id); err != nil {
			return err
		}
		return s.audit(ctx, a, "rule.delete", id, map[string]any{"id": id, "name": cur.Name, "deleted_version": cur.Version})
	})
}
