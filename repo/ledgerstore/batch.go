package ledgerstore

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/jifen/jifen/domain/ledger"
	"github.com/jifen/jifen/repo"
)

var _ ledger.BatchStore = (*Store)(nil)

// batchChunk caps the rows of one multi-row statement (placeholders stay
// far below both dialects' limits).
const batchChunk = 200

// entryChunk caps the entries of one INSERT (14 placeholders each, under
// SQLite's 32,766). Only a taken key in the first one is ErrDuplicateKey:
// after it, earlier rows of the batch are written, and the transaction
// must fail.
const entryChunk = 2000

// LockAccounts implements ledger.BatchStore: one locking read of all the
// accounts, ascending, with the live lots of the members in withLots (see
// lockReads). The accounts a TakeAccounts of the same transaction read
// are used instead when they cover the request (once: the next call reads
// again).
func (s *Store) LockAccounts(ctx context.Context, members []int64, withLots map[int64]bool) (map[int64]ledger.Account, map[int64]ledger.LiveRead, error) {
	if !repo.InTransaction(ctx) {
		return nil, nil, fmt.Errorf("ledgerstore: LockAccounts needs a transaction in the context")
	}
	if v, set := repo.Local(ctx, prelockKey{}); v != nil {
		set(nil)
		if p := v.(*prelocked); p.covers(members, withLots) {
			return p.accounts, p.lots, nil
		}
	}
	// The statements go in one request (a pipelined transaction; elsewhere
	// each runs at once).
	p, reads := s.lockReads(members, withLots)
	for _, r := range reads {
		if err := s.DB.LaterRead(ctx, func(rows *sql.Rows) error { return r.scan(rows, p) }, r.q, r.args...); err != nil {
			return nil, nil, fmt.Errorf("lock accounts: %w", err)
		}
	}
	if err := s.DB.Flush(ctx); err != nil {
		return nil, nil, fmt.Errorf("lock accounts: %w", err)
	}
	return p.accounts, p.lots, nil
}

// TakeAccounts implements ledger.AccountTaker: in a pipelined transaction
// the locking read of LockAccounts travels with the transaction's next
// statement, and the next LockAccounts covered by it reads nothing.
// Outside one it does nothing (nil: LockAccounts reads as usual).
func (s *Store) TakeAccounts(ctx context.Context, members []int64, withLots map[int64]bool) (func(int64) bool, error) {
	if !repo.Pipelined(ctx) || len(members) == 0 {
		return nil, nil
	}
	p, reads := s.lockReads(members, withLots)
	_, set := repo.Local(ctx, prelockKey{})
	done := false
	for i, r := range reads {
		last := i == len(reads)-1
		err := s.DB.LaterRead(ctx, func(rows *sql.Rows) error {
			if err := r.scan(rows, p); err != nil {
				return fmt.Errorf("lock accounts: %w", err)
			}
			if last {
				done = true
				set(p)
			}
			return nil
		}, r.q, r.args...)
		if err != nil {
			return nil, err
		}
	}
	return func(m int64) bool {
		if !done {
			return false
		}
		_, ok := p.accounts[m]
		return ok
	}, nil
}

type prelockKey struct{}

// prelocked is what a locking read of accounts found.
type prelocked struct {
	members  map[int64]bool
	withLots map[int64]bool
	accounts map[int64]ledger.Account
	lots     map[int64]ledger.LiveRead
}

// covers reports whether the read answers LockAccounts(members, withLots).
func (p *prelocked) covers(members []int64, withLots map[int64]bool) bool {
	for _, m := range members {
		if !p.members[m] {
			return false
		}
	}
	for m, ok := range withLots {
		if ok && !p.withLots[m] {
			return false
		}
	}
	return true
}

// lockRead is one statement of LockAccounts' read and how its rows fill
// the result.
type lockRead struct {
	q    string
	args []any
	scan func(rows *sql.Rows, p *prelocked) error
}

