// Package ledgerstore is the gorm implementation of ledger.Store, the same
// SQL on MySQL/MariaDB and SQLite (tables in repo/schema/ledger.go).
//
// Locking reads use repo.DB.ForUpdate: SELECT … FOR UPDATE on MySQL, which
// also reads the latest committed rows when the surrounding transaction's
// snapshot is older; on SQLite the BEGIN IMMEDIATE transaction already
// holds the database's write lock.
//
// # A group's accounts and entries
//
// A group (the ledger's own group commit, ledger.Service.Apply and
// ApplyWithoutIDs, and the features that group their requests) loads its
// accounts with one locking read (lockReads: one statement, or two when
// lots come bounded) and writes its rows with one multi-row statement per
// table (WriteBatch; entries in chunks of entryChunk).
//
// ledger.Service.LockMembers (TakeAccounts, ledger.AccountTaker) queues
// that locking read of a group's accounts and lots in a pipelined
// transaction (repo.DB.InPipelinedTx, repo.DB.LaterRead): it travels with
// the transaction's next statement, which the group sends anyway, so the
// accounts are locked at the place of that statement in the group's lock
// order, and the next LockAccounts it covers reads nothing. The func
// TakeAccounts returns answers false until that statement has run; outside
// a pipelined transaction TakeAccounts does nothing, returns nil, and
// LockAccounts reads at once.
//
// A batch whose entry ids nobody reads (ledger.BatchWrite.IDsUnread:
// ledger.Service.ApplyWithoutIDs and the ledger's own groups) sends its
// entries with the COMMIT and reads their ids back in the same request
// (SELECT @v := LAST_INSERT_ID(), consecutive ids with
// innodb_autoinc_lock_mode ≤ 1); a taken key then fails the COMMIT's
// request and the whole transaction rolls back. Otherwise the entries'
// INSERT runs at once (a taken key is ErrDuplicateKey before anything
// else of the batch is written), and the statements after it travel with
// the COMMIT.
package ledgerstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"gorm.io/gorm"

	"github.com/jifen/jifen/domain/ledger"
	"github.com/jifen/jifen/repo"
)

// Store implements ledger.Store.
type Store struct {
	DB    *repo.DB
	stmts stmts
	hints lotHints

	boundedReads atomic.Int64
	lotsRead     atomic.Int64
	pagesOn      atomic.Int64
}

// LotsRead counts the lots the store's reads for writes (the locking reads
// of one member's or a group's lots) have returned since it was made.
func (s *Store) LotsRead() int64 { return s.lotsRead.Load() }

// LotPagesReadOn counts the pages of a member's active lots read after a
// bound (a spend the lots up to it did not pay, or a hint renewed) since
// the store was made.
func (s *Store) LotPagesReadOn() int64 { return s.pagesOn.Load() }

// BoundedLotReads counts the group reads of lots that stopped at members'
// bounds (see lockReads) since the store was made.
func (s *Store) BoundedLotReads() int64 { return s.boundedReads.Load() }

var _ ledger.Store = (*Store)(nil)

type accountRow struct {
	MemberID       int64 `gorm:"primaryKey;autoIncrement:false"`
	Available      int64
	Pending        int64
	Held           int64
	Debt           int64
	LifetimeEarned int64
	Version        int64
	UpdatedAt      time.Time
}

func (accountRow) TableName() string { return "ledger_accounts" }

func (r *accountRow) toDomain() ledger.Account {
	return ledger.Account{MemberID: r.MemberID, Available: r.Available, Pending: r.Pending, Held: r.Held,
		Debt: r.Debt, LifetimeEarned: r.LifetimeEarned, Version: r.Version, UpdatedAt: r.UpdatedAt}
}

type lotRow struct {
	ID          int64 `gorm:"primaryKey"`
	MemberID    int64
	EntryID     int64
	Amount      int64
	Remaining   int64
	Expired     int64
	State       string
	AvailableAt time.Time
	ExpiresAt   time.Time
	CreatedAt   time.Time
}

func (lotRow) TableName() string { return "ledger_lots" }

func (r *lotRow) toDomain() ledger.Lot {
	return ledger.Lot{ID: r.ID, MemberID: r.MemberID, EntryID: r.EntryID, Amount: r.Amount, Remaining: r.Remaining,
		Expired: r.Expired, State: ledger.LotState(r.State), AvailableAt: r.AvailableAt, ExpiresAt: r.ExpiresAt, CreatedAt: r.CreatedAt}
}

type entryRow struct {
	ID           int64 `gorm:"primaryKey"`
	MemberID     int64
	Kind         string
	Amount       int64
	Delta        int64
	BalanceAfter int64
	RefType      string
	RefID        string
	RelatedID    int64
	IdemKey      string
	RequestHash  string
	Title        string
	Reason       string
	Operator     string
	CreatedAt    time.Time
}

func (entryRow) TableName() string { return "ledger_entries" }

func (r *entryRow) toDomain() ledger.Entry {
	return ledger.Entry{ID: r.ID, MemberID: r.MemberID, Kind: ledger.Kind(r.Kind), Amount: r.Amount, Delta: r.Delta,
		BalanceAfter: r.BalanceAfter, Ref: ledger.Ref{Type: r.RefType, ID: r.RefID}, RelatedID: r.RelatedID,
		Key: r.IdemKey, RequestHash: r.RequestHash, Title: r.Title, Reason: r.Reason, Operator: r.Operator, CreatedAt: r.CreatedAt}
}

