package shopper

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/redis/go-redis/v9"

	"github.com/jifen/jifen/bff/web"
)

// MeCache keeps each member's GET /me answer outside the database
// (repo/mecache: in Redis, invalidated when a transaction that changed the
// member's points, tier or profile ends).
type MeCache interface {
	// Get returns the cached answer, or nil and fill, which stores the
	// answer the caller built from the database unless a write to the
	// member ended meanwhile; it is not served from until on (zero: no end).
	Get(ctx context.Context, memberID int64) (answer []byte, fill func(answer []byte, until time.Time))
	// Queue is Get in a pipeline the caller sends; read gives its answer
	// once the pipeline is sent.
	Queue(ctx context.Context, pipe redis.Pipeliner, memberID int64) (read func() ([]byte, func([]byte, time.Time)))
}

const keyMePrefetched = "jifen.me.prefetched"

// PrefetchMe queues GET /me's cache read in the request gate's pipeline
// (bff.gate: one Redis round trip for the limits, the session and this);
// done hands the answer to Me. Nil when nothing is cached.
func (h *Handlers) PrefetchMe(ctx context.Context, pipe redis.Pipeliner, memberID int64) (done func(*gin.Context)) {
	if h.MeCache == nil {
		return nil
	}
	read := h.MeCache.Queue(ctx, pipe, memberID)
	return func(c *gin.Context) { c.Set(keyMePrefetched, read) }
}

const jsonContentType = "application/json; charset=utf-8"

// Me handles GET /api/v1/shopper/me.
func (h *Handlers) Me(c *gin.Context) {
	ctx := c.Request.Context()
	var fill func([]byte, time.Time)
	if h.MeCache != nil {
		var answer []byte
		if v, ok := c.Get(keyMePrefetched); ok {
			answer, fill = v.(func() ([]byte, func([]byte, time.Time)))()
		} else {
			answer, fill = h.MeCache.Get(ctx, web.MemberID(c))
		}
		if answer != nil {
			c.Data(http.StatusOK, jsonContentType, answer)
			return
		}
	}
	m, err := h.Members.Get(ctx, web.MemberID(c))
	if err != nil {
		web.Fail(c, err)
		return
	}
	bal, err := h.Ledger.Balance(ctx, m.ID)
	if err != nil {
		web.Fail(c, err)
		return
	}
	st, err := h.Tiers.Get(ctx, m.ID)
	if err != nil {
		web.Fail(c, err)
		return
	}
	answer, err := json.Marshal(gin.H{"member": toMemberJSON(m), "points": toPointsJSON(bal),
		"tier": gin.H{"code": st.Level.Code, "name": st.Level.Name}})
	if err != nil {
		web.Fail(c, err)
		return
	}
	// Pending points unlock with time, not with a write: such a balance is
	// read from the database every time. Points expire with time too: the
	// answer is kept until the first of them do, at most.
	if fill != nil && bal.Pending == 0 {
		var until time.Time
		if len(bal.Expiring) > 0 {
			until = bal.Expiring[0].ExpiresAt
		}
		fill(answer, until)
	}
	c.Data(http.StatusOK, jsonContentType, answer)
}
