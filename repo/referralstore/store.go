// Package referralstore implements referral.Store over gorm (tables in
// repo/schema/growth.go, versions 551–555) and the QR-code cache over Redis.
//
// LoadBindings (referral.Bindings) queues the read of Bindings in a
// pipelined transaction (repo.DB.InPipelinedTx): it travels with the
// transaction's next statement, and the next Bindings it covers reads
// nothing; outside one it does nothing and Bindings reads at once.
package referralstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/referral"
	"github.com/jifen/jifen/repo"
)

// Store implements referral.Store.
type Store struct{ DB *repo.DB }

var _ referral.Store = (*Store)(nil)

type codeRow struct {
	MemberID  int64 `gorm:"primaryKey;autoIncrement:false"`
	Code      string
	CreatedAt time.Time
}

func (codeRow) TableName() string { return "invite_codes" }

type bindingRow struct {
	InviteeID int64 `gorm:"primaryKey;autoIncrement:false"`
	InviterID int64
	Parent2ID int64 `gorm:"column:parent2_id"`
	Flagged   bool
	FlagNote  string
	CreatedAt time.Time
}

func (bindingRow) TableName() string { return "referrals" }

func (r bindingRow) toDomain() referral.Binding {
	return referral.Binding{InviteeID: r.InviteeID, InviterID: r.InviterID, Parent2ID: r.Parent2ID,
		Flagged: r.Flagged, FlagNote: r.FlagNote, CreatedAt: r.CreatedAt}
}

type rewardRow struct {
	ID            int64 `gorm:"primaryKey"`
	InviteeID     int64
	Event         string
	BeneficiaryID int64
	Level         int
	Points        int64
	Day           int
	Status        string
	OrderID       string
	AvailableAt   *time.Time
	CreatedAt     time.Time
}

func (rewardRow) TableName() string { return "referral_rewards" }

func (r rewardRow) toDomain() referral.Reward {
	out := referral.Reward{InviteeID: r.InviteeID, Event: referral.Event(r.Event), BeneficiaryID: r.BeneficiaryID, Level: r.Level,
		Points: r.Points, Day: r.Day, Status: r.Status, OrderID: r.OrderID, CreatedAt: r.CreatedAt}
	if r.AvailableAt != nil {
		out.AvailableAt = *r.AvailableAt
	}
	return out
}

type identityRow struct {
	Kind      string `gorm:"primaryKey"`
	Value     string `gorm:"primaryKey"`
	MemberID  int64  `gorm:"primaryKey;autoIncrement:false"`
	CreatedAt time.Time
}

func (identityRow) TableName() string { return "referral_identities" }

// CodeOf implements referral.Store.
func (s *Store) CodeOf(ctx context.Context, memberID int64) (string, error) {
	var rows []codeRow
	if err := s.DB.Conn(ctx).Where("member_id = ?", memberID).Limit(1).Find(&rows).Error; err != nil {
		return "", fmt.Errorf("invite code of %d: %w", memberID, err)
	}
	if len(rows) == 0 {
		return "", nil
	}
	return rows[0].Code, nil
}

// InsertCode implements referral.Store.
func (s *Store) InsertCode(ctx context.Context, memberID int64, code string, at time.Time) error {
	err := s.DB.Conn(ctx).Create(&codeRow{MemberID: memberID, Code: code, CreatedAt: at.UTC()}).Error
	if !repo.IsDuplicate(err) {
		return err
	}
	// Either the member got a code concurrently (fine) or the code is taken.
	have, cerr := s.CodeOf(ctx, memberID)
	if cerr != nil {
		return cerr
	}
	if have != "" {
		return nil
	}
	return fmt.Errorf("code %s: %w", code, referral.ErrCodeTaken)
}

// OwnerOf implements referral.Store.
func (s *Store) OwnerOf(ctx context.Context, code string) (int64, bool, error) {
	var rows []codeRow
	if err := s.DB.Conn(ctx).Where("code = ?", code).Limit(1).Find(&rows).Error; err != nil {
		return 0, false, fmt.Errorf("owner of invite code: %w", err)
	}
	if len(rows) == 0 {
		return 0, false, nil
	}
	return rows[0].MemberID, true, nil
}

// LockOwner implements referral.Store.
func (s *Store) LockOwner(ctx context.Context, memberID int64) error {
	var rows []codeRow
	return s.DB.ForUpdate(s.DB.Conn(ctx).Where("member_id = ?", memberID)).Find(&rows).Error
}

