package tierstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jifen/jifen/domain/tier"
	"github.com/jifen/jifen/repo"
	"github.com/jifen/jifen/repo/testenv"
	"github.com/jifen/jifen/repo/tierstore"
)

var at = time.Date(2026, 11, 23, 2, 0, 0, 0, time.UTC)

func initState(id int64) tier.State {
	return tier.State{MemberID: id, Level: "normal", ReachedAt: at, ReviewAt: at.AddDate(1, 0, 0), UpdatedAt: at}
}

// seed stores tier rows with growth 100×id through LockMany and SaveMany.
func seed(t *testing.T, env *testenv.Env, st *tierstore.Store, ids ...int64) {
	t.Helper()
	err := env.DB.InTx(context.Background(), func(ctx context.Context) error {
		var inits []tier.State
		for _, id := range ids {
			inits = append(inits, initState(id))
		}
		rows, err := st.LockMany(ctx, inits)
		if err != nil {
			return err
		}
		var sts []tier.State
		for _, id := range ids {
			s := rows[id]
			s.GrowthFen, s.PaidOrders = 100*id, id
			sts = append(sts, s)
		}
		return st.SaveMany(ctx, sts)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A prelock (tier.Service.LockMembers) locks the rows with the transaction's
// next statement, and LockMany then answers from that read: rows found as
// stored, a missing one inserted. SaveMany joins the transaction: after a
// rollback nothing changed, after a commit the rows hold what was saved.
func TestPrelockedRowsAreLockedWithTheNextStatement(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	st := &tierstore.Store{DB: env.DB}
	seed(t, env, st, 1, 2)
	svc := &tier.Service{Store: st}
	errRollback := errors.New("roll back")
	for _, commit := range []bool{false, true} {
		err := env.DB.InPipelinedTx(context.Background(), func(ctx context.Context) error {
			if err := svc.LockMembers(ctx, []int64{2, 1, 3}); err != nil {
				return err
			}
			var one int
			if err := env.DB.Conn(ctx).Raw("SELECT 1").Scan(&one).Error; err != nil {
				return err
			}
			if env.DB.Dialect() == repo.MySQL {
				// Another session cannot lock row 1: the prelock holds it.
				var id int64
				err := env.DB.Conn(context.Background()).Raw("SELECT member_id FROM member_tiers WHERE member_id = 1 FOR UPDATE NOWAIT").Scan(&id).Error
				if err == nil {
					t.Error("row 1 is not locked after the statement the prelock travelled with")
				}
			}
			rows, err := st.LockMany(ctx, []tier.State{initState(1), initState(2), initState(3)})
			if err != nil {
				return err
			}
			for _, id := range []int64{1, 2} {
				if r := rows[id]; r.GrowthFen != 100*id || r.PaidOrders != id || !r.ReviewAt.Equal(at.AddDate(1, 0, 0)) {
					t.Errorf("row %d: %+v", id, r)
				}
			}
			if r, ok := rows[3]; !ok || r.GrowthFen != 0 {
				t.Errorf("row 3 (missing before): %+v %v", r, ok)
			}
			var sts []tier.State
			for _, id := range []int64{1, 2, 3} {
				s := rows[id]
				s.GrowthFen += 5
				s.Level = "silver"
				sts = append(sts, s)
			}
			if err := st.SaveMany(ctx, sts); err != nil {
				return err
			}
			if !commit {
				return errRollback
			}
			return nil
		})
		if !commit && !errors.Is(err, errRollback) || commit && err != nil {
			t.Fatalf("commit %v: %v", commit, err)
		}
		for _, id := range []int64{1, 2, 3} {
			got, found, err := st.Get(context.Background(), id)
			if err != nil {
				t.Fatal(err)
			}
			want := 100 * id
			if commit {
				want += 5
			}
			if id == 3 {
				want -= 300
			}
			switch {
			case id == 3 && !commit:
				if found {
					t.Errorf("after rollback row 3 exists: %+v", got)
				}
			case got.GrowthFen != want || commit != (got.Level == "silver"):
				t.Errorf("commit %v: row %d is %+v, want growth %d", commit, id, got, want)
			}
		}
	}
}

// A LockMany that the prelock does not cover reads (and locks) the rows
// itself.
func TestLockManyNotCoveredByThePrelockReads(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	st := &tierstore.Store{DB: env.DB}
	seed(t, env, st, 1, 2)
	err := env.DB.InPipelinedTx(context.Background(), func(ctx context.Context) error {
		if err := st.TakeRows(ctx, []int64{1}); err != nil {
			return err
		}
		rows, err := st.LockMany(ctx, []tier.State{initState(1), initState(2)})
		if err != nil {
			return err
		}
		if rows[1].GrowthFen != 100 || rows[2].GrowthFen != 200 {
			t.Errorf("rows %+v", rows)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
