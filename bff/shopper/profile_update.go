package shopper

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/web"
	"github.com/jifen/jifen/domain"
)

type profileRequest struct {
	Birthday *string `json:"birthday"`
}

// UpdateProfile handles PUT /api/v1/shopper/profile: the birthday, once.
func (h *Handlers) UpdateProfile(c *gin.Context) {
	var req profileRequest
	if err := web.Bind(c, &req); err != nil {
		web.Fail(c, err)
		return
	}
	if req.Birthday == nil {
		web.Fail(c, domain.FieldError("birthday", "required"))
		return
	}
	m, err := h.Birthdays.Set(c.Request.Context(), web.MemberID(c), *req.Birthday)
	if err != nil {
		web.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"member": toMemberJSON(m)})
}
