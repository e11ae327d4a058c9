// Package riskstore keeps risk control's policy, flags and holds in SQL
// (risk.Store) and its hourly counters in Redis (risk.Counter).
package riskstore

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"gorm.io/gorm"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/batch"
	"github.com/jifen/jifen/domain/risk"
	"github.com/jifen/jifen/repo"
)

// Store implements risk.Store.
type Store struct {
	DB *repo.DB
	// Defaults are the configured rules (configs risk.rules) of the policy
	// in force while none is stored: risk.DefaultPolicyWith(Defaults).
	Defaults []risk.Rule
}

var _ risk.Store = (*Store)(nil)

type policyRow struct {
	Version   int `gorm:"primaryKey;autoIncrement:false"`
	Rules     string
	UpdatedBy string
	UpdatedAt time.Time
}

func (policyRow) TableName() string { return "risk_policies" }

type flagRow struct {
	ID        int64 `gorm:"primaryKey"`
	MemberID  int64
	Rule      string
	Action    string
	Dimension string
	Key       string    `gorm:"column:subject"`
	Window    time.Time `gorm:"column:window_start"`
	Count     int64     `gorm:"column:event_count"`
	Limit     int64     `gorm:"column:max_per_hour"`
	Held      bool
	Status    string
	DecidedBy string
	DecidedAt *time.Time
	Note      string
	Evidence  *string
	CreatedAt time.Time
}

func (flagRow) TableName() string { return "risk_flags" }

func (r flagRow) toDomain() risk.Flag {
	f := risk.Flag{ID: r.ID, MemberID: r.MemberID, Rule: r.Rule, Action: risk.Action(r.Action), Dimension: risk.Dimension(r.Dimension),
		Key: r.Key, Window: r.Window.UTC(), Count: r.Count, Limit: r.Limit, Held: r.Held, Status: r.Status,
		DecidedBy: r.DecidedBy, Note: r.Note, CreatedAt: r.CreatedAt.UTC()}
	if r.Evidence != nil {
		f.Evidence = *r.Evidence
	}
	if r.DecidedAt != nil {
		f.DecidedAt = r.DecidedAt.UTC()
	}
	return f
}

type holdRow struct {
	MemberID  int64 `gorm:"primaryKey;autoIncrement:false"`
	FlagID    int64
	Reason    string
	HeldBy    string
	CreatedAt time.Time
}

func (holdRow) TableName() string { return "risk_holds" }

func (s *Store) db(ctx context.Context) *gorm.DB { return s.DB.Conn(ctx) }

// Policy implements risk.Store: the highest version, or the default with
// the configured rules.
func (s *Store) Policy(ctx context.Context) (risk.Policy, error) {
	var rows []policyRow
	if err := s.db(ctx).Order("version DESC").Limit(1).Find(&rows).Error; err != nil {
		return risk.Policy{}, fmt.Errorf("risk policy: %w", err)
	}
	if len(rows) == 0 {
		return risk.DefaultPolicyWith(s.Defaults), nil
	}
	r := rows[0]
	p := risk.Policy{Version: r.Version, UpdatedBy: r.UpdatedBy, UpdatedAt: r.UpdatedAt.UTC()}
	if err := json.Unmarshal([]byte(r.Rules), &p.Rules); err != nil {
		return risk.Policy{}, fmt.Errorf("risk policy %d: rules: %w", r.Version, err)
	}
	return p, nil
}

// InsertPolicy implements risk.Store.
func (s *Store) InsertPolicy(ctx context.Context, p *risk.Policy) error {
	rules := p.Rules
	if rules == nil {
		rules = []risk.Rule{}
	}
	b, _ := json.Marshal(rules)
	r := policyRow{Version: p.Version, Rules: string(b), UpdatedBy: p.UpdatedBy, UpdatedAt: p.UpdatedAt.UTC()}
	if err := s.db(ctx).Create(&r).Error; err != nil {
		if repo.IsDuplicate(err) {
			return fmt.Errorf("%w: %v", risk.ErrStaleVersion, err)
		}
		return fmt.Errorf("insert risk policy: %w", err)
	}
	return nil
}

