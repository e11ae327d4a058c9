// Package lotterystore implements lottery.Store over gorm (MySQL and SQLite,
// tables in repo/schema/growth.go) and lottery.Gate over Redis (gate.go).
//
// # A draw group on MySQL
//
// A draw group (domain/lottery group.go) runs in a pipelined transaction
// (repo.DB.InPipelinedTx): a statement whose answer nobody waits for is
// queued (repo.DB.Later, LaterRead) and sent with the transaction's next
// statement, the reads running on the server in the order they were
// queued. The group asks the store for what it decides on in two loads,
// and each load is one request:
//
//  1. LoadDrawBatch: the member rows' upsert (first draws only) and
//     locking read (FOR UPDATE, ascending), the draws under the keys and
//     — when no campaign of the group has a stocked prize, so that no
//     prize row will be locked — the ledger accounts (Store.Accounts,
//     ledger.AccountTaker) are queued, and the prizes' read sends them;
//  2. LoadPrizeClaims: the stocked prizes' lock (FOR UPDATE, ascending),
//     the accounts if step 1 did not take them, and the wins' count, whose
//     read sends them (nothing at all when there is nothing to read);
//
// then every write (the ledger's entries through ApplyWithoutIDs, the
// draw rows, counters and won, WriteGroup) waits and travels with the
// COMMIT, and the draw and entry ids are read back by the same request
// (SELECT @v := LAST_INSERT_ID(): consecutive ids). A draw group is then
// two or three requests to the server.
//
// # Lock order
//
// Every path that draws locks in the one-by-one path's order: the member's
// campaign row, the prize rows (ascending), the ledger accounts
// (ascending). A group keeps it: its accounts go in the first request only
// when it locks no prize row, and a member row missing at the first
// request (a first draw the Gate did not announce) is not created there —
// it would be locked after the accounts — but fails the attempt with
// lottery.ErrFirstDraw, and the group runs again creating the rows first.
// At READ COMMITTED a locking read sees the latest committed row, so the
// counters and won read under these locks are the ones the writes replace.
//
// On SQLite, in a transaction already, or with pipelining disabled, every
// statement runs at once, in the same order (taking the accounts is then
// nothing: the ledger locks them when it applies).
package lotterystore

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/ledger"
	"github.com/jifen/jifen/domain/lottery"
	"github.com/jifen/jifen/repo"
)

// Store implements lottery.Store (and lottery.GroupStore, group.go).
type Store struct {
	DB *repo.DB
	// Accounts takes a draw group's ledger accounts with its loads: the
	// ledger store of the ledger.Service the lottery's Points are.
	Accounts ledger.AccountTaker
}

// New returns the store of db whose draw groups take their ledger
// accounts through accounts.
func New(db *repo.DB, accounts ledger.AccountTaker) *Store {
	return &Store{DB: db, Accounts: accounts}
}

var _ lottery.Store = (*Store)(nil)