func entriesToDomain(rs []entryRow) []ledger.Entry {
	out := make([]ledger.Entry, len(rs))
	for i := range rs {
		out[i] = rs[i].toDomain()
	}
	return out
}

type allocationRow struct {
	EntryID int64 `gorm:"primaryKey;autoIncrement:false"`
	LotID   int64 `gorm:"primaryKey;autoIncrement:false"`
	Amount  int64
}

func (allocationRow) TableName() string { return "ledger_allocations" }

type holdRow struct {
	ID        int64 `gorm:"primaryKey"`
	MemberID  int64
	EntryID   int64
	RefType   string
	RefID     string
	Amount    int64
	Status    string
	Deadline  time.Time
	ClosedAt  *time.Time
	CreatedAt time.Time
}

func (holdRow) TableName() string { return "ledger_holds" }

func (r *holdRow) toDomain() ledger.Hold {
	h := ledger.Hold{ID: r.ID, MemberID: r.MemberID, EntryID: r.EntryID, Ref: ledger.Ref{Type: r.RefType, ID: r.RefID},
		Amount: r.Amount, Status: ledger.HoldStatus(r.Status), Deadline: r.Deadline, CreatedAt: r.CreatedAt}
	if r.ClosedAt != nil {
		h.ClosedAt = *r.ClosedAt
	}
	return h
}

func (s *Store) db(ctx context.Context) *gorm.DB { return s.DB.Conn(ctx) }

func (s *Store) locked(ctx context.Context) *gorm.DB { return s.DB.ForUpdate(s.DB.Conn(ctx)) }

// UpdateAccount implements ledger.Store.
func (s *Store) UpdateAccount(ctx context.Context, memberID int64, withLots bool, fn func(ctx context.Context, a *ledger.Account, lots ledger.LiveRead) error) error {
	if !repo.InTransaction(ctx) {
		return errors.New("ledgerstore: UpdateAccount needs a transaction in the context")
	}
	r, lots, found, err := s.lockAccount(ctx, memberID, withLots)
	if err == nil && !found {
		r = accountRow{MemberID: memberID, UpdatedAt: s.DB.Now()}
		_, err = s.exec(ctx, `INSERT INTO ledger_accounts (member_id, available, pending, held, debt, lifetime_earned, version, updated_at)
			VALUES (?, 0, 0, 0, 0, 0, 0, ?)`, memberID, r.UpdatedAt)
		if repo.IsDuplicate(err) {
			r, lots, found, err = s.lockAccount(ctx, memberID, withLots)
			if err == nil && !found {
				err = errors.New("account vanished")
			}
		}
	}
	if err != nil {
		return fmt.Errorf("lock account %d: %w", memberID, err)
	}
	a := r.toDomain()
	before := a
	if err := fn(ctx, &a, lots); err != nil {
		return err
	}
	// fn may have changed the lots even when the account stays the same:
	// the member's cached views go either way (repo/touch.go).
	s.DB.Touch(ctx, memberID)
	if a == before {
		return nil
	}
	_, err = s.exec(ctx, `UPDATE ledger_accounts SET available = ?, pending = ?, held = ?, debt = ?, lifetime_earned = ?,
		version = version + 1, updated_at = ? WHERE member_id = ?`,
		a.Available, a.Pending, a.Held, a.Debt, a.LifetimeEarned, a.UpdatedAt.UTC(), memberID)
	if err != nil {
		return fmt.Errorf("save account %d: %w", memberID, err)
	}
	return nil
}

// liveLots is the condition of ledger.Store.LiveLots on table alias l.
const liveLots = "(l.state = 'pending' OR (l.state = 'active' AND l.remaining > 0))"

// throughKey is the lots of alias l up to a first-to-expire key, its
// arguments keyArgs: two ranges of idx_ledger_lots_member (before the
// key's expiry; at it, up to its id), not expires_at <= e AND (…), which
// for lots that all expire at the end of one day (a year's points) was
// one range over every lot of the member.
const throughKey = "(l.expires_at < ? OR (l.expires_at = ? AND l.id <= ?))"

// keyArgs are the arguments of throughKey (and of the read on after a key).
func keyArgs(k ledger.LotKey) []any { return []any{k.ExpiresAt.UTC(), k.ExpiresAt.UTC(), k.ID} }

// boundedLive is liveLots with the active lots only up to a first-to-expire
// key (keyArgs).
const boundedLive = "(l.state = 'pending' OR (l.state = 'active' AND l.remaining > 0 AND " + throughKey + "))"