// lockReads is the locking read of the accounts of members (ascending),
// with the live lots of those in withLots, in one or two statements.
//
// On MySQL at READ COMMITTED, on a server that takes parenthesized SELECTs
// in a UNION (JSONTable: MySQL 8, MariaDB ≥ 10.6), lots come bounded when a
// member's hint leaves lots out: a spend takes the lots that expire first,
// and reading every live lot of every member costs a group more than the
// rest of its reads together (a member earning daily has hundreds). The
// first statement locks the accounts with their pending lots; the second
// reads the active lots of each member up to the member's hint (lotHints:
// learnt from an earlier full read), or all of them for a member without
// one. It takes no lock: every writer of a member's lots holds the account
// lock, taken just before, so a plain read at READ COMMITTED sees what a
// locking one would. A spend the prefix does not pay reads the rest
// (ledger.LiveRead).
//
// Elsewhere it is one statement: the accounts locked with all their live
// lots.
func (s *Store) lockReads(members []int64, withLots map[int64]bool) (*prelocked, []lockRead) {
	p := &prelocked{members: make(map[int64]bool, len(members)), withLots: map[int64]bool{},
		accounts: make(map[int64]ledger.Account, len(members)), lots: map[int64]ledger.LiveRead{}}
	var lotMembers []int64
	for _, m := range members {
		p.members[m] = true
		if withLots[m] {
			p.withLots[m] = true
			lotMembers = append(lotMembers, m)
		}
	}
	lock := ""
	if s.DB.Dialect() == repo.MySQL {
		lock = " FOR UPDATE"
	}
	args := make([]any, 0, len(lotMembers)+len(members))
	for _, m := range lotMembers {
		args = append(args, m)
	}
	for _, m := range members {
		args = append(args, m)
	}
	accounts := func(rows *sql.Rows, p *prelocked, lots bool) error {
		rs, ls, err := scanAccountRows(rows, lots)
		if err != nil {
			return err
		}
		for id, r := range rs {
			p.accounts[id] = r.toDomain()
		}
		for id, l := range ls {
			p.lots[id] = ledger.LiveRead{Lots: l}
			s.lotsRead.Add(int64(len(l)))
		}
		return nil
	}
	if len(lotMembers) == 0 {
		return p, []lockRead{{
			q:    `SELECT ` + accountCols + ` FROM ledger_accounts a WHERE a.member_id IN (` + repo.Marks(len(members)) + `) ORDER BY a.member_id` + lock,
			args: args,
			scan: func(rows *sql.Rows, p *prelocked) error { return accounts(rows, p, false) },
		}}
	}
	var hints map[int64]ledger.LotKey
	if s.DB.Dialect() == repo.MySQL && s.DB.ReadsLatest() && s.DB.JSONTable() {
		hints = s.hints.get(lotMembers)
	}
	bounded := len(hints) > 0
	lotsOn := liveLots
	if bounded {
		lotsOn = "l.state = 'pending'"
	}
	first := lockRead{
		q: `SELECT ` + accountCols + `, ` + lotCols + `
		FROM ledger_accounts a LEFT JOIN ledger_lots l ON l.member_id = a.member_id AND ` + lotsOn + `
			AND l.member_id IN (` + repo.Marks(len(lotMembers)) + `)
		WHERE a.member_id IN (` + repo.Marks(len(members)) + `) ORDER BY a.member_id, l.expires_at, l.id` + lock,
		args: args,
		scan: func(rows *sql.Rows, p *prelocked) error {
			if err := accounts(rows, p, true); err != nil {
				return err
			}
			if !bounded {
				for _, m := range lotMembers {
					s.hints.learn(m, p.lots[m].Lots)
				}
			}
			return nil
		},
	}
	if !bounded {
		return p, []lockRead{first}
	}
	s.boundedReads.Add(1)
	return p, []lockRead{first, s.activeLotsRead(lotMembers, hints)}
}

