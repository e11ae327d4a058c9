package reminderstore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/jifen/jifen/domain/reminder"
	"github.com/jifen/jifen/repo"
)

// Outbox implements reminder.OutboxStore.
type Outbox struct{ DB *repo.DB }

var _ reminder.AutoOutbox = (*Outbox)(nil)

func (s *Outbox) db(ctx context.Context) *gorm.DB { return s.DB.Conn(ctx) }

type outboxRow struct {
	ID          int64 `gorm:"primaryKey"`
	Campaign    string
	MemberID    int64
	Channel     string
	Status      string
	NextAt      time.Time
	Payload     string
	QuietFrom   int
	QuietTo     int
	Attempts    int
	Owner       string
	LeaseUntil  time.Time
	AttemptedAt time.Time
	ErrCode     int64
	Reason      string
	SentAt      *time.Time
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

func (outboxRow) TableName() string { return "reminder_outbox" }

func (r outboxRow) toDomain() (reminder.Delivery, error) {
	d := reminder.Delivery{ID: r.ID, Campaign: r.Campaign, MemberID: r.MemberID, Channel: reminder.Channel(r.Channel),
		Status: reminder.Status(r.Status), Reason: r.Reason, ErrCode: r.ErrCode, NextAt: r.NextAt,
		Quiet: reminder.QuietHours{From: r.QuietFrom, To: r.QuietTo}, Attempts: r.Attempts}
	if err := json.Unmarshal([]byte(r.Payload), &d.Message); err != nil {
		return d, fmt.Errorf("outbox row %d payload: %w", r.ID, err)
	}
	return d, nil
}

// Enqueue implements reminder.OutboxStore.
func (s *Outbox) Enqueue(ctx context.Context, ds []reminder.Delivery) (int, error) {
	if len(ds) == 0 {
		return 0, nil
	}
	rows := make([]outboxRow, len(ds))
	for i, d := range ds {
		p, err := json.Marshal(d.Message)
		if err != nil {
			return 0, err
		}
		st := d.Status
		if st == "" {
			st = reminder.Pending
		}
		rows[i] = outboxRow{Campaign: d.Campaign, MemberID: d.MemberID, Channel: string(d.Channel), Status: string(st),
			NextAt: d.NextAt.UTC(), Payload: string(p), QuietFrom: d.Quiet.From, QuietTo: d.Quiet.To,
			LeaseUntil: never, AttemptedAt: never, Reason: d.Reason}
	}
	res := s.db(ctx).Clauses(ignoreDuplicates(s.DB)).CreateInBatches(rows, 500)
	return int(res.RowsAffected), res.Error
}

// ignoreDuplicates skips rows whose unique key exists. MySQL's
// ON DUPLICATE KEY UPDATE (gorm's DoNothing there) counts skipped rows as
// affected; INSERT IGNORE does not.
func ignoreDuplicates(db *repo.DB) clause.Expression {
	if db.Dialect() == repo.MySQL {
		return clause.Insert{Modifier: "IGNORE"}
	}
	return clause.OnConflict{DoNothing: true}
}

// EnqueuedMembers implements reminder.EnqueuedMembers: which of ids have a
// row of campaign on any channel.
func (s *Outbox) EnqueuedMembers(ctx context.Context, campaign string, ids []int64) (map[int64]bool, error) {
	out := map[int64]bool{}
	if len(ids) == 0 {
		return out, nil
	}
	var got []int64
	err := s.db(ctx).Model(&outboxRow{}).Distinct("member_id").Where("campaign = ? AND member_id IN ?", campaign, ids).
		Pluck("member_id", &got).Error
	for _, id := range got {
		out[id] = true
	}
	return out, err
}

// Recover implements reminder.OutboxStore.
func (s *Outbox) Recover(ctx context.Context, now time.Time) (int, int, error) {
	rel := s.db(ctx).Model(&outboxRow{}).Where("status = ? AND lease_until < ?", string(reminder.Claimed), now.UTC()).
		Updates(map[string]any{"status": string(reminder.Pending), "owner": "", "lease_until": never})
	if rel.Error != nil {
		return 0, 0, rel.Error
	}
	unc := s.db(ctx).Model(&outboxRow{}).Where("status = ? AND lease_until < ?", string(reminder.Sending), now.UTC()).
		Updates(map[string]any{"status": string(reminder.Uncertain), "reason": "the sender stopped during the send: it may have been delivered"})
	return int(rel.RowsAffected), int(unc.RowsAffected), unc.Error
}

// Claim implements reminder.OutboxStore. The conditional UPDATE is the
// claim: a row another instance claimed first no longer matches.
func (s *Outbox) Claim(ctx context.Context, token string, now, until time.Time, limit int) ([]reminder.Delivery, error) {
	var ids []int64
	err := s.db(ctx).Model(&outboxRow{}).Where("status = ? AND next_at <= ?", string(reminder.Pending), now.UTC()).
		Order("next_at").Order("id").Limit(limit).Pluck("id", &ids).Error
	if err != nil || len(ids) == 0 {
		return nil, err
	}
	err = s.db(ctx).Model(&outboxRow{}).Where("id IN ? AND status = ?", ids, string(reminder.Pending)).
		Updates(map[string]any{"status": string(reminder.Claimed), "owner": token, "lease_until": until.UTC()}).Error
	if err != nil {
		return nil, err
	}
	var rows []outboxRow
	if err := s.db(ctx).Where("owner = ? AND status = ?", token, string(reminder.Claimed)).Order("id").Find(&rows).Error; err != nil {
		return nil, err
	}
	out := make([]reminder.Delivery, 0, len(rows))
	for _, r := range rows {
		d, err := r.toDomain()
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

// Begin implements reminder.OutboxStore.
func (s *Outbox) Begin(ctx context.Context, id int64, token string, now, until time.Time) (bool, error) {
	res := s.db(ctx).Model(&outboxRow{}).Where("id = ? AND owner = ? AND status = ?", id, token, string(reminder.Claimed)).
		Updates(map[string]any{"status": string(reminder.Sending), "attempts": gorm.Expr("attempts + 1"),
			"attempted_at": now.UTC(), "lease_until": until.UTC()})
	return res.RowsAffected == 1, res.Error
}

// BeginMessage implements reminder.OutboxStore.
func (s *Outbox) BeginMessage(ctx context.Context, ids []int64, token string, now, until time.Time) ([]int64, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	err := s.db(ctx).Model(&outboxRow{}).Where("id IN ? AND owner = ? AND status = ?", ids, token, string(reminder.Claimed)).
		Updates(map[string]any{"status": string(reminder.Sending), "attempts": gorm.Expr("attempts + 1"), "lease_until": until.UTC()}).Error
	if err != nil {
		return nil, err
	}
	// Rows that were already sending under this token before the call
	// cannot be told apart here; the dispatcher only passes claimed rows.
	var begun []int64
	err = s.db(ctx).Model(&outboxRow{}).Where("id IN ? AND owner = ? AND status = ?", ids, token, string(reminder.Sending)).
		Order("id").Pluck("id", &begun).Error
	if err != nil || len(begun) == 0 {
		return begun, err
	}
	return begun, s.db(ctx).Model(&outboxRow{}).Where("id = ?", begun[0]).Update("attempted_at", now.UTC()).Error
}

// Finish implements reminder.OutboxStore.
func (s *Outbox) Finish(ctx context.Context, id int64, token string, st reminder.Status, errcode int64, reason string, next, now time.Time) error {
	return s.finish(ctx, []int64{id}, token, st, errcode, reason, next, now)
}

// AttemptsSince implements reminder.OutboxStore.
func (s *Outbox) AttemptsSince(ctx context.Context, ch reminder.Channel, since time.Time) (int, error) {
	var n int64
	err := s.db(ctx).Model(&outboxRow{}).Where("channel = ? AND attempted_at > ?", string(ch), since.UTC()).Count(&n).Error
	return int(n), err
}

type subscriptionRow struct {
	MemberID   int64  `gorm:"primaryKey;autoIncrement:false"`
	TemplateID string `gorm:"primaryKey"`
	Quota      int64
	UpdatedAt  time.Time
}

func (subscriptionRow) TableName() string { return "reminder_subscriptions" }

// SpendQuota implements reminder.OutboxStore.
func (s *Outbox) SpendQuota(ctx context.Context, memberID int64, templateID string) (bool, error) {
	res := s.db(ctx).Model(&subscriptionRow{}).Where("member_id = ? AND template_id = ? AND quota > 0", memberID, templateID).
		Update("quota", gorm.Expr("quota - 1"))
	return res.RowsAffected == 1, res.Error
}

// RefundQuota implements reminder.OutboxStore.
func (s *Outbox) RefundQuota(ctx context.Context, memberID int64, templateID string) error {
	return s.db(ctx).Model(&subscriptionRow{}).Where("member_id = ? AND template_id = ?", memberID, templateID).
		Update("quota", gorm.Expr("quota + 1")).Error
}

// ZeroQuota implements reminder.OutboxStore.
func (s *Outbox) ZeroQuota(ctx context.Context, memberID int64, templateID string) error {
	return s.db(ctx).Model(&subscriptionRow{}).Where("member_id = ? AND template_id = ?", memberID, templateID).
		Update("quota", 0).Error
}

// AddQuota adds n sends (an "accept" of wx.requestSubscribeMessage) to the
// member's subscriptions to each template, at now.
func (s *Outbox) AddQuota(ctx context.Context, memberID int64, templateIDs []string, now time.Time) error {
	for _, t := range templateIDs {
		row := subscriptionRow{MemberID: memberID, TemplateID: t, Quota: 1, UpdatedAt: now.UTC()}
		err := s.db(ctx).Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "member_id"}, {Name: "template_id"}},
			DoUpdates: clause.Assignments(map[string]any{"quota": gorm.Expr("reminder_subscriptions.quota + 1"), "updated_at": now.UTC()}),
		}).Create(&row).Error
		if err != nil {
			return fmt.Errorf("subscription %s: %w", t, err)
		}
	}
	return nil
}

