package console

import (
	"time"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/web"
	"github.com/jifen/jifen/domain/lottery"
)

// lotteryActor is the console user editing campaigns and prizes, for
// their audit rows.
func lotteryActor(c *gin.Context) lottery.Actor {
	cl := web.Claims(c)
	return lottery.Actor{Name: cl.Subject, Role: cl.Role}
}

// campaignRequest is a campaign as the console writes it. Prizes are
// accepted on create only; later they are edited one by one.
type campaignRequest struct {
	Name              string         `json:"name"`
	StartsAt          time.Time      `json:"starts_at" bind:"required"`
	EndsAt            time.Time      `json:"ends_at" bind:"required"`
	CostPoints        int64          `json:"cost_points"`
	FreePerDay        int            `json:"free_per_day"`
	LimitTotal        int            `json:"limit_total"`
	LimitDaily        int            `json:"limit_daily"`
	PityAfter         int            `json:"pity_after"`
	ConsolationName   string         `json:"consolation_name"`
	ConsolationPoints int64          `json:"consolation_points"`
	Prizes            []prizeRequest `json:"prizes"`
}

// prizeRequest is one prize; stock null or absent means unlimited.
type prizeRequest struct {
	Name           string `json:"name"`
	Kind           string `json:"kind"`
	Points         int64  `json:"points"`
	CouponCode     string `json:"coupon_code"`
	Weight         int64  `json:"weight"`
	Stock          *int64 `json:"stock" bind:"nullable"`
	PerMemberLimit int    `json:"per_member_limit"`
}

func (r *prizeRequest) toDomain() lottery.Prize {
	stock := lottery.Unlimited
	if r.Stock != nil {
		stock = *r.Stock
		if stock < 0 {
			stock = lottery.Unlimited - 1 // refused by Validate as negative
		}
	}
	return lottery.Prize{Name: r.Name, Kind: lottery.Kind(r.Kind), Points: r.Points, CouponCode: r.CouponCode,
		Weight: r.Weight, Stock: stock, PerMemberLimit: r.PerMemberLimit}
}

func (r *campaignRequest) toDomain() *lottery.Campaign {
	c := &lottery.Campaign{Name: r.Name, StartsAt: r.StartsAt, EndsAt: r.EndsAt, CostPoints: r.CostPoints, FreePerDay: r.FreePerDay,
		LimitTotal: r.LimitTotal, LimitDaily: r.LimitDaily, PityAfter: r.PityAfter, ConsolationName: r.ConsolationName,
		ConsolationPoints: r.ConsolationPoints}
	for i := range r.Prizes {
		c.Prizes = append(c.Prizes, r.Prizes[i].toDomain())
	}
	return c
}

type prizeJSON struct {
	ID             int64  `json:"id"`
	Name           string `json:"name"`
	Kind           string `json:"kind"`
	Points         int64  `json:"points"`
	CouponCode     string `json:"coupon_code"`
	Weight         int64  `json:"weight"`
	Stock          *int64 `json:"stock"`
	Won            int64  `json:"won"`
	PerMemberLimit int    `json:"per_member_limit"`
}

type campaignJSON struct {
	ID                int64       `json:"id"`
	Name              string      `json:"name"`
	StartsAt          time.Time   `json:"starts_at"`
	EndsAt            time.Time   `json:"ends_at"`
	CostPoints        int64       `json:"cost_points"`
	FreePerDay        int         `json:"free_per_day"`
	LimitTotal        int         `json:"limit_total"`
	LimitDaily        int         `json:"limit_daily"`
	PityAfter         int         `json:"pity_after"`
	ConsolationName   string      `json:"consolation_name"`
	ConsolationPoints int64       `json:"consolation_points"`
	Prizes            []prizeJSON `json:"prizes"`
}

func toPrizeJSON(p lottery.Prize) prizeJSON {
	out := prizeJSON{ID: p.ID, Name: p.Name, Kind: string(p.Kind), Points: p.Points, CouponCode: p.CouponCode,
		Weight: p.Weight, Won: p.Won, PerMemberLimit: p.PerMemberLimit}
	if p.Stock != lottery.Unlimited {
		s := p.Stock
		out.Stock = &s
	}
	return out
}

func toCampaignJSON(c *lottery.Campaign) campaignJSON {
	out := campaignJSON{ID: c.ID, Name: c.Name, StartsAt: c.StartsAt.UTC(), EndsAt: c.EndsAt.UTC(), CostPoints: c.CostPoints,
		FreePerDay: c.FreePerDay, LimitTotal: c.LimitTotal, LimitDaily: c.LimitDaily, PityAfter: c.PityAfter,
		ConsolationName: c.ConsolationName, ConsolationPoints: c.ConsolationPoints, Prizes: []prizeJSON{}}
	for _, p := range c.Prizes {
		out.Prizes = append(out.Prizes, toPrizeJSON(p))
	}
	return out
}
