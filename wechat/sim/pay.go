package sim

import (
	"bytes"
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// WeChat Pay (API v2) on the merchant host: XML in, XML out, every request
// signed with the merchant's API key (MD5 unless sign_type says
// HMAC-SHA256), as pay/unifiedorder and the pay notification are.
//
//	POST /pay/unifiedorder   (api.mch.weixin.qq.com)
//	     → return_code SUCCESS with result_code SUCCESS and a prepay_id; a
//	     bad or missing signature, an unknown mch_id or a missing field is
//	     return_code FAIL; the same out_trade_no with other parameters is
//	     result_code FAIL (INVALID_REQUEST), once paid ORDERPAID, once
//	     closed ORDERCLOSED.
//	POST /pay/closeorder      closes an unpaid order (it can no longer be
//	     paid); a paid one is result_code FAIL ORDERPAID, an unknown one
//	     ORDERNOTEXIST; closing twice succeeds.
//	POST /pay/orderquery      the order's trade_state (NOTPAY, SUCCESS,
//	     PAYERROR, CLOSED), with transaction_id, total_fee and openid once
//	     paid, signed like a notification; an unknown order ORDERNOTEXIST.
//	POST /_sim/pay {"out_trade_no","result":"SUCCESS"|"FAIL","resend":false}
//	     the shopper pays (or the payment fails): the simulator POSTs the
//	     signed pay notification XML to the order's notify_url and answers
//	     {"status","reply"} (the HTTP status and body it got back).
//	     "resend": true sends the last notification again (WeChat retries);
//	     "silent": true pays without sending one (a notification lost on
//	     the way). An order paid, failed or closed already is 409. Unlike WeChat, the
//	     simulator does not enforce time_expire: tests run on a fake clock
//	     and need to deliver the notification that comes too late.
//
// POST /_sim/faults {"api":"unifiedorder","errcode":1} makes the next order
// answer result_code FAIL (SYSTEMERROR); "http_status" answers that status.
//
// The merchant DefaultMchID with DefaultMchKey is known from the start;
// RegisterMerchant (or POST /_sim/merchants {"mch_id","key"}) adds others.

// HostPay is WeChat Pay's merchant API host.
const HostPay = "api.mch.weixin.qq.com"

// payAPI names pay/unifiedorder in faults and the call record.
const payAPI = "unifiedorder"

// The merchant every simulator knows (the embedded default configuration).
const (
	DefaultMchID  = "1900000109"
	DefaultMchKey = "jifensimulatormerchantkey0000000"
)

type payOrder struct {
	fields    map[string]string // the unifiedorder request, sign excluded
	prepayID  string
	state     string // NOTPAY, SUCCESS, PAYERROR, CLOSED
	txID      string
	lastXML   []byte
	notifyURL string
}

type payState struct {
	merchants map[string]string    // mch_id → key
	orders    map[string]*payOrder // mch_id|out_trade_no
	seq       int
	deliver   map[string]http.Handler // notify_url host ("" any) → in-process delivery; else HTTP
}

// RegisterMerchant makes key the API key of mchID.
func (s *Server) RegisterMerchant(mchID, key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.payInit()
	s.pay.merchants[mchID] = key
}

// DeliverPayNotifications sends the pay notifications whose notify_url
// names host ("" any host) to h in process (the application sharing the
// process) instead of over HTTP.
func (s *Server) DeliverPayNotifications(host string, h http.Handler) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pay.deliver == nil {
		s.pay.deliver = map[string]http.Handler{}
	}
	s.pay.deliver[host] = h
}

func (s *Server) payInit() {
	if s.pay.merchants == nil {
		s.pay.merchants = map[string]string{DefaultMchID: DefaultMchKey}
		s.pay.orders = map[string]*payOrder{}
	}
}

// PaySign is WeChat Pay's v2 signature of fields: the non-empty fields
// other than sign, sorted by name, as k=v joined by &, then &key=; MD5 (or
// HMAC-SHA256 with the key) in upper-case hex.
func PaySign(fields map[string]string, key string) string {
	keys := make([]string, 0, len(fields))
	for k, v := range fields {
		if k != "sign" && v != "" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k + "=" + fields[k] + "&")
	}
	b.WriteString("key=" + key)
	var sum []byte
	if fields["sign_type"] == "HMAC-SHA256" {
		m := hmac.New(sha256.New, []byte(key))
		m.Write([]byte(b.String()))
		sum = m.Sum(nil)
	} else {
		h := md5.Sum([]byte(b.String()))
		sum = h[:]
	}
	return strings.ToUpper(hex.EncodeToString(sum))
}