// Quotas returns the member's subscription quotas by template id.
func (s *Outbox) Quotas(ctx context.Context, memberID int64) (map[string]int64, error) {
	var rows []subscriptionRow
	if err := s.db(ctx).Where("member_id = ?", memberID).Find(&rows).Error; err != nil {
		return nil, err
	}
	out := map[string]int64{}
	for _, r := range rows {
		out[r.TemplateID] = r.Quota
	}
	return out, nil
}

// Deliveries lists a campaign's rows by member (tests and reports).
func (s *Outbox) Deliveries(ctx context.Context, campaign string) ([]reminder.Delivery, error) {
	var rows []outboxRow
	if err := s.db(ctx).Where("campaign = ?", campaign).Order("member_id").Order("channel").Find(&rows).Error; err != nil {
		return nil, err
	}
	out := make([]reminder.Delivery, 0, len(rows))
	for _, r := range rows {
		d, err := r.toDomain()
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

// Backlog counts the outbox rows not yet finished (pending, claimed,
// sending), by channel and status, for the metrics. It reads the status
// index, not the delivered history.
func (s *Outbox) Backlog(ctx context.Context) (map[[2]string]int64, error) {
	var rows []struct {
		Channel, Status string
		N               int64
	}
	err := s.db(ctx).Table("reminder_outbox").Select("channel, status, COUNT(*) AS n").
		Where("status IN ?", []string{string(reminder.Pending), string(reminder.Claimed), string(reminder.Sending)}).
		Group("channel, status").Scan(&rows).Error
	out := make(map[[2]string]int64, len(rows))
	for _, r := range rows {
		out[[2]string{r.Channel, r.Status}] = r.N
	}
	return out, err
}
