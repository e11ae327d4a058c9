package signinstore_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/ledger"
	"github.com/jifen/jifen/domain/signin"
	"github.com/jifen/jifen/repo"
	"github.com/jifen/jifen/repo/signinstore"
)

var monday = time.Date(2026, 11, 23, 10, 0, 0, 0, domain.Shanghai)

// tapAll runs fn(member) taps times for every member, all goroutines
// released at once, and returns every answer by member.
func tapAll(members []int64, taps int, fn func(m int64) (signin.Result, error)) map[int64][]answer {
	var wg sync.WaitGroup
	var mu sync.Mutex
	out := map[int64][]answer{}
	start := make(chan struct{})
	for range taps {
		for _, m := range members {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				r, err := fn(m)
				mu.Lock()
				out[m] = append(out[m], answer{r, err})
				mu.Unlock()
			}()
		}
	}
	close(start)
	wg.Wait()
	return out
}

type answer struct {
	res signin.Result
	err error
}

func members(n int) []int64 {
	out := make([]int64, n)
	for i := range out {
		out[i] = int64(i + 1)
	}
	return out
}

// checkDay asserts that every member got exactly one sign-in (want) and
// AlreadySignedIn for every other tap.
func checkDay(t *testing.T, day string, got map[int64][]answer, want func(m int64) signin.Result) {
	t.Helper()
	for m, as := range got {
		ok := 0
		for _, a := range as {
			switch {
			case a.err == nil:
				ok++
				w := want(m)
				if a.res.Day.String() != w.Day.String() || a.res.Streak != w.Streak || a.res.Balance != w.Balance || signin.Total(a.res.Awarded) != signin.Total(w.Awarded) {
					t.Errorf("%s member %d: %+v, want %+v", day, m, a.res, w)
				}
			case domain.ErrorCode(a.err) != domain.AlreadySignedIn:
				t.Errorf("%s member %d: %v", day, m, a.err)
			}
		}
		if ok != 1 {
			t.Errorf("%s member %d: %d sign-ins, want 1", day, m, ok)
		}
	}
}

// checkLedger asserts each member's balance, number of sign-in awards and a
// clean ledger Check.
func (f *fixture) checkLedger(t *testing.T, ms []int64, balance int64, awards int) {
	t.Helper()
	type agg struct {
		MemberID int64
		N        int
		Sum      int64
	}
	var rows []agg
	if err := f.env.DB.Conn(f.ctx).Raw(`SELECT member_id, COUNT(*) AS n, SUM(delta) AS sum FROM ledger_entries
		WHERE ref_type = 'signin' GROUP BY member_id`).Scan(&rows).Error; err != nil {
		t.Fatal(err)
	}
	byMember := map[int64]agg{}
	for _, r := range rows {
		byMember[r.MemberID] = r
	}
	for _, m := range ms {
		b, err := f.ledger.Balance(f.ctx, m)
		if err != nil {
			t.Fatal(err)
		}
		if b.Available != balance {
			t.Errorf("member %d: available %d, want %d", m, b.Available, balance)
		}
		if n := byMember[m].N; n != awards {
			t.Errorf("member %d: %d sign-in awards, want %d", m, n, awards)
		}
		vs, err := f.ledger.Check(f.ctx, m)
		if err != nil || len(vs) > 0 {
			t.Errorf("member %d: check %v %v", m, vs, err)
		}
	}
}

