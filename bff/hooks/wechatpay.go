package hooks

import (
	"io"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/web"
	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/mall"
)

// PayVerifier checks a WeChat Pay notification (wechat.Pay).
type PayVerifier interface {
	Notification(body []byte) (mall.PayNotice, error)
}

// WeChatPay receives WeChat Pay's notifications for the cash part of
// points + cash mall redemptions.
type WeChatPay struct {
	Mall   *mall.Service
	Verify PayVerifier // nil: no merchant configured, every notification is 404
}

// maxPayNotification bounds a notification (WeChat's are about 1 KB).
const maxPayNotification = 16 << 10

// paidOK is the answer WeChat Pay expects for a notification it need not
// send again.
const paidOK = `<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>`

// Notify handles POST /api/v1/hooks/wechat-pay: WeChat Pay's signed pay
// notification (XML). Public: WeChat's signature with the merchant key is
// the authentication, never a JWT. A forged or foreign notification is
// 401, one that is not a pay notification 400, an unknown out_trade_no 404
// and a wrong amount 422, all changing nothing (WeChat retries a non-200);
// a notification applied (paid, failed, or recorded as refund_needed
// because it came too late) and every replay of it answer 200 with
// return_code SUCCESS.
func (h *WeChatPay) Notify(c *gin.Context) {
	body, err := io.ReadAll(io.LimitReader(c.Request.Body, maxPayNotification+1))
	if err != nil {
		web.Fail(c, domain.Errorf(domain.Invalid, "cannot read the body"))
		return
	}
	if len(body) > maxPayNotification {
		web.Fail(c, domain.Errorf(web.CodeTooLarge, "a pay notification is at most %d bytes", maxPayNotification))
		return
	}
	if h.Verify == nil {
		web.Fail(c, domain.Errorf(domain.NotFound, "WeChat Pay is not configured"))
		return
	}
	n, err := h.Verify.Notification(body)
	if err != nil {
		web.Fail(c, err)
		return
	}
	if _, err := h.Mall.PayNotified(c.Request.Context(), n); err != nil {
		web.Fail(c, err)
		return
	}
	c.Data(http.StatusOK, "text/xml; charset=utf-8", []byte(paidOK))
}
