package rulestore_test

// The tests in this package do not call t.Parallel: repo.OpenSQLite and
// repo.OpenMySQL share one *gorm.Config, which gorm.Open mutates, so two
// databases open at once in one process step on each other.

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/rules"
)

// TestBudgetPoolUnderConcurrentOrders: 200 orders, each applied in its own
// transaction, draw on a pool of 1,000 points. The pool grants exactly
// min(1000, demand) and never goes negative.
func TestBudgetPoolUnderConcurrentOrders(t *testing.T) {
	tests := []struct {
		name   string
		rule   rules.Rule
		amount func(i int) int64 // fen of order i
		demand int64
	}{
		{
			name:   "demand above the pool",
			rule:   rules.Rule{Name: "限量活动 1积分/元", Trigger: rules.OrderPaid, Budget: 1000, Effect: rules.Effect{Kind: rules.Rate, Brackets: []rules.Bracket{{PerMille: 1000}}}},
			amount: func(i int) int64 { return int64(i%13+1) * 100 }, // 1..13 yuan
			demand: 0,                                                // computed below
		},
		{
			name:   "demand below the pool",
			rule:   rules.Rule{Name: "限量奖励", Trigger: rules.OrderPaid, Budget: 1000, Effect: rules.Effect{Kind: rules.Bonus, Points: 3}},
			amount: func(int) int64 { return 100 },
			demand: 600,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc, env, _ := newService(t)
			ctx := context.Background()
			r, err := svc.Create(ctx, tt.rule)
			if err != nil {
				t.Fatal(err)
			}
			const n = 200
			demand := tt.demand
			if demand == 0 {
				for i := range n {
					demand += tt.amount(i) / 100
				}
			}
			var (
				wg      sync.WaitGroup
				mu      sync.Mutex
				granted int64
				errs    []error
			)
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					in := ev{member: int64(i + 1), fen: tt.amount(i)}.input()
					var res rules.Result
					err := env.DB.InTx(ctx, func(ctx context.Context) error {
						var err error
						res, err = svc.Apply(ctx, in)
						return err
					})
					mu.Lock()
					defer mu.Unlock()
					if err != nil {
						errs = append(errs, err)
						return
					}
					granted += res.Total
				}()
			}
			wg.Wait()
			if len(errs) > 0 {
				t.Fatalf("%d applies failed, first: %v", len(errs), errs[0])
			}
			want := min(1000, demand)
			if granted != want {
				t.Errorf("granted %d, want min(1000, %d) = %d", granted, demand, want)
			}
			var total, spent int64
			row := env.DB.Conn(ctx).Raw("SELECT total, spent FROM rule_budgets WHERE rule_id = ?", r.ID).Row()
			if err := row.Scan(&total, &spent); err != nil {
				t.Fatal(err)
			}
			remaining := total - spent
			if remaining < 0 || spent != granted {
				t.Errorf("pool of %d spent %d, granted %d", total, spent, granted)
			}
			var usage, minUsage int64
			if err := env.DB.Conn(ctx).Raw("SELECT COALESCE(SUM(points), 0), COALESCE(MIN(points), 0) FROM rule_usage WHERE rule_id = ?", r.ID).Row().Scan(&usage, &minUsage); err != nil {
				t.Fatal(err)
			}
			if usage != granted || minUsage < 0 {
				t.Errorf("usage records %d points (min %d), granted %d", usage, minUsage, granted)
			}
			got, err := svc.Get(ctx, r.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.BudgetRemaining != remaining {
				t.Errorf("Get shows %d remaining, table %d", got.BudgetRemaining, remaining)
			}
		})
	}
}

// TestDailyCapUnderConcurrentOrders: one member's concurrent orders never
// pass the daily cap together.
func TestDailyCapUnderConcurrentOrders(t *testing.T) {
	svc, env, _ := newService(t)
	ctx := context.Background()
	rule := flat("基础积分", 1000)
	rule.Caps.PerDay = 500
	if _, err := svc.Create(ctx, rule); err != nil {
		t.Fatal(err)
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		total int64
		errs  []error
	)
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var res rules.Result
			err := env.DB.InTx(ctx, func(ctx context.Context) error {
				var err error
				res, err = svc.Apply(ctx, ev{member: 7, fen: yuan(70)}.input())
				return err
			})
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			total += res.Total
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("%d applies failed, first: %v", len(errs), errs[0])
	}
	if total != 500 {
		t.Errorf("member earned %d under a daily cap of 500 (20 orders of 70)", total)
	}
}