// 200 goroutines over 50 members (four taps each) on three days in a row:
// one sign-in and one award per member-day, the streak carried from
// yesterday's row, every other tap AlreadySignedIn, balances and the
// ledger's invariants intact — and the requests really were grouped.
func TestGroupCommitManyMembersWithDoubleTaps(t *testing.T) {
	t.Parallel()
	clock := domain.NewFakeClock(monday)
	f := newFixture(t, clock)
	ms := members(50)
	rewards := []int64{10, 10, 15}
	var balance int64
	for d := range 3 {
		today := domain.DayOf(clock.Now())
		balance += rewards[d]
		got := tapAll(ms, 4, func(m int64) (signin.Result, error) { return f.svc.SignIn(f.ctx, m) })
		checkDay(t, today.String(), got, func(int64) signin.Result {
			return signin.Result{Day: today, Streak: d + 1, Balance: balance, Awarded: []signin.Line{{Points: rewards[d]}}}
		})
		rows, err := f.store.Rows(f.ctx, ms, []domain.Day{today}, false)
		if err != nil || len(rows) != len(ms) {
			t.Fatalf("%s: %d rows, %v", today, len(rows), err)
		}
		for _, r := range rows {
			if r.Streak != d+1 || r.Points != rewards[d] {
				t.Errorf("%s: row %+v", today, r)
			}
		}
		clock.Advance(24 * time.Hour)
	}
	clock.Advance(-24 * time.Hour)
	f.checkLedger(t, ms, balance, 3)
	var n int64
	if err := f.env.DB.Conn(f.ctx).Raw("SELECT COUNT(*) FROM signins").Scan(&n).Error; err != nil || n != 150 {
		t.Fatalf("%d sign-in rows, want 150 (%v)", n, err)
	}
	for _, m := range ms {
		v, err := f.svc.Calendar(f.ctx, m, "")
		if err != nil || !v.SignedToday || v.Streak != 3 || len(v.SignedDays) != 3 {
			t.Errorf("calendar of %d: %+v %v", m, v, err)
		}
	}
	groups, grouped := f.svc.GroupStats()
	t.Logf("%s: %d groups answered %d of %d requests", f.env.Backend, groups, grouped, 3*4*len(ms))
	if groups == 0 || grouped <= groups {
		t.Fatalf("no grouping: %d groups answered %d requests", groups, grouped)
	}
}

// A make-up of yesterday racing today's sign-in, for 30 members at once:
// whichever commits first, the rows end as 11-20…11-23 with streaks 1…4
// (the sign-in's group re-reads yesterday under lock, or the make-up's
// renumbering scan waits for today's row and fixes it).
// Both ways: through group commit and one by one (the fallback).
func TestSignInRacingMakeupKeepsStreaks(t *testing.T) {
	t.Parallel()
	for _, committers := range []int{2, 0} {
		t.Run(fmt.Sprint("committers=", committers), func(t *testing.T) {
			t.Parallel()
			signInRacingMakeup(t, committers)
		})
	}
}

