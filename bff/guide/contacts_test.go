package guide_test

import (
	"fmt"
	"testing"

	"github.com/jifen/jifen/cmd/jifen/app/apptest"
	"github.com/jifen/jifen/wechat/sim"
)

// contactAdded sends WeCom's add_external_contact callback of guide adding
// external and wants "success".
func (w *world) contactAdded(guideUserID, external string) {
	w.h.T.Helper()
	app := w.callbackApp()
	ev := sim.ExternalContactAdded{UserID: guideUserID, ExternalUserID: external, Time: w.h.Clock.Now()}
	q, body, err := app.Callback(ev.XML(app.CorpID), w.h.Clock.Now())
	if err != nil {
		w.h.T.Fatal(err)
	}
	if r := w.h.Do("POST", "/api/v1/hooks/wecom?"+q.Encode(), body); r.Status != 200 || string(r.Body) != "success" {
		w.h.T.Fatalf("callback for %s: %d %s", external, r.Status, r.Body)
	}
}

// customerOf wants member m among the guide's customers, from source.
func (w *world) customerOf(tok string, m int64, source string) {
	w.h.T.Helper()
	r := w.h.Do("GET", fmt.Sprintf("/api/v1/guide/customers/%d", m), nil, apptest.Auth(tok)...)
	if r.Status != 200 {
		w.h.T.Fatalf("customer %d: %d %s", m, r.Status, r.Body)
	}
	if c, _ := r.JSON()["customer"].(map[string]any); c == nil || c["source"] != source {
		w.h.T.Fatalf("customer %d: %s, want source %s", m, r.Body, source)
	}
}

// TestContactAddedBeforeFirstLoginIsBound: in a store the guide adds the
// customer in WeCom at the till and the shopper opens the mini-program
// later. The contact is kept and bound at the first login, by unionid;
// under the default rebind rule it comes first, so a later scene of
// another guide does not take the customer over.
func TestContactAddedBeforeFirstLoginIsBound(t *testing.T) {
	t.Parallel()
	w := setup(t, 1000)
	h := w.h
	user, other := apptest.UniqueUser("m"), apptest.UniqueUser("m")
	w.contactAdded(w.b.UserID, sim.ExternalUserID(user))
	w.contactAdded(w.b.UserID, sim.ExternalUserID(other))
	if n := count(t, h, "guide_customers"); n != 0 {
		t.Fatalf("%d bindings before anyone logged in", n)
	}
	m := w.shopper(user, "")
	w.customerOf(w.bTok, m, "wecom")
	// The other shopper arrives through guide A's code: B added them first.
	mo := w.shopper(other, w.a.Scene)
	w.customerOf(w.bTok, mo, "wecom")
	if r := h.Do("GET", fmt.Sprintf("/api/v1/guide/customers/%d", mo), nil, apptest.Auth(w.aTok)...); r.Status != 404 {
		t.Fatalf("A reads B's customer: %d %s", r.Status, r.Body)
	}
	// A second login binds nothing again; the kept contacts are used up.
	w.shopper(user, "")
	if n := count(t, h, "guide_customers"); n != 2 {
		t.Fatalf("%d bindings, want 2", n)
	}
}

// TestContactWithoutUnionIDIsKept: WeCom names no unionid for a contact
// when the company is not linked to the WeChat open platform, and answers
// 84061 for an external userid it does not know. Both are permanent: the
// callback is answered "success" (no retries) and kept. Such a shopper
// becomes the guide's customer through the guide's code (scene g:<code>).
func TestContactWithoutUnionIDIsKept(t *testing.T) {
	t.Parallel()
	w := setup(t, 1000)
	h := w.h
	user := apptest.UniqueUser("m")
	w.contactAdded(w.b.UserID, sim.ExternalUserIDWithoutUnionID(user))
	w.contactAdded(w.b.UserID, "wm-not-a-contact-"+user)
	if n := count(t, h, "wecom_callbacks"); n != 2 {
		t.Fatalf("%d callbacks kept, want 2", n)
	}
	m := w.shopper(user, w.b.Scene)
	w.customerOf(w.bTok, m, "scene")
}