// activeLotsRead reads the active lots with points remaining of members,
// first to expire first, each member's only up to its hint when it has
// one (see lockReads), and learns the hints of the others. Each member is
// its own range of idx_ledger_lots_member (member, state, expiry) in one
// UNION ALL: a join of the members (JSON_TABLE) against the lots left the
// server one way in, every active lot of each member by member_id, and a
// member with hundreds of lots had all of them examined for the few read.
// The bound is throughKey's two ranges (ICP on a member with 152 lots of
// one expiry: 152 index entries examined for 4 before; now 4).
func (s *Store) activeLotsRead(members []int64, hints map[int64]ledger.LotKey) lockRead {
	var q strings.Builder
	args := make([]any, 0, 4*len(members))
	for i, m := range members {
		if i > 0 {
			q.WriteString(" UNION ALL ")
		}
		q.WriteString(`(SELECT l.member_id, ` + lotCols + ` FROM ledger_lots l FORCE INDEX (idx_ledger_lots_member)
			WHERE l.member_id = ? AND l.state = 'active' AND l.remaining > 0`)
		args = append(args, m)
		if h, ok := hints[m]; ok {
			q.WriteString(` AND ` + throughKey)
			args = append(args, keyArgs(h)...)
		}
		q.WriteByte(')')
	}
	return lockRead{
		// No ORDER BY (sorted here): it would cost a temporary table and a
		// filesort per group, under the account locks.
		q:    q.String(),
		args: args,
		scan: func(rows *sql.Rows, p *prelocked) error {
			got, err := scanLotRows(rows)
			if err != nil {
				return err
			}
			for _, ls := range got {
				sort.Slice(ls, func(i, k int) bool { return ls[k].Key().After(ls[i].Key()) })
			}
			for _, m := range members {
				read := p.lots[m]
				read.Lots = append(read.Lots, got[m]...)
				s.lotsRead.Add(int64(len(got[m])))
				if h, ok := hints[m]; ok {
					read.Through = &h
				} else {
					s.hints.learn(m, got[m])
				}
				p.lots[m] = read
			}
			return nil
		},
	}
}

