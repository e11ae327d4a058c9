package shopper_test

import (
	"context"
	"testing"

	"github.com/jifen/jifen/bff/bfftest"
)

func TestBindPhoneMasksAndIsUnique(t *testing.T) {
	t.Parallel()
	h := bfftest.New(t)
	a, _, aID := h.Login(bfftest.UniqueUser("pa"))
	b, _, bID := h.Login(bfftest.UniqueUser("pb"))
	r := h.Do("POST", "/api/v1/shopper/phone", map[string]string{"code": "sim-phone:13800000000"}, bfftest.Auth(a)...)
	if r.Status != 200 {
		t.Fatalf("bind: %d %s", r.Status, r.Body)
	}
	if got := r.JSON()["member"].(map[string]any)["phone_masked"]; got != "138****0000" {
		t.Fatalf("phone_masked = %v", got)
	}
	// Binding the same number again is harmless.
	if r := h.Do("POST", "/api/v1/shopper/phone", map[string]string{"code": "sim-phone:13800000000"}, bfftest.Auth(a)...); r.Status != 200 {
		t.Fatalf("rebind same: %d %s", r.Status, r.Body)
	}
	r = h.Do("POST", "/api/v1/shopper/phone", map[string]string{"code": "sim-phone:13800000000"}, bfftest.Auth(b)...)
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
		if r := h.Send(specAllows, "POST", "/api/v1/shopper/phone", bad, bfftest.Auth(b)...); r.Status != 400 {
			t.Fatalf("%s: %d %s", bad, r.Status, r.Body)
		}
	}
	if r := h.Do("POST", "/api/v1/shopper/phone", map[string]string{"code": "sim-phone:13900000000"}); r.Status != 401 {
		t.Fatalf("no token: %d", r.Status)
	}
}