// boundedUnion is lockAccount's read of a member up to a hint on MySQL:
// the account with its pending lots, then its active lots up to the hint
// as one range of idx_ledger_lots_member (member, state, expiry). The one
// join of boundedLive's OR leaves the server one way in, every lot of the
// member by member_id: a member with 1,000 lots had all of them examined
// (ANALYZE: 1,000 rows for 4, 0.9 ms) on every spend. Servers with
// JSON_TABLE (MySQL 8, MariaDB ≥ 10.6) take parenthesized locking SELECTs
// in a UNION; elsewhere (TiDB, Portable) the one join stays.
const boundedUnion = `(SELECT ` + accountCols + `, ` + lotCols + `
		FROM ledger_accounts a LEFT JOIN ledger_lots l ON l.member_id = a.member_id AND l.state = 'pending'
		WHERE a.member_id = ? FOR UPDATE)
	UNION ALL
	(SELECT ` + accountCols + `, ` + lotCols + `
		FROM ledger_accounts a JOIN ledger_lots l FORCE INDEX (idx_ledger_lots_member) ON l.member_id = a.member_id
			AND l.state = 'active' AND l.remaining > 0 AND ` + throughKey + `
		WHERE a.member_id = ? FOR UPDATE)
	ORDER BY expires_at, id`

// lockAccount reads and locks the account and, when withLots, its live
// lots, bounded so that a member with many lots costs a spend no more
// than one with few (a spend takes the lots that expire first; see
// ledger.LiveRead):
//
//   - a member whose hint (lotHints) leaves lots out: the pending lots and
//     the active ones up to the hint, in the same statement as the account;
//   - a member known to have few lots: all of them, in the same statement;
//   - a member without a hint: the pending lots with the account, then the
//     first page of active lots (LiveLotsAfter), which teaches the hint;
//   - a member whose hint is running low (runsLow) and has not moved since
//     this read took it: the next page too, which moves the hint.
//
// Every writer of a member's lots holds the account lock, taken first.
func (s *Store) lockAccount(ctx context.Context, memberID int64, withLots bool) (accountRow, ledger.LiveRead, bool, error) {
	var r accountRow
	var read ledger.LiveRead
	q := `SELECT ` + accountCols + ` FROM ledger_accounts a WHERE a.member_id = ?`
	args := []any{memberID}
	page, full := false, false
	if withLots {
		on := liveLots
		switch key, known, cuts := s.hints.bound(memberID); {
		case !known:
			on, page = "l.state = 'pending'", true
		case cuts:
			on, args = boundedLive, append(keyArgs(key), memberID)
			read.Through = &key
		default:
			full = true
		}
		q = `SELECT ` + accountCols + `, ` + lotCols + `
		FROM ledger_accounts a LEFT JOIN ledger_lots l ON l.member_id = a.member_id AND ` + on + `
		WHERE a.member_id = ? ORDER BY l.expires_at, l.id`
		if read.Through != nil && s.DB.Dialect() == repo.MySQL && s.DB.JSONTable() {
			q, args = boundedUnion, append(append([]any{memberID}, keyArgs(*read.Through)...), memberID)
		}
	}
	if s.DB.Dialect() == repo.MySQL && q != boundedUnion {
		q += " FOR UPDATE"
	}
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return r, read, false, err
	}
	accounts, lots, err := scanAccounts(rows, withLots)
	if err != nil {
		return r, read, false, err
	}
	r, found := accounts[memberID]
	read.Lots = lots[memberID]
	s.lotsRead.Add(int64(len(read.Lots)))
	if full {
		s.hints.learn(memberID, read.Lots)
	}
	var after *ledger.LotKey // read on from here (nil: from the first)
	switch {
	case !found:
		return r, read, found, nil
	case page:
	case read.Through != nil && runsLow(read.Lots) && s.hints.holds(memberID, *read.Through):
		// The hint is running out, and no spend moved it since this one
		// took it: read the next page now. Spends read their hint before
		// they queue for the account lock; had the one that empties it
		// read on only then, every spend queued behind it with the same
		// hint would have read the same next page again.
		after = read.Through
	default:
		return r, read, found, nil
	}
	ls, err := s.activePage(ctx, memberID, after, firstPage)
	if err != nil {
		return r, read, false, err
	}
	read.Lots = append(read.Lots, ls...)
	read.Through = nil // every active lot is read…
	if len(ls) == firstPage {
		k := ls[len(ls)-1].Key() // …unless the page was full
		read.Through = &k
	}
	return r, read, found, nil
}

// firstPage is how many active lots lockAccount reads for a member
// without a hint.
const firstPage = 16

// LiveLotsAfter implements ledger.Store.
func (s *Store) LiveLotsAfter(ctx context.Context, memberID int64, after ledger.LotKey, limit int) ([]ledger.Lot, error) {
	return s.activePage(ctx, memberID, &after, limit)
}

