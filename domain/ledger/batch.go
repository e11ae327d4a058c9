package ledger

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/batch"
)

// # Group commit
//
// Earns, spends and adjustments that arrive outside a caller's transaction
// are committed together (package batch): a committer takes the first
// waiting request and every other one queued behind it (up to
// GroupCommit.Max), loads and locks their accounts at once, applies the
// operations one after another in memory (two operations on one account
// see each other, in arrival order) and writes all their rows at once, in
// ONE unit of work (how the store sends that is repo/ledgerstore's). A
// request never waits
// for a batch to fill: under light load a batch is one request. Nothing
// about the result changes: each request gets the entry it would have got
// alone, and every invariant holds after each commit.
//
// Anything unusual leaves the batch and runs alone through the ordinary
// path: an operation that fails (not enough points — its key may belong to
// an earlier success, which only the ordinary path answers as a replay), a
// member with no account yet, a debit behind a credit of the same member
// in the batch (its new lot has no id yet), a key seen twice in the batch, and
// every operation of a batch whose entries hit a taken key (a replay: the
// ordinary path answers it).
//
// Apply does the same for a list of operations inside a caller's
// transaction (a feature committing many requests at once, e.g. sign-ins,
// or console adjustments with their audit rows).

// BatchStore is what group commit needs of the Store.
type BatchStore interface {
	// LockAccounts locks for the unit of work (ascending) and returns the
	// accounts of members that exist and, for the members in withLots,
	// their live lots: all of them, or a first-to-expire prefix
	// (LiveRead.Through).
	LockAccounts(ctx context.Context, members []int64, withLots map[int64]bool) (map[int64]Account, map[int64]LiveRead, error)
	// OpenAccounts gives each of members (ascending, none with an account
	// in this unit of work's view) an empty account, taken for the unit of
	// work; a member whose account another one opened meanwhile keeps it.
	// A group's new members are then locked by the LockAccounts after it
	// and written with the rest, not one transaction each.
	OpenAccounts(ctx context.Context, members []int64) error
	// WriteBatch inserts the records' entries (a taken key is
	// ErrDuplicateKey), then their new lots and allocations, updates the
	// lots and saves the accounts. The entries' ids, and the EntryID of
	// their lots and allocations, are set when it returns, or by the time
	// the unit of work ends when w.IDsUnread.
	WriteBatch(ctx context.Context, w *BatchWrite) error
	// AccountTaker: a group's accounts taken before its LockAccounts.
	AccountTaker
}

// AccountTaker takes for the unit of work in ctx the accounts (with the
// live lots of the members in withLots) a later LockAccounts of the same
// members will lock; that LockAccounts then returns them as taken. The
// caller takes them at the point of its lock order where the accounts
// come; how and when the store sends the locking read is
// repo/ledgerstore's. The func it returns, nil when the store cannot tell
// before that LockAccounts, answers once the unit of work has loaded
// anything after this call: whether a member's account exists and is
// taken.
type AccountTaker interface {
	TakeAccounts(ctx context.Context, members []int64, withLots map[int64]bool) (func(memberID int64) bool, error)
}

// LockMembers takes the accounts of members (with the live lots of those
// in withLots: members who will spend) for the unit of work in ctx, at the
// point of the caller's lock order where the accounts come: an Apply of
// those members in it then loads nothing more (AccountTaker). locked, when
// not nil, tells once the unit of work has loaded anything after this call
// whether a member's account exists and is taken (a member-level lock: see
// LockMember); nil means it is not known before the Apply.
func (s *Service) LockMembers(ctx context.Context, members []int64, withLots map[int64]bool) (locked func(memberID int64) bool, err error) {
	return s.Store.TakeAccounts(ctx, uniqueSorted(slices.Clone(members)), withLots)
}

// LockMember locks the member's account, when there is one, in the
// transaction in ctx until it ends: a member-level lock for a caller whose
// later writes must not interleave with a group that locked the account
// first (a sign-in make-up takes it before its day row).
func (s *Service) LockMember(ctx context.Context, memberID int64) error {
	return s.Tx.InTx(ctx, func(ctx context.Context) error {
		_, _, err := s.Store.LockAccounts(ctx, []int64{memberID}, nil)
		return err
	})
}