// LockMember implements referral.Store (SELECT … FOR UPDATE on the
// member's row; SQLite's immediate transaction already serialises).
func (s *Store) LockMember(ctx context.Context, memberID int64) error {
	var ids []int64
	return s.DB.ForUpdate(s.DB.Conn(ctx).Table("members").Where("id = ?", memberID)).Pluck("id", &ids).Error
}

// Binding implements referral.Store.
func (s *Store) Binding(ctx context.Context, inviteeID int64) (referral.Binding, bool, error) {
	var rows []bindingRow
	if err := s.DB.Conn(ctx).Where("invitee_id = ?", inviteeID).Limit(1).Find(&rows).Error; err != nil {
		return referral.Binding{}, false, fmt.Errorf("binding of %d: %w", inviteeID, err)
	}
	if len(rows) == 0 {
		return referral.Binding{}, false, nil
	}
	return rows[0].toDomain(), true, nil
}

// InsertBinding implements referral.Store.
func (s *Store) InsertBinding(ctx context.Context, b referral.Binding) error {
	r := bindingRow{InviteeID: b.InviteeID, InviterID: b.InviterID, Parent2ID: b.Parent2ID, Flagged: b.Flagged,
		FlagNote: truncate(b.FlagNote, 128), CreatedAt: b.CreatedAt.UTC()}
	err := s.DB.Conn(ctx).Create(&r).Error
	if repo.IsDuplicate(err) {
		return fmt.Errorf("binding of %d: %w", b.InviteeID, referral.ErrDuplicate)
	}
	return err
}

// Flag implements referral.Store.
func (s *Store) Flag(ctx context.Context, inviteeID int64, note string) error {
	return s.DB.Conn(ctx).Model(&bindingRow{}).Where("invitee_id = ?", inviteeID).
		Updates(map[string]any{"flagged": true, "flag_note": truncate(note, 128)}).Error
}

// RememberIdentity implements referral.Store.
func (s *Store) RememberIdentity(ctx context.Context, kind, value string, memberID int64, at time.Time) error {
	var n int64
	q := s.DB.Conn(ctx).Model(&identityRow{}).Where("kind = ? AND value = ? AND member_id = ?", kind, value, memberID)
	if err := q.Count(&n).Error; err != nil || n > 0 {
		return err
	}
	err := s.DB.Conn(ctx).Create(&identityRow{Kind: kind, Value: truncate(value, 64), MemberID: memberID, CreatedAt: at.UTC()}).Error
	if repo.IsDuplicate(err) {
		return nil
	}
	return err
}

// RememberIdentities implements referral.Store: one multi-row INSERT
// that keeps rows already there, travelling with the next statement in a
// pipelined transaction (repo.DB.Later).
func (s *Store) RememberIdentities(ctx context.Context, ids []referral.Identity, at time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	args := make([]any, 0, 4*len(ids))
	for _, id := range ids {
		args = append(args, id.Kind, truncate(id.Value, 64), id.MemberID, at.UTC())
	}
	q := "INSERT INTO referral_identities (kind, value, member_id, created_at) VALUES " + repo.RowsOf(len(ids), 4)
	if s.DB.Dialect() == repo.MySQL {
		q += " ON DUPLICATE KEY UPDATE member_id = member_id"
	} else {
		q += " ON CONFLICT DO NOTHING"
	}
	if err := s.DB.Later(ctx, nil, q, args...); err != nil {
		return fmt.Errorf("remember identities: %w", err)
	}
	return nil
}

// SeenElsewhere implements referral.Store.
func (s *Store) SeenElsewhere(ctx context.Context, kind, value string, memberID int64) (int64, error) {
	var rows []identityRow
	err := s.DB.Conn(ctx).Where("kind = ? AND value = ? AND member_id <> ?", kind, truncate(value, 64), memberID).
		Order("member_id").Limit(1).Find(&rows).Error
	if err != nil || len(rows) == 0 {
		return 0, err
	}
	return rows[0].MemberID, nil
}

// RewardExists implements referral.Store.
func (s *Store) RewardExists(ctx context.Context, inviteeID int64, e referral.Event, beneficiaryID int64) (bool, error) {
	var n int64
	err := s.DB.Conn(ctx).Model(&rewardRow{}).
		Where("invitee_id = ? AND event = ? AND beneficiary_id = ?", inviteeID, string(e), beneficiaryID).Count(&n).Error
	return n > 0, err
}

