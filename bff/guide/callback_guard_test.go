package guide_test

import (
	"encoding/xml"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/silenceper/wechat/v2/util"

	"github.com/jifen/jifen/cmd/jifen/app/apptest"
	"github.com/jifen/jifen/configs"
	"github.com/jifen/jifen/wechat/sim"
)

// TestWeComCallbackTimestampWindowAndNonce: a callback more than five
// minutes old or ahead is refused with nothing recorded; a second callback
// under a nonce already seen, even one carrying another event signed with
// the right token, is answered "success" and changes nothing.
func TestWeComCallbackTimestampWindowAndNonce(t *testing.T) {
	t.Parallel()
	w := setup(t, 1000)
	h := w.h
	app := w.callbackApp()
	user, other := apptest.UniqueUser("m"), apptest.UniqueUser("m")
	w.shopper(user, "")
	w.shopper(other, "")
	callback := func(u string, at time.Time) (url.Values, []byte) {
		t.Helper()
		ev := sim.ExternalContactAdded{UserID: w.b.UserID, ExternalUserID: sim.ExternalUserID(u), Time: at}
		q, body, err := app.Callback(ev.XML(app.CorpID), at)
		if err != nil {
			t.Fatal(err)
		}
		return q, body
	}
	for _, skew := range []time.Duration{-6 * time.Minute, 6 * time.Minute} {
		q, body := callback(user, h.Clock.Now().Add(skew))
		if r := h.Do("POST", "/api/v1/hooks/wecom?"+q.Encode(), body); r.Status != 401 || !strings.Contains(string(r.Body), "window") {
			t.Fatalf("callback %s away: %d %s", skew, r.Status, r.Body)
		}
	}
	if n := count(t, h, "wecom_callbacks") + count(t, h, "guide_customers"); n != 0 {
		t.Fatalf("%d rows after callbacks outside the window", n)
	}
	q, body := callback(user, h.Clock.Now().Add(-4*time.Minute))
	if r := h.Do("POST", "/api/v1/hooks/wecom?"+q.Encode(), body); r.Status != 200 || string(r.Body) != "success" {
		t.Fatalf("callback 4 minutes old: %d %s", r.Status, r.Body)
	}
	// Another contact's event under the first one's timestamp and nonce.
	_, obody := callback(other, h.Clock.Now())
	var env struct{ Encrypt string }
	if err := xml.Unmarshal(obody, &env); err != nil {
		t.Fatal(err)
	}
	ts, nonce := q.Get("timestamp"), q.Get("nonce")
	rq := url.Values{"timestamp": {ts}, "nonce": {nonce}, "msg_signature": {util.Signature(app.Token, ts, nonce, env.Encrypt)}}
	if r := h.Do("POST", "/api/v1/hooks/wecom?"+rq.Encode(), obody); r.Status != 200 || string(r.Body) != "success" {
		t.Fatalf("callback under a used nonce: %d %s", r.Status, r.Body)
	}
	if n := count(t, h, "guide_customers"); n != 1 {
		t.Fatalf("%d bindings, want 1: a used nonce bound another contact", n)
	}
}

// TestWeComCallbackAnsweredWithinBudget: WeCom gives a callback 5 seconds
// and then sends it again. A lookup at WeCom that hangs past the budget is
// answered 503 within it, and the nonce is forgotten: WeCom's retry of
// the same callback is worked and binds the contact. (Not parallel: the
// fault is on the process-wide simulator.)
func TestWeComCallbackAnsweredWithinBudget(t *testing.T) {
	w := setup(t, 1000, func(c *configs.Config) { c.WeChat.CallbackBudget = 300 * time.Millisecond })
	h := w.h
	user := apptest.UniqueUser("m")
	m := w.shopper(user, "")
	path, body := w.addContact(w.b.UserID, user)
	if err := h.Sim.AddFault(sim.Fault{API: "externalcontact/get", DelayMS: 3000}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	r := h.Do("POST", path, body)
	if took := time.Since(start); r.Status != 503 || took > 2*time.Second {
		t.Fatalf("callback with WeCom hanging: %d %s after %s; want 503 within the budget", r.Status, r.Body, took)
	}
	if n := count(t, h, "wecom_callbacks") + count(t, h, "guide_customers"); n != 0 {
		t.Fatalf("%d rows after a callback past its budget", n)
	}
	if r := h.Do("POST", path, body); r.Status != 200 || string(r.Body) != "success" {
		t.Fatalf("WeCom's retry: %d %s", r.Status, r.Body)
	}
	if r := h.Do("GET", fmt.Sprintf("/api/v1/guide/customers/%d", m), nil, apptest.Auth(w.bTok)...); r.Status != 200 {
		t.Fatalf("customer after the retry: %d %s", r.Status, r.Body)
	}
}
