// Package memberstore is the gorm implementation of member.Store.
package memberstore

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/member"
	"github.com/jifen/jifen/repo"
)

type row struct {
	ID         int64   `gorm:"primaryKey"`
	OpenID     string  `gorm:"column:openid"`
	UnionID    *string `gorm:"column:unionid"`
	Phone      *string
	Nickname   string
	AvatarURL  string
	Birthday   *string
	PhoneTail  *string
	CreatedAt  time.Time
	LastActive time.Time
}

func (row) TableName() string { return "members" }

// Store implements member.Store.
type Store struct{ DB *repo.DB }

var (
	_ member.Store  = (*Store)(nil)
	_ member.Finder = (*Store)(nil)
	_ member.Lister = (*Store)(nil)
)

func opt(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func val(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func (r *row) toDomain() *member.Member {
	return &member.Member{ID: r.ID, OpenID: r.OpenID, UnionID: val(r.UnionID),
		Phone: val(r.Phone), Nickname: r.Nickname, AvatarURL: r.AvatarURL, Birthday: val(r.Birthday),
		CreatedAt: r.CreatedAt, LastActive: r.LastActive}
}

func (s *Store) one(ctx context.Context, where string, arg any) (*member.Member, error) {
	var r row
	err := s.DB.Conn(ctx).Where(where, arg).Take(&r).Error
	if repo.IsNotFound(err) {
		return nil, domain.Errorf(domain.NotFound, "member not found")
	}
	if err != nil {
		return nil, fmt.Errorf("load member: %w", err)
	}
	return r.toDomain(), nil
}

// ByID loads a member.
func (s *Store) ByID(ctx context.Context, id int64) (*member.Member, error) {
	return s.one(ctx, "id = ?", id)
}

// ByOpenID loads a member by mini-program openid.
func (s *Store) ByOpenID(ctx context.Context, openid string) (*member.Member, error) {
	return s.one(ctx, "openid = ?", openid)
}

// ByUnionID loads a member by unionid.
func (s *Store) ByUnionID(ctx context.Context, unionid string) (*member.Member, error) {
	return s.one(ctx, "unionid = ?", unionid)
}

// ByPhone loads a member by bound phone.
func (s *Store) ByPhone(ctx context.Context, phone string) (*member.Member, error) {
	return s.one(ctx, "phone = ?", phone)
}

// tail is what the phone_tail column keeps: the last four digits.
func tail(phone string) string { return phone[max(0, len(phone)-4):] }

// Create inserts m.
func (s *Store) Create(ctx context.Context, m *member.Member) error {
	r := row{OpenID: m.OpenID, UnionID: opt(m.UnionID), Phone: opt(m.Phone), PhoneTail: opt(tail(m.Phone)),
		Nickname: m.Nickname, AvatarURL: m.AvatarURL, Birthday: opt(m.Birthday), CreatedAt: m.CreatedAt.UTC(), LastActive: m.LastActive.UTC()}
	err := s.DB.Conn(ctx).Create(&r).Error
	if repo.IsDuplicate(err) {
		return domain.Errorf(domain.Conflict, "member already exists")
	}
	if err != nil {
		return fmt.Errorf("create member: %w", err)
	}
	m.ID = r.ID
	return nil
}

// memberCols are the columns CreateMany writes, in its order.
var memberCols = []string{"openid", "unionid", "phone", "nickname", "avatar_url", "birthday", "phone_tail", "created_at", "last_active"}

// CreateMany implements member.Store: one multi-row INSERT, the ids from
// the first one reported where MySQL promises consecutive ids (see
// repo.DB.ConsecutiveIDs), read back by openid elsewhere.
func (s *Store) CreateMany(ctx context.Context, ms []*member.Member) error {
	if len(ms) == 0 {
		return nil
	}
	args := make([]any, 0, len(ms)*len(memberCols))
	for _, m := range ms {
		args = append(args, m.OpenID, opt(m.UnionID), opt(m.Phone), m.Nickname, m.AvatarURL, opt(m.Birthday), opt(tail(m.Phone)),
			m.CreatedAt.UTC(), m.LastActive.UTC())
	}
	conn := s.DB.Conn(ctx).Statement.ConnPool
	res, err := conn.ExecContext(ctx, "INSERT INTO members ("+strings.Join(memberCols, ", ")+") VALUES "+
		repo.RowsOf(len(ms), len(memberCols)), args...)
	if repo.IsDuplicate(err) {
		return domain.Errorf(domain.Conflict, "member already exists")
	}
	if err != nil {
		return fmt.Errorf("create members: %w", err)
	}
	if s.DB.ConsecutiveIDs() {
		first, err := res.LastInsertId()
		if err != nil {
			return fmt.Errorf("create members: %w", err)
		}
		for i, m := range ms {
			m.ID = first + int64(i)
		}
		return nil
	}
	openids := make([]string, len(ms))
	for i, m := range ms {
		openids[i] = m.OpenID
	}
	made, err := s.ByOpenIDs(ctx, openids)
	if err != nil {
		return err
	}
	for _, m := range ms {
		got, ok := made[m.OpenID]
		if !ok {
			return fmt.Errorf("create members: %s not found after the insert", m.OpenID)
		}
		m.ID = got.ID
	}
	return nil
}

// ByOpenIDs implements member.Store: one statement.
func (s *Store) ByOpenIDs(ctx context.Context, openids []string) (map[string]*member.Member, error) {
	out := make(map[string]*member.Member, len(openids))
	if len(openids) == 0 {
		return out, nil
	}
	var rows []row
	if err := s.DB.Conn(ctx).Where("openid IN ?", openids).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("load members: %w", err)
	}
	for i := range rows {
		out[rows[i].OpenID] = rows[i].toDomain()
	}
	return out, nil
}

// TouchLogins implements member.Store: one UPDATE, travelling with the
// next statement in a pipelined transaction (repo.DB.Later).
func (s *Store) TouchLogins(ctx context.Context, ids []int64, at time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	args := make([]any, 0, len(ids)+1)
	args = append(args, at.UTC())
	for _, id := range ids {
		args = append(args, id)
	}
	if err := s.DB.Later(ctx, nil, "UPDATE members SET last_active = ? WHERE id IN ("+repo.Marks(len(ids))+")", args...); err != nil {
		return fmt.Errorf("record logins: %w", err)
	}
	return nil
}

// UpdateLogin records a login.
func (s *Store) UpdateLogin(ctx context.Context, id int64, unionID string, at time.Time) error {
	q := s.DB.Conn(ctx).Model(&row{}).Where("id = ?", id)
	upd := map[string]any{"last_active": at.UTC()}
	if unionID != "" {
		upd["unionid"] = unionID
	}
	return q.Updates(upd).Error
}

// SetPhone binds a phone.
func (s *Store) SetPhone(ctx context.Context, id int64, phone string) error {
	err := s.DB.Conn(ctx).Model(&row{}).Where("id = ?", id).Updates(map[string]any{"phone": phone, "phone_tail": tail(phone)}).Error
	if repo.IsDuplicate(err) {
		return domain.Errorf(domain.Conflict, "this phone number is bound to another member")
	}
	if err == nil {
		s.DB.Touch(ctx, id) // the member's cached views show the phone (repo/touch.go)
	}
	return err
}

// SetBirthday records the birthday of a member who has none; one whose
// birthday is set (by a request that got there first) is a Conflict.
func (s *Store) SetBirthday(ctx context.Context, id int64, birthday string) error {
	res := s.DB.Conn(ctx).Model(&row{}).Where("id = ? AND (birthday IS NULL OR birthday = '')", id).Update("birthday", birthday)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return domain.Errorf(domain.Conflict, "the birthday is already set and cannot be changed")
	}
	s.DB.Touch(ctx, id) // the member's cached views show the birthday (repo/touch.go)
	return nil
}