func TestVersioning(t *testing.T) {
	svc, _, clk := newService(t)
	ctx := context.Background()
	r, err := svc.Create(ctx, flat("基础积分", 1000))
	if err != nil {
		t.Fatal(err)
	}
	if r.ID == 0 || r.Version != 1 || r.Status != rules.Active || r.Stacking != rules.Stackable {
		t.Fatalf("created %+v", r)
	}
	in := ev{fen: yuan(100)}.input()
	res, err := svc.Apply(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if want := []rules.RuleRef{{ID: r.ID, Version: 1}}; res.Total != 100 || len(res.Rules()) != 1 || res.Rules()[0] != want[0] {
		t.Fatalf("v1 earned %d with %v", res.Total, res.Rules())
	}

	clk.Advance(1)
	edit := r
	edit.Name = "基础积分 2倍"
	edit.Effect.Brackets[0].PerMille = 2000
	r2, err := svc.Update(ctx, edit)
	if err != nil {
		t.Fatal(err)
	}
	if r2.Version != 2 || r2.Name != "基础积分 2倍" || !r2.CreatedAt.Equal(r.CreatedAt) {
		t.Fatalf("updated %+v", r2)
	}
	res, err = svc.Apply(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if res.Total != 200 || res.Rules()[0] != (rules.RuleRef{ID: r.ID, Version: 2}) || res.Lines[0].Name != "基础积分 2倍" {
		t.Fatalf("v2 earned %d with %+v", res.Total, res.Lines)
	}

	old, err := svc.GetVersion(ctx, r.ID, 1)
	if err != nil {
		t.Fatal(err)
	}
	if old.Version != 1 || old.Name != "基础积分" || old.Effect.Brackets[0].PerMille != 1000 {
		t.Fatalf("version 1 snapshot %+v", old)
	}

	// A stale edit is a conflict, not a silent overwrite.
	if _, err := svc.Update(ctx, edit); domain.ErrorCode(err) != domain.Conflict {
		t.Fatalf("stale update: want Conflict, got %v", err)
	}
	// An invalid edit names the field and changes nothing.
	bad := r2
	bad.Effect.Brackets[0].PerMille = -1
	var de *domain.Error
	if _, err := svc.Update(ctx, bad); !errors.As(err, &de) || de.Code != domain.Invalid || de.Fields["effect.brackets[0].per_mille"] == "" {
		t.Fatalf("invalid update: %v", err)
	}

	list, err := svc.List(ctx, rules.Filter{Trigger: rules.OrderPaid})
	if err != nil || len(list) != 1 || list[0].Version != 2 {
		t.Fatalf("list %+v %v", list, err)
	}

	if err := svc.Delete(ctx, r.ID); err != nil {
		t.Fatal(err)
	}
	gone, err := svc.Get(ctx, r.ID)
	if err != nil || gone.Status != rules.Deleted || gone.Version != 3 {
		t.Fatalf("deleted rule %+v %v", gone, err)
	}
	res, err = svc.Apply(ctx, in)
	if err != nil || res.Total != 0 || len(res.Lines) != 0 {
		t.Fatalf("deleted rule still applies: %+v %v", res, err)
	}
	if list, _ := svc.List(ctx, rules.Filter{}); len(list) != 0 {
		t.Fatalf("deleted rule listed: %+v", list)
	}
	if list, _ := svc.List(ctx, rules.Filter{Status: rules.Deleted}); len(list) != 1 {
		t.Fatalf("deleted rules: %+v", list)
	}
	if err := svc.Delete(ctx, r.ID); domain.ErrorCode(err) != domain.NotFound {
		t.Fatalf("second delete: want NotFound, got %v", err)
	}
	for v, name := range map[int]string{1: "基础积分", 2: "基础积分 2倍", 3: "基础积分 2倍"} {
		snap, err := svc.GetVersion(ctx, r.ID, v)
		if err != nil || snap.Name != name || snap.Version != v {
			t.Errorf("version %d: %+v %v", v, snap, err)
		}
	}
	if _, err := svc.GetVersion(ctx, r.ID, 4); domain.ErrorCode(err) != domain.NotFound {
		t.Fatalf("version 4: want NotFound, got %v", err)
	}
	if _, err := svc.Get(ctx, 9999); domain.ErrorCode(err) != domain.NotFound {
		t.Fatalf("missing rule: want NotFound, got %v", err)
	}
}

func TestBudgetFollowsEdits(t *testing.T) {
	svc, _, _ := newService(t)
	ctx := context.Background()
	r, err := svc.Create(ctx, with(bonus("活动奖励", 400, rules.Conditions{}), func(r *rules.Rule) { r.Budget = 1000 }))
	if err != nil {
		t.Fatal(err)
	}
	if r.BudgetRemaining != 1000 {
		t.Fatalf("new pool holds %d", r.BudgetRemaining)
	}
	if _, err := svc.Apply(ctx, ev{fen: 100}.input()); err != nil {
		t.Fatal(err)
	}
	steps := []struct{ budget, remaining int64 }{
		{1500, 1100}, // 400 spent stays spent
		{300, 0},     // cut below what was spent: the pool is empty, not negative
		{2000, 1600},
	}
	for _, st := range steps {
		r.Budget = st.budget
		r, err = svc.Update(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		if r.BudgetRemaining != st.remaining {
			t.Errorf("budget %d: remaining %d, want %d", st.budget, r.BudgetRemaining, st.remaining)
		}
	}
}

func TestCreateRejectsInvalidRules(t *testing.T) {
	svc, _, _ := newService(t)
	ctx := context.Background()
	r := brackets()
	r.Name = ""
	r.Effect.Brackets[1].FromFen = 50000
	_, err := svc.Create(ctx, r)
	var de *domain.Error
	if !errors.As(err, &de) || de.Code != domain.Invalid || de.Fields["name"] == "" || de.Fields["effect.brackets[1].from_fen"] == "" {
		t.Fatalf("want Invalid on name and effect.brackets[1].from_fen, got %v", err)
	}
	if list, _ := svc.List(ctx, rules.Filter{}); len(list) != 0 {
		t.Fatalf("invalid rule stored: %+v", list)
	}
	if _, err := svc.Apply(ctx, rules.Input{Trigger: rules.OrderPaid, Member: rules.Member{ID: 1}}); domain.ErrorCode(err) != domain.Invalid {
		t.Fatalf("order trigger without order: want Invalid, got %v", err)
	}
	if _, err := svc.Apply(ctx, rules.Input{Trigger: rules.OrderPaid, Member: rules.Member{ID: 1}, Order: &rules.Order{AmountFen: -1}}); domain.ErrorCode(err) != domain.Invalid {
		t.Fatalf("negative amount: want Invalid, got %v", err)
	}
}

// MayLimit answers from the rule cache: false while no active rule of the
// trigger has caps or a pool, true once one has (its creation drops the
// cache), and always true with the cache off.
func TestMayLock(t *testing.T) {
	svc, _, _ := newService(t)
	ctx := context.Background()
	if may, err := svc.MayLimit(ctx, rules.OrderPaid); err != nil || !may {
		t.Fatalf("cache off: %v %v", may, err)
	}
	svc.CacheTTL = time.Minute
	if _, err := svc.Create(ctx, flat("基础积分", 1000)); err != nil {
		t.Fatal(err)
	}
	if may, err := svc.MayLimit(ctx, rules.OrderPaid); err != nil || may {
		t.Fatalf("no caps or pools: %v %v", may, err)
	}
	capped := flat("上限", 1000)
	capped.Caps.PerWeek = 100
	if _, err := svc.Create(ctx, capped); err != nil {
		t.Fatal(err)
	}
	if may, err := svc.MayLimit(ctx, rules.OrderPaid); err != nil || !may {
		t.Fatalf("a capped rule: %v %v", may, err)
	}
	if may, err := svc.MayLimit(ctx, rules.SignIn); err != nil || may {
		t.Fatalf("another trigger: %v %v", may, err)
	}
}
