package guide_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/jifen/jifen/cmd/jifen/app/apptest"
	"github.com/jifen/jifen/domain/risk"
)

// onlySelfGrant saves the default policy with only guide_self_grant on,
// holding the customer.
func onlySelfGrant(t *testing.T, w *world) {
	t.Helper()
	p := risk.DefaultPolicy()
	for i := range p.Rules {
		p.Rules[i].Enabled = p.Rules[i].Name == "guide_self_grant"
		p.Rules[i].Hold = p.Rules[i].Enabled
	}
	if r := w.h.Do("PUT", "/api/v1/console/risk/policy", map[string]any{"version": 1, "rules": p.Rules}, apptest.Auth(w.admin)...); r.Status != 200 {
		t.Fatalf("policy: %d %s", r.Status, r.Body)
	}
}

// setPhone sets a guide's phone in the console.
func (w *world) setPhone(id int64, phone string) *apptest.Response {
	w.h.T.Helper()
	return w.h.Do("PATCH", fmt.Sprintf("/api/v1/console/guides/%d", id), map[string]string{"phone": phone}, apptest.Auth(w.admin)...)
}

// customer is a new member bound to scene who binds phone ("" binds none).
func (w *world) customer(scene, phone string) int64 {
	w.h.T.Helper()
	user := apptest.UniqueUser("c")
	id := w.shopper(user, scene)
	if phone != "" {
		tok, _, _ := w.h.Login(user)
		if r := w.h.Do("POST", "/api/v1/shopper/phone", map[string]string{"code": w.h.PhoneCode(phone)}, apptest.Auth(tok)...); r.Status != 200 {
			w.h.T.Fatalf("bind phone %s: %d %s", phone, r.Status, r.Body)
		}
	}
	return id
}

func openFlags(t *testing.T, w *world) []map[string]any {
	t.Helper()
	r := w.h.Do("GET", "/api/v1/console/risk/flags?status=open", nil, apptest.Auth(w.admin)...)
	if r.Status != 200 {
		t.Fatalf("flags: %d %s", r.Status, r.Body)
	}
	var out []map[string]any
	for _, f := range r.JSON()["flags"].([]any) {
		out = append(out, f.(map[string]any))
	}
	return out
}