// InsertFlag implements risk.Store.
func (s *Store) InsertFlag(ctx context.Context, f *risk.Flag) error {
	r := flagRow{MemberID: f.MemberID, Rule: f.Rule, Action: string(f.Action), Dimension: string(f.Dimension), Key: f.Key,
		Window: f.Window.UTC(), Count: f.Count, Limit: f.Limit, Held: f.Held, Status: f.Status, CreatedAt: f.CreatedAt.UTC()}
	if f.Evidence != "" {
		r.Evidence = &f.Evidence
	}
	if err := s.db(ctx).Create(&r).Error; err != nil {
		if repo.IsDuplicate(err) {
			return risk.ErrDuplicate
		}
		return fmt.Errorf("insert risk flag: %w", err)
	}
	f.ID = r.ID
	return nil
}

// FlagForUpdate implements risk.Store.
func (s *Store) FlagForUpdate(ctx context.Context, id int64) (risk.Flag, error) {
	var r flagRow
	if err := s.DB.ForUpdate(s.db(ctx)).Where("id = ?", id).Take(&r).Error; err != nil {
		if repo.IsNotFound(err) {
			return risk.Flag{}, domain.Errorf(domain.NotFound, "no risk flag %d", id)
		}
		return risk.Flag{}, fmt.Errorf("risk flag %d: %w", id, err)
	}
	return r.toDomain(), nil
}

// DecideFlag implements risk.Store.
func (s *Store) DecideFlag(ctx context.Context, f risk.Flag) error {
	at := f.DecidedAt.UTC()
	err := s.db(ctx).Model(&flagRow{}).Where("id = ?", f.ID).
		Updates(map[string]any{"status": f.Status, "decided_by": f.DecidedBy, "decided_at": &at, "note": f.Note}).Error
	if err != nil {
		return fmt.Errorf("decide risk flag %d: %w", f.ID, err)
	}
	return nil
}

// Flags implements risk.Store.
func (s *Store) Flags(ctx context.Context, q risk.FlagQuery) ([]risk.Flag, error) {
	db := s.db(ctx).Order("id DESC").Limit(q.Limit)
	if q.Status != "" {
		db = db.Where("status = ?", q.Status)
	}
	if q.MemberID != 0 {
		db = db.Where("member_id = ?", q.MemberID)
	}
	if q.Before > 0 {
		db = db.Where("id < ?", q.Before)
	}
	var rows []flagRow
	if err := db.Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("risk flags: %w", err)
	}
	out := make([]risk.Flag, len(rows))
	for i, r := range rows {
		out[i] = r.toDomain()
	}
	return out, nil
}

// Hold implements risk.Store.
func (s *Store) Hold(ctx context.Context, memberID int64) (*risk.Hold, error) {
	var rows []holdRow
	if err := s.db(ctx).Where("member_id = ?", memberID).Limit(1).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("risk hold of member %d: %w", memberID, err)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	r := rows[0]
	return &risk.Hold{MemberID: r.MemberID, FlagID: r.FlagID, Reason: r.Reason, By: r.HeldBy, CreatedAt: r.CreatedAt.UTC()}, nil
}

// PutHold implements risk.Store.
func (s *Store) PutHold(ctx context.Context, h risk.Hold) error {
	r := holdRow{MemberID: h.MemberID, FlagID: h.FlagID, Reason: h.Reason, HeldBy: h.By, CreatedAt: h.CreatedAt.UTC()}
	if err := s.db(ctx).Create(&r).Error; err != nil {
		if repo.IsDuplicate(err) {
			return risk.ErrDuplicate
		}
		return fmt.Errorf("hold member %d: %w", h.MemberID, err)
	}
	return nil
}

// DeleteHold implements risk.Store.
func (s *Store) DeleteHold(ctx context.Context, memberID int64) (bool, error) {
	res := s.db(ctx).Where("member_id = ?", memberID).Delete(&holdRow{})
	if res.Error != nil {
		return false, fmt.Errorf("release member %d: %w", memberID, res.Error)
	}
	return res.RowsAffected > 0, nil
}

// Members implements risk.Members over the members table. Phones asked
// for at the same time (the velocity rules of concurrent sign-ins) are
// read in one query.
type Members struct {
	DB *repo.DB

	once   sync.Once
	phones batch.Loader[int64, memberPhone]
}

var _ risk.Members = (*Members)(nil)

type memberPhone struct {
	found bool
	phone string
}

// Phone implements risk.Members.
func (m *Members) Phone(ctx context.Context, memberID int64) (string, error) {
	var p memberPhone
	var err error
	if m.DB.InTransaction(ctx) {
		var ps map[int64]memberPhone
		ps, err = m.readPhones(ctx, []int64{memberID})
		p = ps[memberID]
	} else {
		m.once.Do(func() { m.phones.Load = m.readPhones })
		p, err = m.phones.Get(ctx, memberID)
	}
	if err != nil {
		return "", fmt.Errorf("member %d: %w", memberID, err)
	}
	if !p.found {
		return "", domain.Errorf(domain.NotFound, "no member %d", memberID)
	}
	return p.phone, nil
}

