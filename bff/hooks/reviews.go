package hooks

import (
	"bytes"
	"io"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/web"
	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/task"
)

// Reviews serves the order system's review notices (/api/v1/hooks/reviews).
type Reviews struct {
	Tasks  *task.Service
	Secret []byte
	Clock  domain.Clock
	Wall   domain.Clock // as Handlers.Wall
}

// reviewWindow is how far X-Jifen-Timestamp may be from now, either way.
const reviewWindow = 5 * time.Minute

// verify checks X-Jifen-Signature = hex HMAC-SHA256(secret, timestamp + "." + body)
// and that the timestamp is within the window, before the body is parsed.
func (h *Reviews) verify(c *gin.Context, body []byte) error {
	return verifySigned(h.Secret, reviewWindow, h.Clock, h.Wall, c.GetHeader(HeaderTimestamp), c.GetHeader(HeaderSignature), body)
}

// Receive handles POST /api/v1/hooks/reviews {"event_id","member_id","order_id"}:
// one step for the member's review tasks; the same event_id again is
// 200 with counted false.
func (h *Reviews) Receive(c *gin.Context) {
	body, err := readBody(c)
	if err != nil {
		web.Fail(c, err)
		return
	}
	if err := h.verify(c, body); err != nil {
		web.Fail(c, err)
		return
	}
	c.Request.Body = io.NopCloser(bytes.NewReader(body))
	var req struct {
		EventID  string `json:"event_id"`
		MemberID int64  `json:"member_id"`
		OrderID  string `json:"order_id"`
	}
	if err := web.Bind(c, &req); err != nil {
		web.Fail(c, err)
		return
	}
	counted, err := h.Tasks.Reviewed(c.Request.Context(), task.ReviewEvent{EventID: req.EventID, MemberID: req.MemberID, OrderID: req.OrderID})
	if err != nil {
		web.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"counted": counted})
}
