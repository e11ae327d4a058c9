package shopper_test

import (
	"context"
	"testing"
	"time"

	"github.com/jifen/jifen/cmd/jifen/app/apptest"
)

func TestBindPhoneMasksAndIsUnique(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	a, _, aID := h.Login(apptest.UniqueUser("pa"))
	b, _, bID := h.Login(apptest.UniqueUser("pb"))
	r := h.Do("POST", "/api/v1/shopper/phone", map[string]string{"code": h.PhoneCode("13800000000")}, apptest.Auth(a)...)
	if r.Status != 200 {
		t.Fatalf("bind: %d %s", r.Status, r.Body)
	}
	if got := r.JSON()["member"].(map[string]any)["phone_masked"]; got != "138****0000" {
		t.Fatalf("phone_masked = %v", got)
	}
	// Binding the same number again is harmless.
	if r := h.Do("POST", "/api/v1/shopper/phone", map[string]string{"code": h.PhoneCode("13800000000")}, apptest.Auth(a)...); r.Status != 200 {
		t.Fatalf("rebind same: %d %s", r.Status, r.Body)
	}
	r = h.Do("POST", "/api/v1/shopper/phone", map[string]string{"code": h.PhoneCode("13800000000")}, apptest.Auth(b)...)
	if r.Status != 409 || r.ErrorCode() != "CONFLICT" {
		t.Fatalf("phone of another member: %d %s", r.Status, r.Body)
	}
	var phones []struct {
		ID    int64
		Phone *string
	}
	h.Env.DB.Conn(context.Background()).Table("members").Select("id, phone").Order("id").Find(&phones)
	if len(phones) != 2 || phones[0].ID != aID || phones[1].ID != bID || phones[1].Phone != nil || *phones[0].Phone != "13800000000" {
		t.Fatalf("phones changed: %+v", phones)
	}
	for _, bad := range []string{`{"code":""}`, `{"code":1}`, `{"code":"x","y":1}`, `{`, `{"code":"not-a-phone-code"}`} {
		specAllows := bad == `{"code":""}` || bad == `{"code":"not-a-phone-code"}`
		if r := h.Send(specAllows, "POST", "/api/v1/shopper/phone", bad, apptest.Auth(b)...); r.Status != 400 {
			t.Fatalf("%s: %d %s", bad, r.Status, r.Body)
		}
	}
	if r := h.Do("POST", "/api/v1/shopper/phone", map[string]string{"code": h.PhoneCode("13900000000")}); r.Status != 401 {
		t.Fatalf("no token: %d", r.Status)
	}
}

// WeChat's phone codes work once and for five minutes: a code used before
// (even by its own shopper) or issued five minutes ago is 400 INVALID_CODE,
// as WeChat answers both with 40029, and nobody's phone changes.
func TestBindPhoneCodeWorksOnceForFiveMinutes(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	a, _, _ := h.Login(apptest.UniqueUser("pc"))
	b, _, bID := h.Login(apptest.UniqueUser("pc"))
	code := h.PhoneCode("13700001234")
	if r := h.Do("POST", "/api/v1/shopper/phone", map[string]string{"code": code}, apptest.Auth(a)...); r.Status != 200 {
		t.Fatalf("first use: %d %s", r.Status, r.Body)
	}
	for _, tc := range []struct{ name, code string }{
		{"used", code},
		{"five minutes old", h.Sim.PhoneCode("13700005678", time.Now().Add(-5*time.Minute))},
	} {
		r := h.Do("POST", "/api/v1/shopper/phone", map[string]string{"code": tc.code}, apptest.Auth(b)...)
		if r.Status != 400 || r.ErrorCode() != "INVALID_CODE" {
			t.Fatalf("%s code: %d %s, want 400 INVALID_CODE", tc.name, r.Status, r.Body)
		}
	}
	var phone *string
	h.Env.DB.Conn(context.Background()).Table("members").Select("phone").Where("id = ?", bID).Scan(&phone)
	if phone != nil {
		t.Fatalf("member b got phone %q", *phone)
	}
	if r := h.Do("POST", "/api/v1/shopper/phone", map[string]string{"code": h.Sim.PhoneCode("13700005678", time.Now().Add(-4*time.Minute))}, apptest.Auth(b)...); r.Status != 200 {
		t.Fatalf("a code four minutes old: %d %s", r.Status, r.Body)
	}
}
