package ledgerstore_test

import (
	"fmt"
	"math/rand"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/ledger"
)

// model is a plain in-memory ledger of one member, written from the rules in
// the package doc of domain/ledger, to compare the real one with.
type model struct {
	now                        time.Time
	avail, pending, held, debt int64
	lots                       []mLot
	earns                      map[string]*mEarn
	debits                     map[string]*mDebit // spends by ref, captured holds by hold ref
	holds                      map[string]*mDebit // open holds by ref
}

type mLot struct {
	remaining, expired   int64
	state                ledger.LotState
	availableAt, expires time.Time
}

type mEarn struct {
	lot            int
	amount, undone int64
}

type mDebit struct {
	amount, undone int64
	allocs         map[int]int64 // lot → points still out
	deadline       time.Time
	kind           ledger.Kind
}

func (m *model) clone() *model {
	c := *m
	c.lots = append([]mLot(nil), m.lots...)
	c.earns, c.debits, c.holds = map[string]*mEarn{}, map[string]*mDebit{}, map[string]*mDebit{}
	for k, v := range m.earns {
		e := *v
		c.earns[k] = &e
	}
	cp := func(d *mDebit) *mDebit {
		n := *d
		n.allocs = map[int]int64{}
		for l, a := range d.allocs {
			n.allocs[l] = a
		}
		return &n
	}
	for k, v := range m.debits {
		c.debits[k] = cp(v)
	}
	for k, v := range m.holds {
		c.holds[k] = cp(v)
	}
	return &c
}

func (m *model) fifo() []int {
	var ids []int
	for i, l := range m.lots {
		if l.state == ledger.LotActive && l.remaining > 0 {
			ids = append(ids, i)
		}
	}
	sort.SliceStable(ids, func(a, b int) bool { return m.lots[ids[a]].expires.Before(m.lots[ids[b]].expires) })
	return ids
}

func (m *model) consume(n int64) map[int]int64 {
	out := map[int]int64{}
	for _, i := range m.fifo() {
		take := min(n, m.lots[i].remaining)
		if take == 0 {
			break
		}
		m.lots[i].remaining -= take
		m.avail -= take
		n -= take
		out[i] += take
	}
	return out
}

func (m *model) payDebt() {
	pay := min(m.debt, m.avail)
	m.consume(pay)
	m.debt -= pay
}

func (m *model) settle() {
	unlocked := false
	for i := range m.lots {
		l := &m.lots[i]
		if l.state == ledger.LotPending && !l.availableAt.After(m.now) {
			l.state = ledger.LotActive
			m.pending -= l.remaining
			m.avail += l.remaining
			unlocked = true
		}
	}
	if unlocked {
		m.payDebt()
	}
	for i := range m.lots {
		l := &m.lots[i]
		if l.state == ledger.LotActive && l.remaining > 0 && !l.expires.After(m.now) {
			m.avail -= l.remaining
			l.expired += l.remaining
			l.remaining = 0
			l.state = ledger.LotExpired
		}
	}
}

// restore puts n points of d back, longest expiry first.
func (m *model) restore(d *mDebit, n int64) {
	var ids []int
	for l, a := range d.allocs {
		if a > 0 {
			ids = append(ids, l)
		}
	}
	sort.Slice(ids, func(a, b int) bool {
		la, lb := m.lots[ids[a]], m.lots[ids[b]]
		if !la.expires.Equal(lb.expires) {
			return la.expires.After(lb.expires)
		}
		return ids[a] > ids[b]
	})
	for _, i := range ids {
		take := min(n, d.allocs[i])
		if take == 0 {
			break
		}
		d.allocs[i] -= take
		n -= take
		l := &m.lots[i]
		if l.state == ledger.LotExpired || !l.expires.After(m.now) {
			l.expired += take
			l.state = ledger.LotExpired
		} else {
			l.remaining += take
			m.avail += take
		}
	}
	m.payDebt()
}

func (m *model) earn(n int64, availableAt, expires time.Time) int {
	l := mLot{remaining: n, state: ledger.LotActive, availableAt: availableAt, expires: expires}
	if availableAt.After(m.now) {
		l.state = ledger.LotPending
		m.pending += n
	} else {
		pay := min(m.debt, n)
		l.remaining -= pay
		m.debt -= pay
		m.avail += n - pay
	}
	m.lots = append(m.lots, l)
	return len(m.lots) - 1
}