// PayXML encodes fields as WeChat Pay's flat <xml>, signed with key when
// key is not "".
func PayXML(fields map[string]string, key string) []byte {
	if key != "" {
		fields["sign"] = PaySign(fields, key)
	}
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b bytes.Buffer
	b.WriteString("<xml>")
	for _, k := range keys {
		b.WriteString("<" + k + "><![CDATA[")
		_ = xml.EscapeText(&b, []byte(fields[k]))
		b.WriteString("]]></" + k + ">")
	}
	b.WriteString("</xml>")
	return bytes.ReplaceAll(b.Bytes(), []byte("]]><![CDATA["), nil)
}

// parsePayXML reads a flat document: the children of its root, whatever
// the root is named. WeChat's own documents use <xml>; the SDK's
// closeorder and orderquery requests name it after their Go types
// (closeRequest, queryRequest), and the merchant API reads the children.
func parsePayXML(body []byte) (map[string]string, error) {
	dec := xml.NewDecoder(bytes.NewReader(body))
	out := map[string]string{}
	depth, name := 0, ""
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			name = t.Name.Local
		case xml.CharData:
			if depth == 2 {
				out[name] += string(t)
			}
		case xml.EndElement:
			depth--
		}
	}
	if depth != 0 || len(out) == 0 {
		return nil, fmt.Errorf("not a WeChat Pay document")
	}
	return out, nil
}

func writePayXML(w http.ResponseWriter, fields map[string]string, key string) {
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(PayXML(fields, key))
}

func payFail(msg string) map[string]string {
	return map[string]string{"return_code": "FAIL", "return_msg": msg}
}

// servePay serves the merchant host's APIs.
func (s *Server) servePay(w http.ResponseWriter, r *http.Request, path string) {
	now := s.now()
	body, _ := io.ReadAll(io.LimitReader(r.Body, maxBody))
	fields, err := parsePayXML(body)
	params := map[string]any{}
	for k, v := range fields {
		if k != "sign" {
			params[k] = v
		}
	}
	name := strings.TrimPrefix(path, "/pay/")
	var reply map[string]string
	key := ""
	handle, known := map[string]func(map[string]string, time.Time) (map[string]string, string){
		"unifiedorder": s.unifiedOrder, "closeorder": s.closeOrder, "orderquery": s.orderQuery}[name]
	switch {
	case !known:
		w.WriteHeader(http.StatusNotFound)
		s.record(Call{API: name, Host: HostPay, Params: params, Status: http.StatusNotFound, Time: now})
		return
	case r.Method != http.MethodPost:
		reply = payFail("require POST")
	case err != nil:
		reply = payFail("XML format error: " + err.Error())
	default:
		reply, key = handle(fields, now)
	}
	if f, ok := s.takeFault(name); ok && f.HTTPStatus != 0 {
		w.WriteHeader(f.HTTPStatus)
		s.record(Call{API: name, Host: HostPay, Params: params, Status: f.HTTPStatus, Time: now})
		return
	} else if ok && f.ErrCode != 0 {
		reply, key = map[string]string{"return_code": "SUCCESS", "result_code": "FAIL", "err_code": "SYSTEMERROR", "err_code_des": "系统超时"}, ""
	}
	code := 0
	if reply["return_code"] != "SUCCESS" || reply["result_code"] != "SUCCESS" {
		code = -1
	}
	s.record(Call{API: name, Host: HostPay, Params: params, ErrCode: code, Status: http.StatusOK, Time: now})
	writePayXML(w, reply, key)
}

// unifiedOrder creates (or finds again) a JSAPI order.
func (s *Server) unifiedOrder(f map[string]string, now time.Time) (map[string]string, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.payInit()
	key, ok := s.pay.merchants[f["mch_id"]]
	if !ok {
		return payFail("mch_id参数格式错误"), ""
	}
	if f["sign"] == "" || PaySign(f, key) != f["sign"] {
		return payFail("签名错误"), ""
	}
	for _, need := range []string{"appid", "nonce_str", "body", "out_trade_no", "total_fee", "spbill_create_ip", "notify_url", "trade_type"} {
		if f[need] == "" {
			return payFail("缺少参数" + need), ""
		}
	}
	if fee, err := strconv.ParseInt(f["total_fee"], 10, 64); err != nil || fee <= 0 {
		return payFail("total_fee参数错误"), ""
	}
	if f["trade_type"] == "JSAPI" && f["openid"] == "" {
		return payFail("JSAPI支付必须传openid"), ""
	}
	if u, err := url.Parse(f["notify_url"]); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return payFail("notify_url参数错误"), ""
	}
	base := map[string]string{"return_code": "SUCCESS", "return_msg": "OK", "appid": f["appid"], "mch_id": f["mch_id"],
		"nonce_str": randomHex(16)}
	id := f["mch_id"] + "|" + f["out_trade_no"]
	req := map[string]string{}
	for k, v := range f {
		if k != "sign" && k != "nonce_str" {
			req[k] = v
		}
	}
	if o, ok := s.pay.orders[id]; ok {
		switch {
		case o.state == "SUCCESS":
			base["result_code"], base["err_code"], base["err_code_des"] = "FAIL", "ORDERPAID", "该订单已支付"
		case o.state == "CLOSED":
			base["result_code"], base["err_code"], base["err_code_des"] = "FAIL", "ORDERCLOSED", "订单已关闭"
		case !sameFields(o.fields, req):
			base["result_code"], base["err_code"], base["err_code_des"] = "FAIL", "INVALID_REQUEST", "201 商户订单号重复"
		default:
			base["result_code"], base["trade_type"], base["prepay_id"] = "SUCCESS", f["trade_type"], o.prepayID
		}
		return base, key
	}
	s.pay.seq++
	o := &payOrder{fields: req, state: "NOTPAY", notifyURL: f["notify_url"],
		prepayID: fmt.Sprintf("wx%s%010d", now.UTC().Format("20060102150405"), s.pay.seq)}
	s.pay.orders[id] = o
	base["result_code"], base["trade_type"], base["prepay_id"] = "SUCCESS", f["trade_type"], o.prepayID
	return base, key
}