// WriteBatch implements ledger.BatchStore with one multi-row statement per
// table (per batchChunk rows): entries, their ids read back by key, new
// lots, lot updates, allocations, accounts. In a pipelined transaction the
// statements after the entries are sent with the COMMIT.
func (s *Store) WriteBatch(ctx context.Context, w *ledger.BatchWrite) error {
	s.touchBatch(ctx, w)
	conn := s.DB.Conn(ctx).Statement.ConnPool
	// Everything after the entries is a write nobody reads: in a pipelined
	// transaction it travels with the COMMIT (repo.DB.Later).
	exec := func(what, q string, args []any) error {
		if err := s.DB.Later(ctx, nil, q, args...); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		return nil
	}
	late := w.IDsUnread && len(w.Records) <= entryChunk && repo.Pipelined(ctx) && s.DB.ConsecutiveIDs()
	if late {
		if err := s.writeEntriesLate(ctx, w.Records); err != nil {
			return err
		}
	}
	for lo := 0; lo < len(w.Records) && !late; lo += entryChunk {
		recs := w.Records[lo:min(lo+entryChunk, len(w.Records))]
		args := make([]any, 0, 14*len(recs))
		keys := make([]any, 0, len(recs))
		for _, r := range recs {
			e := r.Entry
			args = append(args, e.MemberID, string(e.Kind), e.Amount, e.Delta, e.BalanceAfter, e.Ref.Type, e.Ref.ID, e.RelatedID,
				e.Key, e.RequestHash, e.Title, e.Reason, e.Operator, e.CreatedAt.UTC())
			keys = append(keys, e.Key)
		}
		res, err := conn.ExecContext(ctx, `INSERT INTO ledger_entries (member_id, kind, amount, delta, balance_after, ref_type, ref_id, related_id,
			idem_key, request_hash, title, reason, operator, created_at) VALUES `+repo.RowsOf(len(recs), 14), args...)
		if err != nil {
			if repo.IsDuplicate(err) && lo == 0 {
				// Nothing of the batch is written yet: the caller may
				// run its operations again one by one.
				return fmt.Errorf("insert entries: %w", ledger.ErrDuplicateKey)
			}
			return fmt.Errorf("insert entries: %w", err)
		}
		var ids map[string]int64
		if s.DB.ConsecutiveIDs() {
			// One multi-row INSERT got consecutive ids, the first reported.
			first, err := res.LastInsertId()
			if err != nil {
				return fmt.Errorf("insert entries: %w", err)
			}
			ids = make(map[string]int64, len(recs))
			for i, r := range recs {
				ids[r.Entry.Key] = first + int64(i)
			}
		} else if ids, err = s.entryIDs(ctx, keys); err != nil {
			return err
		}
		for _, r := range recs {
			id, ok := ids[r.Entry.Key]
			if !ok {
				return fmt.Errorf("insert entries: entry %q not found after insert", r.Entry.Key)
			}
			r.Entry.ID = id
			if r.Lot != nil {
				r.Lot.EntryID = id
			}
			for i := range r.Allocs {
				r.Allocs[i].EntryID = id
			}
		}
	}

	// A lot or allocation names its entry by id, or, when the ids are
	// not known yet (late), as the batch's first id plus the entry's place.
	type lotRow struct {
		l   *ledger.Lot
		rec int
	}
	type allocRow struct {
		a   ledger.Allocation
		rec int
	}
	var lots []lotRow
	var allocs []allocRow
	for i, r := range w.Records {
		if r.Lot != nil {
			lots = append(lots, lotRow{r.Lot, i})
		}
		for _, a := range r.Allocs {
			allocs = append(allocs, allocRow{a, i})
		}
	}
	entryRef := func(rec int, id int64, args []any) (string, []any) {
		if late {
			return lateEntryVar + " + " + strconv.Itoa(rec), args
		}
		return "?", append(args, id)
	}
	for lo := 0; lo < len(lots); lo += batchChunk {
		part := lots[lo:min(lo+batchChunk, len(lots))]
		args := make([]any, 0, 9*len(part))
		rows := make([]string, len(part))
		for i, lr := range part {
			l := lr.l
			var ref string
			args = append(args, l.MemberID)
			ref, args = entryRef(lr.rec, l.EntryID, args)
			args = append(args, l.Amount, l.Remaining, l.Expired, string(l.State), l.AvailableAt.UTC(), l.ExpiresAt.UTC(), l.CreatedAt.UTC())
			rows[i] = "(?, " + ref + ", " + repo.Marks(7) + ")"
		}
		if err := exec("insert lots", `INSERT INTO ledger_lots (member_id, entry_id, amount, remaining, expired, state, available_at, expires_at, created_at)
			VALUES `+strings.Join(rows, ", "), args); err != nil {
			return err
		}
	}
	for lo := 0; lo < len(w.Lots); lo += batchChunk {
		part := w.Lots[lo:min(lo+batchChunk, len(w.Lots))]
		q, args := repo.CaseUpdate("ledger_lots", "id", len(part), []string{"remaining", "expired", "state"}, func(i int) (any, []any) {
			l := part[i]
			return l.ID, []any{l.Remaining, l.Expired, string(l.State)}
		})
		if err := exec("update lots", q, args); err != nil {
			return err
		}
	}
	for lo := 0; lo < len(allocs); lo += batchChunk {
		part := allocs[lo:min(lo+batchChunk, len(allocs))]
		args := make([]any, 0, 3*len(part))
		rows := make([]string, len(part))
		for i, ar := range part {
			var ref string
			ref, args = entryRef(ar.rec, ar.a.EntryID, args)
			args = append(args, ar.a.LotID, ar.a.Amount)
			rows[i] = "(" + ref + ", ?, ?)"
		}
		if err := exec("insert allocations", `INSERT INTO ledger_allocations (entry_id, lot_id, amount) VALUES `+strings.Join(rows, ", "), args); err != nil {
			return err
		}
	}
	for lo := 0; lo < len(w.Accounts); lo += batchChunk {
		part := w.Accounts[lo:min(lo+batchChunk, len(w.Accounts))]
		q, args := repo.CaseUpdate("ledger_accounts", "member_id", len(part),
			[]string{"available", "pending", "held", "debt", "lifetime_earned", "updated_at"}, func(i int) (any, []any) {
				a := part[i]
				return a.MemberID, []any{a.Available, a.Pending, a.Held, a.Debt, a.LifetimeEarned, a.UpdatedAt.UTC()}
			})
		q = strings.Replace(q, " WHERE ", ", version = version + 1 WHERE ", 1)
		if err := exec("save accounts", q, args); err != nil {
			return err
		}
	}
	return nil
}

// lateEntryVar is the session variable holding the first id of a late
// batch's entries (LAST_INSERT_ID() right after their INSERT).
const lateEntryVar = "@jifen_first_entry"