func signInRacingMakeup(t *testing.T, committers int) {
	clock := domain.NewFakeClock(time.Date(2026, 11, 20, 10, 0, 0, 0, domain.Shanghai))
	f := newFixture(t, clock)
	f.svc.GroupCommit.Committers = committers
	ms := members(30)
	for _, m := range ms {
		if _, err := f.ledger.Earn(f.ctx, ledger.EarnInput{MemberID: m, Points: 100, Key: fmt.Sprint("seed-", m),
			Ref: ledger.Ref{Type: "test", ID: "seed"}, Operator: "test"}); err != nil {
			t.Fatal(err)
		}
	}
	for range 2 { // 11-20 and 11-21, streaks 1 and 2
		got := tapAll(ms, 1, func(m int64) (signin.Result, error) { return f.svc.SignIn(f.ctx, m) })
		for m, as := range got {
			if as[0].err != nil {
				t.Fatalf("member %d: %v", m, as[0].err)
			}
		}
		clock.Advance(24 * time.Hour)
	}
	clock.Advance(24 * time.Hour) // 11-23; 11-22 missed
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make(chan error, 2*len(ms))
	for _, m := range ms {
		wg.Add(2)
		go func() {
			defer wg.Done()
			<-start
			_, err := f.svc.Makeup(f.ctx, m, "2026-11-22")
			errs <- err
		}()
		go func() {
			defer wg.Done()
			<-start
			_, err := f.svc.SignIn(f.ctx, m)
			errs <- err
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	days := []domain.Day{{Year: 2026, Month: 11, Day: 20}, {Year: 2026, Month: 11, Day: 21}, {Year: 2026, Month: 11, Day: 22}, {Year: 2026, Month: 11, Day: 23}}
	rows, err := f.store.Rows(f.ctx, ms, days, false)
	if err != nil || len(rows) != 4*len(ms) {
		t.Fatalf("%d rows, %v", len(rows), err)
	}
	for _, r := range rows {
		if want := r.Day.Day - 19; r.Streak != want {
			t.Errorf("member %d %s: streak %d, want %d", r.MemberID, r.Day, r.Streak, want)
		}
	}
	// 100 + 10 + 10 − 20 + 10 (today's award is 10 at streak 1 or 4).
	f.checkLedger(t, ms, 110, 3)
	for _, m := range ms {
		if v, err := f.svc.Calendar(f.ctx, m, ""); err != nil || v.Streak != 4 {
			t.Errorf("calendar of %d: %+v %v", m, v, err)
		}
	}
}

// A sign-in inside a caller's transaction keeps the one-by-one path (its
// rows must commit with the caller's).
func TestSignInInCallersTransactionRunsAlone(t *testing.T) {
	t.Parallel()
	f := newFixture(t, domain.NewFakeClock(monday))
	var res signin.Result
	err := f.env.DB.InTx(f.ctx, func(ctx context.Context) error {
		var err error
		res, err = f.svc.SignIn(ctx, 7)
		return err
	})
	if err != nil || res.Streak != 1 || res.Balance != 10 {
		t.Fatalf("%+v %v", res, err)
	}
	if groups, grouped := f.svc.GroupStats(); groups != 0 || grouped != 0 {
		t.Fatalf("grouped: %d %d", groups, grouped)
	}
	if _, err := f.svc.SignIn(f.ctx, 7); domain.ErrorCode(err) != domain.AlreadySignedIn {
		t.Fatalf("again: %v", err)
	}
}

// failingInsert makes every group's INSERT fail as a duplicate would.
type failingInsert struct {
	*signinstore.Store
	calls atomic.Int64
}

func (s *failingInsert) InsertMany(context.Context, []signin.Record) error {
	s.calls.Add(1)
	return fmt.Errorf("test: %w", signin.ErrDuplicate)
}

// When a group's transaction fails, each of its requests runs alone and
// gets the answer it would have got without group commit.
func TestFailedGroupFallsBackToOneByOne(t *testing.T) {
	t.Parallel()
	f := newFixture(t, domain.NewFakeClock(monday))
	fs := &failingInsert{Store: f.store}
	f.svc.Store = fs
	ms := members(10)
	got := tapAll(ms, 3, func(m int64) (signin.Result, error) { return f.svc.SignIn(f.ctx, m) })
	today := domain.DayOf(monday)
	checkDay(t, today.String(), got, func(int64) signin.Result {
		return signin.Result{Day: today, Streak: 1, Balance: 10, Awarded: []signin.Line{{Points: 10}}}
	})
	if fs.calls.Load() == 0 {
		t.Fatal("no group tried to insert")
	}
	if groups, grouped := f.svc.GroupStats(); grouped > 0 && groups > 0 {
		// Only groups made entirely of already-signed members can commit.
		t.Logf("%d groups answered %d requests without inserting", groups, grouped)
	}
	f.checkLedger(t, ms, 10, 1)
}

// evenGold is gold for even members; it counts its lookups.
type evenGold struct{ one, many atomic.Int64 }

func (t *evenGold) tier(m int64) string {
	if m%2 == 0 {
		return "gold"
	}
	return "normal"
}

func (t *evenGold) TierOf(_ context.Context, m int64) (string, error) {
	t.one.Add(1)
	return t.tier(m), nil
}

func (t *evenGold) TiersOf(_ context.Context, ms []int64) (map[int64]string, error) {
	t.many.Add(1)
	out := map[int64]string{}
	for _, m := range ms {
		out[m] = t.tier(m)
	}
	return out, nil
}

// A group looks tiers up once for all its members, and the tier
// multiplier applies as on the lone path (gold ×1.5: 10 → 15 with its line).
func TestGroupCommitAppliesTierMultipliers(t *testing.T) {
	t.Parallel()
	f := newFixture(t, domain.NewFakeClock(monday))
	tiers := &evenGold{}
	f.svc.Tiers = tiers
	f.svc.Rewards.TierPermille = map[string]int64{"gold": 1500}
	ms := members(40)
	got := tapAll(ms, 1, func(m int64) (signin.Result, error) { return f.svc.SignIn(f.ctx, m) })
	for m, as := range got {
		a := as[0]
		want, lines := int64(10), 1
		if m%2 == 0 {
			want, lines = 15, 2
		}
		if a.err != nil || signin.Total(a.res.Awarded) != want || len(a.res.Awarded) != lines || a.res.Balance != want {
			t.Errorf("member %d: %+v %v", m, a.res, a.err)
		}
	}
	groups, _ := f.svc.GroupStats()
	// One TiersOf per group (no group failed here: distinct members).
	if n := tiers.many.Load(); n == 0 || n != groups || tiers.one.Load() != 0 {
		t.Fatalf("tier lookups: %d batched over %d groups, %d single", n, groups, tiers.one.Load())
	}
	// The lone path (in a caller's transaction) looks its member up through
	// the same function, once, and agrees.
	if err := f.env.DB.InTx(f.ctx, func(ctx context.Context) error {
		_, err := f.svc.SignIn(ctx, 42)
		return err
	}); err != nil || tiers.many.Load()+tiers.one.Load() != groups+1 {
		t.Errorf("alone: %v, %d lookups after %d groups", err, tiers.many.Load()+tiers.one.Load(), groups)
	}
	if b, _ := f.ledger.Balance(f.ctx, 42); b.Available != 15 {
		t.Errorf("member 42 alone: %d, want 15", b.Available)
	}
}

// LoadGroup reads the members' rows of the days asked for (repeats and
// unsorted members included) and, in a pipelined transaction, answers
// which accounts it took: those that exist. Elsewhere it takes none, and
// says so.
func TestLoadGroup(t *testing.T) {
	t.Parallel()
	f := newFixture(t, domain.NewFakeClock(monday))
	today := domain.DayOf(monday)
	yesterday := today.AddDays(-1)
	const stranger = 20000 // no account (the fixture's are 1..10,000)
	seed := []signin.Record{
		{MemberID: 1, Day: yesterday, Streak: 4, Points: 10, CreatedAt: monday.Add(-24 * time.Hour)},
		{MemberID: 2, Day: today, Streak: 1, Points: 10, CreatedAt: monday},
		{MemberID: 2, Day: today.AddDays(-2), Streak: 1, Points: 10, CreatedAt: monday.Add(-48 * time.Hour)},
		{MemberID: stranger, Day: yesterday, Streak: 2, Points: 10, CreatedAt: monday.Add(-24 * time.Hour)},
	}
	for _, r := range seed {
		if err := f.store.Insert(f.ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	var got signin.SignInGroupState
	pipelined := false
	err := f.env.DB.InPipelinedTx(f.ctx, func(ctx context.Context) error {
		pipelined = repo.Pipelined(ctx)
		var err error
		got, err = f.store.LoadGroup(ctx, signin.SignInGroupQuery{Members: []int64{stranger, 2, 1, 3, 2}, Days: []domain.Day{today, yesterday}})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var rows []string
	for _, r := range got.Rows {
		rows = append(rows, fmt.Sprintf("%d %s %d", r.MemberID, r.Day, r.Streak))
	}
	want := []string{
		fmt.Sprintf("1 %s 4", yesterday),
		fmt.Sprintf("2 %s 1", today),
		fmt.Sprintf("%d %s 2", stranger, yesterday),
	}
	if fmt.Sprint(rows) != fmt.Sprint(want) {
		t.Errorf("rows %v, want %v", rows, want)
	}
	wantTaken := map[int64]bool{}
	if pipelined {
		wantTaken = map[int64]bool{1: true, 2: true, 3: true}
	}
	if fmt.Sprint(got.AccountTaken) != fmt.Sprint(wantTaken) {
		t.Errorf("%s (pipelined %v): accounts taken %v, want %v", f.env.Backend, pipelined, got.AccountTaken, wantTaken)
	}
	if f.env.Backend != "sqlite+miniredis" && !pipelined {
		t.Logf("%s: not pipelined", f.env.Backend)
	}
}