// BatchRecord is one entry to write and the rows that hang off it.
type BatchRecord struct {
	Entry  *Entry
	Allocs []Allocation // EntryID filled by the store
	Lot    *Lot         // new lot of the entry, EntryID filled by the store
}

// BatchWrite is everything one batch writes.
type BatchWrite struct {
	Records  []BatchRecord // in the order the entries happened
	Lots     []*Lot        // changed lots (Remaining, Expired, State)
	Accounts []Account     // changed accounts
	// IDsUnread: nobody reads the entries' ids before the unit of work
	// ends, so they need only be set by then; a taken key may then fail
	// the unit of work instead of WriteBatch.
	IDsUnread bool
}

type batchJob struct {
	ctx      context.Context
	memberID int64
	withLots bool
	key      string
	hash     string
	op       func(b *book) (*record, error)
	done     chan batchResult
}

type batchResult struct {
	entry Entry
	alone bool // run it through the ordinary path
	err   error
}

// GroupStats reports how many batches group commit has committed and how
// many requests they answered (the rest ran alone).
func (s *Service) GroupStats() (batches, batched int64) {
	return s.group.Stats()
}

// batched reports whether a write with ctx goes through group commit.
func (s *Service) batched(ctx context.Context) (BatchStore, bool) {
	return s.Store, s.GroupCommit.On(ctx, s.Tx)
}

// submit queues a write for group commit and waits for its answer; alone
// means the caller must run it through the ordinary path.
func (s *Service) submit(ctx context.Context, bs BatchStore, j *batchJob) (Entry, bool, error) {
	j.ctx, j.done = ctx, make(chan batchResult, 1)
	if err := ctx.Err(); err != nil {
		return Entry{}, false, err
	}
	s.group.Submit(s.GroupCommit, func(jobs []*batchJob) { s.commitBatch(bs, jobs) }, j)
	// Once queued the job is answered whatever happens to ctx: the batch
	// may already have committed it.
	r := <-j.done
	return r.entry, r.alone, r.err
}

// memberBook is one account's state shared by the batch's operations on it.
type memberBook struct {
	a       *Account
	lots    map[int64]*Lot
	dirty   map[int64]*Lot
	newLot  bool    // an operation made a lot that has no id yet
	loaded  bool    // live lots loaded
	through *LotKey // loaded: active lots only up to here (nil: all)
}

func (m *memberBook) snapshot() (Account, map[int64]Lot, map[int64]bool) {
	lots := make(map[int64]Lot, len(m.lots))
	for id, l := range m.lots {
		lots[id] = *l
	}
	dirty := make(map[int64]bool, len(m.dirty))
	for id := range m.dirty {
		dirty[id] = true
	}
	return *m.a, lots, dirty
}

func (m *memberBook) restore(a Account, lots map[int64]Lot, dirty map[int64]bool) {
	*m.a = a
	for id, l := range m.lots {
		if old, ok := lots[id]; ok {
			*l = old
		} else {
			delete(m.lots, id)
		}
	}
	for id := range m.dirty {
		if !dirty[id] {
			delete(m.dirty, id)
		}
	}
}

func (s *Service) commitBatch(bs BatchStore, jobs []*batchJob) {
	var answers map[*batchJob]*Entry
	var alone map[*batchJob]bool
	ctx := context.WithoutCancel(jobs[0].ctx)
	err := batch.InTx(ctx, s.Tx, func(ctx context.Context) error {
		// Runs again after a deadlock: apply starts from nothing.
		var err error
		answers, alone, err = s.apply(ctx, bs, jobs, true)
		return err
	})
	if err == nil {
		s.group.Done(len(answers))
	}
	for _, j := range jobs {
		switch e := answers[j]; {
		case err != nil || alone[j] || e == nil:
			j.done <- batchResult{alone: true}
		default:
			j.done <- batchResult{entry: *e}
		}
	}
}

