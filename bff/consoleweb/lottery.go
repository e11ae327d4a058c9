package consoleweb

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/web"
	"github.com/jifen/jifen/domain/lottery"
)

type lotteryListData struct {
	Campaigns []lottery.Campaign
	Next      int64
}

// listLottery is GET /console/lottery: the lottery campaigns, newest first
// (lottery.Service.Campaigns, as GET /api/v1/console/lottery/campaigns).
func (h *Handlers) listLottery(c *gin.Context) {
	page, err := web.ParsePage(c)
	if err != nil {
		h.fail(c, err)
		return
	}
	var d lotteryListData
	if d.Campaigns, d.Next, err = h.API.Lottery.Campaigns(c.Request.Context(), 50, page.Cursor); err != nil {
		h.fail(c, err)
		return
	}
	h.render(c, http.StatusOK, "lotteries", "lottery.list", d)
}

// prizeRow is one prize with its share of the weights and its draws.
type prizeRow struct {
	lottery.Prize
	Unlimited   bool
	Left        int64
	ChanceBasis int64 // the prize's share of the weights, in basis points (1/10000)
	Draws, Pity int64
}

type lotteryData struct {
	Campaign    *lottery.Campaign
	Prizes      []prizeRow
	Stats       lottery.Stats
	Consolation prizeRow // prize id 0's draws: the consolation or a miss
	Paid        int64
}

// showLottery is GET /console/lottery/{id}: the campaign's rules (cost,
// free draws, limits, pity, consolation), its prizes with weights, chance,
// stock, units won and per-member limits, and the draw statistics
// (lottery.Service.Stats, as GET /api/v1/console/lottery/campaigns/{id} and
// /stats).
func (h *Handlers) showLottery(c *gin.Context) {
	id, err := pathID(c)
	if err != nil {
		h.fail(c, err)
		return
	}
	camp, st, err := h.API.Lottery.Stats(c.Request.Context(), id)
	if err != nil {
		h.fail(c, err)
		return
	}
	d := lotteryData{Campaign: camp, Stats: st, Paid: st.Draws - st.Free}
	draws := map[int64]lottery.PrizeStats{}
	for _, p := range st.ByPrize {
		draws[p.PrizeID] = p
	}
	var total int64
	for _, p := range camp.Prizes {
		total += p.Weight
	}
	for _, p := range camp.Prizes {
		r := prizeRow{Prize: p, Unlimited: p.Stock == lottery.Unlimited, Draws: draws[p.ID].Draws, Pity: draws[p.ID].Pity}
		if !r.Unlimited {
			r.Left = p.Stock - p.Won
		}
		if total > 0 {
			r.ChanceBasis = p.Weight * 10000 / total
		}
		d.Prizes = append(d.Prizes, r)
	}
	d.Consolation = prizeRow{Draws: draws[0].Draws, Pity: draws[0].Pity}
	h.render(c, http.StatusOK, "lottery", "lottery.title", d, camp.Name)
}
