package lottery

import (
	"time"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/ledger"
)

// The draw rules, each written once: the limits, free or paid, what the
// draw won (the picked prize, the per-member limit and stock, the pity
// rule, the consolation) and the ledger operations of its cost and prize.
// Both executors call them — one draw per transaction (Service.commit) and
// a group of draws in one transaction (group.go) — and differ only in how
// they load the member's counters and prizes and how they take a unit of
// stock.

// admit decides whether the member, with today's counters st, may draw in
// c and whether the draw is free: a limit reached is a RuleViolation;
// otherwise the draw of memberID under key, with its cost or marked free,
// and the counters with the free draw used.
func (c *Campaign) admit(st MemberState, memberID int64, key string, day int, now time.Time) (Draw, MemberState, error) {
	if c.LimitTotal > 0 && st.Draws >= c.LimitTotal {
		return Draw{}, st, c.limitTotal()
	}
	if c.LimitDaily > 0 && st.DayDraws >= c.LimitDaily {
		return Draw{}, st, c.limitDaily()
	}
	d := Draw{CampaignID: c.ID, MemberID: memberID, Key: key, Ref: newRef(), Day: day, CreatedAt: now}
	switch {
	case c.CostPoints > 0 && st.FreeUsed < c.FreePerDay:
		st.FreeUsed++
		d.Free = true
	case c.CostPoints > 0:
		d.CostPoints = c.CostPoints
	default:
		d.Free = true
	}
	return d, st, nil
}

// chances is what the member, with today's counters st, may still do in c
// (the limits admit checks, counted down).
func (c *Campaign) chances(st MemberState) Chances {
	left := -1
	if c.LimitTotal > 0 {
		left = max(0, c.LimitTotal-st.Draws)
	}
	if c.LimitDaily > 0 {
		d := max(0, c.LimitDaily-st.DayDraws)
		if left < 0 || d < left {
			left = d
		}
	}
	free := max(0, c.FreePerDay-st.FreeUsed)
	if left >= 0 && free > left {
		free = left
	}
	return Chances{FreeLeft: free, DrawsLeft: left, Cost: c.CostPoints}
}

func (c *Campaign) limitTotal() error {
	return domain.Errorf(domain.RuleViolation, "you have used all %d draws of this campaign", c.LimitTotal)
}

func (c *Campaign) limitDaily() error {
	return domain.Errorf(domain.RuleViolation, "you have used all %d draws for today", c.LimitDaily)
}

// drawing is what deciding a draw's prize needs, loaded by the executor.
type drawing struct {
	c       *Campaign
	prizes  []Prize // the campaign's prizes as SQL has them (the pity rule's candidates)
	picked  Prize   // the prize the weights picked, as SQL has it
	gateOut bool    // the Gate had no unit of picked left: no claim on it
	misses  int     // the member's miss streak before this draw
	// claim asks for prize p for the member (claimPrize with the member's
	// wins of p and the executor's way of taking a unit of stock).
	claim func(p Prize) (claim, error)
	// order is the pity rule's order of the candidates (Service.pityOrder).
	order func([]Prize) []Prize
}

// win decides what d won: the picked prize when claimed; else, once the
// miss streak has reached the campaign's PityAfter, the first prize of
// the pity order that can be claimed; else the consolation, or nothing.
// took tells the Gate what SQL decided about stock.
func (w drawing) win(d *Draw) (took takeInfo, err error) {
	var prize *Prize
	if !w.gateOut {
		r, err := w.claim(w.picked)
		if err != nil {
			return took, err
		}
		switch r {
		case claimed:
			prize = &w.picked
		case claimSoldOut:
			took.soldOut = true
		}
	}
	d.award(w.c, prize)
	if d.PrizeKind != KindNothing || w.c.PityAfter <= 0 || w.misses < w.c.PityAfter {
		return took, nil
	}
	for _, p := range w.order(w.prizes) {
		r, err := w.claim(p)
		if err != nil {
			return took, err
		}
		if r == claimed {
			d.award(w.c, &p)
			d.Pity = true
			if p.Stock != Unlimited {
				took.other = p.ID
			}
			break
		}
	}
	return took, nil
}

// costSpend is the ledger spend paying a paid draw (d.CostPoints > 0).
func (d *Draw) costSpend() ledger.SpendInput {
	return ledger.SpendInput{MemberID: d.MemberID, Points: d.CostPoints, Key: "lottery:" + d.Ref,
		Ref: ledger.Ref{Type: "lottery_draw", ID: d.Ref}, Title: "抽奖消耗", Operator: "lottery"}
}

// prizeEarn is the ledger earn of a points prize, when the draw won one.
func (d *Draw) prizeEarn() (ledger.EarnInput, bool) {
	if d.PrizeKind != KindPoints || d.Points <= 0 {
		return ledger.EarnInput{}, false
	}
	return ledger.EarnInput{MemberID: d.MemberID, Points: d.Points, Key: "lottery:" + d.Ref + ":prize",
		Ref: ledger.Ref{Type: "lottery_draw", ID: d.Ref}, Title: "抽奖奖品", Operator: "lottery"}, true
}
