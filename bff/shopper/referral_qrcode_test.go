package shopper_test

import (
	"bytes"
	"image/jpeg"
	"net/http"
	"testing"

	"github.com/jifen/jifen/cmd/jifen/app/apptest"
	"github.com/jifen/jifen/configs"
	"github.com/jifen/jifen/wechat/sim"
)

// Not parallel: injects simulator faults.
func TestReferralQRCode(t *testing.T) {
	h := apptest.New(t)
	m := refJoin(t, h, apptest.UniqueUser("qr"), "")
	h.Sim.ClearCalls()
	r := h.Do("GET", "/api/v1/shopper/referral/qrcode", nil, apptest.Auth(m.token)...)
	if r.Status != http.StatusOK || r.Header.Get("Content-Type") != "image/jpeg" {
		t.Fatalf("qrcode: %d %s %.200s", r.Status, r.Header.Get("Content-Type"), r.Body)
	}
	if _, err := jpeg.Decode(bytes.NewReader(r.Body)); err != nil {
		t.Fatalf("not a JPEG: %v", err)
	}
	calls := h.Sim.Calls("getwxacodeunlimit")
	if len(calls) != 1 || calls[0].Params["scene"] != m.code || calls[0].Params["page"] != "pages/index/index" {
		t.Fatalf("calls: %+v", calls)
	}
	// Cached: a second request makes no WeChat call.
	if r2 := h.Do("GET", "/api/v1/shopper/referral/qrcode", nil, apptest.Auth(m.token)...); r2.Status != 200 || !bytes.Equal(r2.Body, r.Body) {
		t.Fatalf("cached: %d", r2.Status)
	}
	if n := len(h.Sim.Calls("getwxacodeunlimit")); n != 1 {
		t.Fatalf("calls after cache hit: %d", n)
	}

	for _, tc := range []struct {
		errcode int
		status  int
		code    string
	}{{40169, 400, "INVALID"}, {41030, 503, "MISCONFIGURED"}, {45009, 429, "RATE_LIMITED"}} {
		fresh := refJoin(t, h, apptest.UniqueUser("qf"), "")
		if err := h.Sim.AddFault(sim.Fault{API: "getwxacodeunlimit", ErrCode: tc.errcode}); err != nil {
			t.Fatal(err)
		}
		r := h.Do("GET", "/api/v1/shopper/referral/qrcode", nil, apptest.Auth(fresh.token)...)
		h.Sim.ClearFaults()
		if r.Status != tc.status || r.ErrorCode() != tc.code {
			t.Fatalf("errcode %d: %d %s", tc.errcode, r.Status, r.Body)
		}
	}
}

// The simulator itself refuses a page that is not a mini-program path.
func TestReferralQRCodeBadPage(t *testing.T) {
	h := apptest.New(t, func(c *configs.Config) { c.Referral.QRCodePage = "pages/x y" })
	m := refJoin(t, h, apptest.UniqueUser("qp"), "")
	r := h.Do("GET", "/api/v1/shopper/referral/qrcode", nil, apptest.Auth(m.token)...)
	if r.Status != 503 || r.ErrorCode() != "MISCONFIGURED" {
		t.Fatalf("bad page: %d %s", r.Status, r.Body)
	}
}

// A well-formed page the released mini-program lacks is WeChat's 41030,
// 503 MISCONFIGURED, unless referral.qrcode_check_path is false (before
// the first release), which the service passes to WeChat as check_path.
func TestReferralQRCodeUnreleasedPage(t *testing.T) {
	t.Parallel()
	page := "pages/invite/" + apptest.UniqueUser("p") // unique per run: the simulator is shared
	get := func(h *apptest.Harness) *apptest.Response {
		m := refJoin(t, h, apptest.UniqueUser("qu"), "")
		return h.Do("GET", "/api/v1/shopper/referral/qrcode", nil, apptest.Auth(m.token)...)
	}
	checked := apptest.New(t, func(c *configs.Config) { c.Referral.QRCodePage = page })
	if r := get(checked); r.Status != 503 || r.ErrorCode() != "MISCONFIGURED" {
		t.Fatalf("unreleased page: %d %.200s", r.Status, r.Body)
	}

	unchecked := apptest.New(t, func(c *configs.Config) { c.Referral.QRCodePage = page; c.Referral.QRCodeCheckPath = false })
	if r := get(unchecked); r.Status != 200 || r.Header.Get("Content-Type") != "image/jpeg" {
		t.Fatalf("check_path false: %d %.200s", r.Status, r.Body)
	}
	var sawUnchecked bool
	for _, c := range unchecked.Sim.Calls("getwxacodeunlimit") {
		if c.Params["page"] == page && c.Params["check_path"] == false && c.ErrCode == 0 {
			sawUnchecked = true
		}
	}
	if !sawUnchecked {
		t.Fatal("no wxacode call with check_path false for the page")
	}

	checked.Sim.PublishPages(checked.Config.WeChat.Mini.AppID, page)
	if r := get(checked); r.Status != 200 {
		t.Fatalf("released page: %d %.200s", r.Status, r.Body)
	}
}