// ByIDs loads the members of ids that exist, in one statement (the order
// webhook's group commit resolves a whole group at once).
func (s *Store) ByIDs(ctx context.Context, ids []int64) (map[int64]*member.Member, error) {
	out := make(map[int64]*member.Member, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var rows []row
	if err := s.DB.Conn(ctx).Where("id IN ?", ids).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("load members: %w", err)
	}
	for i := range rows {
		out[rows[i].ID] = rows[i].toDomain()
	}
	return out, nil
}

// Search implements member.Finder: one indexed lookup per kind (the phone
// tail has its own index), narrowed by registration day, newest first.
func (s *Store) Search(ctx context.Context, q member.Query) ([]*member.Member, error) {
	db := s.DB.Conn(ctx).Model(&row{})
	switch q.By {
	case member.ByID:
		db = db.Where("id = ?", q.Value)
	case member.ByPhone:
		db = db.Where("phone = ?", q.Value)
	case member.ByPhoneLast4:
		db = db.Where("phone_tail = ?", q.Value)
	case member.ByNickname:
		db = db.Where("nickname LIKE ? ESCAPE '!'", likePrefix(q.Value))
	case member.ByOpenID:
		db = db.Where("openid = ?", q.Value)
	case member.ByUnionID:
		db = db.Where("unionid = ?", q.Value)
	default:
		return nil, domain.FieldError("by", "unknown search kind")
	}
	if q.From != (domain.Day{}) {
		db = db.Where("created_at >= ?", q.From.Start().UTC())
	}
	if q.To != (domain.Day{}) {
		db = db.Where("created_at < ?", q.To.AddDays(1).Start().UTC())
	}
	var rows []row
	if err := db.Order("id DESC").Limit(q.Limit).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("search members: %w", err)
	}
	out := make([]*member.Member, len(rows))
	for i := range rows {
		out[i] = rows[i].toDomain()
	}
	return out, nil
}

// likePrefix escapes LIKE's wildcards so a nickname is matched literally.
func likePrefix(s string) string {
	r := strings.NewReplacer("!", "!!", "%", "!%", "_", "!_")
	return r.Replace(s) + "%"
}

// After implements member.Lister: members by id, over the primary key.
func (s *Store) After(ctx context.Context, after int64, limit int) ([]*member.Member, error) {
	var rows []row
	if err := s.DB.Conn(ctx).Where("id > ?", after).Order("id").Limit(limit).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list members: %w", err)
	}
	out := make([]*member.Member, len(rows))
	for i := range rows {
		out[i] = rows[i].toDomain()
	}
	return out, nil
}