// InsertReward implements referral.Store.
func (s *Store) InsertReward(ctx context.Context, r referral.Reward) error {
	row := rewardRow{InviteeID: r.InviteeID, Event: string(r.Event), BeneficiaryID: r.BeneficiaryID, Level: r.Level,
		Points: r.Points, Day: r.Day, Status: r.Status, OrderID: r.OrderID, CreatedAt: r.CreatedAt.UTC()}
	if !r.AvailableAt.IsZero() {
		at := r.AvailableAt.UTC()
		row.AvailableAt = &at
	}
	err := s.DB.Conn(ctx).Create(&row).Error
	if repo.IsDuplicate(err) {
		return fmt.Errorf("reward %d/%s/%d: %w", r.InviteeID, r.Event, r.BeneficiaryID, referral.ErrDuplicate)
	}
	return err
}

// OrderRewards implements referral.Store through the unique (invitee,
// event, beneficiary) index.
func (s *Store) OrderRewards(ctx context.Context, inviteeID int64, orderID string) ([]referral.Reward, error) {
	var rows []rewardRow
	if err := s.DB.Conn(ctx).Where("invitee_id = ? AND event = ? AND order_id = ?", inviteeID, string(referral.EventOrder), orderID).
		Order("level").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("rewards of order %s: %w", orderID, err)
	}
	out := make([]referral.Reward, len(rows))
	for i, r := range rows {
		out[i] = r.toDomain()
	}
	return out, nil
}

// Reverse implements referral.Store: a conditional UPDATE, so two refunds
// cannot both reverse one reward.
func (s *Store) Reverse(ctx context.Context, inviteeID int64, e referral.Event, beneficiaryID int64) (bool, error) {
	res := s.DB.Conn(ctx).Model(&rewardRow{}).
		Where("invitee_id = ? AND event = ? AND beneficiary_id = ? AND status = ?", inviteeID, string(e), beneficiaryID, referral.StatusPaid).
		Update("status", referral.StatusReversed)
	if res.Error != nil {
		return false, fmt.Errorf("reverse reward %d/%s/%d: %w", inviteeID, e, beneficiaryID, res.Error)
	}
	return res.RowsAffected == 1, nil
}

// PaidOn implements referral.Store.
func (s *Store) PaidOn(ctx context.Context, beneficiaryID int64, day int) (int64, error) {
	var sum int64
	err := s.DB.Conn(ctx).Model(&rewardRow{}).Select("COALESCE(SUM(points), 0)").
		Where("beneficiary_id = ? AND day = ? AND status = ?", beneficiaryID, day, referral.StatusPaid).Scan(&sum).Error
	return sum, err
}

// Earned implements referral.Store.
func (s *Store) Earned(ctx context.Context, memberID int64) (int64, error) {
	var sum int64
	err := s.DB.Conn(ctx).Model(&rewardRow{}).Select("COALESCE(SUM(points), 0)").
		Where("beneficiary_id = ? AND status = ?", memberID, referral.StatusPaid).Scan(&sum).Error
	return sum, err
}

// Counts implements referral.Store.
func (s *Store) Counts(ctx context.Context, memberID int64) (int64, int64, error) {
	var l1, l2 int64
	if err := s.DB.Conn(ctx).Model(&bindingRow{}).Where("inviter_id = ?", memberID).Count(&l1).Error; err != nil {
		return 0, 0, err
	}
	if err := s.DB.Conn(ctx).Model(&bindingRow{}).Where("parent2_id = ?", memberID).Count(&l2).Error; err != nil {
		return 0, 0, err
	}
	return l1, l2, nil
}

type countRow struct {
	InviterID int64
	N         int64
}

// InviteCounts implements referral.Store.
func (s *Store) InviteCounts(ctx context.Context) (map[int64]int64, error) {
	var rows []countRow
	if err := s.DB.Conn(ctx).Model(&bindingRow{}).Select("inviter_id, COUNT(*) AS n").Group("inviter_id").Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("invite counts: %w", err)
	}
	out := make(map[int64]int64, len(rows))
	for _, r := range rows {
		out[r.InviterID] = r.N
	}
	return out, nil
}

// TopInviters implements referral.Store.
func (s *Store) TopInviters(ctx context.Context, limit int) ([]referral.Inviter, error) {
	var rows []countRow
	if err := s.DB.Conn(ctx).Model(&bindingRow{}).Select("inviter_id, COUNT(*) AS n").Group("inviter_id").
		Order("n DESC, inviter_id").Limit(limit).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("top inviters: %w", err)
	}
	out := make([]referral.Inviter, 0, len(rows))
	for _, r := range rows {
		earned, err := s.Earned(ctx, r.InviterID)
		if err != nil {
			return nil, err
		}
		out = append(out, referral.Inviter{MemberID: r.InviterID, Invites: r.N, Points: earned})
	}
	return out, nil
}