// activePage reads (locking) up to limit active lots of the member with
// points remaining, after the key when there is one, first to expire
// first, and learns the member's hint from them.
func (s *Store) activePage(ctx context.Context, memberID int64, after *ledger.LotKey, limit int) ([]ledger.Lot, error) {
	q := `SELECT ` + lotCols + ` FROM ledger_lots l WHERE l.member_id = ? AND l.state = 'active' AND l.remaining > 0`
	args := []any{memberID}
	if after != nil {
		s.pagesOn.Add(1)
		q += ` AND (l.expires_at > ? OR (l.expires_at = ? AND l.id > ?))`
		args = append(args, keyArgs(*after)...)
	}
	q += ` ORDER BY l.expires_at, l.id LIMIT ?`
	args = append(args, limit)
	if s.DB.Dialect() == repo.MySQL {
		q += " FOR UPDATE"
	}
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("active lots of %d: %w", memberID, err)
	}
	defer rows.Close()
	var out []ledger.Lot
	var (
		l                                 ledger.Lot
		state                             sql.RawBytes
		availableAt, expiresAt, createdAt repo.AnyTime
	)
	for rows.Next() {
		if err := rows.Scan(&l.ID, &l.EntryID, &l.Amount, &l.Remaining, &l.Expired, &state, &availableAt, &expiresAt, &createdAt); err != nil {
			return nil, fmt.Errorf("active lots of %d: %w", memberID, err)
		}
		l.MemberID, l.State, l.AvailableAt, l.ExpiresAt, l.CreatedAt = memberID, lotState(state), availableAt.T, expiresAt.T, createdAt.T
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("active lots of %d: %w", memberID, err)
	}
	s.lotsRead.Add(int64(len(out)))
	s.hints.learnPage(memberID, out, len(out) == limit)
	return out, nil
}

// accountCols are the columns lockAccount and LockAccounts read, account
// first, then (with lots) the lot columns.
const (
	accountCols = `a.member_id, a.available, a.pending, a.held, a.debt, a.lifetime_earned, a.version, a.updated_at`
	lotCols     = `l.id, l.entry_id, l.amount, l.remaining, l.expired, l.state, l.available_at, l.expires_at, l.created_at`
)

// scanAccounts reads rows of accountCols (and lotCols when withLots, NULL
// for an account without live lots) and closes rows.
func scanAccounts(rows *sql.Rows, withLots bool) (map[int64]accountRow, map[int64][]ledger.Lot, error) {
	defer rows.Close()
	return scanAccountRows(rows, withLots)
}

// scanAccountRows is scanAccounts leaving the rows open (a deferred read's
// result set is followed by others).
func scanAccountRows(rows *sql.Rows, withLots bool) (map[int64]accountRow, map[int64][]ledger.Lot, error) {
	accounts := map[int64]accountRow{}
	lots := map[int64][]ledger.Lot{}
	// One set of destinations for every row: a lot's columns are NULL
	// when the account has none (LEFT JOIN).
	var (
		r                                       accountRow
		id, entryID, amount, remaining, expired sql.NullInt64
		state                                   sql.RawBytes
		availableAt, expiresAt, createdAt       repo.AnyTime
		updatedAt                               repo.AnyTime
	)
	dest := []any{&r.MemberID, &r.Available, &r.Pending, &r.Held, &r.Debt, &r.LifetimeEarned, &r.Version, &updatedAt}
	if withLots {
		dest = append(dest, &id, &entryID, &amount, &remaining, &expired, &state, &availableAt, &expiresAt, &createdAt)
	}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return nil, nil, err
		}
		r.UpdatedAt = updatedAt.T
		accounts[r.MemberID] = r
		if id.Valid {
			lots[r.MemberID] = append(lots[r.MemberID], ledger.Lot{ID: id.Int64, MemberID: r.MemberID, EntryID: entryID.Int64, Amount: amount.Int64,
				Remaining: remaining.Int64, Expired: expired.Int64, State: lotState(state), AvailableAt: availableAt.T, ExpiresAt: expiresAt.T,
				CreatedAt: createdAt.T})
		}
	}
	return accounts, lots, rows.Err()
}

// lotState names a lot's state without a copy for the usual ones.
func lotState(b []byte) ledger.LotState {
	for _, st := range []ledger.LotState{ledger.LotActive, ledger.LotSpent, ledger.LotPending, ledger.LotExpired} {
		if string(b) == string(st) {
			return st
		}
	}
	return ledger.LotState(b)
}

// EntryByKey implements ledger.Store.
func (s *Store) EntryByKey(ctx context.Context, key string) (ledger.Entry, bool, error) {
	rows, err := s.query(ctx, `SELECT `+entryCols+` FROM ledger_entries WHERE idem_key = ?`, key)
	if err != nil {
		return ledger.Entry{}, false, fmt.Errorf("entry by key: %w", err)
	}
	defer rows.Close()
	if !rows.Next() {
		return ledger.Entry{}, false, rows.Err()
	}
	var r entryRow
	var created repo.AnyTime
	if err := rows.Scan(&r.ID, &r.MemberID, &r.Kind, &r.Amount, &r.Delta, &r.BalanceAfter, &r.RefType, &r.RefID, &r.RelatedID,
		&r.IdemKey, &r.RequestHash, &r.Title, &r.Reason, &r.Operator, &created); err != nil {
		return ledger.Entry{}, false, fmt.Errorf("entry by key: %w", err)
	}
	r.CreatedAt = created.T
	return r.toDomain(), true, nil
}

const entryCols = `id, member_id, kind, amount, delta, balance_after, ref_type, ref_id, related_id, idem_key, request_hash, title, reason, operator, created_at`

