// Package guidestore is the gorm implementation of guide.Repository.
// LockGuide locks the guide's row: FOR UPDATE on MySQL, the immediate
// transaction on SQLite.
package guidestore

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm/clause"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/guide"
	"github.com/jifen/jifen/repo"
)

type storeRow struct {
	ID        int64 `gorm:"primaryKey"`
	Name      string
	RobotKey  string
	CreatedAt time.Time
	UpdatedAt time.Time
}

func (storeRow) TableName() string { return "stores" }

type guideRow struct {
	ID            int64  `gorm:"primaryKey"`
	UserID        string `gorm:"column:userid"`
	Code          string
	Name          string
	StoreID       int64
	MonthlyBudget int64
	Phone         string
	Status        string
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

func (guideRow) TableName() string { return "guides" }

type bindingRow struct {
	MemberID       int64 `gorm:"primaryKey;autoIncrement:false"`
	GuideID        int64
	Source         string
	ExternalUserID string `gorm:"column:external_userid"`
	BoundAt        time.Time
}

func (bindingRow) TableName() string { return "guide_customers" }

type grantRow struct {
	ID          int64 `gorm:"primaryKey"`
	GuideID     int64
	IdemKey     string
	RequestHash string
	MemberID    int64
	Points      int64
	Reason      string
	Month       int
	Day         int
	EntryID     int64
	CreatedAt   time.Time
}

func (grantRow) TableName() string { return "guide_grants" }

type pushRow struct {
	ID        int64 `gorm:"primaryKey"`
	GuideID   int64
	MemberID  int64
	Day       int
	Batch     string
	MsgID     string `gorm:"column:msgid"`
	CreatedAt time.Time
}

func (pushRow) TableName() string { return "guide_pushes" }

type callbackRow struct {
	Digest     string `gorm:"primaryKey"`
	Event      string
	ReceivedAt time.Time
}

func (callbackRow) TableName() string { return "wecom_callbacks" }

type contactRow struct {
	ExternalUserID string `gorm:"column:external_userid;primaryKey"`
	GuideID        int64  `gorm:"primaryKey"`
	UnionID        string `gorm:"column:unionid"`
	AddedAt        time.Time
}

func (contactRow) TableName() string { return "guide_contacts" }

// Store implements guide.Repository.
type Store struct{ DB *repo.DB }

var _ guide.Repository = (*Store)(nil)

func notFound(what string, err error) error {
	if repo.IsNotFound(err) {
		return domain.Errorf(domain.NotFound, "%s not found", what)
	}
	if err != nil {
		return fmt.Errorf("load %s: %w", what, err)
	}
	return nil
}

func (r storeRow) toDomain() guide.Store {
	return guide.Store{ID: r.ID, Name: r.Name, RobotKey: r.RobotKey, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

func fromStore(s *guide.Store) storeRow {
	return storeRow{ID: s.ID, Name: s.Name, RobotKey: s.RobotKey, CreatedAt: s.CreatedAt.UTC(), UpdatedAt: s.UpdatedAt.UTC()}
}

// CreateStore inserts s and sets its id.
func (s *Store) CreateStore(ctx context.Context, st *guide.Store) error {
	r := fromStore(st)
	err := s.DB.Conn(ctx).Create(&r).Error
	if repo.IsDuplicate(err) {
		return domain.Errorf(domain.Conflict, "a store named %q exists", st.Name)
	}
	if err != nil {
		return fmt.Errorf("create store: %w", err)
	}
	st.ID = r.ID
	return nil
}

// UpdateStore saves every field of st.
func (s *Store) UpdateStore(ctx context.Context, st *guide.Store) error {
	r := fromStore(st)
	err := s.DB.Conn(ctx).Model(&storeRow{}).Where("id = ?", st.ID).
		Updates(map[string]any{"name": r.Name, "robot_key": r.RobotKey, "updated_at": r.UpdatedAt}).Error
	if repo.IsDuplicate(err) {
		return domain.Errorf(domain.Conflict, "a store named %q exists", st.Name)
	}
	return err
}

// StoreByID loads a store.
func (s *Store) StoreByID(ctx context.Context, id int64) (*guide.Store, error) {
	var r storeRow
	if err := notFound("store", s.DB.Conn(ctx).Where("id = ?", id).Take(&r).Error); err != nil {
		return nil, err
	}
	st := r.toDomain()
	return &st, nil
}

// ListStores returns every store by id.
func (s *Store) ListStores(ctx context.Context) ([]guide.Store, error) {
	var rows []storeRow
	if err := s.DB.Conn(ctx).Order("id").Find(&rows).Error; err != nil {
		return nil, err
	}
	out := make([]guide.Store, len(rows))
	for i, r := range rows {
		out[i] = r.toDomain()
	}
	return out, nil
}

func (r guideRow) toDomain() guide.Guide {
	return guide.Guide{ID: r.ID, UserID: r.UserID, Code: r.Code, Name: r.Name, StoreID: r.StoreID,
		MonthlyBudget: r.MonthlyBudget, Phone: r.Phone, Status: guide.Status(r.Status), CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

func fromGuide(g *guide.Guide) guideRow {
	return guideRow{ID: g.ID, UserID: g.UserID, Code: g.Code, Name: g.Name, StoreID: g.StoreID,
		MonthlyBudget: g.MonthlyBudget, Phone: g.Phone, Status: string(g.Status), CreatedAt: g.CreatedAt.UTC(), UpdatedAt: g.UpdatedAt.UTC()}
}

// CreateGuide inserts g and sets its id.
func (s *Store) CreateGuide(ctx context.Context, g *guide.Guide) error {
	r := fromGuide(g)
	err := s.DB.Conn(ctx).Create(&r).Error
	if repo.IsDuplicate(err) {
		return domain.Errorf(domain.Conflict, "a guide with userid %q exists", g.UserID)
	}
	if err != nil {
		return fmt.Errorf("create guide: %w", err)
	}
	g.ID = r.ID
	return nil
}

// UpdateGuide saves every field of g.
func (s *Store) UpdateGuide(ctx context.Context, g *guide.Guide) error {
	r := fromGuide(g)
	err := s.DB.Conn(ctx).Model(&guideRow{}).Where("id = ?", g.ID).Updates(map[string]any{
		"userid": r.UserID, "name": r.Name, "store_id": r.StoreID, "monthly_budget": r.MonthlyBudget,
		"phone": r.Phone, "status": r.Status, "updated_at": r.UpdatedAt}).Error
	if repo.IsDuplicate(err) {
		return domain.Errorf(domain.Conflict, "a guide with userid %q exists", g.UserID)
	}
	return err
}

func (s *Store) oneGuide(ctx context.Context, lock bool, where string, arg any) (*guide.Guide, error) {
	q := s.DB.Conn(ctx).Where(where, arg)
	if lock {
		q = s.DB.ForUpdate(q)
	}
	var r guideRow
	if err := notFound("guide", q.Take(&r).Error); err != nil {
		return nil, err
	}
	g := r.toDomain()
	return &g, nil
}

// GuideByID loads a guide.
func (s *Store) GuideByID(ctx context.Context, id int64) (*guide.Guide, error) {
	return s.oneGuide(ctx, false, "id = ?", id)
}

// GuideByUserID loads a guide by WeCom userid.
func (s *Store) GuideByUserID(ctx context.Context, userID string) (*guide.Guide, error) {
	return s.oneGuide(ctx, false, "userid = ?", userID)
}

// GuideByCode loads a guide by scene code.
func (s *Store) GuideByCode(ctx context.Context, code string) (*guide.Guide, error) {
	return s.oneGuide(ctx, false, "code = ?", code)
}

// LockGuide loads and locks a guide; it needs the caller's transaction.
func (s *Store) LockGuide(ctx context.Context, id int64) (*guide.Guide, error) {
	if !repo.InTransaction(ctx) {
		return nil, fmt.Errorf("guidestore: LockGuide needs a transaction in the context")
	}
	return s.oneGuide(ctx, true, "id = ?", id)
}

// ListGuides pages guides by id.
func (s *Store) ListGuides(ctx context.Context, after int64, limit int) ([]guide.Guide, error) {
	var rows []guideRow
	if err := s.DB.Conn(ctx).Where("id > ?", after).Order("id").Limit(limit).Find(&rows).Error; err != nil {
		return nil, err
	}
	out := make([]guide.Guide, len(rows))
	for i, r := range rows {
		out[i] = r.toDomain()
	}
	return out, nil
}

func (r bindingRow) toDomain() guide.Binding {
	return guide.Binding{MemberID: r.MemberID, GuideID: r.GuideID, Source: r.Source, ExternalUserID: r.ExternalUserID, BoundAt: r.BoundAt}
}

// Binding loads the member's binding.
func (s *Store) Binding(ctx context.Context, memberID int64) (guide.Binding, bool, error) {
	var rows []bindingRow
	if err := s.DB.Conn(ctx).Where("member_id = ?", memberID).Limit(1).Find(&rows).Error; err != nil {
		return guide.Binding{}, false, err
	}
	if len(rows) == 0 {
		return guide.Binding{}, false, nil
	}
	return rows[0].toDomain(), true, nil
}

// SaveBinding upserts the member's binding.
func (s *Store) SaveBinding(ctx context.Context, b guide.Binding) error {
	r := bindingRow{MemberID: b.MemberID, GuideID: b.GuideID, Source: b.Source, ExternalUserID: b.ExternalUserID, BoundAt: b.BoundAt.UTC()}
	return s.DB.Conn(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "member_id"}},
		DoUpdates: clause.AssignmentColumns([]string{"guide_id", "source", "external_userid", "bound_at"}),
	}).Create(&r).Error
}

// Customers pages the guide's bindings by member id.
func (s *Store) Customers(ctx context.Context, guideID, after int64, limit int) ([]guide.Binding, error) {
	var rows []bindingRow
	if err := s.DB.Conn(ctx).Where("guide_id = ? AND member_id > ?", guideID, after).Order("member_id").Limit(limit).Find(&rows).Error; err != nil {
		return nil, err
	}
	out := make([]guide.Binding, len(rows))
	for i, r := range rows {
		out[i] = r.toDomain()
	}
	return out, nil
}

// GuidesOf maps members to their guides.
func (s *Store) GuidesOf(ctx context.Context, memberIDs []int64) (map[int64]int64, error) {
	out := map[int64]int64{}
	if len(memberIDs) == 0 {
		return out, nil
	}
	var rows []bindingRow
	if err := s.DB.Conn(ctx).Where("member_id IN ?", memberIDs).Find(&rows).Error; err != nil {
		return nil, err
	}
	for _, r := range rows {
		out[r.MemberID] = r.GuideID
	}
	return out, nil
}

func (r grantRow) toDomain() guide.Grant {
	return guide.Grant{ID: r.ID, GuideID: r.GuideID, MemberID: r.MemberID, Points: r.Points, Reason: r.Reason,
		Key: r.IdemKey, RequestHash: r.RequestHash, Month: r.Month, Day: r.Day, EntryID: r.EntryID, CreatedAt: r.CreatedAt}
}

// GrantByKey finds the guide's grant with key.
func (s *Store) GrantByKey(ctx context.Context, guideID int64, key string) (guide.Grant, bool, error) {
	var rows []grantRow
	if err := s.DB.Conn(ctx).Where("guide_id = ? AND idem_key = ?", guideID, key).Limit(1).Find(&rows).Error; err != nil {
		return guide.Grant{}, false, err
	}
	if len(rows) == 0 {
		return guide.Grant{}, false, nil
	}
	return rows[0].toDomain(), true, nil
}

func (s *Store) sum(ctx context.Context, where string, args ...any) (int64, error) {
	var n int64
	err := s.DB.Conn(ctx).Model(&grantRow{}).Where(where, args...).Select("COALESCE(SUM(points), 0)").Scan(&n).Error
	return n, err
}

// MonthGranted sums the guide's grants in month.
func (s *Store) MonthGranted(ctx context.Context, guideID int64, month int) (int64, error) {
	return s.sum(ctx, "guide_id = ? AND month = ?", guideID, month)
}

// DayGranted sums the member's grants on day.
func (s *Store) DayGranted(ctx context.Context, memberID int64, day int) (int64, error) {
	return s.sum(ctx, "member_id = ? AND day = ?", memberID, day)
}

// InsertGrant writes g and sets its id.
func (s *Store) InsertGrant(ctx context.Context, g *guide.Grant) error {
	r := grantRow{GuideID: g.GuideID, IdemKey: g.Key, RequestHash: g.RequestHash, MemberID: g.MemberID, Points: g.Points,
		Reason: g.Reason, Month: g.Month, Day: g.Day, EntryID: g.EntryID, CreatedAt: g.CreatedAt.UTC()}
	if err := s.DB.Conn(ctx).Create(&r).Error; err != nil {
		return fmt.Errorf("insert grant: %w", err)
	}
	g.ID = r.ID
	return nil
}

// Grants lists the guide's grants of month, newest first.
func (s *Store) Grants(ctx context.Context, guideID int64, month, limit int) ([]guide.Grant, error) {
	var rows []grantRow
	if err := s.DB.Conn(ctx).Where("guide_id = ? AND month = ?", guideID, month).Order("id DESC").Limit(limit).Find(&rows).Error; err != nil {
		return nil, err
	}
	out := make([]guide.Grant, len(rows))
	for i, r := range rows {
		out[i] = r.toDomain()
	}
	return out, nil
}

// ReservePushes inserts the pushes whose (member, day) is free.
func (s *Store) ReservePushes(ctx context.Context, ps []guide.Push) ([]guide.Push, error) {
	if len(ps) == 0 {
		return nil, nil
	}
	rows := make([]pushRow, len(ps))
	for i, p := range ps {
		rows[i] = pushRow{GuideID: p.GuideID, MemberID: p.MemberID, Day: p.Day, Batch: p.Batch, CreatedAt: p.At.UTC()}
	}
	if err := s.DB.Conn(ctx).Clauses(clause.OnConflict{DoNothing: true}).CreateInBatches(rows, 500).Error; err != nil {
		return nil, fmt.Errorf("reserve pushes: %w", err)
	}
	var mine []pushRow
	if err := s.DB.Conn(ctx).Where("batch = ?", ps[0].Batch).Order("member_id").Find(&mine).Error; err != nil {
		return nil, err
	}
	out := make([]guide.Push, len(mine))
	for i, r := range mine {
		out[i] = guide.Push{GuideID: r.GuideID, MemberID: r.MemberID, Day: r.Day, Batch: r.Batch}
	}
	return out, nil
}

// SetPushMsgID records WeCom's msgid on a broadcast's pushes.
func (s *Store) SetPushMsgID(ctx context.Context, batch, msgID string) error {
	return s.DB.Conn(ctx).Model(&pushRow{}).Where("batch = ?", batch).Update("msgid", msgID).Error
}

// DeletePushes frees a failed broadcast's reservations.
func (s *Store) DeletePushes(ctx context.Context, batch string) error {
	return s.DB.Conn(ctx).Where("batch = ?", batch).Delete(&pushRow{}).Error
}

// CallbackSeen reports whether digest was recorded.
func (s *Store) CallbackSeen(ctx context.Context, digest string) (bool, error) {
	var n int64
	err := s.DB.Conn(ctx).Model(&callbackRow{}).Where("digest = ?", digest).Count(&n).Error
	return n > 0, err
}

// RecordCallback inserts digest; false when it was there.
func (s *Store) RecordCallback(ctx context.Context, digest, event string, at time.Time) (bool, error) {
	err := s.DB.Conn(ctx).Create(&callbackRow{Digest: digest, Event: event, ReceivedAt: at.UTC()}).Error
	if repo.IsDuplicate(err) {
		return false, nil
	}
	return err == nil, err
}

// KeepContact implements guide.Repository: a contact already kept stays
// as it is.
func (s *Store) KeepContact(ctx context.Context, c guide.Contact) error {
	return s.DB.Conn(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&contactRow{
		ExternalUserID: c.ExternalUserID, GuideID: c.GuideID, UnionID: c.UnionID, AddedAt: c.AddedAt.UTC()}).Error
}

// ContactsKept implements guide.Repo: one statement.
func (s *Store) ContactsKept(ctx context.Context, unionIDs []string) (map[string]bool, error) {
	out := make(map[string]bool)
	if len(unionIDs) == 0 {
		return out, nil
	}
	var kept []string
	if err := s.DB.Conn(ctx).Model(&contactRow{}).Distinct("unionid").Where("unionid IN ?", unionIDs).Pluck("unionid", &kept).Error; err != nil {
		return nil, fmt.Errorf("contacts kept: %w", err)
	}
	for _, u := range kept {
		out[u] = true
	}
	return out, nil
}

// TakeContacts implements guide.Repository.
func (s *Store) TakeContacts(ctx context.Context, unionID string) ([]guide.Contact, error) {
	var rows []contactRow
	db := s.DB.Conn(ctx)
	if err := db.Where("unionid = ?", unionID).Order("added_at, guide_id").Find(&rows).Error; err != nil || len(rows) == 0 {
		return nil, err
	}
	if err := db.Where("unionid = ?", unionID).Delete(&contactRow{}).Error; err != nil {
		return nil, err
	}
	out := make([]guide.Contact, len(rows))
	for i, r := range rows {
		out[i] = guide.Contact{ExternalUserID: r.ExternalUserID, GuideID: r.GuideID, UnionID: r.UnionID, AddedAt: r.AddedAt}
	}
	return out, nil
}
