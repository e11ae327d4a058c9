package consoleweb

import (
	"context"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/console"
	"github.com/jifen/jifen/bff/web"
	"github.com/jifen/jifen/domain/guide"
	"github.com/jifen/jifen/domain/member"
)

type guideRow struct {
	guide.Guide
	StoreName  string
	PhoneMask  string // the guide's own phone, masked; "" when none
	Used, Left int64
	UsedBasis  int64 // used ÷ budget in basis points (capped at 10000), for the bar
	Over       bool  // used at least the whole budget
}

type guidesData struct {
	Stores   []guide.Store
	Guides   []guideRow
	Month    string
	Next     int64
	Problems []string
	Saved    string
}

// listGuides is GET /console/guides: the stores and the shop guides, each
// guide's monthly budget beside what they granted this Asia/Shanghai month
// (guide.Service.Stores, Guides and MonthUsage — the JSON API's
// GET /api/v1/console/stores and /guides read the same service).
func (h *Handlers) listGuides(c *gin.Context) {
	page, err := web.ParsePage(c)
	if err != nil {
		h.fail(c, err)
		return
	}
	d, err := h.loadGuides(c, page.Cursor)
	if err != nil {
		h.fail(c, err)
		return
	}
	d.Saved = c.Query("saved")
	h.render(c, http.StatusOK, "guides", "guides.title", d)
}

func (h *Handlers) loadGuides(c *gin.Context, cursor int64) (guidesData, error) {
	ctx := c.Request.Context()
	var d guidesData
	var err error
	if d.Stores, err = h.API.Guides.Stores(ctx); err != nil {
		return d, err
	}
	gs, next, err := h.API.Guides.Guides(ctx, cursor, 50)
	if err != nil {
		return d, err
	}
	ids := make([]int64, len(gs))
	for i, g := range gs {
		ids[i] = g.ID
	}
	u, err := h.API.Guides.MonthUsage(ctx, ids)
	if err != nil {
		return d, err
	}
	names := map[int64]string{}
	for _, s := range d.Stores {
		names[s.ID] = s.Name
	}
	d.Month, d.Next = u.Month, next
	for _, g := range gs {
		r := guideRow{Guide: g, StoreName: names[g.StoreID], PhoneMask: member.MaskPhone(g.Phone), Used: u.Used[g.ID]}
		r.Left = max(g.MonthlyBudget-r.Used, 0)
		r.Over = r.Used >= g.MonthlyBudget
		if g.MonthlyBudget > 0 {
			r.UsedBasis = min(r.Used*10000/g.MonthlyBudget, 10000)
		} else if r.Used > 0 {
			r.UsedBasis = 10000
		}
		d.Guides = append(d.Guides, r)
	}
	return d, nil
}

// saveStore is POST /console/stores and /console/stores/{id} (admin,
// marketer): guide.Service.CreateStore / UpdateStore, as POST and PATCH
// /api/v1/console/stores. A blank robot key on an edit keeps the key.
func (h *Handlers) saveStore(c *gin.Context) {
	name, key := c.PostForm("name"), strings.TrimSpace(c.PostForm("robot_key"))
	in := guide.StoreInput{Name: &name}
	var sid int64
	var err error
	if c.Param("id") == "" {
		in.RobotKey = &key
	} else if sid, err = pathID(c); err == nil && key != "" {
		in.RobotKey = &key
	}
	h.saved(c, err, "store", func(ctx context.Context) (err error) {
		if sid == 0 {
			_, err = h.API.Guides.CreateStore(ctx, console.GuideActor(c), in)
		} else {
			_, err = h.API.Guides.UpdateStore(ctx, console.GuideActor(c), sid, in)
		}
		return err
	})
}

// saveGuide is POST /console/guides and /console/guides/{id} (admin,
// marketer): guide.Service.CreateGuide / UpdateGuide, as POST and PATCH
// /api/v1/console/guides (the userid is fixed once created).
func (h *Handlers) saveGuide(c *gin.Context) {
	fe := formErrors{}
	name := c.PostForm("name")
	storeID := fe.int("store_id", c.PostForm("store_id"))
	budget := fe.int("monthly_budget", c.PostForm("monthly_budget"))
	in := guide.GuideInput{Name: &name, StoreID: &storeID, MonthlyBudget: &budget}
	// The guide's own phone (risk's guide_self_grant): a blank field keeps
	// what is stored, as the robot key's does; the JSON API clears it.
	if phone := strings.TrimSpace(c.PostForm("phone")); phone != "" {
		in.Phone = &phone
	}
	var gid int64
	var err error
	if c.Param("id") == "" {
		userID := strings.TrimSpace(c.PostForm("userid"))
		in.UserID = &userID
	} else {
		status := c.PostForm("status")
		in.Status = &status
		gid, err = pathID(c)
	}
	if err == nil {
		err = fe.err()
	}
	h.saved(c, err, "guide", func(ctx context.Context) (err error) {
		if gid == 0 {
			_, err = h.API.Guides.CreateGuide(ctx, console.GuideActor(c), in)
		} else {
			_, err = h.API.Guides.UpdateGuide(ctx, console.GuideActor(c), gid, in)
		}
		return err
	})
}

// saved runs a store's or guide's write once per rendering of its form
// (h.once) unless the form was refused already (err), and sends the
// browser back to the page, or shows the page again with the problems
// and the status the JSON API would answer.
func (h *Handlers) saved(c *gin.Context, err error, what string, write func(ctx context.Context) error) {
	next := ""
	if err == nil {
		next, err = h.once(c, func(ctx context.Context) (string, error) {
			return "/console/guides?saved=" + what, write(ctx)
		})
	}
	if err == nil {
		c.Redirect(http.StatusSeeOther, next)
		return
	}
	status, detail := web.Describe(c, err)
	d, lerr := h.loadGuides(c, 0)
	if lerr != nil {
		h.fail(c, lerr)
		return
	}
	d.Problems = problems(h.lang(c), detail)
	h.render(c, status, "guides", "guides.title", d)
}
