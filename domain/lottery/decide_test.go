package lottery

import (
	"fmt"
	"testing"
	"time"

	"github.com/jifen/jifen/domain"
)

func errCode(err error) string {
	if err == nil {
		return ""
	}
	return string(domain.ErrorCode(err))
}

func TestAdmit(t *testing.T) {
	now := time.Date(2026, 12, 6, 3, 0, 0, 0, time.UTC)
	cases := []struct {
		name     string
		c        Campaign
		st       MemberState
		err      string
		free     bool
		cost     int64
		freeUsed int
		left     Chances
	}{
		{"no cost is free", Campaign{}, MemberState{}, "", true, 0, 0, Chances{FreeLeft: 0, DrawsLeft: -1}},
		{"a free draw left", Campaign{CostPoints: 10, FreePerDay: 1}, MemberState{}, "", true, 0, 1, Chances{FreeLeft: 1, DrawsLeft: -1, Cost: 10}},
		{"free draws used", Campaign{CostPoints: 10, FreePerDay: 1}, MemberState{FreeUsed: 1}, "", false, 10, 1, Chances{FreeLeft: 0, DrawsLeft: -1, Cost: 10}},
		{"campaign limit reached", Campaign{LimitTotal: 3}, MemberState{Draws: 3}, "RULE_VIOLATION", false, 0, 0, Chances{DrawsLeft: 0}},
		{"daily limit reached", Campaign{LimitTotal: 9, LimitDaily: 2}, MemberState{Draws: 4, DayDraws: 2}, "RULE_VIOLATION", false, 0, 0, Chances{DrawsLeft: 0}},
		{"the tighter limit counts", Campaign{LimitTotal: 5, LimitDaily: 3, CostPoints: 5, FreePerDay: 5}, MemberState{Draws: 3, DayDraws: 1}, "", true, 0, 1, Chances{FreeLeft: 2, DrawsLeft: 2, Cost: 5}},
	}
	for _, c := range cases {
		d, st, err := c.c.admit(c.st, 7, "k", 20261206, now)
		if errCode(err) != c.err {
			t.Errorf("%s: %v, want %q", c.name, err, c.err)
		}
		if err == nil && (d.Free != c.free || d.CostPoints != c.cost || st.FreeUsed != c.freeUsed ||
			d.MemberID != 7 || d.Key != "k" || d.Day != 20261206 || d.Ref == "" || !d.CreatedAt.Equal(now)) {
			t.Errorf("%s: %+v %+v", c.name, d, st)
		}
		if got := c.c.chances(c.st); got != c.left {
			t.Errorf("%s: chances %+v, want %+v", c.name, got, c.left)
		}
	}
}

func TestWin(t *testing.T) {
	gold := Prize{ID: 1, Kind: KindPoints, Name: "100 分", Points: 100, Stock: 1, Weight: 1}
	mug := Prize{ID: 2, Kind: KindGift, Name: "杯子", Stock: Unlimited, Weight: 1}
	capped := Prize{ID: 3, Kind: KindCoupon, Name: "券", CouponCode: "C", Stock: Unlimited, PerMemberLimit: 1, Weight: 1}
	miss := Prize{ID: 4, Kind: KindNothing, Name: "谢谢", Stock: Unlimited, Weight: 5}
	all := []Prize{gold, mug, capped, miss}
	cases := []struct {
		name    string
		c       Campaign
		picked  Prize
		gateOut bool
		misses  int
		left    map[int64]int64 // stock left by prize id
		wins    map[int64]int   // the member's wins by prize id
		want    string          // prize kind/name, pity, took
	}{
		{"the picked prize", Campaign{}, gold, false, 0, map[int64]int64{1: 1}, nil, "points/100 分 pity=false took={false 0}"},
		{"the picked prize sold out", Campaign{}, gold, false, 0, map[int64]int64{1: 0}, nil, "nothing/谢谢参与 pity=false took={true 0}"},
		{"the Gate had none: no claim", Campaign{}, gold, true, 0, map[int64]int64{1: 1}, nil, "nothing/谢谢参与 pity=false took={false 0}"},
		{"the member's limit keeps the stock", Campaign{}, capped, false, 0, nil, map[int64]int{3: 1}, "nothing/谢谢参与 pity=false took={false 0}"},
		{"sold out with consolation", Campaign{ConsolationName: "安慰", ConsolationPoints: 2}, gold, false, 0, map[int64]int64{1: 0}, nil, "points/安慰 pity=false took={true 0}"},
		{"a picked empty prize", Campaign{}, miss, false, 0, nil, nil, "nothing/谢谢 pity=false took={false 0}"},
		{"pity not yet", Campaign{PityAfter: 3}, miss, false, 2, map[int64]int64{1: 1}, nil, "nothing/谢谢 pity=false took={false 0}"},
		{"pity takes the first claimable", Campaign{PityAfter: 3}, miss, false, 3, map[int64]int64{1: 1}, nil, "points/100 分 pity=true took={false 1}"},
		{"pity skips a sold-out prize", Campaign{PityAfter: 3}, miss, false, 5, map[int64]int64{1: 0}, nil, "gift/杯子 pity=true took={false 0}"},
		{"pity after the picked prize sold out", Campaign{PityAfter: 1}, gold, false, 1, map[int64]int64{1: 0}, nil, "gift/杯子 pity=true took={true 0}"},
	}
	for _, c := range cases {
		left := map[int64]int64{}
		for k, v := range c.left {
			left[k] = v
		}
		w := drawing{c: &c.c, prizes: all, picked: c.picked, gateOut: c.gateOut, misses: c.misses,
			claim: func(p Prize) (claim, error) {
				return claimPrize(p, c.wins[p.ID], func() (bool, error) {
					if left[p.ID] <= 0 {
						return false, nil
					}
					left[p.ID]--
					return true, nil
				})
			},
			order: func(ps []Prize) []Prize { return pityCandidates(ps) }}
		var d Draw
		took, err := w.win(&d)
		if got := fmt.Sprintf("%s/%s pity=%v took=%v", d.PrizeKind, d.PrizeName, d.Pity, took); err != nil || got != c.want {
			t.Errorf("%s: %s %v, want %s", c.name, got, err, c.want)
		}
	}
}

// pityCandidates is pityOrder without the randomness: the non-empty
// prizes in their order.
func pityCandidates(ps []Prize) []Prize {
	var out []Prize
	for _, p := range ps {
		if !p.Empty() {
			out = append(out, p)
		}
	}
	return out
}

func TestLedgerOperationsOfADraw(t *testing.T) {
	d := Draw{MemberID: 7, Ref: "r1", CostPoints: 10, PrizeKind: KindPoints, Points: 50}
	if sp := d.costSpend(); sp.MemberID != 7 || sp.Points != 10 || sp.Key != "lottery:r1" || sp.Ref.ID != "r1" {
		t.Errorf("cost: %+v", sp)
	}
	if in, ok := d.prizeEarn(); !ok || in.Points != 50 || in.Key != "lottery:r1:prize" {
		t.Errorf("prize: %+v %v", in, ok)
	}
	if _, ok := (&Draw{PrizeKind: KindGift}).prizeEarn(); ok {
		t.Error("a gift earns no points")
	}
}
