package console

import (
	"context"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/web"
	"github.com/jifen/jifen/domain/guide"
)

// CreateGuide handles POST /api/v1/console/guides (admin, marketer).
func (h *Handlers) CreateGuide(c *gin.Context) {
	var req guideRequest
	if err := web.Bind(c, &req); err != nil {
		web.Fail(c, err)
		return
	}
	h.createOnce(c, req, func(ctx context.Context) (gin.H, error) {
		g, err := h.Guides.CreateGuide(ctx, guideActor(c), req.input())
		if err != nil {
			return nil, err
		}
		return gin.H{"guide": web.ToGuideJSON(g)}, nil
	})
}

// guideActor is the console user editing stores and guides, for their
// audit rows.
func guideActor(c *gin.Context) guide.Actor {
	cl := web.Claims(c)
	if cl == nil {
		return guide.Actor{}
	}
	return guide.Actor{Name: cl.Subject, Role: cl.Role}
}

// GuideActor is guideActor for the console's pages.
func GuideActor(c *gin.Context) guide.Actor { return guideActor(c) }
