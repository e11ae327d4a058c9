package hooks

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/xml"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/silenceper/wechat/v2/util"

	"github.com/jifen/jifen/bff/web"
	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/guide"
)

// verify checks msg_signature over the token, timestamp, nonce and the
// encrypted payload.
func (h *WeCom) verify(c *gin.Context, encrypted string) error {
	sig := c.Query("msg_signature")
	want := util.Signature(h.Token, c.Query("timestamp"), c.Query("nonce"), encrypted)
	if sig == "" || c.Query("timestamp") == "" || c.Query("nonce") == "" ||
		subtle.ConstantTimeCompare([]byte(sig), []byte(want)) != 1 {
		return domain.Errorf(domain.Unauthorized, "msg_signature does not match")
	}
	return nil
}

func (h *WeCom) decrypt(encrypted string) ([]byte, error) {
	_, plain, err := util.DecryptMsg(h.CorpID, encrypted, h.AESKey)
	if err != nil {
		return nil, domain.Errorf(domain.Invalid, "cannot decrypt the callback")
	}
	return plain, nil
}

// Verify handles GET /api/v1/hooks/wecom: WeCom's URL check, answered with
// the decrypted echostr.
func (h *WeCom) Verify(c *gin.Context) {
	echo := c.Query("echostr")
	if echo == "" {
		web.Fail(c, domain.FieldError("echostr", "required"))
		return
	}
	if err := h.verify(c, echo); err != nil {
		web.Fail(c, err)
		return
	}
	plain, err := h.decrypt(echo)
	if err != nil {
		web.Fail(c, err)
		return
	}
	c.Data(http.StatusOK, "text/plain; charset=utf-8", plain)
}

type envelope struct {
	Encrypt string `xml:"Encrypt"`
}

type event struct {
	MsgType        string `xml:"MsgType"`
	Event          string `xml:"Event"`
	ChangeType     string `xml:"ChangeType"`
	UserID         string `xml:"UserID"`
	ExternalUserID string `xml:"ExternalUserID"`
}

// Receive handles POST /api/v1/hooks/wecom: an encrypted event. A bad
// signature or a timestamp outside the window (CallbackGuard) is 401 and an
// undecryptable body 400, with nothing written; work that fails or does not
// fit the guard's budget is 503, its nonce forgotten for WeCom's retry;
// every authentic event gets WeCom's expected "success", including events
// Jifen ignores and replays (a nonce seen before, or the same event again:
// they change nothing).
func (h *WeCom) Receive(c *gin.Context) {
	body, err := readBody(c)
	if err != nil {
		web.Fail(c, err)
		return
	}
	var env envelope
	if xml.Unmarshal(body, &env) != nil || env.Encrypt == "" {
		web.Fail(c, domain.Errorf(domain.Invalid, "body must be WeCom's <xml> with <Encrypt>"))
		return
	}
	if err := h.verify(c, env.Encrypt); err != nil {
		web.Fail(c, err)
		return
	}
	plain, err := h.decrypt(env.Encrypt)
	if err != nil {
		web.Fail(c, err)
		return
	}
	var ev event
	if xml.Unmarshal(plain, &ev) != nil {
		web.Fail(c, domain.Errorf(domain.Invalid, "decrypted callback is not XML"))
		return
	}
	err = h.Guard.run(c.Request.Context(), "wecom", c.Query("timestamp"), c.Query("nonce"), func(ctx context.Context) error {
		if ev.Event != "change_external_contact" || ev.ChangeType != "add_external_contact" {
			return nil
		}
		digest := sha256.Sum256([]byte(env.Encrypt))
		return h.Guides.OnExternalContactAdded(ctx, guide.ExternalContactAdded{
			GuideUserID: ev.UserID, ExternalUserID: ev.ExternalUserID, Digest: hex.EncodeToString(digest[:])})
	})
	if err != nil {
		web.Fail(c, err)
		return
	}
	c.Data(http.StatusOK, "text/plain; charset=utf-8", []byte("success"))
}