// apply runs jobs in the transaction in ctx: their accounts loaded and
// locked at once, the operations in memory, one write of the batch. It
// returns the entries of the jobs it wrote and marks the others alone. A
// taken key fails the batch's entries, written before anything else of
// it, so nothing of the batch is written then and every job is alone
// (errDuplicate).
//
// idsUnread: nobody reads the entries' ids before the unit of work ends
// (BatchWrite.IDsUnread).
func (s *Service) apply(ctx context.Context, bs BatchStore, jobs []*batchJob, idsUnread bool) (map[*batchJob]*Entry, map[*batchJob]bool, error) {
	now := s.now()
	answers, alone := map[*batchJob]*Entry{}, map[*batchJob]bool{}
	members := make([]int64, 0, len(jobs))
	withLots := map[int64]bool{}
	for _, j := range jobs {
		members = append(members, j.memberID)
		if j.withLots {
			withLots[j.memberID] = true
		}
	}
	members = uniqueSorted(members)
	accounts, lots, err := bs.LockAccounts(ctx, members, withLots)
	if err != nil {
		return nil, nil, err
	}
	if accounts, lots, err = openMissing(ctx, bs, members, withLots, accounts, lots); err != nil {
		return nil, nil, err
	}
	books := map[int64]*memberBook{}
	for id, a := range accounts {
		read := lots[id]
		mb := &memberBook{a: &a, lots: map[int64]*Lot{}, dirty: map[int64]*Lot{}, loaded: withLots[id], through: read.Through}
		for _, l := range read.Lots {
			mb.lots[l.ID] = &l
		}
		books[id] = mb
	}
	keys := map[string]bool{}
	before := map[int64]Account{}
	var w BatchWrite
	for _, j := range jobs {
		mb := books[j.memberID]
		if mb == nil || keys[j.key] || (j.withLots && mb.newLot) {
			alone[j] = true
			continue
		}
		keys[j.key] = true
		if _, ok := before[j.memberID]; !ok {
			before[j.memberID] = *mb.a
		}
		a, ls, dirty := mb.snapshot()
		b := &book{ctx: ctx, store: s.Store, a: mb.a, now: now, lastNet: mb.a.net(),
			lots: mb.lots, liveLoaded: mb.loaded, through: mb.through, dirtyLots: mb.dirty}
		r, err := j.op(b)
		if err == nil && len(b.dirtyHolds) > 0 {
			err = errNotBatchable
		}
		if err != nil {
			mb.restore(a, ls, dirty)
			alone[j] = true
			continue
		}
		// The operation may have read the lots the batch had not (a spend
		// the prefix did not pay): they are in mb.lots now.
		mb.loaded, mb.through = b.liveLoaded, b.through
		r.entry.Key, r.entry.RequestHash = j.key, j.hash
		for _, rec := range b.recs {
			if rec.hold != nil {
				panic("ledger: a batched operation made a hold")
			}
			w.Records = append(w.Records, BatchRecord{Entry: rec.entry, Allocs: rec.allocs, Lot: rec.lot})
			if rec.lot != nil {
				mb.newLot = true
			}
		}
		answers[j] = r.entry
	}
	if len(w.Records) == 0 {
		return answers, alone, nil
	}
	for _, id := range members {
		mb := books[id]
		if mb == nil {
			continue
		}
		if b, ok := before[id]; ok && b != *mb.a {
			w.Accounts = append(w.Accounts, *mb.a)
		}
		ids := make([]int64, 0, len(mb.dirty))
		for lid := range mb.dirty {
			ids = append(ids, lid)
		}
		sort.Slice(ids, func(i, k int) bool { return ids[i] < ids[k] })
		for _, lid := range ids {
			w.Lots = append(w.Lots, mb.dirty[lid])
		}
	}
	w.IDsUnread = idsUnread
	if err := bs.WriteBatch(ctx, &w); err != nil {
		if errors.Is(err, ErrDuplicateKey) {
			all := map[*batchJob]bool{}
			for _, j := range jobs {
				all[j] = true
			}
			return nil, all, errDuplicate
		}
		return nil, nil, err
	}
	return answers, alone, nil
}

// errDuplicate fails a group-commit transaction whose entries hit a taken
// key: everything rolls back and each request runs alone.
var errDuplicate = batchError("ledger: a key in the batch is taken")

// MaxApply caps the operations of one Apply call (a batch's size the
// stores can write at once).
const MaxApply = 1000

// Op is one operation of Apply: exactly one of Earn, Spend and Adjust.
type Op struct {
	Earn   *EarnInput
	Spend  *SpendInput
	Adjust *AdjustInput
}

