package wechat

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/silenceper/wechat/v2/pay"
	payconfig "github.com/silenceper/wechat/v2/pay/config"
	"github.com/silenceper/wechat/v2/pay/notify"
	"github.com/silenceper/wechat/v2/pay/order"
	"github.com/silenceper/wechat/v2/util"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/mall"
)

// Pay is WeChat Pay (API v2, JSAPI) of one merchant for the mini-program:
// pay/unifiedorder through the SDK's pay/order, the wx.requestPayment
// parameters signed with the merchant key, and the pay notification
// verified through the SDK's pay/notify.
type Pay struct {
	appID, mchID string
	key          string
	order        *order.Order
	notify       *notify.Notify
}

var _ mall.Payer = (*Pay)(nil)

// NewPay returns WeChat Pay for the mini-program appID and merchant mchID
// with its API key; notifications go to notifyURL.
func NewPay(appID, mchID, key, notifyURL string) *Pay {
	installClient()
	p := pay.NewPay(&payconfig.Config{AppID: appID, MchID: mchID, Key: key, NotifyURL: notifyURL})
	return &Pay{appID: appID, mchID: mchID, key: key, order: p.GetOrder(), notify: p.GetNotify()}
}

// Prepay creates the JSAPI order (pay/unifiedorder) and returns its
// prepay_id. WeChat's refusal of the request itself (signature, mch_id) is
// MISCONFIGURED; a refused order (ORDERPAID, a reused out_trade_no) is a
// Conflict; no answer or SYSTEMERROR is UNAVAILABLE.
func (p *Pay) Prepay(ctx context.Context, o mall.PayOrder) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", unavailable("unifiedorder", err)
	}
	params := &order.Params{TotalFee: strconv.FormatInt(o.TotalFen, 10), CreateIP: o.ClientIP, Body: o.Description,
		OutTradeNo: o.OutTradeNo, OpenID: o.OpenID, TradeType: "JSAPI", SignType: util.SignTypeMD5}
	if !o.Expires.IsZero() {
		params.TimeExpire = o.Expires.In(domain.Shanghai).Format("20060102150405")
	}
	res, err := p.order.PrePayOrder(params)
	switch {
	case err == nil && res.PrePayID != "":
		observe("unifiedorder", 0, nil)
		return res.PrePayID, nil
	case err == nil:
		err = errors.New("answer without prepay_id")
	}
	observe("unifiedorder", -1, err)
	msg := err.Error()
	switch {
	case strings.HasPrefix(msg, "[msg : xmlUnmarshalError]") && strings.Contains(msg, "FAIL"):
		return "", fail(domain.Misconfigured, "WeChat Pay refused the merchant settings (mch_id, key or appid); an operator must fix the configuration", "unifiedorder", err)
	case strings.HasPrefix(msg, "ORDERPAID"), strings.HasPrefix(msg, "INVALID_REQUEST"), strings.HasPrefix(msg, "ORDERCLOSED"):
		return "", fail(domain.Conflict, "WeChat Pay refused this order", "unifiedorder", err)
	}
	return "", unavailable("unifiedorder", err)
}

// sdkPay runs an SDK pay call, turning the SDK's panic on an answer
// without return_code (it dereferences the field) into an error.
func sdkPay[T any](call func() (T, error)) (res T, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("malformed answer: %v", r)
		}
	}()
	return call()
}

// payError classifies a pay API's error: WeChat's refusal of the request
// itself (signature, mch_id) is MISCONFIGURED, anything else UNAVAILABLE.
func payError(api string, err error) error {
	observe(api, -1, err)
	if msg := err.Error(); strings.HasPrefix(msg, "[msg : xmlUnmarshalError]") && strings.Contains(msg, "FAIL") {
		return fail(domain.Misconfigured, "WeChat Pay refused the merchant settings (mch_id, key or appid); an operator must fix the configuration", api, err)
	}
	return unavailable(api, err)
}