// FlaggedBindings implements referral.Store.
func (s *Store) FlaggedBindings(ctx context.Context, limit int) ([]referral.Binding, error) {
	var rows []bindingRow
	if err := s.DB.Conn(ctx).Where("flagged = ?", true).Order("created_at DESC, invitee_id DESC").Limit(limit).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("flagged referrals: %w", err)
	}
	out := make([]referral.Binding, 0, len(rows))
	for _, r := range rows {
		out = append(out, r.toDomain())
	}
	return out, nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

type memberRow struct {
	ID        int64   `gorm:"primaryKey"`
	UnionID   *string `gorm:"column:unionid"`
	Phone     *string
	CreatedAt time.Time
}

func (memberRow) TableName() string { return "members" }

// Members implements referral.Members over the members table.
type Members struct{ DB *repo.DB }

var _ referral.Members = (*Members)(nil)

// Info implements referral.Members.
func (m *Members) Info(ctx context.Context, id int64) (referral.MemberInfo, error) {
	var rows []memberRow
	if err := m.DB.Conn(ctx).Where("id = ?", id).Limit(1).Find(&rows).Error; err != nil {
		return referral.MemberInfo{}, fmt.Errorf("member %d: %w", id, err)
	}
	if len(rows) == 0 {
		return referral.MemberInfo{}, domain.Errorf(domain.NotFound, "member not found")
	}
	r := rows[0]
	info := referral.MemberInfo{ID: r.ID, CreatedAt: r.CreatedAt}
	if r.UnionID != nil {
		info.UnionID = *r.UnionID
	}
	if r.Phone != nil {
		info.Phone = *r.Phone
	}
	return info, nil
}

// QRCache keeps mini-program code images in Redis for a day.
type QRCache struct {
	R   *repo.Redis
	TTL time.Duration
}

var _ referral.QRCache = (*QRCache)(nil)

func (c *QRCache) key(k string) string { return c.R.Prefix + "ref:qr:" + k }

// Get implements referral.QRCache.
func (c *QRCache) Get(ctx context.Context, k string) ([]byte, bool, error) {
	b, err := c.R.C.Get(ctx, c.key(k)).Bytes()
	if err == redis.Nil {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return b, true, nil
}

// Put implements referral.QRCache.
func (c *QRCache) Put(ctx context.Context, k string, jpeg []byte) error {
	ttl := c.TTL
	if ttl <= 0 {
		ttl = 24 * time.Hour
	}
	return c.R.C.Set(ctx, c.key(k), jpeg, ttl).Err()
}

// Bindings returns the bindings of the invitees that have one, in one
// statement (a group of first paid orders), or none when a
// LoadBindings of the same transaction read them.
func (s *Store) Bindings(ctx context.Context, inviteeIDs []int64) (map[int64]referral.Binding, error) {
	out := map[int64]referral.Binding{}
	if len(inviteeIDs) == 0 {
		return out, nil
	}
	if p := repo.TakePrefetch[referral.Binding](ctx, prefetchKey{}); p != nil && p.Covers(inviteeIDs) {
		return p.Pick(inviteeIDs), nil
	}
	var rows []bindingRow
	if err := s.DB.Conn(ctx).Where("invitee_id IN ?", inviteeIDs).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("bindings of %d members: %w", len(inviteeIDs), err)
	}
	for i := range rows {
		out[rows[i].InviteeID] = rows[i].toDomain()
	}
	return out, nil
}

var _ referral.Bindings = (*Store)(nil)

type prefetchKey struct{}

// LoadBindings implements referral.Bindings: in a pipelined
// transaction the read of Bindings travels with the transaction's next
// statement, and the next Bindings covered by it reads nothing. Outside
// one it does nothing (Bindings reads as usual).
func (s *Store) LoadBindings(ctx context.Context, inviteeIDs []int64) error {
	if !repo.Pipelined(ctx) || len(inviteeIDs) == 0 {
		return nil
	}
	args := make([]any, len(inviteeIDs))
	for i, id := range inviteeIDs {
		args[i] = id
	}
	conn := s.DB.Conn(ctx)
	return repo.PrefetchRows(ctx, s.DB, prefetchKey{}, inviteeIDs, func(rows *sql.Rows) (int64, referral.Binding, error) {
		var r bindingRow
		if err := conn.ScanRows(rows, &r); err != nil {
			return 0, referral.Binding{}, fmt.Errorf("bindings of %d members: %w", len(inviteeIDs), err)
		}
		return r.InviteeID, r.toDomain(), nil
	}, `SELECT invitee_id, inviter_id, parent2_id, flagged, flag_note, created_at FROM referrals WHERE invitee_id IN (`+repo.Marks(len(inviteeIDs))+`)`, args...)
}