// guide_self_grant: guide A's phone, typed in the console as "+86 139
// 1234 5678", is the phone its own customer account bound. A grants 100
// points to each of four other customers (one on the next number, one
// with no phone) and then twice to that account: the first of those two
// flags it (and holds the account), the second adds nothing. Clearing
// the flag is audited on the guide and lifts the hold.
func TestGuideSelfGrantFlag(t *testing.T) {
	t.Parallel()
	w := setup(t, 10000)
	h := w.h
	onlySelfGrant(t, w)
	if r := w.setPhone(w.a.ID, "12ab"); r.Status != 400 || r.Fields()["phone"] == nil {
		t.Fatalf("a phone of letters: %d %s", r.Status, r.Body)
	}
	r := w.setPhone(w.a.ID, "+86 139 1234 5678")
	if r.Status != 200 || r.JSON()["guide"].(map[string]any)["phone_masked"] != "139****5678" {
		t.Fatalf("set phone: %d %s", r.Status, r.Body)
	}
	others := []int64{w.customer(w.a.Scene, "13912345679"), w.customer(w.a.Scene, "13800138000"),
		w.customer(w.a.Scene, ""), w.customer(w.a.Scene, "15012345678")}
	self := w.customer(w.a.Scene, "13912345678")
	w.aTok, w.admin = w.login(w.a.UserID), h.ConsoleLogin("admin")
	var per []int
	for i, m := range append(others, self, self) {
		if r := grant(w, w.aTok, fmt.Sprint("s", i), fmt.Sprintf(`{"member_id":%d,"points":100,"reason":"到店体验"}`, m)); r.Status != 201 {
			t.Fatalf("grant %d: %d %s", i, r.Status, r.Body)
		}
		per = append(per, len(openFlags(t, w)))
		h.Clock.Advance(time.Minute)
	}
	if fmt.Sprint(per) != "[0 0 0 0 1 1]" {
		t.Fatalf("open flags after each grant %v, want [0 0 0 0 1 1]", per)
	}
	f := openFlags(t, w)[0]
	ev, _ := f["evidence"].(map[string]any)
	if f["rule"] != "guide_self_grant" || f["dimension"] != "guide" || f["key"] != fmt.Sprintf("guide %d to %d", w.a.ID, self) ||
		f["member_id"].(float64) != float64(self) || f["count"].(float64) != 100 || f["held"] != true || ev == nil ||
		ev["guide_id"].(float64) != float64(w.a.ID) || ev["phone"] != "13912345678" || ev["points"].(float64) != 100 {
		t.Fatalf("flag %+v", f)
	}
	if r := h.Do("GET", fmt.Sprintf("/api/v1/console/members/%d/risk", self), nil, apptest.Auth(w.admin)...); r.Status != 200 || r.JSON()["hold"] == nil {
		t.Fatalf("the guide's account is not held: %d %s", r.Status, r.Body)
	}
	for _, m := range others {
		if r := h.Do("GET", fmt.Sprintf("/api/v1/console/members/%d/risk", m), nil, apptest.Auth(w.admin)...); r.Status != 200 || r.JSON()["hold"] != nil {
			t.Fatalf("customer %d held: %d %s", m, r.Status, r.Body)
		}
	}
	id := int64(f["id"].(float64))
	if r := h.Do("POST", fmt.Sprintf("/api/v1/console/risk/flags/%d/decision", id), `{"decision":"clear","note":"the guide's mother"}`, apptest.Auth(w.admin)...); r.Status != 200 {
		t.Fatalf("clear: %d %s", r.Status, r.Body)
	}
	if r := h.Do("GET", fmt.Sprintf("/api/v1/console/audit?target=guide:%d", w.a.ID), nil, apptest.Auth(w.admin)...); r.Status != 200 || !contains(r.Body, "risk.flag.clear") {
		t.Fatalf("audit of guide: %d %s", r.Status, r.Body)
	}
	if r := h.Do("GET", fmt.Sprintf("/api/v1/console/members/%d/risk", self), nil, apptest.Auth(w.admin)...); r.Status != 200 || r.JSON()["hold"] != nil {
		t.Fatalf("cleared, still held: %d %s", r.Status, r.Body)
	}
}

// Ordinary grants at a larger volume raise nothing: guide B, with a phone
// set, grants 100 points 40 times to 20 customers on numbers of the same
// block as the guide's (the next ones, the one before) and to customers
// without a phone; guide A, with no phone, grants as much to customers
// with phones.
func TestGuideSelfGrantOrdinary(t *testing.T) {
	t.Parallel()
	w := setup(t, 10000)
	onlySelfGrant(t, w)
	if r := w.setPhone(w.b.ID, "13700001000"); r.Status != 200 {
		t.Fatalf("set phone: %d %s", r.Status, r.Body)
	}
	var as, bs []int64
	for i := range 20 {
		phone := ""
		if i%4 != 0 {
			phone = fmt.Sprintf("137000%05d", 999+i) // 13700000999, 13700001000 skipped below, ...
		}
		if phone == "13700001000" {
			phone = "13700002000"
		}
		bs = append(bs, w.customer(w.b.Scene, phone))
		as = append(as, w.customer(w.a.Scene, fmt.Sprintf("136000%05d", i)))
	}
	w.aTok, w.bTok, w.admin = w.login(w.a.UserID), w.login(w.b.UserID), w.h.ConsoleLogin("admin")
	for i := range 40 {
		if r := grant(w, w.bTok, fmt.Sprint("b", i), fmt.Sprintf(`{"member_id":%d,"points":100,"reason":"到店体验"}`, bs[i%20])); r.Status != 201 {
			t.Fatalf("B grant %d: %d %s", i, r.Status, r.Body)
		}
		if r := grant(w, w.aTok, fmt.Sprint("a", i), fmt.Sprintf(`{"member_id":%d,"points":100,"reason":"到店体验"}`, as[i%20])); r.Status != 201 {
			t.Fatalf("A grant %d: %d %s", i, r.Status, r.Body)
		}
	}
	if flags := openFlags(t, w); len(flags) != 0 {
		t.Fatalf("ordinary grants raised %d flags: %+v", len(flags), flags)
	}
}