// Close closes the order (pay/closeorder) so that it can no longer be
// paid. An order closed already, or never created, is closed; one paid
// first is mall.ErrPaid.
func (p *Pay) Close(ctx context.Context, outTradeNo string) error {
	if err := ctx.Err(); err != nil {
		return unavailable("closeorder", err)
	}
	_, err := sdkPay(func() (order.CloseResult, error) {
		return p.order.CloseOrder(&order.CloseParams{OutTradeNo: outTradeNo, SignType: util.SignTypeMD5})
	})
	switch {
	case err == nil, strings.HasPrefix(err.Error(), "ORDERCLOSED"), strings.HasPrefix(err.Error(), "ORDERNOTEXIST"):
		observe("closeorder", 0, nil)
		return nil
	case strings.HasPrefix(err.Error(), "ORDERPAID"):
		observe("closeorder", 0, nil)
		return mall.ErrPaid
	}
	return payError("closeorder", err)
}

// Query asks WeChat whether the order was paid (pay/orderquery). paid is
// true, with the payment as a notification would have carried it, only
// for trade_state SUCCESS in an answer signed with the merchant key; an
// unknown order is not paid.
func (p *Pay) Query(ctx context.Context, outTradeNo string) (n mall.PayNotice, paid bool, err error) {
	if err := ctx.Err(); err != nil {
		return n, false, unavailable("orderquery", err)
	}
	res, err := sdkPay(func() (notify.PaidResult, error) {
		return p.order.QueryOrder(&order.QueryParams{OutTradeNo: outTradeNo, SignType: util.SignTypeMD5})
	})
	switch {
	case err != nil && strings.HasPrefix(err.Error(), "ORDERNOTEXIST"):
		observe("orderquery", 0, nil)
		return n, false, nil
	case err != nil:
		return n, false, payError("orderquery", err)
	}
	observe("orderquery", 0, nil)
	if res.Sign == nil || !p.notify.PaidVerifySign(res) || str(res.AppID) != p.appID || str(res.MchID) != p.mchID {
		return n, false, fail(domain.Unavailable, "WeChat Pay's order query answer is not signed for this merchant", "orderquery", errors.New("bad signature"))
	}
	if str(res.TradeState) != "SUCCESS" || res.TotalFee == nil {
		return n, false, nil
	}
	return mall.PayNotice{OutTradeNo: outTradeNo, TransactionID: str(res.TransactionID), TotalFen: int64(*res.TotalFee), Success: true}, true, nil
}

// Params signs the wx.requestPayment parameters of prepayID (MD5, as the
// order was placed).
func (p *Pay) Params(prepayID string, now time.Time) (mall.PayParams, error) {
	ts := strconv.FormatInt(now.Unix(), 10)
	nonce := util.RandomStr(32)
	pkg := "prepay_id=" + prepayID
	sign, err := util.CalculateSign("appId="+p.appID+"&nonceStr="+nonce+"&package="+pkg+"&signType="+util.SignTypeMD5+
		"&timeStamp="+ts+"&key="+p.key, util.SignTypeMD5, p.key)
	if err != nil {
		return mall.PayParams{}, err
	}
	return mall.PayParams{TimeStamp: ts, NonceStr: nonce, Package: pkg, SignType: util.SignTypeMD5, PaySign: sign}, nil
}

// Notification verifies a pay notification: WeChat's signature with the
// merchant key (the SDK's PaidVerifySign), this appid and mch_id, and the
// fields the mall needs. Anything else is Unauthorized (nothing is
// trusted) or Invalid (not a pay notification).
func (p *Pay) Notification(body []byte) (mall.PayNotice, error) {
	var res notify.PaidResult
	if err := xml.Unmarshal(body, &res); err != nil {
		return mall.PayNotice{}, domain.Errorf(domain.Invalid, "not a WeChat Pay notification")
	}
	if str(res.ReturnCode) != "SUCCESS" {
		return mall.PayNotice{}, domain.Errorf(domain.Invalid, "return_code is not SUCCESS")
	}
	if res.Sign == nil || !p.notify.PaidVerifySign(res) {
		return mall.PayNotice{}, domain.Errorf(domain.Unauthorized, "bad signature")
	}
	if str(res.AppID) != p.appID || str(res.MchID) != p.mchID {
		return mall.PayNotice{}, domain.Errorf(domain.Unauthorized, "not for this appid and mch_id")
	}
	if str(res.OutTradeNo) == "" || res.TotalFee == nil {
		return mall.PayNotice{}, domain.Errorf(domain.Invalid, "out_trade_no and total_fee are required")
	}
	return mall.PayNotice{OutTradeNo: str(res.OutTradeNo), TransactionID: str(res.TransactionID), TotalFen: int64(*res.TotalFee),
		Success: str(res.ResultCode) == "SUCCESS"}, nil
}

func str(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
