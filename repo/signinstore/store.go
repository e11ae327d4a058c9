// Package signinstore keeps sign-ins: the rows in SQL (signin.Store) and the
// monthly calendar bitmaps in Redis (signin.Calendar).
//
// Get with lock reads the row FOR UPDATE on MySQL, waiting for an
// uncommitted insert or update of it; under READ COMMITTED (repo.OpenMySQL)
// a missing row locks nothing, which is why a sign-in and a make-up take
// the member's ledger account first. Rows with lock is the same for many.
//
// # A group of sign-ins on MySQL
//
// A sign-in group (domain/signin group.go) runs in a pipelined transaction
// (repo.DB.InPipelinedTx): a statement whose answer nobody waits for is
// queued (repo.DB.Later, LaterRead) and sent with the transaction's next
// statement, run on the server before it, in the order queued. LoadGroup
// (batch.go) takes the members' ledger accounts first (Store.Accounts:
// ledger.AccountTaker, ascending: the lock order of every group and of a
// lone sign-in or make-up, which lock the account before their day rows),
// which queues their locking read, then reads the day rows of step 1
// (Rows, not locking), which sends it: the BEGIN, the accounts' read and
// the rows' read are one request. Only when that read has returned does
// the store know which accounts exist and were taken, so
// signin.SignInGroupState.AccountTaken is filled after it, from what the
// account read found. InsertMany's INSERT of step 2 (repo.DB.Later), the
// ledger's writes and the COMMIT are the other request (plus step 3, a
// locking Rows, when some member had no account). A taken (member, day)
// fails the statement the INSERT travels with and the transaction rolls
// back. MarkMany sets the group's calendar bits in one Redis round trip.
//
// On SQLite, in a caller's transaction, or with pipelining disabled, every
// statement runs at once, in the same order; taking the accounts is then
// nothing (they are locked when the ledger changes them), AccountTaken is
// empty and step 3 reads every inserting member's row of yesterday again.
package signinstore

import (
	"context"
	"fmt"
	"time"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/ledger"
	"github.com/jifen/jifen/domain/signin"
	"github.com/jifen/jifen/repo"
)

type row struct {
	MemberID  int64 `gorm:"primaryKey"`
	Day       int   `gorm:"primaryKey"`
	Streak    int
	Points    int64
	Makeup    bool
	CreatedAt time.Time
}

func (row) TableName() string { return "signins" }

func dayOf(n int) domain.Day {
	return domain.Day{Year: n / 10000, Month: time.Month(n / 100 % 100), Day: n % 100}
}

func (r row) toDomain() signin.Record {
	return signin.Record{MemberID: r.MemberID, Day: dayOf(r.Day), Streak: r.Streak, Points: r.Points, Makeup: r.Makeup, CreatedAt: r.CreatedAt}
}

// Store implements signin.Store.
type Store struct {
	DB *repo.DB
	// Accounts takes a sign-in group's ledger accounts with its load
	// (LoadGroup): the ledger store of the ledger.Service sign-in earns
	// through.
	Accounts ledger.AccountTaker
}

// New returns the store of db whose sign-in groups take their ledger
// accounts through accounts.
func New(db *repo.DB, accounts ledger.AccountTaker) *Store {
	return &Store{DB: db, Accounts: accounts}
}

var _ signin.Store = (*Store)(nil)

// Insert stores a sign-in row.
func (s *Store) Insert(ctx context.Context, r signin.Record) error {
	err := s.DB.Conn(ctx).Create(&row{MemberID: r.MemberID, Day: r.Day.Int(), Streak: r.Streak, Points: r.Points,
		Makeup: r.Makeup, CreatedAt: r.CreatedAt.UTC()}).Error
	if repo.IsDuplicate(err) {
		return fmt.Errorf("member %d day %s: %w", r.MemberID, r.Day, signin.ErrDuplicate)
	}
	return err
}

// Get reads one row, locking it on MySQL when lock.
func (s *Store) Get(ctx context.Context, memberID int64, day domain.Day, lock bool) (signin.Record, bool, error) {
	var rs []row
	q := s.DB.Conn(ctx)
	if lock {
		q = s.DB.ForUpdate(q)
	}
	err := q.Where("member_id = ? AND day = ?", memberID, day.Int()).Limit(1).Find(&rs).Error
	if err != nil || len(rs) == 0 {
		return signin.Record{}, false, err
	}
	return rs[0].toDomain(), true, nil
}

// After reads (locking) the rows after day.
func (s *Store) After(ctx context.Context, memberID int64, day domain.Day, limit int) ([]signin.Record, error) {
	var rs []row
	err := s.DB.ForUpdate(s.DB.Conn(ctx)).Where("member_id = ? AND day > ?", memberID, day.Int()).Order("day").Limit(limit).Find(&rs).Error
	return toDomain(rs), err
}

// Settle sets streak and points of a row.
func (s *Store) Settle(ctx context.Context, memberID int64, day domain.Day, streak int, points int64) error {
	return s.DB.Conn(ctx).Model(&row{}).Where("member_id = ? AND day = ?", memberID, day.Int()).
		Updates(map[string]any{"streak": streak, "points": points}).Error
}

// SetStreak renumbers a row.
func (s *Store) SetStreak(ctx context.Context, memberID int64, day domain.Day, streak int) error {
	return s.DB.Conn(ctx).Model(&row{}).Where("member_id = ? AND day = ?", memberID, day.Int()).Update("streak", streak).Error
}

// Month reads the rows of a month.
func (s *Store) Month(ctx context.Context, memberID int64, first domain.Day) ([]signin.Record, error) {
	from := first.Year*10000 + int(first.Month)*100
	var rs []row
	err := s.DB.Conn(ctx).Where("member_id = ? AND day > ? AND day < ?", memberID, from, from+32).Order("day").Find(&rs).Error
	return toDomain(rs), err
}

// Latest reads the newest row on or before day.
func (s *Store) Latest(ctx context.Context, memberID int64, day domain.Day) (signin.Record, bool, error) {
	var rs []row
	err := s.DB.Conn(ctx).Where("member_id = ? AND day <= ?", memberID, day.Int()).Order("day DESC").Limit(1).Find(&rs).Error
	if err != nil || len(rs) == 0 {
		return signin.Record{}, false, err
	}
	return rs[0].toDomain(), true, nil
}

// Streaks returns the current streaks (rows of today, else yesterday) in
// descending order, for rebuilding the signin_streak board.
func (s *Store) Streaks(ctx context.Context, today domain.Day) (map[int64]int, error) {
	var rs []row
	err := s.DB.Conn(ctx).Select("member_id, day, streak").Where("day IN ?", []int{today.Int(), today.AddDays(-1).Int()}).Find(&rs).Error
	if err != nil {
		return nil, err
	}
	out := map[int64]int{}
	for _, r := range rs {
		if r.Day == today.Int() || out[r.MemberID] == 0 {
			out[r.MemberID] = r.Streak
		}
	}
	return out, nil
}

func toDomain(rs []row) []signin.Record {
	out := make([]signin.Record, 0, len(rs))
	for _, r := range rs {
		out = append(out, r.toDomain())
	}
	return out
}