// merchantOrder checks a signed request naming an order of a merchant:
// the key, the order (nil when unknown) and the reply's common fields, or
// a return_code FAIL reply.
func (s *Server) merchantOrder(f map[string]string) (key string, o *payOrder, base, fail map[string]string) {
	key, ok := s.pay.merchants[f["mch_id"]]
	if !ok {
		return "", nil, nil, payFail("mch_id参数格式错误")
	}
	if f["sign"] == "" || PaySign(f, key) != f["sign"] {
		return "", nil, nil, payFail("签名错误")
	}
	for _, need := range []string{"appid", "nonce_str", "out_trade_no"} {
		if f[need] == "" {
			return "", nil, nil, payFail("缺少参数" + need)
		}
	}
	base = map[string]string{"return_code": "SUCCESS", "return_msg": "OK", "appid": f["appid"], "mch_id": f["mch_id"],
		"nonce_str": randomHex(16), "result_code": "SUCCESS"}
	o = s.pay.orders[f["mch_id"]+"|"+f["out_trade_no"]]
	if o == nil {
		base["result_code"], base["err_code"], base["err_code_des"] = "FAIL", "ORDERNOTEXIST", "此交易订单号不存在"
	}
	return key, o, base, nil
}

// closeOrder closes an unpaid order (pay/closeorder).
func (s *Server) closeOrder(f map[string]string, _ time.Time) (map[string]string, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.payInit()
	key, o, base, fail := s.merchantOrder(f)
	switch {
	case fail != nil:
		return fail, ""
	case o == nil:
	case o.state == "SUCCESS":
		base["result_code"], base["err_code"], base["err_code_des"] = "FAIL", "ORDERPAID", "订单已支付，不能发起关单"
	default:
		o.state = "CLOSED"
	}
	return base, key
}

// orderQuery answers an order's state (pay/orderquery).
func (s *Server) orderQuery(f map[string]string, _ time.Time) (map[string]string, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.payInit()
	key, o, base, fail := s.merchantOrder(f)
	if fail != nil {
		return fail, ""
	}
	if o == nil {
		return base, key
	}
	base["out_trade_no"], base["trade_state"], base["openid"] = f["out_trade_no"], o.state, o.fields["openid"]
	base["trade_type"], base["total_fee"] = o.fields["trade_type"], o.fields["total_fee"]
	if o.state == "SUCCESS" {
		base["transaction_id"], base["fee_type"], base["cash_fee"] = o.txID, "CNY", o.fields["total_fee"]
	}
	return base, key
}