type campaignRow struct {
	ID                int64 `gorm:"primaryKey"`
	Name              string
	StartsAt          time.Time
	EndsAt            time.Time
	CostPoints        int64
	FreePerDay        int
	LimitTotal        int
	LimitDaily        int
	PityAfter         int
	ConsolationName   string
	ConsolationPoints int64
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

func (campaignRow) TableName() string { return "lottery_campaigns" }

type prizeRow struct {
	ID             int64 `gorm:"primaryKey"`
	CampaignID     int64
	Name           string
	Kind           string
	Points         int64
	CouponCode     string
	Weight         int64
	Stock          int64
	Won            int64
	PerMemberLimit int
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

func (prizeRow) TableName() string { return "lottery_prizes" }

type drawRow struct {
	ID         int64 `gorm:"primaryKey"`
	CampaignID int64
	MemberID   int64
	IdemKey    string
	Ref        string
	Day        int
	PrizeID    int64
	PrizeKind  string
	PrizeName  string
	Points     int64
	CouponCode string
	CostPoints int64
	Free       bool
	Pity       bool
	CreatedAt  time.Time
}

func (drawRow) TableName() string { return "lottery_draws" }

type memberRow struct {
	CampaignID int64 `gorm:"primaryKey;autoIncrement:false"`
	MemberID   int64 `gorm:"primaryKey;autoIncrement:false"`
	Draws      int
	Day        int
	DayDraws   int
	FreeUsed   int
	MissStreak int
	UpdatedAt  time.Time
}

func (memberRow) TableName() string { return "lottery_members" }

func fromCampaign(c *lottery.Campaign) campaignRow {
	return campaignRow{ID: c.ID, Name: c.Name, StartsAt: c.StartsAt.UTC(), EndsAt: c.EndsAt.UTC(), CostPoints: c.CostPoints,
		FreePerDay: c.FreePerDay, LimitTotal: c.LimitTotal, LimitDaily: c.LimitDaily, PityAfter: c.PityAfter,
		ConsolationName: c.ConsolationName, ConsolationPoints: c.ConsolationPoints, CreatedAt: c.CreatedAt.UTC(), UpdatedAt: c.UpdatedAt.UTC()}
}

func (r *campaignRow) toDomain() lottery.Campaign {
	return lottery.Campaign{ID: r.ID, Name: r.Name, StartsAt: r.StartsAt, EndsAt: r.EndsAt, CostPoints: r.CostPoints,
		FreePerDay: r.FreePerDay, LimitTotal: r.LimitTotal, LimitDaily: r.LimitDaily, PityAfter: r.PityAfter,
		ConsolationName: r.ConsolationName, ConsolationPoints: r.ConsolationPoints, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

func fromPrize(p *lottery.Prize, now time.Time) prizeRow {
	return prizeRow{ID: p.ID, CampaignID: p.CampaignID, Name: p.Name, Kind: string(p.Kind), Points: p.Points, CouponCode: p.CouponCode,
		Weight: p.Weight, Stock: p.Stock, Won: p.Won, PerMemberLimit: p.PerMemberLimit, CreatedAt: now, UpdatedAt: now}
}

func (r *prizeRow) toDomain() lottery.Prize {
	return lottery.Prize{ID: r.ID, CampaignID: r.CampaignID, Name: r.Name, Kind: lottery.Kind(r.Kind), Points: r.Points,
		CouponCode: r.CouponCode, Weight: r.Weight, Stock: r.Stock, Won: r.Won, PerMemberLimit: r.PerMemberLimit}
}

func (r *drawRow) toDomain() lottery.Draw {
	return lottery.Draw{ID: r.ID, CampaignID: r.CampaignID, MemberID: r.MemberID, Key: r.IdemKey, Ref: r.Ref, Day: r.Day,
		PrizeID: r.PrizeID, PrizeKind: lottery.Kind(r.PrizeKind), PrizeName: r.PrizeName, Points: r.Points, CouponCode: r.CouponCode,
		CostPoints: r.CostPoints, Free: r.Free, Pity: r.Pity, CreatedAt: r.CreatedAt}
}

func (s *Store) db(ctx context.Context) *gorm.DB { return s.DB.Conn(ctx) }

// CreateCampaign inserts the campaign and its prizes in one transaction.
func (s *Store) CreateCampaign(ctx context.Context, c *lottery.Campaign) error {
	return s.DB.InTx(ctx, func(ctx context.Context) error {
		r := fromCampaign(c)
		r.ID = 0
		if err := s.db(ctx).Create(&r).Error; err != nil {
			return fmt.Errorf("create campaign: %w", err)
		}
		c.ID = r.ID
		for i := range c.Prizes {
			c.Prizes[i].CampaignID = c.ID
			if err := s.CreatePrize(ctx, &c.Prizes[i]); err != nil {
				return err
			}
		}
		return nil
	})
}

// UpdateCampaign saves the campaign's fields.
func (s *Store) UpdateCampaign(ctx context.Context, c *lottery.Campaign) error {
	r := fromCampaign(c)
	return s.db(ctx).Model(&campaignRow{}).Where("id = ?", c.ID).Select("*").Omit("id", "created_at").Updates(&r).Error
}

// Campaign loads a campaign and its prizes.
func (s *Store) Campaign(ctx context.Context, id int64) (*lottery.Campaign, error) {
	var r campaignRow
	err := s.db(ctx).Where("id = ?", id).Take(&r).Error
	if repo.IsNotFound(err) {
		return nil, domain.Errorf(domain.NotFound, "no lottery campaign %d", id)
	}
	if err != nil {
		return nil, fmt.Errorf("load campaign: %w", err)
	}
	c := r.toDomain()
	var prizes []prizeRow
	if err := s.db(ctx).Where("campaign_id = ?", id).Order("id").Find(&prizes).Error; err != nil {
		return nil, fmt.Errorf("load prizes: %w", err)
	}
	for i := range prizes {
		c.Prizes = append(c.Prizes, prizes[i].toDomain())
	}
	return &c, nil
}

// Campaigns lists campaigns newest first (without prizes).
func (s *Store) Campaigns(ctx context.Context, limit int, cursor int64) ([]lottery.Campaign, int64, error) {
	rows, next, err := repo.KeysetPage(s.db(ctx), limit, cursor, func(r *campaignRow) int64 { return r.ID })
	if err != nil {
		return nil, 0, err
	}
	out := make([]lottery.Campaign, 0, len(rows))
	for i := range rows {
		out = append(out, rows[i].toDomain())
	}
	return out, next, nil
}

// CreatePrize inserts a prize.
func (s *Store) CreatePrize(ctx context.Context, p *lottery.Prize) error {
	r := fromPrize(p, s.DB.Now())
	r.ID, r.Won = 0, 0
	if err := s.db(ctx).Create(&r).Error; err != nil {
		return fmt.Errorf("create prize: %w", err)
	}
	p.ID, p.Won = r.ID, 0
	return nil
}

// UpdatePrize saves a prize, recounting Won from the draws for a stocked one.
func (s *Store) UpdatePrize(ctx context.Context, p *lottery.Prize) error {
	var won int64
	if err := s.db(ctx).Model(&drawRow{}).Where("campaign_id = ? AND prize_id = ?", p.CampaignID, p.ID).Count(&won).Error; err != nil {
		return err
	}
	if p.Stock != lottery.Unlimited && p.Stock < won {
		return domain.Errorf(domain.RuleViolation, "stock %d is below the %d already won", p.Stock, won)
	}
	p.Won = won
	return s.db(ctx).Model(&prizeRow{}).Where("id = ? AND campaign_id = ?", p.ID, p.CampaignID).Updates(map[string]any{
		"name": p.Name, "kind": string(p.Kind), "points": p.Points, "coupon_code": p.CouponCode, "weight": p.Weight,
		"stock": p.Stock, "won": won, "per_member_limit": p.PerMemberLimit, "updated_at": s.DB.Now()}).Error
}

// LockMember creates the member's row if missing and locks it.
func (s *Store) LockMember(ctx context.Context, campaignID, memberID int64) (lottery.MemberState, error) {
	if err := s.db(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&memberRow{CampaignID: campaignID, MemberID: memberID, UpdatedAt: s.DB.Now()}).Error; err != nil {
		return lottery.MemberState{}, fmt.Errorf("create lottery member: %w", err)
	}
	var r memberRow
	if err := s.DB.ForUpdate(s.db(ctx)).Where("campaign_id = ? AND member_id = ?", campaignID, memberID).Take(&r).Error; err != nil {
		return lottery.MemberState{}, fmt.Errorf("lock lottery member: %w", err)
	}
	return lottery.MemberState{Draws: r.Draws, Day: r.Day, DayDraws: r.DayDraws, FreeUsed: r.FreeUsed, MissStreak: r.MissStreak}, nil
}

// SaveMember stores the member's counters.
func (s *Store) SaveMember(ctx context.Context, campaignID, memberID int64, st lottery.MemberState) error {
	return s.db(ctx).Model(&memberRow{}).Where("campaign_id = ? AND member_id = ?", campaignID, memberID).Updates(map[string]any{
		"draws": st.Draws, "day": st.Day, "day_draws": st.DayDraws, "free_used": st.FreeUsed, "miss_streak": st.MissStreak,
		"updated_at": s.DB.Now()}).Error
}

// MemberState reads the member's counters (zero when none).
func (s *Store) MemberState(ctx context.Context, campaignID, memberID int64) (lottery.MemberState, error) {
	var rows []memberRow
	if err := s.db(ctx).Where("campaign_id = ? AND member_id = ?", campaignID, memberID).Limit(1).Find(&rows).Error; err != nil {
		return lottery.MemberState{}, err
	}
	if len(rows) == 0 {
		return lottery.MemberState{}, nil
	}
	r := rows[0]
	return lottery.MemberState{Draws: r.Draws, Day: r.Day, DayDraws: r.DayDraws, FreeUsed: r.FreeUsed, MissStreak: r.MissStreak}, nil
}

// TakeStock is the SQL stock guard: one conditional UPDATE.
func (s *Store) TakeStock(ctx context.Context, prizeID int64) (bool, error) {
	res := s.db(ctx).Exec("UPDATE lottery_prizes SET won = won + 1 WHERE id = ? AND won < stock", prizeID)
	if res.Error != nil {
		return false, fmt.Errorf("take stock: %w", res.Error)
	}
	return res.RowsAffected == 1, nil
}

// MemberWins counts the member's draws of a prize.
func (s *Store) MemberWins(ctx context.Context, campaignID, memberID, prizeID int64) (int, error) {
	var n int64
	err := s.db(ctx).Model(&drawRow{}).Where("member_id = ? AND campaign_id = ? AND prize_id = ?", memberID, campaignID, prizeID).Count(&n).Error
	return int(n), err
}

// DrawByKey finds a draw by the member's idempotency key.
func (s *Store) DrawByKey(ctx context.Context, memberID int64, key string) (lottery.Draw, bool, error) {
	var rows []drawRow
	if err := s.db(ctx).Where("member_id = ? AND idem_key = ?", memberID, key).Limit(1).Find(&rows).Error; err != nil {
		return lottery.Draw{}, false, err
	}
	if len(rows) == 0 {
		return lottery.Draw{}, false, nil
	}
	return rows[0].toDomain(), true, nil
}

// InsertDraw stores a draw.
func (s *Store) InsertDraw(ctx context.Context, d *lottery.Draw) error {
	r := drawRow{CampaignID: d.CampaignID, MemberID: d.MemberID, IdemKey: d.Key, Ref: d.Ref, Day: d.Day, PrizeID: d.PrizeID,
		PrizeKind: string(d.PrizeKind), PrizeName: d.PrizeName, Points: d.Points, CouponCode: d.CouponCode, CostPoints: d.CostPoints,
		Free: d.Free, Pity: d.Pity, CreatedAt: d.CreatedAt.UTC().Truncate(time.Millisecond)}
	err := s.db(ctx).Create(&r).Error
	if repo.IsDuplicate(err) {
		return fmt.Errorf("%w: %v", lottery.ErrDuplicateDraw, err)
	}
	if err != nil {
		return fmt.Errorf("insert draw: %w", err)
	}
	d.ID, d.CreatedAt = r.ID, r.CreatedAt
	return nil
}

// Draws lists the member's draws in a campaign newest first.
func (s *Store) Draws(ctx context.Context, campaignID, memberID int64, limit int, cursor int64) ([]lottery.Draw, int64, error) {
	q := s.db(ctx).Where("member_id = ? AND campaign_id = ?", memberID, campaignID)
	rows, next, err := repo.KeysetPage(q, limit, cursor, func(r *drawRow) int64 { return r.ID })
	if err != nil {
		return nil, 0, err
	}
	out := make([]lottery.Draw, 0, len(rows))
	for i := range rows {
		out = append(out, rows[i].toDomain())
	}
	return out, next, nil
}

// Stats implements lottery.Store: one pass over the campaign's draws on
// idx_lottery_draws_prize (campaign_id, prize_id), and the members' rows by
// their primary key's prefix.
func (s *Store) Stats(ctx context.Context, campaignID int64) (lottery.Stats, error) {
	var rows []struct {
		PrizeID int64
		Draws   int64
		Pity    int64
		Free    int64
		Cost    int64
	}
	err := s.db(ctx).Table("lottery_draws").
		Select("prize_id, COUNT(*) AS draws, COALESCE(SUM(CASE WHEN pity THEN 1 ELSE 0 END), 0) AS pity, "+
			"COALESCE(SUM(CASE WHEN cost_points = 0 THEN 1 ELSE 0 END), 0) AS free, COALESCE(SUM(cost_points), 0) AS cost").
		Where("campaign_id = ?", campaignID).Group("prize_id").Order("prize_id").Scan(&rows).Error
	if err != nil {
		return lottery.Stats{}, fmt.Errorf("lottery stats: %w", err)
	}
	var st lottery.Stats
	for _, r := range rows {
		st.Draws += r.Draws
		st.Free += r.Free
		st.PointsSpent += r.Cost
		st.ByPrize = append(st.ByPrize, lottery.PrizeStats{PrizeID: r.PrizeID, Draws: r.Draws, Pity: r.Pity})
	}
	err = s.db(ctx).Table("lottery_members").Where("campaign_id = ? AND draws > 0", campaignID).Count(&st.Members).Error
	if err != nil {
		return lottery.Stats{}, fmt.Errorf("lottery stats: %w", err)
	}
	return st, nil
}