// writeEntriesLate sends the entries with the transaction's COMMIT (see
// BatchWrite.IDsUnread): one multi-row INSERT whose first id goes into
// lateEntryVar for the lots and allocations behind it by a read that also
// reports it and fills the ids, the lots' and the allocations' EntryID
// when the COMMIT returns. A taken key fails the transaction with
// ErrDuplicateKey; nothing of it is then written.
func (s *Store) writeEntriesLate(ctx context.Context, recs []ledger.BatchRecord) error {
	args := make([]any, 0, 14*len(recs))
	for _, r := range recs {
		e := r.Entry
		args = append(args, e.MemberID, string(e.Kind), e.Amount, e.Delta, e.BalanceAfter, e.Ref.Type, e.Ref.ID, e.RelatedID,
			e.Key, e.RequestHash, e.Title, e.Reason, e.Operator, e.CreatedAt.UTC())
	}
	if err := s.DB.Later(ctx, func(err error) error {
		if repo.DuplicateOf(err, "uk_ledger_entries_key") {
			return fmt.Errorf("insert entries: %w", ledger.ErrDuplicateKey)
		}
		return err
	}, `INSERT INTO ledger_entries (member_id, kind, amount, delta, balance_after, ref_type, ref_id, related_id,
			idem_key, request_hash, title, reason, operator, created_at) VALUES `+repo.RowsOf(len(recs), 14), args...); err != nil {
		return err
	}
	// One statement keeps the first id for the statements behind it and
	// reports it.
	return s.DB.LaterRead(ctx, func(rows *sql.Rows) error {
		if !rows.Next() {
			return fmt.Errorf("insert entries: no first id")
		}
		var first int64
		if err := rows.Scan(&first); err != nil {
			return fmt.Errorf("insert entries: %w", err)
		}
		for i, r := range recs {
			id := first + int64(i)
			r.Entry.ID = id
			if r.Lot != nil {
				r.Lot.EntryID = id
			}
			for k := range r.Allocs {
				r.Allocs[k].EntryID = id
			}
		}
		return nil
	}, "SELECT "+lateEntryVar+" := LAST_INSERT_ID()")
}

// entryIDs maps idempotency keys to the ids of their entries.
func (s *Store) entryIDs(ctx context.Context, keys []any) (map[string]int64, error) {
	rows, err := s.DB.Conn(ctx).Statement.ConnPool.QueryContext(ctx,
		`SELECT id, idem_key FROM ledger_entries WHERE idem_key IN (`+repo.Marks(len(keys))+`)`, keys...)
	if err != nil {
		return nil, fmt.Errorf("entry ids: %w", err)
	}
	defer rows.Close()
	out := make(map[string]int64, len(keys))
	for rows.Next() {
		var id int64
		var key string
		if err := rows.Scan(&id, &key); err != nil {
			return nil, fmt.Errorf("entry ids: %w", err)
		}
		out[key] = id
	}
	return out, rows.Err()
}

// touchBatch names every member whose points the batch changes (their
// cached views go when the transaction ends; repo/touch.go).
func (s *Store) touchBatch(ctx context.Context, w *ledger.BatchWrite) {
	ids := make([]int64, 0, len(w.Records)+len(w.Accounts))
	for _, r := range w.Records {
		ids = append(ids, r.Entry.MemberID)
	}
	for _, a := range w.Accounts {
		ids = append(ids, a.MemberID)
	}
	for _, l := range w.Lots {
		ids = append(ids, l.MemberID)
	}
	s.DB.Touch(ctx, ids...)
}

// OpenAccounts implements ledger.BatchStore: one multi-row INSERT of empty
// accounts that leaves an account opened meanwhile as it is (at READ
// COMMITTED the group's next locking read then takes either). In a
// pipelined transaction it travels with that read.
func (s *Store) OpenAccounts(ctx context.Context, members []int64) error {
	if len(members) == 0 {
		return nil
	}
	now := s.DB.Now()
	var q strings.Builder
	q.WriteString(`INSERT INTO ledger_accounts (member_id, available, pending, held, debt, lifetime_earned, version, updated_at) VALUES `)
	args := make([]any, 0, 2*len(members))
	for i, m := range members {
		if i > 0 {
			q.WriteString(",")
		}
		q.WriteString("(?,0,0,0,0,0,0,?)")
		args = append(args, m, now)
	}
	if s.DB.Dialect() == repo.MySQL {
		q.WriteString(` ON DUPLICATE KEY UPDATE member_id = member_id`)
	} else {
		q.WriteString(` ON CONFLICT (member_id) DO NOTHING`)
	}
	if err := s.DB.Later(ctx, nil, q.String(), args...); err != nil {
		return fmt.Errorf("open accounts: %w", repo.SQLOutage(err))
	}
	for _, m := range members {
		s.DB.Touch(ctx, m)
	}
	return nil
}