// InsertEntry implements ledger.Store.
func (s *Store) InsertEntry(ctx context.Context, e *ledger.Entry) error {
	res, err := s.exec(ctx, `INSERT INTO ledger_entries (member_id, kind, amount, delta, balance_after, ref_type, ref_id, related_id,
		idem_key, request_hash, title, reason, operator, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.MemberID, string(e.Kind), e.Amount, e.Delta, e.BalanceAfter, e.Ref.Type, e.Ref.ID, e.RelatedID,
		e.Key, e.RequestHash, e.Title, e.Reason, e.Operator, e.CreatedAt.UTC())
	if err != nil {
		if repo.IsDuplicate(err) {
			return fmt.Errorf("insert entry %q: %w", e.Key, ledger.ErrDuplicateKey)
		}
		return fmt.Errorf("insert entry: %w", err)
	}
	e.ID, err = res.LastInsertId()
	return err
}

// EntriesByRef implements ledger.Store.
func (s *Store) EntriesByRef(ctx context.Context, memberID int64, ref ledger.Ref) ([]ledger.Entry, error) {
	var rs []entryRow
	err := s.db(ctx).Where("member_id = ? AND ref_type = ? AND ref_id = ?", memberID, ref.Type, ref.ID).Order("id").Find(&rs).Error
	if err != nil {
		return nil, fmt.Errorf("entries by ref: %w", err)
	}
	return entriesToDomain(rs), nil
}

// ReversalsOf implements ledger.Store.
func (s *Store) ReversalsOf(ctx context.Context, entryID int64) ([]ledger.Entry, error) {
	var rs []entryRow
	err := s.locked(ctx).Where("related_id = ? AND kind = ?", entryID, string(ledger.KindReverse)).Order("id").Find(&rs).Error
	if err != nil {
		return nil, fmt.Errorf("reversals of %d: %w", entryID, err)
	}
	return entriesToDomain(rs), nil
}

func lotsToDomain(rs []lotRow) []ledger.Lot {
	out := make([]ledger.Lot, len(rs))
	for i := range rs {
		out[i] = rs[i].toDomain()
	}
	return out
}

// LiveLots implements ledger.Store.
func (s *Store) LiveLots(ctx context.Context, memberID int64) ([]ledger.Lot, error) {
	var rs []lotRow
	err := s.locked(ctx).Table("ledger_lots AS l").Where("l.member_id = ? AND "+liveLots, memberID).
		Order("l.expires_at, l.id").Find(&rs).Error
	if err != nil {
		return nil, fmt.Errorf("live lots of %d: %w", memberID, err)
	}
	lots := lotsToDomain(rs)
	s.lotsRead.Add(int64(len(lots)))
	s.hints.learn(memberID, lots)
	return lots, nil
}

// LotsByID implements ledger.Store.
func (s *Store) LotsByID(ctx context.Context, memberID int64, ids []int64) ([]ledger.Lot, error) {
	var rs []lotRow
	err := s.locked(ctx).Where("member_id = ? AND id IN ?", memberID, ids).Order("id").Find(&rs).Error
	if err != nil {
		return nil, fmt.Errorf("lots by id: %w", err)
	}
	return lotsToDomain(rs), nil
}

// LotOfEntry implements ledger.Store.
func (s *Store) LotOfEntry(ctx context.Context, memberID, entryID int64) (ledger.Lot, bool, error) {
	var r lotRow
	err := s.locked(ctx).Where("member_id = ? AND entry_id = ?", memberID, entryID).Take(&r).Error
	if repo.IsNotFound(err) {
		return ledger.Lot{}, false, nil
	}
	if err != nil {
		return ledger.Lot{}, false, fmt.Errorf("lot of entry %d: %w", entryID, err)
	}
	return r.toDomain(), true, nil
}

// InsertLot implements ledger.Store.
func (s *Store) InsertLot(ctx context.Context, l *ledger.Lot) error {
	res, err := s.exec(ctx, `INSERT INTO ledger_lots (member_id, entry_id, amount, remaining, expired, state, available_at, expires_at, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, l.MemberID, l.EntryID, l.Amount, l.Remaining, l.Expired, string(l.State),
		l.AvailableAt.UTC(), l.ExpiresAt.UTC(), l.CreatedAt.UTC())
	if err != nil {
		return fmt.Errorf("insert lot: %w", err)
	}
	l.ID, err = res.LastInsertId()
	return err
}

// UpdateLot implements ledger.Store.
func (s *Store) UpdateLot(ctx context.Context, l *ledger.Lot) error {
	_, err := s.exec(ctx, `UPDATE ledger_lots SET remaining = ?, expired = ?, state = ? WHERE id = ?`,
		l.Remaining, l.Expired, string(l.State), l.ID)
	if err != nil {
		return fmt.Errorf("update lot %d: %w", l.ID, err)
	}
	return nil
}

// InsertAllocations implements ledger.Store.
func (s *Store) InsertAllocations(ctx context.Context, as []ledger.Allocation) error {
	if len(as) == 1 { // the usual case, a prepared statement
		_, err := s.exec(ctx, `INSERT INTO ledger_allocations (entry_id, lot_id, amount) VALUES (?, ?, ?)`, as[0].EntryID, as[0].LotID, as[0].Amount)
		if err != nil {
			return fmt.Errorf("insert allocation: %w", err)
		}
		return nil
	}
	rs := make([]allocationRow, len(as))
	for i, a := range as {
		rs[i] = allocationRow{EntryID: a.EntryID, LotID: a.LotID, Amount: a.Amount}
	}
	if err := s.db(ctx).Create(&rs).Error; err != nil {
		return fmt.Errorf("insert allocations: %w", err)
	}
	return nil
}

// Allocations implements ledger.Store.
func (s *Store) Allocations(ctx context.Context, entryIDs []int64) ([]ledger.Allocation, error) {
	var rs []allocationRow
	if err := s.locked(ctx).Where("entry_id IN ?", entryIDs).Order("entry_id, lot_id").Find(&rs).Error; err != nil {
		return nil, fmt.Errorf("allocations: %w", err)
	}
	out := make([]ledger.Allocation, len(rs))
	for i, r := range rs {
		out[i] = ledger.Allocation{EntryID: r.EntryID, LotID: r.LotID, Amount: r.Amount}
	}
	return out, nil
}

// InsertHold implements ledger.Store.
func (s *Store) InsertHold(ctx context.Context, h *ledger.Hold) error {
	r := holdRow{MemberID: h.MemberID, EntryID: h.EntryID, RefType: h.Ref.Type, RefID: h.Ref.ID, Amount: h.Amount,
		Status: string(h.Status), Deadline: h.Deadline.UTC(), CreatedAt: h.CreatedAt.UTC()}
	if err := s.db(ctx).Create(&r).Error; err != nil {
		return fmt.Errorf("insert hold: %w", err)
	}
	h.ID = r.ID
	return nil
}

func (s *Store) oneHold(q *gorm.DB) (ledger.Hold, bool, error) {
	var r holdRow
	err := q.Take(&r).Error
	if repo.IsNotFound(err) {
		return ledger.Hold{}, false, nil
	}
	if err != nil {
		return ledger.Hold{}, false, fmt.Errorf("load hold: %w", err)
	}
	return r.toDomain(), true, nil
}

// HoldByRef implements ledger.Store.
func (s *Store) HoldByRef(ctx context.Context, memberID int64, ref ledger.Ref) (ledger.Hold, bool, error) {
	return s.oneHold(s.locked(ctx).Where("member_id = ? AND ref_type = ? AND ref_id = ?", memberID, ref.Type, ref.ID).Order("id DESC"))
}

// HoldByID implements ledger.Store.
func (s *Store) HoldByID(ctx context.Context, id int64) (ledger.Hold, bool, error) {
	return s.oneHold(s.locked(ctx).Where("id = ?", id))
}

// UpdateHold implements ledger.Store.
func (s *Store) UpdateHold(ctx context.Context, h *ledger.Hold) error {
	var closed *time.Time
	if !h.ClosedAt.IsZero() {
		t := h.ClosedAt.UTC()
		closed = &t
	}
	err := s.db(ctx).Model(&holdRow{}).Where("id = ?", h.ID).
		Updates(map[string]any{"status": string(h.Status), "closed_at": closed}).Error
	if err != nil {
		return fmt.Errorf("update hold %d: %w", h.ID, err)
	}
	return nil
}

// MembersWithDueLots implements ledger.Store.
func (s *Store) MembersWithDueLots(ctx context.Context, now time.Time, limit int) ([]int64, error) {
	var ids []int64
	err := s.db(ctx).Model(&lotRow{}).Where("state = ? AND expires_at <= ? AND remaining > 0", string(ledger.LotActive), now.UTC()).
		Order("expires_at").Limit(limit).Pluck("member_id", &ids).Error
	if err != nil {
		return nil, fmt.Errorf("due lots: %w", err)
	}
	return ids, nil
}

// DueMembersBetween implements ledger.Store. It walks the member index
// (member_id, state, expires_at), so a claimed range costs its own lots
// only; the hint is needed: MariaDB preferred the expiry index and read
// every due lot of the table for each batch (see memberIndex).
func (s *Store) DueMembersBetween(ctx context.Context, now time.Time, after, before int64, limit int) ([]int64, error) {
	var ids []int64
	err := s.db(ctx).Table("ledger_lots "+s.memberIndex()).Distinct("member_id").
		Where("member_id > ? AND member_id < ? AND state = ? AND expires_at <= ? AND remaining > 0",
			after, before, string(ledger.LotActive), now.UTC()).
		Order("member_id").Limit(limit).Pluck("member_id", &ids).Error
	if err != nil {
		return nil, fmt.Errorf("due members between %d and %d: %w", after, before, err)
	}
	return ids, nil
}

// MaxAccountID implements ledger.Store.
func (s *Store) MaxAccountID(ctx context.Context) (int64, error) {
	var max *int64
	if err := s.db(ctx).Model(&accountRow{}).Select("MAX(member_id)").Scan(&max).Error; err != nil {
		return 0, fmt.Errorf("max account id: %w", err)
	}
	if max == nil {
		return 0, nil
	}
	return *max, nil
}

// MembersWithDuePending implements ledger.Store.
func (s *Store) MembersWithDuePending(ctx context.Context, now time.Time, limit int) ([]int64, error) {
	var ids []int64
	err := s.db(ctx).Model(&lotRow{}).Where("state = ? AND available_at <= ?", string(ledger.LotPending), now.UTC()).
		Limit(limit).Pluck("member_id", &ids).Error
	if err != nil {
		return nil, fmt.Errorf("due pending lots: %w", err)
	}
	return ids, nil
}

// DuePendingBetween implements ledger.Store. Like DueMembersBetween it
// walks the member index (member_id, state, …), so a claimed range costs
// its own lots only.
func (s *Store) DuePendingBetween(ctx context.Context, now time.Time, after, before int64, limit int) ([]int64, error) {
	var ids []int64
	err := s.db(ctx).Table("ledger_lots "+s.memberIndex()).Distinct("member_id").
		Where("member_id > ? AND member_id < ? AND state = ? AND available_at <= ?",
			after, before, string(ledger.LotPending), now.UTC()).
		Order("member_id").Limit(limit).Pluck("member_id", &ids).Error
	if err != nil {
		return nil, fmt.Errorf("due pending members between %d and %d: %w", after, before, err)
	}
	return ids, nil
}

// HasDuePending implements ledger.Store.
func (s *Store) HasDuePending(ctx context.Context, memberID int64, now time.Time) (bool, error) {
	var ids []int64
	err := s.db(ctx).Model(&lotRow{}).Where("member_id = ? AND state = ? AND available_at <= ?",
		memberID, string(ledger.LotPending), now.UTC()).Limit(1).Pluck("id", &ids).Error
	if err != nil {
		return false, fmt.Errorf("due pending lots of %d: %w", memberID, err)
	}
	return len(ids) > 0, nil
}

// UnsettledMembers implements ledger.Store: one read of the members' due
// lots, on the member index (member_id, state, …).
func (s *Store) UnsettledMembers(ctx context.Context, now time.Time, memberIDs []int64) ([]int64, error) {
	if len(memberIDs) == 0 {
		return nil, nil
	}
	var ids []int64
	err := s.db(ctx).Table("ledger_lots "+s.memberIndex()).Distinct("member_id").
		Where("member_id IN ? AND ((state = ? AND remaining > 0 AND expires_at <= ?) OR (state = ? AND available_at <= ?))",
			memberIDs, string(ledger.LotActive), now.UTC(), string(ledger.LotPending), now.UTC()).
		Pluck("member_id", &ids).Error
	if err != nil {
		return nil, fmt.Errorf("unsettled members: %w", err)
	}
	return ids, nil
}

// DueHolds implements ledger.Store.
func (s *Store) DueHolds(ctx context.Context, now time.Time, limit int) ([]ledger.Hold, error) {
	var rs []holdRow
	err := s.db(ctx).Where("status = ? AND deadline <= ?", string(ledger.HoldOpen), now.UTC()).Order("deadline").Limit(limit).Find(&rs).Error
	if err != nil {
		return nil, fmt.Errorf("due holds: %w", err)
	}
	out := make([]ledger.Hold, len(rs))
	for i := range rs {
		out[i] = rs[i].toDomain()
	}
	return out, nil
}

// Account implements ledger.Store: a prepared statement by primary key
// (every balance read starts here).
func (s *Store) Account(ctx context.Context, memberID int64) (ledger.Account, bool, error) {
	rows, err := s.query(ctx, `SELECT `+accountCols+` FROM ledger_accounts a WHERE a.member_id = ?`, memberID)
	if err != nil {
		return ledger.Account{}, false, fmt.Errorf("account %d: %w", memberID, err)
	}
	accounts, _, err := scanAccounts(rows, false)
	if err != nil {
		return ledger.Account{}, false, fmt.Errorf("account %d: %w", memberID, repo.SQLOutage(err))
	}
	r, found := accounts[memberID]
	return r.toDomain(), found, nil
}

// ActiveLots implements ledger.Store.
func (s *Store) ActiveLots(ctx context.Context, memberID int64, limit int) ([]ledger.Lot, error) {
	var rs []lotRow
	err := s.db(ctx).Where("member_id = ? AND state = ? AND remaining > 0", memberID, string(ledger.LotActive)).
		Order("expires_at, id").Limit(limit).Find(&rs).Error
	if err != nil {
		return nil, fmt.Errorf("active lots of %d: %w", memberID, err)
	}
	return lotsToDomain(rs), nil
}

// ExpiringSums implements ledger.Store: the member index (member_id,
// state, expires_at) gives the instants in order, so the read stops after
// limit of them.
func (s *Store) ExpiringSums(ctx context.Context, memberID int64, after time.Time, limit int) ([]ledger.ExpiringAmount, error) {
	q := `SELECT expires_at, SUM(remaining) FROM ledger_lots WHERE member_id = ? AND state = 'active' AND remaining > 0`
	args := []any{memberID}
	if !after.IsZero() {
		q += ` AND expires_at > ?`
		args = append(args, after.UTC())
	}
	q += ` GROUP BY expires_at ORDER BY expires_at LIMIT ?`
	rows, err := s.query(ctx, q, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("expiring sums of %d: %w", memberID, err)
	}
	defer rows.Close()
	var out []ledger.ExpiringAmount
	for rows.Next() {
		var at repo.AnyTime
		var sum int64
		if err := rows.Scan(&at, &sum); err != nil {
			return nil, fmt.Errorf("expiring sums of %d: %w", memberID, err)
		}
		out = append(out, ledger.ExpiringAmount{Amount: sum, ExpiresAt: at.T})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("expiring sums of %d: %w", memberID, err)
	}
	return out, nil
}

// entriesByMember names ledger_entries read through its (member_id, id)
// index: with few entries per member MariaDB takes the (member_id,
// ref_type, ref_id) index instead and sorts all of the member's entries
// for a page of the newest.
func (s *Store) entriesByMember() string {
	if s.DB.Dialect() == repo.MySQL {
		return "ledger_entries FORCE INDEX (idx_ledger_entries_member)"
	}
	return "ledger_entries"
}

// Entries implements ledger.Store.
func (s *Store) Entries(ctx context.Context, memberID int64, beforeID int64, limit int) ([]ledger.Entry, error) {
	q := s.db(ctx).Table(s.entriesByMember()).Where("member_id = ?", memberID)
	if beforeID > 0 {
		q = q.Where("id < ?", beforeID)
	}
	var rs []entryRow
	if err := q.Order("id DESC").Limit(limit).Find(&rs).Error; err != nil {
		return nil, fmt.Errorf("entries of %d: %w", memberID, err)
	}
	return entriesToDomain(rs), nil
}

// ExpiringBetween implements ledger.Store.
func (s *Store) ExpiringBetween(ctx context.Context, from, to time.Time, afterMember int64, limit int) ([]ledger.MemberExpiring, error) {
	var rs []struct {
		MemberID int64
		Amount   int64
		First    repo.AnyTime
	}
	err := s.db(ctx).Model(&lotRow{}).
		Select("member_id, SUM(remaining) AS amount, MIN(expires_at) AS first").
		Where("state = ? AND remaining > 0 AND expires_at >= ? AND expires_at < ? AND member_id > ?",
			string(ledger.LotActive), from.UTC(), to.UTC(), afterMember).
		Group("member_id").Order("member_id").Limit(limit).Scan(&rs).Error
	if err != nil {
		return nil, fmt.Errorf("expiring between: %w", err)
	}
	out := make([]ledger.MemberExpiring, len(rs))
	for i, r := range rs {
		out[i] = ledger.MemberExpiring{MemberID: r.MemberID, Amount: r.Amount, FirstExpiry: r.First.T}
	}
	return out, nil
}

// Totals implements ledger.Store.
func (s *Store) Totals(ctx context.Context, memberID int64) (ledger.Totals, error) {
	var t ledger.Totals
	var r accountRow
	err := s.locked(ctx).Where("member_id = ?", memberID).Take(&r).Error
	switch {
	case repo.IsNotFound(err):
	case err != nil:
		return t, fmt.Errorf("account %d: %w", memberID, err)
	default:
		t.Account, t.Found = r.toDomain(), true
	}
	db := s.db(ctx)
	var lots []struct {
		State string
		Sum   int64
	}
	if err := db.Model(&lotRow{}).Select("state, COALESCE(SUM(remaining), 0) AS sum").
		Where("member_id = ?", memberID).Group("state").Scan(&lots).Error; err != nil {
		return t, fmt.Errorf("lot sums: %w", err)
	}
	for _, l := range lots {
		switch ledger.LotState(l.State) {
		case ledger.LotActive:
			t.LotActive = l.Sum
		case ledger.LotPending:
			t.LotPending = l.Sum
		}
	}
	if err := db.Model(&lotRow{}).Where("member_id = ? AND (remaining < 0 OR expired < 0 OR remaining > amount)", memberID).
		Count(&t.NegativeLots).Error; err != nil {
		return t, fmt.Errorf("bad lots: %w", err)
	}
	if err := db.Model(&holdRow{}).Select("COALESCE(SUM(amount), 0)").
		Where("member_id = ? AND status = ?", memberID, string(ledger.HoldOpen)).Scan(&t.OpenHolds).Error; err != nil {
		return t, fmt.Errorf("hold sum: %w", err)
	}
	if err := db.Model(&entryRow{}).Select("COALESCE(SUM(delta), 0)").Where("member_id = ?", memberID).
		Scan(&t.EntryDeltas).Error; err != nil {
		return t, fmt.Errorf("entry sum: %w", err)
	}
	err = db.Raw(`SELECT e.id FROM ledger_entries e
		LEFT JOIN ledger_allocations a ON a.entry_id = e.id
		WHERE e.member_id = ? AND (e.kind IN ? OR (e.kind = ? AND e.delta < 0))
		GROUP BY e.id, e.amount
		HAVING COALESCE(SUM(a.amount), 0) <> e.amount
		ORDER BY e.id`,
		memberID, []string{string(ledger.KindSpend), string(ledger.KindHold), string(ledger.KindExpire)}, string(ledger.KindAdjust)).
		Scan(&t.UnbalancedDebits).Error
	if err != nil {
		return t, fmt.Errorf("allocation sums: %w", err)
	}
	return t, nil
}

// AccountIDs implements ledger.Store.
func (s *Store) AccountIDs(ctx context.Context, after int64, limit int) ([]int64, error) {
	var ids []int64
	err := s.db(ctx).Model(&accountRow{}).Where("member_id > ?", after).Order("member_id").Limit(limit).Pluck("member_id", &ids).Error
	if err != nil {
		return nil, fmt.Errorf("account ids: %w", err)
	}
	return ids, nil
}
