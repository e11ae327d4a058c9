package ledgerstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/jifen/jifen/domain/ledger"
	"github.com/jifen/jifen/repo"
)

var _ ledger.BatchExpiryStore = (*Store)(nil)

// bulkRows bounds the rows of one multi-row statement and the ids of one
// IN list: placeholders stay far below MySQL's 65,535 and SQLite's 32,766,
// and a list stays under MariaDB's in_predicate_conversion_threshold
// (1,000), beyond which it turns the list into a temporary table joined
// with a sort, several times slower here with two jobs running.
const bulkRows = 500

// LockDueLots implements ledger.BatchExpiryStore with three statements per
// bulkRows members: the accounts locked in ascending order (FOR UPDATE on
// MySQL; the immediate transaction is the lock on SQLite), their due lots,
// and which of them have pending lots to unlock. memberIDs must be
// ascending.
func (s *Store) LockDueLots(ctx context.Context, now time.Time, memberIDs []int64) ([]ledger.DueAccount, error) {
	if !repo.InTransaction(ctx) {
		return nil, fmt.Errorf("ledgerstore: LockDueLots needs a transaction in the context")
	}
	var out []ledger.DueAccount
	for lo := 0; lo < len(memberIDs); lo += bulkRows {
		part, err := s.lockDueLots(ctx, now, memberIDs[lo:min(lo+bulkRows, len(memberIDs))])
		if err != nil {
			return nil, err
		}
		out = append(out, part...)
	}
	return out, nil
}

