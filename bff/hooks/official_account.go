package hooks

import (
	"context"
	"crypto/subtle"
	"encoding/xml"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/silenceper/wechat/v2/util"

	"github.com/jifen/jifen/bff/web"
	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/task"
)

// OfficialAccount serves the official account's server URL
// (/api/v1/hooks/wechat/official-account): plaintext pushes signed with
// signature, or encrypted ones (encrypt_type=aes) signed with
// msg_signature, checked and decrypted with the SDK's helpers.
type OfficialAccount struct {
	Tasks *task.Service
	// Followers records subscribe and unsubscribe events in
	// official_followers (the template reminder channel); nil skips it.
	Followers FollowerRecorder
	AppID     string
	Token     string
	// AESKey set: only encrypted pushes (safe mode) are accepted, since a
	// plaintext push's signature does not cover its body. "": plaintext
	// pushes only.
	AESKey string
	Guard  *CallbackGuard
}

// FollowerRecorder is reminder.Followers as the hook uses it.
type FollowerRecorder interface {
	Changed(ctx context.Context, openid string, subscribed bool, at time.Time) error
}

func (h *OfficialAccount) check(c *gin.Context, param string, parts ...string) error {
	got, ts, nonce := c.Query(param), c.Query("timestamp"), c.Query("nonce")
	want := util.Signature(append([]string{h.Token, ts, nonce}, parts...)...)
	if got == "" || ts == "" || nonce == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		return domain.Errorf(domain.Unauthorized, "%s does not match", param)
	}
	return nil
}

// Verify handles GET: WeChat's server URL check, answered with echostr.
func (h *OfficialAccount) Verify(c *gin.Context) {
	if err := h.check(c, "signature"); err != nil {
		web.Fail(c, err)
		return
	}
	c.Data(http.StatusOK, "text/plain; charset=utf-8", []byte(c.Query("echostr")))
}

type oaEvent struct {
	FromUserName string `xml:"FromUserName"`
	CreateTime   int64  `xml:"CreateTime"`
	MsgType      string `xml:"MsgType"`
	Event        string `xml:"Event"`
	Encrypt      string `xml:"Encrypt"`
}

// Receive handles POST: a bad signature, a timestamp outside the window
// (CallbackGuard) or a plaintext push while an AES key is configured is
// 401, a body that is not a push 400, all with nothing written; work that
// fails or does not fit the guard's budget is 503, its nonce forgotten for
// WeChat's retry; every authentic push gets "success", including events
// Jifen ignores and replays (a nonce seen before: nothing changes).
func (h *OfficialAccount) Receive(c *gin.Context) {
	body, err := readBody(c)
	if err != nil {
		web.Fail(c, err)
		return
	}
	var ev oaEvent
	if xml.Unmarshal(body, &ev) != nil {
		web.Fail(c, domain.Errorf(domain.Invalid, "body must be WeChat's <xml> push"))
		return
	}
	if c.Query("encrypt_type") == "aes" {
		if ev.Encrypt == "" || h.AESKey == "" {
			web.Fail(c, domain.Errorf(domain.Invalid, "encrypted push without <Encrypt> or without a configured AES key"))
			return
		}
		if err := h.check(c, "msg_signature", ev.Encrypt); err != nil {
			web.Fail(c, err)
			return
		}
		_, plain, err := util.DecryptMsg(h.AppID, ev.Encrypt, h.AESKey)
		if err != nil {
			web.Fail(c, domain.Errorf(domain.Invalid, "cannot decrypt the push"))
			return
		}
		if ev = (oaEvent{}); xml.Unmarshal(plain, &ev) != nil {
			web.Fail(c, domain.Errorf(domain.Invalid, "decrypted push is not XML"))
			return
		}
	} else if h.AESKey != "" {
		// The plaintext signature covers token, timestamp and nonce only: a
		// captured one would carry any body.
		web.Fail(c, domain.Errorf(domain.Unauthorized, "plaintext push refused: an EncodingAESKey is configured, so pushes must be encrypted (safe mode)"))
		return
	} else if err := h.check(c, "signature"); err != nil {
		web.Fail(c, err)
		return
	}
	err = h.Guard.run(c.Request.Context(), "official-account", c.Query("timestamp"), c.Query("nonce"), func(ctx context.Context) error {
		return h.apply(ctx, ev)
	})
	if err != nil {
		web.Fail(c, err)
		return
	}
	c.Data(http.StatusOK, "text/plain; charset=utf-8", []byte("success"))
}

// apply records an authentic push: a follow or unfollow at its CreateTime
// (a late retry of an older event does not undo a newer one), and a follow
// completes the follow task.
// maxOpenID bounds an openid in a push (WeChat's are 28 characters).
const maxOpenID = 64

func (h *OfficialAccount) apply(ctx context.Context, ev oaEvent) error {
	if ev.MsgType != "event" || (ev.Event != "subscribe" && ev.Event != "unsubscribe") {
		return nil
	}
	if ev.FromUserName == "" || len(ev.FromUserName) > maxOpenID {
		return nil // no openid WeChat issues: nothing to record
	}
	if h.Followers != nil {
		if err := h.Followers.Changed(ctx, ev.FromUserName, ev.Event == "subscribe", time.Unix(ev.CreateTime, 0)); err != nil {
			return err
		}
	}
	if ev.Event == "subscribe" {
		id := ev.FromUserName + ":" + strconv.FormatInt(ev.CreateTime, 10)
		if _, err := h.Tasks.Followed(ctx, ev.FromUserName, id); err != nil {
			return err
		}
	}
	return nil
}
