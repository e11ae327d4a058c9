package reminderstore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/reminder"
	"github.com/jifen/jifen/repo"
)

// Campaigns implements reminder.CampaignStore and reminder.AudienceStore.
type Campaigns struct{ DB *repo.DB }

var (
	_ reminder.CampaignStore = (*Campaigns)(nil)
	_ reminder.AudienceStore = (*Campaigns)(nil)
)

func (s *Campaigns) db(ctx context.Context) *gorm.DB { return s.DB.Conn(ctx) }

type campaignRow struct {
	ID         int64 `gorm:"primaryKey"`
	Name       string
	Status     string
	Spec       string
	NextRunAt  *time.Time
	Runs       int
	OpenRun    int
	LeaseUntil time.Time
	CreatedBy  string
	Version    int64
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

func (campaignRow) TableName() string { return "reminder_campaigns" }

func (r campaignRow) toDomain() (reminder.Campaign, error) {
	c := reminder.Campaign{ID: r.ID, Name: r.Name, Status: reminder.CampaignStatus(r.Status), NextRunAt: r.NextRunAt,
		Runs: r.Runs, OpenRun: r.OpenRun, LeaseUntil: r.LeaseUntil, CreatedBy: r.CreatedBy, Version: r.Version,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
	if c.NextRunAt != nil {
		t := c.NextRunAt.UTC()
		c.NextRunAt = &t
	}
	if err := json.Unmarshal([]byte(r.Spec), &c.Spec); err != nil {
		return c, fmt.Errorf("campaign %d spec: %w", r.ID, err)
	}
	return c, nil
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// CreateCampaign implements reminder.CampaignStore.
func (s *Campaigns) CreateCampaign(ctx context.Context, c *reminder.Campaign) error {
	spec, err := json.Marshal(c.Spec)
	if err != nil {
		return err
	}
	r := campaignRow{Name: c.Name, Status: string(c.Status), Spec: string(spec), NextRunAt: utcPtr(c.NextRunAt),
		LeaseUntil: never, CreatedBy: c.CreatedBy, Version: c.Version, CreatedAt: c.CreatedAt.UTC(), UpdatedAt: c.UpdatedAt.UTC()}
	if err := s.db(ctx).Create(&r).Error; err != nil {
		return err
	}
	c.ID = r.ID
	return nil
}

// Campaign implements reminder.CampaignStore.
func (s *Campaigns) Campaign(ctx context.Context, id int64) (*reminder.Campaign, error) {
	var r campaignRow
	err := s.db(ctx).Where("id = ?", id).Take(&r).Error
	if repo.IsNotFound(err) {
		return nil, domain.Errorf(domain.NotFound, "no campaign %d", id)
	}
	if err != nil {
		return nil, fmt.Errorf("campaign %d: %w", id, err)
	}
	c, err := r.toDomain()
	return &c, err
}

// Campaigns implements reminder.CampaignStore.
func (s *Campaigns) Campaigns(ctx context.Context, limit int, cursor int64) ([]reminder.Campaign, int64, error) {
	q := s.db(ctx).Order("id DESC").Limit(limit + 1)
	if cursor > 0 {
		q = q.Where("id < ?", cursor)
	}
	var rows []campaignRow
	if err := q.Find(&rows).Error; err != nil {
		return nil, 0, err
	}
	var next int64
	if len(rows) > limit {
		rows = rows[:limit]
		next = rows[limit-1].ID
	}
	out := make([]reminder.Campaign, 0, len(rows))
	for _, r := range rows {
		c, err := r.toDomain()
		if err != nil {
			return nil, 0, err
		}
		out = append(out, c)
	}
	return out, next, nil
}

// SaveCampaign implements reminder.CampaignStore.
func (s *Campaigns) SaveCampaign(ctx context.Context, c *reminder.Campaign, now time.Time) (bool, error) {
	spec, err := json.Marshal(c.Spec)
	if err != nil {
		return false, err
	}
	res := s.db(ctx).Model(&campaignRow{}).Where("id = ? AND version = ?", c.ID, c.Version).
		Updates(map[string]any{"name": c.Name, "status": string(c.Status), "spec": string(spec),
			"next_run_at": utcPtr(c.NextRunAt), "version": c.Version + 1, "updated_at": now.UTC()})
	if res.Error != nil || res.RowsAffected != 1 {
		return false, res.Error
	}
	c.Version++
	c.UpdatedAt = now
	return true, nil
}

// DueCampaigns implements reminder.CampaignStore.
func (s *Campaigns) DueCampaigns(ctx context.Context, now time.Time, limit int) ([]reminder.Campaign, error) {
	var rows []campaignRow
	err := s.db(ctx).Where("(status = ? AND next_run_at <= ?) OR (status = ? AND lease_until < ?)",
		string(reminder.CampaignScheduled), now.UTC(), string(reminder.CampaignRunning), now.UTC()).
		Order("id").Limit(limit).Find(&rows).Error
	if err != nil {
		return nil, err
	}
	out := make([]reminder.Campaign, 0, len(rows))
	for _, r := range rows {
		c, err := r.toDomain()
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// ClaimCampaign implements reminder.CampaignStore. The version in the WHERE
// clause is the claim: of two instances that loaded the same due row, one
// update matches.
func (s *Campaigns) ClaimCampaign(ctx context.Context, c *reminder.Campaign, run int, now, until time.Time) (bool, error) {
	runs := c.Runs
	if run > runs {
		runs = run
	}
	res := s.db(ctx).Model(&campaignRow{}).
		Where("id = ? AND version = ? AND ((status = ? AND next_run_at <= ?) OR (status = ? AND lease_until < ?))",
			c.ID, c.Version, string(reminder.CampaignScheduled), now.UTC(), string(reminder.CampaignRunning), now.UTC()).
		Updates(map[string]any{"status": string(reminder.CampaignRunning), "runs": runs, "open_run": run,
			"lease_until": until.UTC(), "version": c.Version + 1, "updated_at": now.UTC()})
	if res.Error != nil || res.RowsAffected != 1 {
		return false, res.Error
	}
	c.Status, c.Runs, c.OpenRun, c.LeaseUntil, c.Version = reminder.CampaignRunning, runs, run, until, c.Version+1
	return true, nil
}

// Heartbeat implements reminder.CampaignStore.
func (s *Campaigns) Heartbeat(ctx context.Context, id int64, run int, until time.Time) (bool, error) {
	owned := func() *gorm.DB {
		return s.db(ctx).Model(&campaignRow{}).Where("id = ? AND status = ? AND open_run = ?", id, string(reminder.CampaignRunning), run)
	}
	res := owned().Update("lease_until", until.UTC())
	if res.Error != nil || res.RowsAffected == 1 {
		return res.RowsAffected == 1, res.Error
	}
	// MySQL counts the rows an UPDATE changed, not those it matched: a
	// lease renewed to the time it has, with updated_at at the same
	// instant (a clock that has not moved since the claim), changed none
	// and is still the run's.
	var n int64
	err := owned().Count(&n).Error
	return n == 1, err
}

// FinishRun implements reminder.CampaignStore.
func (s *Campaigns) FinishRun(ctx context.Context, id int64, run int, st reminder.CampaignStatus, next *time.Time, now time.Time) (bool, error) {
	res := s.db(ctx).Model(&campaignRow{}).Where("id = ? AND status = ? AND open_run = ?", id, string(reminder.CampaignRunning), run).
		Updates(map[string]any{"status": string(st), "next_run_at": utcPtr(next), "open_run": 0, "lease_until": never,
			"version": gorm.Expr("version + 1"), "updated_at": now.UTC()})
	return res.RowsAffected == 1, res.Error
}

// Enqueued implements reminder.CampaignStore.
func (s *Campaigns) Enqueued(ctx context.Context, key string, ids []int64) (map[int64]bool, error) {
	out := map[int64]bool{}
	if len(ids) == 0 {
		return out, nil
	}
	var have []int64
	if err := s.db(ctx).Model(&outboxRow{}).Where("campaign = ? AND member_id IN ?", key, ids).Distinct().Pluck("member_id", &have).Error; err != nil {
		return nil, err
	}
	for _, id := range have {
		out[id] = true
	}
	return out, nil
}

// prefixRange narrows q to campaign keys starting with prefix
// ("campaign:<id>:": letters, digits and colons, nothing LIKE treats
// specially), an index range scan on both dialects. A bound like
// prefix < key < "campaign:<id>;" would depend on the collation: UCA sorts
// ';' before ':'.
func prefixRange(q *gorm.DB, prefix string) *gorm.DB {
	return q.Where("campaign LIKE ?", prefix+"%")
}

// SkipPending implements reminder.CampaignStore. Claimed rows are skipped
// too: their dispatcher's Begin then finds the row gone and sends nothing.
// Rows already sending are past stopping.
func (s *Campaigns) SkipPending(ctx context.Context, prefix, reason string, now time.Time) (int, error) {
	res := prefixRange(s.db(ctx).Model(&outboxRow{}), prefix).
		Where("status IN ?", []string{string(reminder.Pending), string(reminder.Claimed)}).
		Updates(map[string]any{"status": string(reminder.Skipped), "reason": reason, "owner": "", "lease_until": never, "updated_at": now.UTC()})
	return int(res.RowsAffected), res.Error
}

// Report implements reminder.CampaignStore.
func (s *Campaigns) Report(ctx context.Context, prefix string, samples int) (reminder.CampaignReport, error) {
	rep := reminder.CampaignReport{ByStatus: map[reminder.Status]int{reminder.Pending: 0, reminder.Sent: 0, reminder.Failed: 0,
		reminder.Skipped: 0, reminder.Uncertain: 0, reminder.Holdout: 0}, ByErrCode: map[int64]int{}}
	var byStatus []struct {
		Status string
		N      int
	}
	err := prefixRange(s.db(ctx).Model(&outboxRow{}), prefix).Select("status, COUNT(*) AS n").
		Group("status").Scan(&byStatus).Error
	if err != nil {
		return rep, fmt.Errorf("report by status: %w", err)
	}
	for _, r := range byStatus {
		st := reminder.Status(r.Status)
		if st == reminder.Claimed || st == reminder.Sending {
			st = reminder.Pending
		}
		rep.ByStatus[st] += r.N
	}
	var byCode []struct {
		ErrCode int64
		N       int
	}
	err = prefixRange(s.db(ctx).Model(&outboxRow{}), prefix).Select("err_code, COUNT(*) AS n").Where("err_code <> 0").
		Group("err_code").Scan(&byCode).Error
	if err != nil {
		return rep, fmt.Errorf("report by errcode: %w", err)
	}
	for _, r := range byCode {
		rep.ByErrCode[r.ErrCode] = r.N
	}
	var rows []outboxRow
	err = prefixRange(s.db(ctx), prefix).Where("status = ?", string(reminder.Failed)).Order("id").Limit(samples).Find(&rows).Error
	if err != nil {
		return rep, fmt.Errorf("report failures: %w", err)
	}
	for _, r := range rows {
		rep.Failures = append(rep.Failures, reminder.Delivery{ID: r.ID, Campaign: r.Campaign, MemberID: r.MemberID,
			Channel: reminder.Channel(r.Channel), Status: reminder.Status(r.Status), ErrCode: r.ErrCode, Reason: r.Reason})
	}
	return rep, nil
}

// Deliveries implements reminder.CampaignStore.
func (s *Campaigns) Deliveries(ctx context.Context, prefix string, after int64, limit int) ([]reminder.Delivery, error) {
	var rows []outboxRow
	err := prefixRange(s.db(ctx), prefix).Where("id > ?", after).Order("id").Limit(limit).
		Select("id, campaign, member_id, channel, status, attempts, attempted_at, err_code, reason").Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("campaign deliveries: %w", err)
	}
	out := make([]reminder.Delivery, len(rows))
	for i, r := range rows {
		out[i] = reminder.Delivery{ID: r.ID, Campaign: r.Campaign, MemberID: r.MemberID, Channel: reminder.Channel(r.Channel),
			Status: reminder.Status(r.Status), Attempts: r.Attempts, AttemptedAt: r.AttemptedAt, ErrCode: r.ErrCode, Reason: r.Reason}
	}
	return out, nil
}

// audienceWhere narrows a query over members m to a's tier, store and
// inactivity filters. Members without a member_tiers row are at the lowest
// tier; a member's store is their guide's.
func audienceWhere(q *gorm.DB, a reminder.Audience, lowestTier string, now time.Time) *gorm.DB {
	if len(a.Tiers) > 0 {
		q = q.Where("COALESCE((SELECT mt.level FROM member_tiers mt WHERE mt.member_id = m.id), ?) IN ?", lowestTier, a.Tiers)
	}
	if len(a.StoreIDs) > 0 {
		q = q.Where("EXISTS (SELECT 1 FROM guide_customers gc JOIN guides g ON g.id = gc.guide_id WHERE gc.member_id = m.id AND g.store_id IN ?)", a.StoreIDs)
	}
	if a.InactiveSinceDays > 0 {
		q = q.Where("m.last_active < ?", now.AddDate(0, 0, -a.InactiveSinceDays).UTC())
	}
	return q
}

// Filter implements reminder.AudienceStore.
func (s *Campaigns) Filter(ctx context.Context, ids []int64, a reminder.Audience, lowestTier string, now time.Time) (map[int64]bool, error) {
	out := map[int64]bool{}
	if len(ids) == 0 {
		return out, nil
	}
	var keep []int64
	q := audienceWhere(s.db(ctx).Table("members AS m").Where("m.id IN ?", ids), a, lowestTier, now)
	if err := q.Pluck("m.id", &keep).Error; err != nil {
		return nil, err
	}
	for _, id := range keep {
		out[id] = true
	}
	return out, nil
}

// Balances implements reminder.AudienceStore.
func (s *Campaigns) Balances(ctx context.Context, a reminder.Audience, lowestTier string, now time.Time, after int64, limit int) ([]reminder.AudienceMember, error) {
	var rows []struct {
		ID        int64
		Available int64
	}
	q := s.db(ctx).Table("members AS m").Select("m.id AS id, COALESCE(la.available, 0) AS available").
		Joins("LEFT JOIN ledger_accounts la ON la.member_id = m.id").
		Where("m.id > ? AND COALESCE(la.available, 0) >= ?", after, a.MinPoints)
	q = audienceWhere(q, a, lowestTier, now)
	if err := q.Order("m.id").Limit(limit).Scan(&rows).Error; err != nil {
		return nil, err
	}
	out := make([]reminder.AudienceMember, len(rows))
	for i, r := range rows {
		out[i] = reminder.AudienceMember{MemberID: r.ID, Points: r.Available}
	}
	return out, nil
}

// Attempted implements reminder.CampaignStore: a range over the
// idx_reminder_outbox_attempted index (attempted_at, status), which also
// covers the count.
func (s *Campaigns) Attempted(ctx context.Context, from, to time.Time) (map[reminder.Status]int, error) {
	var rows []struct {
		Status string
		N      int
	}
	err := s.db(ctx).Model(&outboxRow{}).Select("status, COUNT(*) AS n").
		Where("attempted_at >= ? AND attempted_at < ?", from.UTC(), to.UTC()).Group("status").Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("reminders attempted: %w", err)
	}
	out := map[reminder.Status]int{}
	for _, r := range rows {
		out[reminder.Status(r.Status)] += r.N
	}
	// A held-out member is never attempted: it counts on the day it would
	// have been sent (next_at, the due index's second column).
	var held int64
	if err := s.db(ctx).Model(&outboxRow{}).Where("status = ? AND next_at >= ? AND next_at < ?",
		string(reminder.Holdout), from.UTC(), to.UTC()).Count(&held).Error; err != nil {
		return nil, fmt.Errorf("reminders held out: %w", err)
	}
	if held > 0 {
		out[reminder.Holdout] = int(held)
	}
	return out, nil
}