func (s *Store) lockDueLots(ctx context.Context, now time.Time, memberIDs []int64) ([]ledger.DueAccount, error) {
	lock := ""
	if s.DB.Dialect() == repo.MySQL {
		lock = " FOR UPDATE"
	}
	in, args := idArgs(memberIDs)
	rows, err := s.conn(ctx).QueryContext(ctx, `SELECT member_id, available, pending, held, debt, lifetime_earned, version, updated_at
		FROM ledger_accounts WHERE member_id IN (`+in+`) ORDER BY member_id`+lock, args...)
	if err != nil {
		return nil, fmt.Errorf("lock accounts: %w", err)
	}
	var out []ledger.DueAccount
	at := map[int64]int{}
	for rows.Next() {
		var a ledger.Account
		var updated repo.AnyTime
		if err := rows.Scan(&a.MemberID, &a.Available, &a.Pending, &a.Held, &a.Debt, &a.LifetimeEarned, &a.Version, &updated); err != nil {
			rows.Close()
			return nil, fmt.Errorf("lock accounts: %w", err)
		}
		a.UpdatedAt = updated.T
		at[a.MemberID] = len(out)
		out = append(out, ledger.DueAccount{Account: a})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("lock accounts: %w", err)
	}
	if len(out) == 0 {
		return nil, nil
	}

	// Both lot queries must walk the member index (member_id, state,
	// expires_at) over the batch's members only. Left to itself, MariaDB
	// picked the expiry index (state, expires_at) for a list of more than
	// eq_range_index_dive_limit (200) ids and scanned every due lot of the
	// table for each batch: 40 s of a 100,000-lot run.
	t := now.UTC()
	rows, err = s.conn(ctx).QueryContext(ctx, `SELECT id, member_id, entry_id, amount, remaining, expired, available_at, expires_at, created_at
		FROM ledger_lots `+s.memberIndex()+` WHERE member_id IN (`+in+`) AND state = 'active' AND expires_at <= ? AND remaining > 0
		ORDER BY member_id, id`+lock, append(args, t)...)
	if err != nil {
		return nil, fmt.Errorf("due lots: %w", err)
	}
	for rows.Next() {
		l := ledger.Lot{State: ledger.LotActive}
		var availableAt, expiresAt, createdAt repo.AnyTime
		if err := rows.Scan(&l.ID, &l.MemberID, &l.EntryID, &l.Amount, &l.Remaining, &l.Expired,
			&availableAt, &expiresAt, &createdAt); err != nil {
			rows.Close()
			return nil, fmt.Errorf("due lots: %w", err)
		}
		l.AvailableAt, l.ExpiresAt, l.CreatedAt = availableAt.T, expiresAt.T, createdAt.T
		if i, ok := at[l.MemberID]; ok {
			out[i].DueLots = append(out[i].DueLots, l)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("due lots: %w", err)
	}

	rows, err = s.conn(ctx).QueryContext(ctx, `SELECT DISTINCT member_id FROM ledger_lots `+s.memberIndex()+`
		WHERE member_id IN (`+in+`) AND state = 'pending' AND available_at <= ?`, append(args, t)...)
	if err != nil {
		return nil, fmt.Errorf("due pending lots: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var m int64
		if err := rows.Scan(&m); err != nil {
			return nil, fmt.Errorf("due pending lots: %w", err)
		}
		if i, ok := at[m]; ok {
			out[i].DuePending = true
		}
	}
	return out, rows.Err()
}

// SaveExpiries implements ledger.BatchExpiryStore with five statements per
// bulkRows members whatever their number of lots: the entries in one
// INSERT, their ids read back by key (the unique index; this does not rely
// on how the server hands out auto-increment ids), the allocations in one
// INSERT, the lots in one UPDATE and the accounts in one UPDATE.
func (s *Store) SaveExpiries(ctx context.Context, es []*ledger.MemberExpiry) error {
	for lo := 0; lo < len(es); lo += bulkRows {
		if err := s.saveExpiries(ctx, es[lo:min(lo+bulkRows, len(es))]); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) saveExpiries(ctx context.Context, es []*ledger.MemberExpiry) error {
	if len(es) == 0 {
		return nil
	}
	for _, e := range es {
		s.DB.Touch(ctx, e.Account.MemberID)
	}
	c := s.conn(ctx)
	var q strings.Builder
	q.WriteString(`INSERT INTO ledger_entries (member_id, kind, amount, delta, balance_after, ref_type, ref_id, related_id,
		idem_key, request_hash, title, reason, operator, created_at) VALUES `)
	args := make([]any, 0, 14*len(es))
	keys := make([]any, 0, len(es))
	byKey := make(map[string]*ledger.MemberExpiry, len(es))
	for i, m := range es {
		e := &m.Entry
		if i > 0 {
			q.WriteString(",")
		}
		q.WriteString("(?,?,?,?,?,?,?,?,?,?,?,?,?,?)")
		args = append(args, e.MemberID, string(e.Kind), e.Amount, e.Delta, e.BalanceAfter, e.Ref.Type, e.Ref.ID, e.RelatedID,
			e.Key, e.RequestHash, e.Title, e.Reason, e.Operator, e.CreatedAt.UTC())
		keys = append(keys, e.Key)
		byKey[e.Key] = m
	}
	if _, err := c.ExecContext(ctx, q.String(), args...); err != nil {
		if repo.IsDuplicate(err) {
			return fmt.Errorf("insert expire entries: %w", ledger.ErrDuplicateKey)
		}
		return fmt.Errorf("insert expire entries: %w", err)
	}

	rows, err := c.QueryContext(ctx, `SELECT id, idem_key FROM ledger_entries WHERE idem_key IN (`+repo.Marks(len(keys))+`)`, keys...)
	if err != nil {
		return fmt.Errorf("read expire entry ids: %w", err)
	}
	for rows.Next() {
		var id int64
		var key string
		if err := rows.Scan(&id, &key); err != nil {
			rows.Close()
			return fmt.Errorf("read expire entry ids: %w", err)
		}
		if m := byKey[key]; m != nil {
			m.Entry.ID = id
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read expire entry ids: %w", err)
	}

	var allocs, lots []any
	nAllocs := 0
	for _, m := range es {
		if m.Entry.ID == 0 {
			return fmt.Errorf("expire entry %q was not stored", m.Entry.Key)
		}
		for i := range m.Allocs {
			a := &m.Allocs[i]
			a.EntryID = m.Entry.ID
			allocs = append(allocs, a.EntryID, a.LotID, a.Amount)
			lots = append(lots, a.LotID)
			nAllocs++
		}
	}
	for lo := 0; lo < nAllocs; lo += bulkRows {
		hi := min(lo+bulkRows, nAllocs)
		if _, err := c.ExecContext(ctx, `INSERT INTO ledger_allocations (entry_id, lot_id, amount) VALUES `+
			repo.RowsOf(hi-lo, 3), allocs[3*lo:3*hi]...); err != nil {
			return fmt.Errorf("insert expire allocations: %w", err)
		}
		// Each lot's whole remaining expires (its allocation), so one
		// statement needs no per-row values; the count proves every lot was
		// still as read under the account lock.
		res, err := c.ExecContext(ctx, `UPDATE ledger_lots SET expired = expired + remaining, remaining = 0, state = 'expired'
			WHERE state = 'active' AND remaining > 0 AND id IN (`+repo.Marks(hi-lo)+`)`, lots[lo:hi]...)
		if err != nil {
			return fmt.Errorf("expire lots: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n != int64(hi-lo) {
			return fmt.Errorf("expire lots: %d of %d updated (%v)", n, hi-lo, err)
		}
	}

	// One upsert whose rows all exist (locked above): it sets each
	// account's new balance in one statement, where an UPDATE … CASE
	// member_id WHEN … would compare every row with every id.
	var q2 strings.Builder
	q2.WriteString(`INSERT INTO ledger_accounts (member_id, available, pending, held, debt, lifetime_earned, version, updated_at) VALUES `)
	args = make([]any, 0, 8*len(es))
	for i, m := range es {
		a := &m.Account
		if i > 0 {
			q2.WriteString(",")
		}
		q2.WriteString("(?,?,?,?,?,?,?,?)")
		args = append(args, a.MemberID, a.Available, a.Pending, a.Held, a.Debt, a.LifetimeEarned, a.Version, a.UpdatedAt.UTC())
	}
	perRow := int64(1)
	if s.DB.Dialect() == repo.MySQL {
		q2.WriteString(` ON DUPLICATE KEY UPDATE available = VALUES(available), version = version + 1, updated_at = VALUES(updated_at)`)
		perRow = 2 // MySQL counts an updated duplicate as two rows
	} else {
		q2.WriteString(` ON CONFLICT (member_id) DO UPDATE SET available = excluded.available,
			version = ledger_accounts.version + 1, updated_at = excluded.updated_at`)
	}
	res, err := c.ExecContext(ctx, q2.String(), args...)
	if err != nil {
		return fmt.Errorf("save expired accounts: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n != perRow*int64(len(es)) {
		return fmt.Errorf("save expired accounts: %d rows affected for %d accounts (%v)", n, len(es), err)
	}
	return nil
}

// conn is the transaction (or pool) in ctx as database/sql sees it. The
// bulk statements vary in length, so they are not worth preparing.
func (s *Store) conn(ctx context.Context) interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
} {
	return s.DB.Conn(ctx).Statement.ConnPool
}

// memberIndex is the hint naming the lots' member index in the dialect.
func (s *Store) memberIndex() string {
	if s.DB.Dialect() == repo.MySQL {
		return "FORCE INDEX (idx_ledger_lots_member)"
	}
	return "INDEXED BY idx_ledger_lots_member"
}

func idArgs(ids []int64) (string, []any) {
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	return repo.Marks(len(ids)), args
}
