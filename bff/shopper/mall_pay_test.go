package shopper_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jifen/jifen/cmd/jifen/app/apptest"
	"github.com/jifen/jifen/configs"
	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/ledger"
	"github.com/jifen/jifen/domain/mall"
	"github.com/jifen/jifen/wechat/sim"
)

// Points + cash (issue #18): a redemption of an item with a cash part
// holds the points and waits for WeChat Pay, through the real SDK against
// the simulator.

const cashItem = `{"kind":"physical","name":"保温杯加价购","category":"home","points":300,"cash_fen":990,"stock":%d,"enabled":true}`

type cashRedemption struct {
	Redemption struct {
		ID     int64  `json:"id"`
		Status string `json:"status"`
		Points int64  `json:"points"`
		Cash   int64  `json:"cash_fen"`
	} `json:"redemption"`
	Payment *struct {
		OutTradeNo string    `json:"out_trade_no"`
		CashFen    int64     `json:"cash_fen"`
		Status     string    `json:"status"`
		Deadline   time.Time `json:"deadline"`
		Params     *struct {
			TimeStamp string `json:"timeStamp"`
			NonceStr  string `json:"nonceStr"`
			Package   string `json:"package"`
			SignType  string `json:"signType"`
			PaySign   string `json:"paySign"`
		} `json:"params"`
	} `json:"payment"`
}

func redeemCash(t *testing.T, h *apptest.Harness, tok string, item int64, key string) (cashRedemption, *apptest.Response) {
	t.Helper()
	r := h.Do("POST", fmt.Sprintf("/api/v1/shopper/mall/items/%d/redemptions", item), nil, append(apptest.Auth(tok), "Idempotency-Key", key)...)
	var out cashRedemption
	if r.Status == 201 {
		r.Decode(t, &out)
	}
	return out, r
}

