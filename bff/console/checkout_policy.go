package console

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/web"
	"github.com/jifen/jifen/domain/checkout"
)

type checkoutPolicyJSON struct {
	Version            int       `json:"version"`
	Enabled            bool      `json:"enabled"`
	PointsPerUnit      int64     `json:"points_per_unit"`
	UnitFen            int64     `json:"unit_fen"`
	MaxSharePermille   int64     `json:"max_share_permille"`
	MinOrderFen        int64     `json:"min_order_fen"`
	ExcludedCategories []string  `json:"excluded_categories"`
	UpdatedBy          string    `json:"updated_by"`
	UpdatedAt          time.Time `json:"updated_at"`
}

func toCheckoutPolicyJSON(p checkout.Policy) checkoutPolicyJSON {
	return checkoutPolicyJSON{Version: p.Version, Enabled: p.Enabled, PointsPerUnit: p.PointsPerUnit, UnitFen: p.UnitFen,
		MaxSharePermille: p.MaxSharePermille, MinOrderFen: p.MinOrderFen, ExcludedCategories: p.ExcludedCategories,
		UpdatedBy: p.UpdatedBy, UpdatedAt: p.UpdatedAt.UTC()}
}

// checkoutPolicyRequest is every editable field, and the version edited.
type checkoutPolicyRequest struct {
	Version            int      `json:"version" bind:"required"`
	Enabled            bool     `json:"enabled" bind:"required"`
	PointsPerUnit      int64    `json:"points_per_unit" bind:"required"`
	UnitFen            int64    `json:"unit_fen" bind:"required"`
	MaxSharePermille   int64    `json:"max_share_permille" bind:"required"`
	MinOrderFen        int64    `json:"min_order_fen" bind:"required"`
	ExcludedCategories []string `json:"excluded_categories" bind:"required"`
}

// CheckoutPolicy handles GET /api/v1/console/checkout/policy (any role).
func (h *Handlers) CheckoutPolicy(c *gin.Context) {
	p, err := h.Checkout.Policy(c.Request.Context())
	if err != nil {
		web.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"policy": toCheckoutPolicyJSON(p)})
}

// UpdateCheckoutPolicy handles PUT /api/v1/console/checkout/policy (admin,
// marketer): a new version, audited; "version" must be the one edited,
// else 409.
func (h *Handlers) UpdateCheckoutPolicy(c *gin.Context) {
	var req checkoutPolicyRequest
	if err := web.Bind(c, &req); err != nil {
		web.Fail(c, err)
		return
	}
	cl := web.Claims(c)
	p, err := h.Checkout.UpdatePolicy(c.Request.Context(), checkout.Actor{Name: cl.Subject, Role: cl.Role}, checkout.Policy{
		Version: req.Version, Enabled: req.Enabled, PointsPerUnit: req.PointsPerUnit, UnitFen: req.UnitFen,
		MaxSharePermille: req.MaxSharePermille, MinOrderFen: req.MinOrderFen, ExcludedCategories: req.ExcludedCategories})
	if err != nil {
		web.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"policy": toCheckoutPolicyJSON(p)})
}
