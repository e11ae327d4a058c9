package shopper

import (
	"time"

	"github.com/jifen/jifen/domain/mall"
)

// mallPaymentJSON is the cash part of a points + cash redemption: what
// wx.requestPayment needs (params, while the payment is pending) and until
// when it may be paid.
type mallPaymentJSON struct {
	OutTradeNo string         `json:"out_trade_no"`
	CashFen    int64          `json:"cash_fen"`
	Status     string         `json:"status"`
	Deadline   time.Time      `json:"deadline"`
	Params     *payParamsJSON `json:"params"`
}

// payParamsJSON are wx.requestPayment's parameters, named as it names them.
type payParamsJSON struct {
	TimeStamp string `json:"timeStamp"`
	NonceStr  string `json:"nonceStr"`
	Package   string `json:"package"`
	SignType  string `json:"signType"`
	PaySign   string `json:"paySign"`
}

func toMallPaymentJSON(p *mall.Payment) *mallPaymentJSON {
	if p == nil {
		return nil
	}
	out := &mallPaymentJSON{OutTradeNo: p.OutTradeNo, CashFen: p.CashFen, Status: string(p.Status), Deadline: p.Deadline.UTC()}
	if p.Params != nil {
		out.Params = &payParamsJSON{TimeStamp: p.Params.TimeStamp, NonceStr: p.Params.NonceStr, Package: p.Params.Package,
			SignType: p.Params.SignType, PaySign: p.Params.PaySign}
	}
	return out
}