func balanceOf(t *testing.T, h *apptest.Harness, member int64) ledger.Balance {
	t.Helper()
	b, err := h.App.Ledger.Balance(context.Background(), member)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func itemLeft(t *testing.T, h *apptest.Harness, item int64) int64 {
	t.Helper()
	it, err := h.App.Mall.Item(context.Background(), item)
	if err != nil {
		t.Fatal(err)
	}
	return it.Left()
}

func payment(t *testing.T, h *apptest.Harness, redemption int64) mall.Payment {
	t.Helper()
	p, err := h.App.Mall.Payment(context.Background(), redemption)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// clean asserts the mall's and the member's ledger invariants (what
// `jifen reconcile` checks).
func clean(t *testing.T, h *apptest.Harness, member int64) {
	t.Helper()
	v, _, err := mall.Check(context.Background(), mallAuditor(h), 100)
	if err != nil || len(v) != 0 {
		t.Fatalf("mall check: %v %+v", err, v)
	}
	lv, err := h.App.Ledger.Check(context.Background(), member)
	if err != nil || len(lv) != 0 {
		t.Fatalf("ledger check: %v %+v", err, lv)
	}
}

func myStatus(t *testing.T, h *apptest.Harness, tok string, id int64) string {
	t.Helper()
	r := h.Do("GET", "/api/v1/shopper/mall/redemptions", nil, apptest.Auth(tok)...)
	if r.Status != 200 {
		t.Fatalf("my redemptions: %d %s", r.Status, r.Body)
	}
	for _, x := range r.JSON()["redemptions"].([]any) {
		if m := x.(map[string]any); int64(m["id"].(float64)) == id {
			return m["status"].(string)
		}
	}
	t.Fatalf("redemption %d not listed: %s", id, r.Body)
	return ""
}

// simPay drives the simulator's control route over HTTP, as a tester would.
func simPay(t *testing.T, outTradeNo, result string, resend bool) sim.PayResult {
	t.Helper()
	out, status := simPayAs(t, map[string]any{"out_trade_no": outTradeNo, "result": result, "resend": resend})
	if status != 200 {
		t.Fatalf("sim pay %s: HTTP %d", outTradeNo, status)
	}
	return out
}

// simPayAs posts req to the simulator's /_sim/pay and returns its answer
// and HTTP status.
func simPayAs(t *testing.T, req map[string]any) (sim.PayResult, int) {
	t.Helper()
	_, base := apptest.Sim()
	body, _ := json.Marshal(req)
	resp, err := http.Post(base+"/_sim/pay", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out sim.PayResult
	if resp.StatusCode == 200 && json.NewDecoder(resp.Body).Decode(&out) != nil {
		t.Fatalf("sim pay: an answer that is not JSON")
	}
	return out, resp.StatusCode
}

func TestMallPointsAndCashPaidThroughWeChatPay(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	item := createMallItem(t, h, h.ConsoleLogin("marketer"), fmt.Sprintf(cashItem, 2))
	user := apptest.UniqueUser("cash")
	tok, _, mid := h.Login(user)
	earn(t, h, mid, 1000)

	got, r := redeemCash(t, h, tok, item, "c1")
	p := got.Payment
	if r.Status != 201 || got.Redemption.Status != "reserved" || p == nil || p.Status != "pending" || p.CashFen != 990 || p.Params == nil {
		t.Fatalf("redeem: %d %s", r.Status, r.Body)
	}
	// Grouping is on (the default), yet an item with a cash part is never
	// grouped: its hold and WeChat order go one by one.
	if groups, grouped := h.App.Mall.GroupStats(); h.Config.Mall.GroupCommits == 0 || groups != 0 || grouped != 0 {
		t.Fatalf("group commit %d groups on; a cash redemption went through %d groups (%d answered)", h.Config.Mall.GroupCommits, groups, grouped)
	}
	if want := h.Clock.Now().Add(15 * time.Minute); !p.Deadline.Equal(want.UTC().Truncate(time.Second)) {
		t.Fatalf("deadline %s, want %s", p.Deadline, want)
	}
	// wx.requestPayment's paySign, checked with the merchant key
	// independently of the SDK.
	pp := p.Params
	want := sim.PaySign(map[string]string{"appId": h.Config.WeChat.Mini.AppID, "nonceStr": pp.NonceStr, "package": pp.Package,
		"signType": pp.SignType, "timeStamp": pp.TimeStamp}, sim.DefaultMchKey)
	if pp.PaySign != want || pp.SignType != "MD5" || !strings.HasPrefix(pp.Package, "prepay_id=wx") ||
		pp.TimeStamp != strconv.FormatInt(h.Clock.Now().Unix(), 10) {
		t.Fatalf("pay params %+v (want paySign %s)", pp, want)
	}
	var order map[string]any
	for _, c := range h.Sim.Calls("unifiedorder") {
		if c.Params["out_trade_no"] == p.OutTradeNo {
			order = c.Params
		}
	}
	if order == nil || order["total_fee"] != "990" || order["trade_type"] != "JSAPI" || order["openid"] == "" || order["openid"] == nil {
		t.Fatalf("unifiedorder sent: %v", order)
	}
	if b := balanceOf(t, h, mid); b.Available != 700 || b.Held != 300 {
		t.Fatalf("points held: %+v", b)
	}
	if left := itemLeft(t, h, item); left != 1 {
		t.Fatalf("stock taken: left %d", left)
	}
	clean(t, h, mid)

	// A replay before paying answers the same order, freshly signed.
	again, r2 := redeemCash(t, h, tok, item, "c1")
	if r2.Status != 201 || r2.Header.Get("Idempotent-Replayed") != "true" || again.Redemption.ID != got.Redemption.ID ||
		again.Payment == nil || again.Payment.OutTradeNo != p.OutTradeNo || again.Payment.Params == nil ||
		again.Payment.Params.Package != pp.Package {
		t.Fatalf("replay: %d %s", r2.Status, r2.Body)
	}

	// The shopper pays: the simulator posts the signed notification.
	res := simPay(t, p.OutTradeNo, "SUCCESS", false)
	if res.Status != 200 || !strings.Contains(res.Reply, "SUCCESS") {
		t.Fatalf("notification answered %+v", res)
	}
	if s := myStatus(t, h, tok, got.Redemption.ID); s != "paid" {
		t.Fatalf("status after payment: %s", s)
	}
	if b := balanceOf(t, h, mid); b.Available != 700 || b.Held != 0 {
		t.Fatalf("points captured: %+v", b)
	}
	if pay := payment(t, h, got.Redemption.ID); pay.Status != mall.PayPaid || pay.TransactionID == "" {
		t.Fatalf("payment: %+v", pay)
	}
	// WeChat retries: the same notification changes nothing.
	if res := simPay(t, p.OutTradeNo, "", true); res.Status != 200 || !strings.Contains(res.Reply, "SUCCESS") {
		t.Fatalf("replayed notification: %+v", res)
	}
	if b := balanceOf(t, h, mid); b.Available != 700 || b.Held != 0 {
		t.Fatalf("after replay: %+v", b)
	}
	if left := itemLeft(t, h, item); left != 1 {
		t.Fatalf("stock kept: left %d", left)
	}
	paid, r3 := redeemCash(t, h, tok, item, "c1")
	if r3.Status != 201 || paid.Redemption.Status != "paid" || paid.Payment == nil || paid.Payment.Status != "paid" || paid.Payment.Params != nil {
		t.Fatalf("replay after payment: %d %s", r3.Status, r3.Body)
	}
	// The job later finds nothing to release.
	h.Clock.Advance(time.Hour)
	h.App.Reminder.Scheduler.Tick(context.Background())
	tok, _, _ = h.Login(user) // the access token expired meanwhile
	if s := myStatus(t, h, tok, got.Redemption.ID); s != "paid" {
		t.Fatalf("status after the job: %s", s)
	}
	clean(t, h, mid)

	// Normal fulfilment follows; a console cancel of a paid cash
	// redemption returns the points and marks the cash for refund.
	co := h.ConsoleLogin("admin")
	ship := h.Do("POST", fmt.Sprintf("/api/v1/console/mall/redemptions/%d/events", got.Redemption.ID),
		map[string]any{"event": "cancel", "note": "缺货"}, apptest.Auth(co)...)
	if ship.Status != 200 {
		t.Fatalf("console cancel: %d %s", ship.Status, ship.Body)
	}
	if b := balanceOf(t, h, mid); b.Available != 1000 || b.Held != 0 {
		t.Fatalf("points back after cancel: %+v", b)
	}
	if pay := payment(t, h, got.Redemption.ID); pay.Status != mall.PayRefundNeeded {
		t.Fatalf("payment after cancel: %+v", pay)
	}
	clean(t, h, mid)
}

func TestMallPointsAndCashNeverPaidGivesPointsAndStockBackAfterTheTimeout(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	item := createMallItem(t, h, h.ConsoleLogin("marketer"), fmt.Sprintf(cashItem, 1))
	user := apptest.UniqueUser("unpaid")
	tok, _, mid := h.Login(user)
	earn(t, h, mid, 1000)
	lotsBefore, err := h.App.Ledger.Lots(context.Background(), mid, 10)
	if err != nil || len(lotsBefore) != 1 {
		t.Fatalf("lots: %v %+v", err, lotsBefore)
	}

	got, r := redeemCash(t, h, tok, item, "u1")
	if r.Status != 201 || got.Payment == nil {
		t.Fatalf("redeem: %d %s", r.Status, r.Body)
	}
	// Sold out while reserved: another shopper is refused.
	user2 := apptest.UniqueUser("unpaid2")
	tok2, _, mid2 := h.Login(user2)
	earn(t, h, mid2, 1000)
	if _, r := redeemCash(t, h, tok2, item, "x"); r.Status != 422 {
		t.Fatalf("sold out while reserved: %d %s", r.Status, r.Body)
	}

	// Just before the deadline the job leaves it alone.
	h.Clock.Advance(14 * time.Minute)
	h.App.Reminder.Scheduler.Tick(context.Background())
	if b := balanceOf(t, h, mid); b.Held != 300 {
		t.Fatalf("released early: %+v", b)
	}
	h.Clock.Advance(2 * time.Minute)
	h.App.Reminder.Scheduler.Tick(context.Background())
	tok, _, _ = h.Login(user) // the access tokens expired meanwhile
	tok2, _, _ = h.Login(user2)
	if b := balanceOf(t, h, mid); b.Available != 1000 || b.Held != 0 {
		t.Fatalf("points back: %+v", b)
	}
	lots, err := h.App.Ledger.Lots(context.Background(), mid, 10)
	if err != nil || len(lots) != 1 || lots[0].ID != lotsBefore[0].ID || lots[0].Remaining != 1000 || !lots[0].ExpiresAt.Equal(lotsBefore[0].ExpiresAt) {
		t.Fatalf("points back in the same lot: %+v (before %+v)", lots, lotsBefore)
	}
	if left := itemLeft(t, h, item); left != 1 {
		t.Fatalf("stock back: left %d", left)
	}
	if s := myStatus(t, h, tok, got.Redemption.ID); s != "cancelled" {
		t.Fatalf("status: %s", s)
	}
	if pay := payment(t, h, got.Redemption.ID); pay.Status != mall.PayClosed {
		t.Fatalf("payment: %+v", pay)
	}
	clean(t, h, mid)
	// The Gate has the unit back too: the other shopper gets it now.
	if other, r := redeemCash(t, h, tok2, item, "y"); r.Status != 201 || other.Redemption.Status != "reserved" {
		t.Fatalf("unit given back to the Gate: %d %s", r.Status, r.Body)
	}

	// The job closed the order at WeChat: the shopper can no longer pay it.
	if _, status := simPayAs(t, map[string]any{"out_trade_no": got.Payment.OutTradeNo, "result": "SUCCESS"}); status != http.StatusConflict {
		t.Fatalf("paying the closed order: HTTP %d, want 409", status)
	}
	if pay := payment(t, h, got.Redemption.ID); pay.Status != mall.PayClosed || pay.TransactionID != "" {
		t.Fatalf("payment after the refused pay: %+v", pay)
	}
	if b := balanceOf(t, h, mid); b.Available != 1000 || b.Held != 0 {
		t.Fatalf("the refused pay took points: %+v", b)
	}
	clean(t, h, mid)
	clean(t, h, mid2)
}

func TestMallPayNotificationsForgedMismatchedOrFailed(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	item := createMallItem(t, h, h.ConsoleLogin("marketer"), fmt.Sprintf(cashItem, 3))
	tok, _, mid := h.Login(apptest.UniqueUser("forged"))
	earn(t, h, mid, 1000)
	got, r := redeemCash(t, h, tok, item, "f1")
	if r.Status != 201 || got.Payment == nil {
		t.Fatalf("redeem: %d %s", r.Status, r.Body)
	}
	no := got.Payment.OutTradeNo
	notice := func(mod func(map[string]string)) map[string]string {
		f := map[string]string{"return_code": "SUCCESS", "result_code": "SUCCESS", "appid": h.Config.WeChat.Mini.AppID,
			"mch_id": sim.DefaultMchID, "nonce_str": "n1", "openid": "o", "trade_type": "JSAPI", "bank_type": "OTHERS",
			"total_fee": "990", "cash_fee": "990", "fee_type": "CNY", "transaction_id": "4200000001", "out_trade_no": no,
			"time_end": "20261123101000"}
		if mod != nil {
			mod(f)
		}
		return f
	}
	post := func(body []byte) *apptest.Response {
		return h.Do("POST", "/api/v1/hooks/wechat-pay", body, "Content-Type", "text/xml")
	}
	for name, c := range map[string]struct {
		body []byte
		want int
	}{
		"forged signature": {sim.PayXML(notice(nil), "wrongkeywrongkeywrongkeywrongkey"), 401},
		"unsigned":         {sim.PayXML(notice(nil), ""), 401},
		"tampered amount":  {bytes.Replace(sim.PayXML(notice(nil), sim.DefaultMchKey), []byte("990"), []byte("1"), 1), 401},
		"another merchant": {sim.PayXML(notice(func(f map[string]string) { f["mch_id"] = "1900000001" }), sim.DefaultMchKey), 401},
		"another app":      {sim.PayXML(notice(func(f map[string]string) { f["appid"] = "wx-other" }), sim.DefaultMchKey), 401},
		"wrong amount":     {sim.PayXML(notice(func(f map[string]string) { f["total_fee"], f["cash_fee"] = "1", "1" }), sim.DefaultMchKey), 422},
		"unknown order":    {sim.PayXML(notice(func(f map[string]string) { f["out_trade_no"] = "JFM0X00" }), sim.DefaultMchKey), 404},
		"not xml":          {[]byte("<xml><return_code>"), 400},
		"return_code FAIL": {sim.PayXML(notice(func(f map[string]string) { f["return_code"] = "FAIL" }), sim.DefaultMchKey), 400},
	} {
		if res := post(c.body); res.Status != c.want {
			t.Errorf("%s: %d %s, want %d", name, res.Status, res.Body, c.want)
		}
	}
	if b := balanceOf(t, h, mid); b.Available != 700 || b.Held != 300 {
		t.Fatalf("refused notifications changed points: %+v", b)
	}
	if pay := payment(t, h, got.Redemption.ID); pay.Status != mall.PayPending {
		t.Fatalf("refused notifications changed the payment: %+v", pay)
	}
	// A correctly signed notification of our own making is accepted like
	// WeChat's (the signature is the authentication).
	if res := post(sim.PayXML(notice(nil), sim.DefaultMchKey)); res.Status != 200 || !strings.Contains(string(res.Body), "SUCCESS") {
		t.Fatalf("signed notification: %d %s", res.Status, res.Body)
	}
	if s := myStatus(t, h, tok, got.Redemption.ID); s != "paid" {
		t.Fatalf("status: %s", s)
	}

	// A failed payment releases at once.
	other, r := redeemCash(t, h, tok, item, "f2")
	if r.Status != 201 {
		t.Fatalf("second redeem: %d %s", r.Status, r.Body)
	}
	if res := simPay(t, other.Payment.OutTradeNo, "FAIL", false); res.Status != 200 {
		t.Fatalf("failed payment notification: %+v", res)
	}
	if s := myStatus(t, h, tok, other.Redemption.ID); s != "cancelled" {
		t.Fatalf("failed payment status: %s", s)
	}
	if b := balanceOf(t, h, mid); b.Available != 700 || b.Held != 0 {
		t.Fatalf("failed payment points: %+v", b)
	}
	if left := itemLeft(t, h, item); left != 2 {
		t.Fatalf("failed payment stock: %d", left)
	}
	clean(t, h, mid)
}

func TestMallPayOrderRefusedGivesBackAtOnce(t *testing.T) {
	t.Parallel()
	// A merchant the simulator does not know: WeChat Pay refuses the order.
	h := apptest.New(t, func(c *configs.Config) {
		c.WeChat.Pay.MchID, c.WeChat.Pay.Key = "1230000000", configs.Secret(strings.Repeat("k", 32))
	})
	item := createMallItem(t, h, h.ConsoleLogin("marketer"), fmt.Sprintf(cashItem, 1))
	tok, _, mid := h.Login(apptest.UniqueUser("refused"))
	earn(t, h, mid, 1000)
	if _, r := redeemCash(t, h, tok, item, "r1"); r.Status != 503 || r.ErrorCode() != "MISCONFIGURED" {
		t.Fatalf("refused order: %d %s", r.Status, r.Body)
	}
	if b := balanceOf(t, h, mid); b.Available != 1000 || b.Held != 0 {
		t.Fatalf("points: %+v", b)
	}
	if left := itemLeft(t, h, item); left != 1 {
		t.Fatalf("stock: %d", left)
	}
	// The shopper retries with the same key: the cancelled redemption is
	// not answered as if it had worked.
	if _, r := redeemCash(t, h, tok, item, "r1"); r.Status != 409 || r.ErrorCode() != "CONFLICT" || !strings.Contains(string(r.Body), "new Idempotency-Key") {
		t.Fatalf("retry of the refused redemption: %d %s", r.Status, r.Body)
	}
	if b := balanceOf(t, h, mid); b.Available != 1000 || b.Held != 0 {
		t.Fatalf("points after the retry: %+v", b)
	}
	if left := itemLeft(t, h, item); left != 1 {
		t.Fatalf("stock after the retry: %d", left)
	}
	clean(t, h, mid)
}

// TestMallPayNotificationWithinTheGraceIsCaptured: WeChat takes no
// payment after the deadline, but the notification of one made just
// before it may come after: within mall.PayGrace the points are captured
// and the redemption paid.
func TestMallPayNotificationWithinTheGraceIsCaptured(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	item := createMallItem(t, h, h.ConsoleLogin("marketer"), fmt.Sprintf(cashItem, 1))
	tok, _, mid := h.Login(apptest.UniqueUser("grace"))
	earn(t, h, mid, 1000)
	got, r := redeemCash(t, h, tok, item, "g1")
	if r.Status != 201 || got.Payment == nil {
		t.Fatalf("redeem: %d %s", r.Status, r.Body)
	}
	h.Clock.Advance(15*time.Minute + time.Second)
	if res := simPay(t, got.Payment.OutTradeNo, "SUCCESS", false); res.Status != 200 || !strings.Contains(res.Reply, "SUCCESS") {
		t.Fatalf("notification within the grace: %+v", res)
	}
	if pay := payment(t, h, got.Redemption.ID); pay.Status != mall.PayPaid || pay.TransactionID == "" {
		t.Fatalf("payment: %+v", pay)
	}
	if b := balanceOf(t, h, mid); b.Available != 700 || b.Held != 0 {
		t.Fatalf("points: %+v, want 300 captured", b)
	}
	// The job then finds nothing to close.
	h.Clock.Advance(time.Minute)
	h.App.Reminder.Scheduler.Tick(context.Background())
	rs, _, err := h.App.Mall.MyRedemptions(context.Background(), mid, 10, 0)
	if err != nil || len(rs) != 1 || rs[0].Status != mall.StatusPaid {
		t.Fatalf("redemption: %v %+v", err, rs)
	}
	if left := itemLeft(t, h, item); left != 0 {
		t.Fatalf("stock: %d", left)
	}
	clean(t, h, mid)
}

// TestMallPayNotificationAfterTheGraceBeforeTheJob: a payment notified
// after the points' hold ran out (the job has not closed the order yet)
// fulfils nothing; the cash is recorded for a refund, points and unit go
// back.
func TestMallPayNotificationAfterTheGraceBeforeTheJob(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	item := createMallItem(t, h, h.ConsoleLogin("marketer"), fmt.Sprintf(cashItem, 1))
	tok, _, mid := h.Login(apptest.UniqueUser("late"))
	earn(t, h, mid, 1000)
	got, r := redeemCash(t, h, tok, item, "l1")
	if r.Status != 201 || got.Payment == nil {
		t.Fatalf("redeem: %d %s", r.Status, r.Body)
	}
	h.Clock.Advance(15*time.Minute + mall.PayGrace + time.Second)
	if res := simPay(t, got.Payment.OutTradeNo, "SUCCESS", false); res.Status != 200 || !strings.Contains(res.Reply, "SUCCESS") {
		t.Fatalf("late notification: %+v", res)
	}
	if pay := payment(t, h, got.Redemption.ID); pay.Status != mall.PayRefundNeeded || pay.TransactionID == "" {
		t.Fatalf("payment: %+v", pay)
	}
	if b := balanceOf(t, h, mid); b.Available != 1000 || b.Held != 0 {
		t.Fatalf("points: %+v", b)
	}
	if left := itemLeft(t, h, item); left != 1 {
		t.Fatalf("stock: %d", left)
	}
	rs, _, err := h.App.Mall.MyRedemptions(context.Background(), mid, 10, 0)
	if err != nil || len(rs) != 1 || rs[0].Status != mall.StatusCancelled {
		t.Fatalf("redemption: %v %+v", err, rs)
	}
	// The job then finds nothing left to do.
	h.App.Reminder.Scheduler.Tick(context.Background())
	if b := balanceOf(t, h, mid); b.Available != 1000 || b.Held != 0 {
		t.Fatalf("points after the job: %+v", b)
	}
	clean(t, h, mid)
}

// TestMallPaidButTheNotificationLostIsCapturedByTheJob: the shopper paid,
// WeChat's notification never arrived. At the deadline the job's close
// finds the order paid, asks WeChat for the payment and captures it: the
// shopper who paid is never refunded instead of served.
func TestMallPaidButTheNotificationLostIsCapturedByTheJob(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	item := createMallItem(t, h, h.ConsoleLogin("marketer"), fmt.Sprintf(cashItem, 1))
	tok, _, mid := h.Login(apptest.UniqueUser("lost"))
	earn(t, h, mid, 1000)
	got, r := redeemCash(t, h, tok, item, "n1")
	if r.Status != 201 || got.Payment == nil {
		t.Fatalf("redeem: %d %s", r.Status, r.Body)
	}
	if _, status := simPayAs(t, map[string]any{"out_trade_no": got.Payment.OutTradeNo, "result": "SUCCESS", "silent": true}); status != 200 {
		t.Fatalf("silent pay: HTTP %d", status)
	}
	if pay := payment(t, h, got.Redemption.ID); pay.Status != mall.PayPending {
		t.Fatalf("before the job: %+v", pay)
	}
	h.Clock.Advance(15*time.Minute + time.Second)
	h.App.Reminder.Scheduler.Tick(context.Background())
	pay := payment(t, h, got.Redemption.ID)
	if pay.Status != mall.PayPaid || pay.TransactionID == "" {
		t.Fatalf("after the job: %+v", pay)
	}
	if b := balanceOf(t, h, mid); b.Available != 700 || b.Held != 0 {
		t.Fatalf("points: %+v, want 300 captured", b)
	}
	if left := itemLeft(t, h, item); left != 0 {
		t.Fatalf("stock: %d", left)
	}
	// WeChat retries the notification later: a replay changes nothing.
	if res := simPay(t, got.Payment.OutTradeNo, "", true); res.Status != 200 || !strings.Contains(res.Reply, "SUCCESS") {
		t.Fatalf("resent notification: %+v", res)
	}
	if again := payment(t, h, got.Redemption.ID); again.Status != mall.PayPaid || again.TransactionID != pay.TransactionID {
		t.Fatalf("after the replay: %+v", again)
	}
	clean(t, h, mid)
}

// The console report counts the points and cash of paid redemptions only:
// a points + cash redemption still waiting for WeChat Pay has taken no
// cash (its points are held, not spent), and a failed one took nothing;
// its unit still counts against the stock left.
func TestMallReportCountsCashOnlyOncePaid(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	marketer := apptest.Auth(h.ConsoleLogin("marketer"))
	item := createMallItem(t, h, h.ConsoleLogin("marketer"), fmt.Sprintf(cashItem, 5))
	tok, _, mid := h.Login(apptest.UniqueUser("cashrep"))
	earn(t, h, mid, 2000)
	redeem := func(key string) cashRedemption {
		t.Helper()
		got, r := redeemCash(t, h, tok, item, key)
		if r.Status != 201 || got.Payment == nil {
			t.Fatalf("redeem %s: %d %s", key, r.Status, r.Body)
		}
		return got
	}
	paid, waiting, failed := redeem("p"), redeem("w"), redeem("f")
	if res := simPay(t, paid.Payment.OutTradeNo, "SUCCESS", false); res.Status != 200 {
		t.Fatalf("pay: %+v", res)
	}
	if res := simPay(t, failed.Payment.OutTradeNo, "FAIL", false); res.Status != 200 {
		t.Fatalf("fail: %+v", res)
	}
	day := domain.DayOf(h.Clock.Now()).String()
	report := func(wantN, wantPoints, wantCash float64, wantLeft float64) {
		t.Helper()
		r := h.Do("GET", "/api/v1/console/mall/report?from="+day+"&to="+day+"&low_stock=5", nil, marketer...)
		if r.Status != 200 || r.JSON()["points_spent"] != wantPoints || r.JSON()["cash_fen"] != wantCash {
			t.Fatalf("report totals (want %v points, %v fen): %d %s", wantPoints, wantCash, r.Status, r.Body)
		}
		days := r.JSON()["by_item_day"].([]any)
		if len(days) != 1 {
			t.Fatalf("by item and day: %s", r.Body)
		}
		if d := days[0].(map[string]any); d["item_id"] != float64(item) || d["redemptions"] != wantN || d["points"] != wantPoints ||
			d["cash_fen"] != wantCash || d["day"] != day {
			t.Fatalf("the item's day (want %v redemptions): %s", wantN, r.Body)
		}
		low := r.JSON()["low_stock"].([]any)
		if len(low) != 1 || low[0].(map[string]any)["left"] != wantLeft {
			t.Fatalf("low stock (want %v left): %s", wantLeft, r.Body)
		}
	}
	// Paid 1, waiting 1 (its unit taken), failed 1 (its unit back).
	report(1, 300, 990, 3)
	if res := simPay(t, waiting.Payment.OutTradeNo, "SUCCESS", false); res.Status != 200 {
		t.Fatalf("pay the second: %+v", res)
	}
	report(2, 600, 1980, 3)
	if b := balanceOf(t, h, mid); b.Available != 1400 || b.Held != 0 {
		t.Fatalf("balance: %+v", b)
	}
	clean(t, h, mid)
}

// A console cancel of a points + cash redemption still waiting for its
// cash closes the order at WeChat first, as the deadline does: the points
// and the unit come back and the shopper can no longer pay for what was
// cancelled. If the shopper has paid meanwhile (the notification not here
// yet), the payment is captured and the cancel then reverses the points
// and marks the cash for refund.
func TestMallConsoleCancelOfAnUnpaidCashRedemptionClosesTheOrder(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	admin := apptest.Auth(h.ConsoleLogin("admin"))
	item := createMallItem(t, h, h.ConsoleLogin("marketer"), fmt.Sprintf(cashItem, 2))
	tok, _, mid := h.Login(apptest.UniqueUser("cashcancel"))
	earn(t, h, mid, 1000)
	cancel := func(id int64) *apptest.Response {
		return h.Do("POST", fmt.Sprintf("/api/v1/console/mall/redemptions/%d/events", id), `{"event":"cancel","note":"缺货"}`, admin...)
	}

	got, r := redeemCash(t, h, tok, item, "cc1")
	if r.Status != 201 || got.Payment == nil {
		t.Fatalf("redeem: %d %s", r.Status, r.Body)
	}
	if r := cancel(got.Redemption.ID); r.Status != 200 || r.JSON()["redemption"].(map[string]any)["status"] != "cancelled" {
		t.Fatalf("cancel: %d %s", r.Status, r.Body)
	}
	closed := false
	for _, c := range h.Sim.Calls("closeorder") {
		closed = closed || c.Params["out_trade_no"] == got.Payment.OutTradeNo
	}
	if !closed {
		t.Fatalf("the order %s was not closed at WeChat", got.Payment.OutTradeNo)
	}
	if _, status := simPayAs(t, map[string]any{"out_trade_no": got.Payment.OutTradeNo, "result": "SUCCESS"}); status != http.StatusConflict {
		t.Fatalf("paying the cancelled redemption's order: HTTP %d, want 409", status)
	}
	if b := balanceOf(t, h, mid); b.Available != 1000 || b.Held != 0 {
		t.Fatalf("points after cancel: %+v", b)
	}
	if pay := payment(t, h, got.Redemption.ID); pay.Status != mall.PayClosed || pay.TransactionID != "" {
		t.Fatalf("payment after cancel: %+v", pay)
	}
	if left := itemLeft(t, h, item); left != 2 {
		t.Fatalf("stock after cancel: left %d", left)
	}
	clean(t, h, mid)

	// WeChat does not answer the close: 503, and nothing changes.
	got, r = redeemCash(t, h, tok, item, "cc3")
	if r.Status != 201 || got.Payment == nil {
		t.Fatalf("redeem: %d %s", r.Status, r.Body)
	}
	payer := h.App.Mall.Cash.Payer
	h.App.Mall.Cash.Payer = unansweredClose{payer}
	if r := cancel(got.Redemption.ID); r.Status != 503 || r.ErrorCode() != "UNAVAILABLE" {
		t.Fatalf("cancel with WeChat Pay silent: %d %s", r.Status, r.Body)
	}
	h.App.Mall.Cash.Payer = payer
	if s := myStatus(t, h, tok, got.Redemption.ID); s != "reserved" {
		t.Fatalf("status after the refused cancel: %s", s)
	}
	if pay := payment(t, h, got.Redemption.ID); pay.Status != mall.PayPending {
		t.Fatalf("payment after the refused cancel: %+v", pay)
	}
	if b := balanceOf(t, h, mid); b.Available != 700 || b.Held != 300 {
		t.Fatalf("points after the refused cancel: %+v", b)
	}
	if r := cancel(got.Redemption.ID); r.Status != 200 {
		t.Fatalf("cancel once WeChat answers: %d %s", r.Status, r.Body)
	}

	// Paid at WeChat, the notification not here yet: captured, then cancelled.
	got, r = redeemCash(t, h, tok, item, "cc2")
	if r.Status != 201 || got.Payment == nil {
		t.Fatalf("redeem again: %d %s", r.Status, r.Body)
	}
	if _, status := simPayAs(t, map[string]any{"out_trade_no": got.Payment.OutTradeNo, "result": "SUCCESS", "silent": true}); status != 200 {
		t.Fatalf("silent pay: HTTP %d", status)
	}
	if r := cancel(got.Redemption.ID); r.Status != 200 || r.JSON()["redemption"].(map[string]any)["status"] != "cancelled" {
		t.Fatalf("cancel of the paid one: %d %s", r.Status, r.Body)
	}
	if pay := payment(t, h, got.Redemption.ID); pay.Status != mall.PayRefundNeeded || pay.TransactionID == "" {
		t.Fatalf("payment of the paid and cancelled one: %+v", pay)
	}
	if b := balanceOf(t, h, mid); b.Available != 1000 || b.Held != 0 {
		t.Fatalf("points after the paid one's cancel: %+v", b)
	}
	if left := itemLeft(t, h, item); left != 2 {
		t.Fatalf("stock after the paid one's cancel: left %d", left)
	}
	// The notification that arrives at last changes nothing.
	if res := simPay(t, got.Payment.OutTradeNo, "", true); res.Status != 200 {
		t.Fatalf("late notification: %+v", res)
	}
	if b := balanceOf(t, h, mid); b.Available != 1000 || b.Held != 0 {
		t.Fatalf("points after the late notification: %+v", b)
	}
	clean(t, h, mid)
}

// unansweredClose is a WeChat Pay whose closeorder never answers.
type unansweredClose struct{ mall.Payer }

func (unansweredClose) Close(context.Context, string) error {
	return errors.New("closeorder: i/o timeout")
}

// Every instance of serve runs the hold-timeouts job: run at the same
// moment on four, unpaid points + cash redemptions are each settled once —
// every point back, every unit back exactly once, every payment closed.
func TestMallUnpaidRedemptionsSettledOnceByConcurrentJobs(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	const n = 8
	item := createMallItem(t, h, h.ConsoleLogin("marketer"), fmt.Sprintf(cashItem, n))
	var members, redemptions []int64
	for i := range n {
		tok, _, mid := h.Login(apptest.UniqueUser(fmt.Sprint("jobs", i)))
		earn(t, h, mid, 1000)
		got, r := redeemCash(t, h, tok, item, "j")
		if r.Status != 201 || got.Payment == nil {
			t.Fatalf("redeem %d: %d %s", i, r.Status, r.Body)
		}
		members, redemptions = append(members, mid), append(redemptions, got.Redemption.ID)
	}
	if left := itemLeft(t, h, item); left != 0 {
		t.Fatalf("left %d after %d reservations", left, n)
	}
	h.Clock.Advance(mall.DefaultPayWindow + time.Minute)
	var wg sync.WaitGroup
	settled := make([]int, 4)
	for i := range settled {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k, err := h.App.Mall.ExpirePayments(context.Background(), h.Clock.Now(), 500)
			if err != nil {
				t.Errorf("instance %d: %v", i, err)
			}
			if _, err := h.App.Ledger.ReleaseExpiredHolds(context.Background(), h.Clock.Now(), 500); err != nil {
				t.Errorf("instance %d: release holds: %v", i, err)
			}
			settled[i] = k
		}()
	}
	wg.Wait()
	total := 0
	for _, k := range settled {
		total += k
	}
	if total != n {
		t.Fatalf("the instances settled %v payments, %d in all; want %d", settled, total, n)
	}
	if left := itemLeft(t, h, item); left != n {
		t.Fatalf("left %d, want every unit back (%d)", left, n)
	}
	for i, rid := range redemptions {
		if pay := payment(t, h, rid); pay.Status != mall.PayClosed {
			t.Fatalf("payment of redemption %d: %+v", rid, pay)
		}
		if b := balanceOf(t, h, members[i]); b.Available != 1000 || b.Held != 0 {
			t.Fatalf("member %d: %+v", members[i], b)
		}
		clean(t, h, members[i])
	}
}