// PhoneReads reports how many queries read phones outside a transaction
// and how many phones they answered.
func (m *Members) PhoneReads() (queries, phones int64) { return m.phones.Stats() }

func (m *Members) readPhones(ctx context.Context, ids []int64) (map[int64]memberPhone, error) {
	var rows []struct {
		ID    int64
		Phone *string
	}
	if err := m.DB.Conn(ctx).Table("members").Select("id, phone").Where("id IN ?", ids).Find(&rows).Error; err != nil {
		return nil, err
	}
	out := make(map[int64]memberPhone, len(rows))
	for _, r := range rows {
		p := memberPhone{found: true}
		if r.Phone != nil {
			p.phone = *r.Phone
		}
		out[r.ID] = p
	}
	return out, nil
}

// Counter implements risk.Counter with one pipelined INCR + EXPIRE per key.
// The counts are a cache: lost, they start again, and the flags' unique
// key keeps a recount from raising a second flag.
type Counter struct{ R *repo.Redis }

var _ risk.Counter = (*Counter)(nil)

// Incr implements risk.Counter.
func (c *Counter) Incr(ctx context.Context, keys []string, ttl time.Duration) ([]int64, error) {
	cmds := make([]*redis.IntCmd, len(keys))
	_, err := c.R.C.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, k := range keys {
			full := c.R.Key(k)
			cmds[i] = p.Incr(ctx, full)
			p.Expire(ctx, full, ttl)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("risk counters: %w", err)
	}
	out := make([]int64, len(keys))
	for i, cmd := range cmds {
		out[i] = cmd.Val()
	}
	return out, nil
}

// AddMember implements risk.Counter with one pipelined SADD + EXPIRE +
// SCARD per key.
func (c *Counter) AddMember(ctx context.Context, keys []string, member int64, ttl time.Duration) ([]int64, error) {
	cmds := make([]*redis.IntCmd, len(keys))
	_, err := c.R.C.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, k := range keys {
			full := c.R.Key(k)
			p.SAdd(ctx, full, member)
			p.Expire(ctx, full, ttl)
			cmds[i] = p.SCard(ctx, full)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("risk member sets: %w", err)
	}
	out := make([]int64, len(keys))
	for i, cmd := range cmds {
		out[i] = cmd.Val()
	}
	return out, nil
}

// Grants implements risk.Grants over guide_grants.
type Grants struct{ DB *repo.DB }

var _ risk.Grants = (*Grants)(nil)

// FirstGrantAt implements risk.Grants through the (guide_id, month) index.
func (g *Grants) FirstGrantAt(ctx context.Context, guideID int64, month int) (time.Time, error) {
	var rows []struct{ CreatedAt time.Time }
	err := g.DB.Conn(ctx).Table("guide_grants").Select("created_at").Where("guide_id = ? AND month = ?", guideID, month).
		Order("created_at").Order("id").Limit(1).Find(&rows).Error
	if err != nil {
		return time.Time{}, fmt.Errorf("first grant of guide %d in %d: %w", guideID, month, err)
	}
	if len(rows) == 0 {
		return time.Time{}, domain.Errorf(domain.NotFound, "guide %d granted nothing in %d", guideID, month)
	}
	return rows[0].CreatedAt.UTC(), nil
}

// MemberMonth implements risk.Grants through the (member_id, day) index.
func (g *Grants) MemberMonth(ctx context.Context, guideID, memberID int64, month int) (int64, error) {
	var sum int64
	err := g.DB.Conn(ctx).Table("guide_grants").Select("COALESCE(SUM(points), 0)").
		Where("member_id = ? AND day BETWEEN ? AND ? AND guide_id = ?", memberID, month*100+1, month*100+31, guideID).Scan(&sum).Error
	if err != nil {
		return 0, fmt.Errorf("grants of guide %d to member %d in %d: %w", guideID, memberID, month, err)
	}
	return sum, nil
}

// HeldMembers implements risk.HeldLister.
func (s *Store) HeldMembers(ctx context.Context, limit int) ([]int64, error) {
	var ids []int64
	if err := s.db(ctx).Model(&holdRow{}).Limit(limit).Pluck("member_id", &ids).Error; err != nil {
		return nil, fmt.Errorf("held members: %w", err)
	}
	return ids, nil
}
