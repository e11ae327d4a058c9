package signinstore

import (
	"context"
	"fmt"
	"slices"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/signin"
	"github.com/jifen/jifen/repo"
)

// LoadGroup implements signin.Store: the members' accounts taken
// (Accounts.TakeAccounts, ascending, no lots: a sign-in only earns), then
// one plain read of their rows of q.Days (Rows), which in a pipelined
// transaction sends the accounts' read with it (see the package doc);
// AccountTaken is filled once that read has returned.
func (s *Store) LoadGroup(ctx context.Context, q signin.SignInGroupQuery) (signin.SignInGroupState, error) {
	if s.Accounts == nil {
		return signin.SignInGroupState{}, fmt.Errorf("signinstore: no Accounts to take the group's points accounts (use New)")
	}
	members := slices.Clone(q.Members)
	slices.Sort(members)
	members = slices.Compact(members)
	taken, err := s.Accounts.TakeAccounts(ctx, members, nil)
	if err != nil {
		return signin.SignInGroupState{}, err
	}
	rows, err := s.Rows(ctx, members, q.Days, false)
	if err != nil {
		return signin.SignInGroupState{}, err
	}
	st := signin.SignInGroupState{Rows: rows, AccountTaken: map[int64]bool{}}
	if taken != nil {
		for _, m := range members {
			if taken(m) {
				st.AccountTaken[m] = true
			}
		}
	}
	return st, nil
}

// Rows implements signin.Store: one read of the members' rows of days
// (primary-key ranges), FOR UPDATE on MySQL when lock. Under READ COMMITTED
// a locking read waits for a row another transaction inserted or updated
// and has not committed, and then reads its committed version.
func (s *Store) Rows(ctx context.Context, members []int64, days []domain.Day, lock bool) ([]signin.Record, error) {
	if len(members) == 0 || len(days) == 0 {
		return nil, nil
	}
	ds := make([]int, len(days))
	for i, d := range days {
		ds[i] = d.Int()
	}
	q := s.DB.Conn(ctx)
	if lock {
		q = s.DB.ForUpdate(q)
	}
	var rs []row
	if err := q.Where("member_id IN ? AND day IN ?", members, ds).Order("member_id, day").Find(&rs).Error; err != nil {
		return nil, fmt.Errorf("signin rows: %w", err)
	}
	return toDomain(rs), nil
}

// InsertMany implements signin.Store with one multi-row INSERT (the
// rows in the order given: callers sort them so that concurrent groups
// lock in the same order). In a pipelined transaction it travels with the
// next statement (repo.DB.Later): a taken day then fails that statement,
// with ErrDuplicate.
func (s *Store) InsertMany(ctx context.Context, rs []signin.Record) error {
	if len(rs) == 0 {
		return nil
	}
	args := make([]any, 0, 6*len(rs))
	for _, r := range rs {
		args = append(args, r.MemberID, r.Day.Int(), r.Streak, r.Points, r.Makeup, r.CreatedAt.UTC())
	}
	n := len(rs)
	return s.DB.Later(ctx, func(err error) error {
		if repo.DuplicateOf(err, "PRIMARY") {
			return fmt.Errorf("insert %d sign-ins: %w", n, signin.ErrDuplicate)
		}
		return err
	}, "INSERT INTO signins (member_id, day, streak, points, makeup, created_at) VALUES "+repo.RowsOf(n, 6), args...)
}