func (m *model) reverseEarn(e *mEarn, n int64) {
	e.undone += n
	l := &m.lots[e.lot]
	take := min(n, l.remaining)
	l.remaining -= take
	switch l.state {
	case ledger.LotPending:
		m.pending -= take
	case ledger.LotActive:
		m.avail -= take
	}
	n -= take
	gone := min(n, l.expired)
	l.expired -= gone
	n -= gone
	other := min(n, m.avail)
	m.consume(other)
	m.debt += n - other
}

func TestRandomOperationsAgreeWithModel(t *testing.T) {
	t.Parallel()
	for _, seed := range []int64{1, 2, 3, 4} {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			t.Parallel()
			runModel(t, seed, 200)
		})
	}
}

func runModel(t *testing.T, seed int64, steps int) {
	f := newFixture(t)
	rng := rand.New(rand.NewSource(seed))
	m := &model{now: t0, earns: map[string]*mEarn{}, debits: map[string]*mDebit{}, holds: map[string]*mDebit{}}
	const member = 7
	ran := map[string]int{} // op kind (+ refused) → count, logged to show coverage
	pick := func(refs []string) string { return refs[rng.Intn(len(refs))] }
	for step := 0; step < steps; step++ {
		next := m.clone()
		next.now = f.clock.Now()
		var err error
		var wantErr domain.Code
		what := ""
		switch op := rng.Intn(100); {
		case op < 25:
			n := int64(1 + rng.Intn(100))
			ref := fmt.Sprint("e", step)
			availableAt := time.Time{}
			at := next.now
			if rng.Intn(4) == 0 {
				availableAt = next.now.Add(time.Duration(1+rng.Intn(72)) * time.Hour)
				at = availableAt
			}
			exp := at.Add(time.Duration(1+rng.Intn(20*24)) * time.Hour)
			what = fmt.Sprintf("earn %d avail %v exp %v", n, availableAt, exp)
			next.earns[ref] = &mEarn{lot: next.earn(n, at, exp), amount: n}
			_, err = f.svc.Earn(f.ctx, ledger.EarnInput{MemberID: member, Points: n, Key: f.key(), Ref: ledger.Ref{Type: "order", ID: ref}, AvailableAt: availableAt, ExpiresAt: exp})
		case op < 45:
			n := int64(1 + rng.Intn(int(m.avail)+30))
			ref := fmt.Sprint("s", step)
			what = fmt.Sprintf("spend %d", n)
			next.settle()
			if next.avail < n {
				wantErr = domain.PointsInsufficient
			} else {
				next.debits[ref] = &mDebit{amount: n, allocs: next.consume(n), kind: ledger.KindSpend}
			}
			_, err = f.svc.Spend(f.ctx, ledger.SpendInput{MemberID: member, Points: n, Key: f.key(), Ref: ledger.Ref{Type: "order", ID: ref}})
		case op < 55:
			n := int64(1 + rng.Intn(int(m.avail)+10))
			ref := fmt.Sprint("h", step)
			deadline := next.now.Add(time.Duration(1+rng.Intn(48)) * time.Hour)
			what = fmt.Sprintf("hold %d", n)
			next.settle()
			if next.avail < n {
				wantErr = domain.PointsInsufficient
			} else {
				next.holds[ref] = &mDebit{amount: n, allocs: next.consume(n), deadline: deadline, kind: ledger.KindCapture}
				next.held += n
			}
			_, err = f.svc.Hold(f.ctx, ledger.HoldInput{MemberID: member, Points: n, Key: f.key(), Ref: ledger.Ref{Type: "order", ID: ref}, Deadline: deadline})
		case op < 65 && len(m.holds) > 0:
			var refs []string
			for r := range m.holds {
				refs = append(refs, r)
			}
			sort.Strings(refs)
			ref := pick(refs)
			h := next.holds[ref]
			in := ledger.CloseHoldInput{MemberID: member, Hold: ledger.Ref{Type: "order", ID: ref}, Key: f.key()}
			delete(next.holds, ref)
			next.held -= h.amount
			if rng.Intn(2) == 0 {
				what = "capture " + ref
				if !h.deadline.After(next.now) {
					wantErr = domain.Conflict
				} else {
					next.debits[ref] = h
				}
				_, err = f.svc.Capture(f.ctx, in)
			} else {
				what = "release " + ref
				next.settle()
				next.restore(h, h.amount)
				_, err = f.svc.Release(f.ctx, in)
			}
		case op < 75 && len(m.earns) > 0:
			var refs []string
			for r, e := range m.earns {
				if e.undone < e.amount {
					refs = append(refs, r)
				}
			}
			if len(refs) == 0 {
				continue
			}
			sort.Strings(refs)
			ref := pick(refs)
			e := next.earns[ref]
			n := int64(0)
			if rng.Intn(2) == 0 {
				n = 1 + rng.Int63n(e.amount-e.undone)
			}
			what = fmt.Sprintf("reverse earn %s %d", ref, n)
			next.settle()
			if n == 0 {
				next.reverseEarn(e, e.amount-e.undone)
			} else {
				next.reverseEarn(e, n)
			}
			_, err = f.svc.Reverse(f.ctx, ledger.ReverseInput{MemberID: member, Of: ledger.Ref{Type: "order", ID: ref}, OfKind: ledger.KindEarn, Points: n, Key: f.key()})
		case op < 85 && len(m.debits) > 0:
			var refs []string
			for r, d := range m.debits {
				if d.undone < d.amount {
					refs = append(refs, r)
				}
			}
			if len(refs) == 0 {
				continue
			}
			sort.Strings(refs)
			ref := pick(refs)
			d := next.debits[ref]
			n := int64(0)
			left := d.amount - d.undone
			if rng.Intn(2) == 0 {
				n = 1 + rng.Int63n(left)
			}
			what = fmt.Sprintf("reverse %s %s %d", d.kind, ref, n)
			next.settle()
			if n == 0 {
				n = left
			}
			d.undone += n
			next.restore(d, n)
			n2 := n
			if n == left && rng.Intn(2) == 0 {
				n2 = 0
			}
			_, err = f.svc.Reverse(f.ctx, ledger.ReverseInput{MemberID: member, Of: ledger.Ref{Type: "order", ID: ref}, OfKind: d.kind, Points: n2, Key: f.key()})
		case op < 90:
			n := int64(rng.Intn(80) - 40)
			if n == 0 {
				n = 1
			}
			what = fmt.Sprintf("adjust %d", n)
			if n > 0 {
				next.earn(n, next.now, ledger.ExpiryPolicy{}.ExpiresAt(next.now).Truncate(time.Millisecond))
			} else {
				next.settle()
				if next.avail < -n {
					wantErr = domain.PointsInsufficient
				} else {
					next.consume(-n)
				}
			}
			_, err = f.svc.Adjust(f.ctx, ledger.AdjustInput{MemberID: member, Points: n, Key: f.key(), Reason: "测试", Operator: "prop"})
		default:
			d := time.Duration(1+rng.Intn(72)) * time.Hour
			f.clock.Advance(d)
			next.now = f.clock.Now()
			what = fmt.Sprintf("advance %v and run the jobs", d)
			next.settle()
			var due []string
			for r, h := range next.holds {
				if !h.deadline.After(next.now) {
					due = append(due, r)
				}
			}
			sort.Strings(due)
			for _, r := range due {
				h := next.holds[r]
				delete(next.holds, r)
				next.held -= h.amount
				next.restore(h, h.amount)
			}
			for _, job := range []func() (int, error){
				func() (int, error) { return f.svc.Expire(f.ctx, next.now, 7) },
				func() (int, error) { return f.svc.ReleasePending(f.ctx, next.now, 7) },
				func() (int, error) { return f.svc.ReleaseExpiredHolds(f.ctx, next.now, 2) },
			} {
				if _, err = job(); err != nil {
					break
				}
			}
		}
		if got := domain.ErrorCode(err); got != wantErr {
			t.Fatalf("step %d %s: error %v, want code %q", step, what, err, wantErr)
		}
		kind := strings.Fields(what)[0]
		if strings.HasPrefix(what, "reverse") {
			kind = strings.Join(strings.Fields(what)[:2], " ")
		}
		if wantErr != "" {
			kind += " refused"
		}
		ran[kind]++
		if wantErr == "" {
			m = next
		}
		b, err := f.svc.Balance(f.ctx, member)
		if err != nil {
			t.Fatal(err)
		}
		if b.Available != m.avail || b.Pending != m.pending || b.Held != m.held || b.Debt != m.debt {
			t.Fatalf("step %d %s: balance avail %d pending %d held %d debt %d; model %d %d %d %d",
				step, what, b.Available, b.Pending, b.Held, b.Debt, m.avail, m.pending, m.held, m.debt)
		}
		if v, err := f.svc.Check(f.ctx, member); err != nil || len(v) > 0 {
			t.Fatalf("step %d %s: check %+v %v", step, what, v, err)
		}
	}
	t.Logf("operations: %v; final model: avail %d pending %d held %d debt %d", ran, m.avail, m.pending, m.held, m.debt)
}