// Apply runs ops in the transaction in ctx (its own when there is none),
// the way group commit runs concurrent requests: all their accounts
// loaded and locked at once, the operations in order in memory, all their
// rows written at once. results[i] answers ops[i] exactly as Earn, Spend or
// Adjust would: the entry (Replayed for a key already used by the same request)
// or the error (invalid input, not enough points, IdempotencyConflict).
// Operations that cannot be batched (see the package's group-commit notes)
// run through the ordinary path in the same transaction after the rest, so
// on one member they may apply after later operations of the list. err is
// for failures of the transaction itself: the caller must roll back.
func (s *Service) Apply(ctx context.Context, ops []Op) (results []Entry, errs []error, err error) {
	return s.applyOps(ctx, ops, false)
}

// ApplyWithoutIDs is Apply for a caller that reads no entry id before its
// unit of work ends (the results' IDs are zero; BatchWrite.IDsUnread): a
// key already taken may then fail the unit of work instead of running its
// operation alone.
func (s *Service) ApplyWithoutIDs(ctx context.Context, ops []Op) (results []Entry, errs []error, err error) {
	return s.applyOps(ctx, ops, true)
}

func (s *Service) applyOps(ctx context.Context, ops []Op, idsUnread bool) (results []Entry, errs []error, err error) {
	if len(ops) > MaxApply {
		return nil, nil, fmt.Errorf("ledger: Apply of %d operations, at most %d", len(ops), MaxApply)
	}
	results, errs = make([]Entry, len(ops)), make([]error, len(ops))
	jobs := make([]*batchJob, 0, len(ops))
	index := map[*batchJob]int{}
	for i, op := range ops {
		var j *batchJob
		switch {
		case op.Earn != nil && op.Spend == nil && op.Adjust == nil:
			j, errs[i] = s.earnJob(*op.Earn)
		case op.Spend != nil && op.Earn == nil && op.Adjust == nil:
			j, errs[i] = s.spendJob(*op.Spend)
		case op.Adjust != nil && op.Earn == nil && op.Spend == nil:
			j, errs[i] = s.adjustJob(*op.Adjust)
		default:
			errs[i] = fmt.Errorf("ledger: Apply op %d must be exactly one of Earn, Spend and Adjust", i)
		}
		if j != nil {
			index[j] = i
			jobs = append(jobs, j)
		}
	}
	err = s.Tx.InTx(ctx, func(ctx context.Context) error {
		var answers map[*batchJob]*Entry
		var alone map[*batchJob]bool
		if len(jobs) > 0 {
			var err error
			answers, alone, err = s.apply(ctx, s.Store, jobs, idsUnread)
			if err != nil && !errors.Is(err, errDuplicate) {
				return err
			}
		} else {
			alone = map[*batchJob]bool{}
			for _, j := range jobs {
				alone[j] = true
			}
		}
		for _, j := range jobs {
			i := index[j]
			if e := answers[j]; e != nil && !alone[j] {
				results[i] = *e
				continue
			}
			results[i], errs[i] = s.write(ctx, j.memberID, j.withLots, j.key, j.hash, j.op)
			if errs[i] != nil && domain.ErrorCode(errs[i]) == domain.Internal {
				return errs[i]
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return results, errs, nil
}

// openMissing opens the accounts of the members (ascending) that have
// none, a member's first earn in a group, and adds them, locked, to
// accounts and lots.
func openMissing(ctx context.Context, bs BatchStore, members []int64, withLots map[int64]bool,
	accounts map[int64]Account, lots map[int64]LiveRead) (map[int64]Account, map[int64]LiveRead, error) {
	var missing []int64
	for _, m := range members {
		if _, ok := accounts[m]; !ok {
			missing = append(missing, m)
		}
	}
	if len(missing) == 0 {
		return accounts, lots, nil
	}
	if err := bs.OpenAccounts(ctx, missing); err != nil {
		return nil, nil, err
	}
	opened, openedLots, err := bs.LockAccounts(ctx, missing, withLots)
	if err != nil {
		return nil, nil, err
	}
	all, allLots := make(map[int64]Account, len(accounts)+len(opened)), make(map[int64]LiveRead, len(lots)+len(openedLots))
	maps.Copy(all, accounts)
	maps.Copy(all, opened)
	maps.Copy(allLots, lots)
	maps.Copy(allLots, openedLots)
	return all, allLots, nil
}

type batchError string

func (e batchError) Error() string { return string(e) }

const errNotBatchable = batchError("ledger: operation cannot be batched")
