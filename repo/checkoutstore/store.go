// Package checkoutstore implements checkout.Store over gorm (MySQL and
// SQLite, tables in repo/schema/checkout.go).
package checkoutstore

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"gorm.io/gorm"

	"github.com/jifen/jifen/domain/checkout"
	"github.com/jifen/jifen/domain/ledger"
	"github.com/jifen/jifen/repo"
)

// Store implements checkout.Store.
type Store struct {
	DB *repo.DB
}

var _ checkout.Store = (*Store)(nil)

type policyRow struct {
	Version            int `gorm:"primaryKey;autoIncrement:false"`
	Enabled            bool
	PointsPerUnit      int64
	UnitFen            int64
	MaxSharePermille   int64
	MinOrderFen        int64
	ExcludedCategories string
	UpdatedBy          string
	UpdatedAt          time.Time
}

func (policyRow) TableName() string { return "checkout_policies" }

type row struct {
	ID             int64 `gorm:"primaryKey"`
	MemberID       int64
	OrderID        string
	LiveOrder      *string
	IdemKey        string
	RequestHash    string
	Status         string
	TotalFen       int64
	EligibleFen    int64
	Points         int64
	ValueFen       int64
	PointsPerUnit  int64
	UnitFen        int64
	PolicyVersion  int
	Deadline       time.Time
	ReturnedPoints int64
	ReturnedFen    int64
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

func (row) TableName() string { return "checkouts" }

func (r *row) toDomain() checkout.Checkout {
	return checkout.Checkout{ID: r.ID, MemberID: r.MemberID, OrderID: r.OrderID, Key: r.IdemKey, RequestHash: r.RequestHash,
		Status: checkout.Status(r.Status), TotalFen: r.TotalFen, EligibleFen: r.EligibleFen, Points: r.Points, ValueFen: r.ValueFen,
		PointsPerUnit: r.PointsPerUnit, UnitFen: r.UnitFen, PolicyVersion: r.PolicyVersion, Deadline: r.Deadline.UTC(),
		ReturnedPoints: r.ReturnedPoints, ReturnedFen: r.ReturnedFen, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
}

func (s *Store) db(ctx context.Context) *gorm.DB { return s.DB.Conn(ctx) }

// Policy implements checkout.Store.
func (s *Store) Policy(ctx context.Context) (checkout.Policy, error) {
	var r policyRow
	if err := s.db(ctx).Order("version DESC").Take(&r).Error; err != nil {
		return checkout.Policy{}, fmt.Errorf("checkout policy: %w", err)
	}
	p := checkout.Policy{Version: r.Version, Enabled: r.Enabled, PointsPerUnit: r.PointsPerUnit, UnitFen: r.UnitFen,
		MaxSharePermille: r.MaxSharePermille, MinOrderFen: r.MinOrderFen, UpdatedBy: r.UpdatedBy, UpdatedAt: r.UpdatedAt.UTC()}
	if err := json.Unmarshal([]byte(r.ExcludedCategories), &p.ExcludedCategories); err != nil {
		return checkout.Policy{}, fmt.Errorf("checkout policy %d: excluded categories: %w", r.Version, err)
	}
	if p.ExcludedCategories == nil {
		p.ExcludedCategories = []string{}
	}
	return p, nil
}

// InsertPolicy implements checkout.Store.
func (s *Store) InsertPolicy(ctx context.Context, p *checkout.Policy) error {
	cats, _ := json.Marshal(p.ExcludedCategories)
	r := policyRow{Version: p.Version, Enabled: p.Enabled, PointsPerUnit: p.PointsPerUnit, UnitFen: p.UnitFen,
		MaxSharePermille: p.MaxSharePermille, MinOrderFen: p.MinOrderFen, ExcludedCategories: string(cats),
		UpdatedBy: p.UpdatedBy, UpdatedAt: p.UpdatedAt.UTC()}
	if err := s.db(ctx).Create(&r).Error; err != nil {
		if repo.IsDuplicate(err) {
			return fmt.Errorf("%w: %v", checkout.ErrStaleVersion, err)
		}
		return fmt.Errorf("insert checkout policy: %w", err)
	}
	return nil
}

// Insert implements checkout.Store.
func (s *Store) Insert(ctx context.Context, c *checkout.Checkout) error {
	live := c.OrderID
	r := row{MemberID: c.MemberID, OrderID: c.OrderID, LiveOrder: &live, IdemKey: c.Key, RequestHash: c.RequestHash,
		Status: string(c.Status), TotalFen: c.TotalFen, EligibleFen: c.EligibleFen, Points: c.Points, ValueFen: c.ValueFen,
		PointsPerUnit: c.PointsPerUnit, UnitFen: c.UnitFen, PolicyVersion: c.PolicyVersion, Deadline: c.Deadline.UTC(),
		CreatedAt: c.CreatedAt.UTC(), UpdatedAt: c.UpdatedAt.UTC()}
	err := s.db(ctx).Create(&r).Error
	if err == nil {
		c.ID = r.ID
		return nil
	}
	if !repo.IsDuplicate(err) {
		return fmt.Errorf("insert checkout: %w", err)
	}
	// Which unique key: the translated error no longer names it.
	if _, taken, kerr := s.ByKey(ctx, c.Key); kerr != nil {
		return kerr
	} else if taken {
		return fmt.Errorf("%w: %v", checkout.ErrDuplicateKey, err)
	}
	return fmt.Errorf("%w: %v", checkout.ErrOrderHeld, err)
}

func (s *Store) one(q *gorm.DB) (checkout.Checkout, bool, error) {
	var r row
	err := q.Take(&r).Error
	if repo.IsNotFound(err) {
		return checkout.Checkout{}, false, nil
	}
	if err != nil {
		return checkout.Checkout{}, false, fmt.Errorf("load checkout: %w", err)
	}
	return r.toDomain(), true, nil
}

// ByKey implements checkout.Store.
func (s *Store) ByKey(ctx context.Context, key string) (checkout.Checkout, bool, error) {
	return s.one(s.db(ctx).Where("idem_key = ?", key))
}

// Lock implements checkout.Store.
func (s *Store) Lock(ctx context.Context, id int64) (checkout.Checkout, bool, error) {
	return s.one(s.DB.ForUpdate(s.db(ctx)).Where("id = ?", id))
}

// Get implements checkout.Store.
func (s *Store) Get(ctx context.Context, id int64) (checkout.Checkout, bool, error) {
	return s.one(s.db(ctx).Where("id = ?", id))
}

// LockLive implements checkout.Store.
func (s *Store) LockLive(ctx context.Context, orderID string) (checkout.Checkout, bool, error) {
	return s.one(s.DB.ForUpdate(s.db(ctx)).Where("live_order = ?", orderID))
}

// Live implements checkout.Store.
func (s *Store) Live(ctx context.Context, orderID string) (checkout.Checkout, bool, error) {
	return s.one(s.db(ctx).Where("live_order = ?", orderID))
}

// Update implements checkout.Store.
func (s *Store) Update(ctx context.Context, c *checkout.Checkout) error {
	var live *string
	if c.Status != checkout.Released {
		o := c.OrderID
		live = &o
	}
	err := s.db(ctx).Model(&row{}).Where("id = ?", c.ID).Updates(map[string]any{"status": string(c.Status), "live_order": live,
		"returned_points": c.ReturnedPoints, "returned_fen": c.ReturnedFen, "updated_at": c.UpdatedAt.UTC()}).Error
	if err != nil {
		return fmt.Errorf("update checkout %d: %w", c.ID, err)
	}
	return nil
}

var _ checkout.Auditor = (*Store)(nil)

// Audit implements checkout.Auditor: each checkout beside its ledger hold
// (reference checkout:<id>) and the reversals of its capture.
func (s *Store) Audit(ctx context.Context, after int64, limit int) ([]checkout.Audit, error) {
	var rs []row
	if err := s.db(ctx).Where("id > ?", after).Order("id").Limit(limit).Find(&rs).Error; err != nil {
		return nil, fmt.Errorf("audit checkouts: %w", err)
	}
	out := make([]checkout.Audit, 0, len(rs))
	for _, r := range rs {
		a := checkout.Audit{ID: r.ID, MemberID: r.MemberID, Status: checkout.Status(r.Status), Points: r.Points,
			ReturnedPoints: r.ReturnedPoints, Deadline: r.Deadline.UTC()}
		ref := strconv.FormatInt(r.ID, 10)
		var h struct {
			Status string
			Amount int64
		}
		err := s.db(ctx).Table("ledger_holds").Select("status, amount").
			Where("member_id = ? AND ref_type = ? AND ref_id = ?", r.MemberID, checkout.RefType, ref).Order("id DESC").Take(&h).Error
		switch {
		case repo.IsNotFound(err):
		case err != nil:
			return nil, fmt.Errorf("audit checkout %d: %w", r.ID, err)
		default:
			a.HoldFound, a.HoldStatus, a.HoldAmount = true, ledger.HoldStatus(h.Status), h.Amount
		}
		captures := s.db(ctx).Table("ledger_entries").Select("id").
			Where("member_id = ? AND ref_type = ? AND ref_id = ? AND kind = ?", r.MemberID, checkout.RefType, ref, string(ledger.KindCapture))
		if err := s.db(ctx).Table("ledger_entries").Select("COALESCE(SUM(amount), 0)").
			Where("member_id = ? AND kind = ? AND related_id IN (?)", r.MemberID, string(ledger.KindReverse), captures).
			Scan(&a.Reversed).Error; err != nil {
			return nil, fmt.Errorf("audit checkout %d: %w", r.ID, err)
		}
		out = append(out, a)
	}
	return out, nil
}