func sameFields(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func randomHex(n int) string {
	b := make([]byte, n/2)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// PayResult is what the control route answers: what the notify_url said.
type PayResult struct {
	Status int    `json:"status"`
	Reply  string `json:"reply"`
}

// Pay completes (result "SUCCESS") or fails ("FAIL") the order outTradeNo
// of any merchant and delivers the signed notification; resend delivers
// the last one again.
func (s *Server) Pay(outTradeNo, result string, resend bool) (PayResult, error) {
	return s.pay3(outTradeNo, result, resend, false)
}

// PaySilently completes the order outTradeNo like Pay, but the
// notification is lost on the way: WeChat has the money, the merchant has
// not heard (until it asks, pay/orderquery, or a resend).
func (s *Server) PaySilently(outTradeNo string) error {
	_, err := s.pay3(outTradeNo, "SUCCESS", false, true)
	return err
}

func (s *Server) pay3(outTradeNo, result string, resend, silent bool) (PayResult, error) {
	s.mu.Lock()
	s.payInit()
	var o *payOrder
	var mch string
	for id, cand := range s.pay.orders {
		if strings.HasSuffix(id, "|"+outTradeNo) {
			o, mch = cand, strings.SplitN(id, "|", 2)[0]
		}
	}
	if o == nil {
		s.mu.Unlock()
		return PayResult{}, errPayUnknown
	}
	now := s.now()
	if !resend {
		if o.state != "NOTPAY" {
			s.mu.Unlock()
			return PayResult{}, fmt.Errorf("%w: order %s is %s", errPayState, outTradeNo, o.state)
		}
		s.pay.seq++
		n := map[string]string{"return_code": "SUCCESS", "appid": o.fields["appid"], "mch_id": mch, "nonce_str": randomHex(16),
			"openid": o.fields["openid"], "trade_type": o.fields["trade_type"], "out_trade_no": outTradeNo,
			"total_fee": o.fields["total_fee"], "fee_type": "CNY", "time_end": now.In(shanghai).Format("20060102150405")}
		if result == "FAIL" {
			o.state = "PAYERROR"
			n["result_code"], n["err_code"], n["err_code_des"] = "FAIL", "PAYERROR", "支付失败"
		} else {
			o.state = "SUCCESS"
			o.txID = fmt.Sprintf("42%08d%s", s.pay.seq, now.UTC().Format("20060102150405"))
			n["result_code"], n["bank_type"], n["cash_fee"], n["transaction_id"] = "SUCCESS", "OTHERS", o.fields["total_fee"], o.txID
		}
		o.lastXML = PayXML(n, s.pay.merchants[mch])
	} else if o.lastXML == nil {
		s.mu.Unlock()
		return PayResult{}, fmt.Errorf("%w: order %s has sent no notification", errPayState, outTradeNo)
	}
	if silent {
		s.mu.Unlock()
		return PayResult{}, nil
	}
	body, target := o.lastXML, o.notifyURL
	var deliver http.Handler
	if u, err := url.Parse(target); err == nil {
		if deliver = s.pay.deliver[u.Host]; deliver == nil {
			deliver = s.pay.deliver[""]
		}
	}
	s.mu.Unlock()
	return postNotification(deliver, target, body)
}

var (
	errPayUnknown = fmt.Errorf("no such order")
	errPayState   = fmt.Errorf("order not payable")
)

func postNotification(h http.Handler, target string, body []byte) (PayResult, error) {
	if h != nil {
		u, err := url.Parse(target)
		if err != nil {
			return PayResult{}, err
		}
		req := httptest.NewRequest(http.MethodPost, u.RequestURI(), bytes.NewReader(body))
		req.Header.Set("Content-Type", "text/xml")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return PayResult{Status: rec.Code, Reply: rec.Body.String()}, nil
	}
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Post(target, "text/xml", bytes.NewReader(body))
	if err != nil {
		return PayResult{}, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	return PayResult{Status: resp.StatusCode, Reply: string(b)}, nil
}

func (s *Server) servePayControl(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "method not allowed"})
		return
	}
	var in struct {
		OutTradeNo string `json:"out_trade_no"`
		Result     string `json:"result"`
		Resend     bool   `json:"resend"`
		Silent     bool   `json:"silent"`
	}
	dec := json.NewDecoder(io.LimitReader(r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil || in.OutTradeNo == "" || (in.Result != "" && in.Result != "SUCCESS" && in.Result != "FAIL") {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": `want {"out_trade_no","result":"SUCCESS"|"FAIL","resend":bool,"silent":bool}`})
		return
	}
	res, err := s.pay3(in.OutTradeNo, in.Result, in.Resend, in.Silent && in.Result != "FAIL")
	switch {
	case err == errPayUnknown:
		writeJSON(w, http.StatusNotFound, map[string]string{"error": err.Error()})
	case err != nil && strings.Contains(err.Error(), errPayState.Error()):
		writeJSON(w, http.StatusConflict, map[string]string{"error": err.Error()})
	case err != nil:
		writeJSON(w, http.StatusBadGateway, map[string]string{"error": err.Error()})
	default:
		writeJSON(w, http.StatusOK, res)
	}
}

func (s *Server) serveMerchants(w http.ResponseWriter, r *http.Request) {
	var in struct {
		MchID string `json:"mch_id"`
		Key   string `json:"key"`
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "method not allowed"})
		return
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, maxBody)).Decode(&in); err != nil || in.MchID == "" || len(in.Key) != 32 {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": `want {"mch_id","key"} with a 32-byte key`})
		return
	}
	s.RegisterMerchant(in.MchID, in.Key)
	w.WriteHeader(http.StatusNoContent)
}
