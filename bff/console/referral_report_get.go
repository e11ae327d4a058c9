package console

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/web"
	"github.com/jifen/jifen/domain"
)

// ReferralReport handles GET /api/v1/console/referrals/report?limit=20: the
// top inviters and the pairs flagged for review.
func (h *Handlers) ReferralReport(c *gin.Context) {
	limit := 20
	if s := c.Query("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			web.Fail(c, domain.FieldError("limit", "must be an integer from 1 to 100"))
			return
		}
		limit = n
	}
	r, err := h.Referrals.Report(c.Request.Context(), limit)
	if err != nil {
		web.Fail(c, err)
		return
	}
	top := make([]gin.H, 0, len(r.TopInviters))
	for _, t := range r.TopInviters {
		top = append(top, gin.H{"member_id": t.MemberID, "invites": t.Invites, "points": t.Points})
	}
	flagged := make([]gin.H, 0, len(r.Flagged))
	for _, b := range r.Flagged {
		flagged = append(flagged, gin.H{"invitee_id": b.InviteeID, "inviter_id": b.InviterID, "note": b.FlagNote, "bound_at": b.CreatedAt.UTC()})
	}
	c.JSON(http.StatusOK, gin.H{"top_inviters": top, "flagged": flagged})
}
