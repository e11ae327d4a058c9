package sim

import (
	"crypto/rand"
	"encoding/xml"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/silenceper/wechat/v2/util"
)

// CallbackApp is what a WeCom app's callback is configured with.
type CallbackApp struct {
	CorpID  string
	AgentID string
	Token   string
	AESKey  string // 43 characters
}

// ExternalContactAdded is the change_external_contact event with
// ChangeType add_external_contact: the guide UserID added ExternalUserID.
type ExternalContactAdded struct {
	UserID         string
	ExternalUserID string
	State          string
	Time           time.Time
}

type cdata struct {
	Text string `xml:",cdata"`
}

// XML is the event as WeCom encrypts it.
func (e ExternalContactAdded) XML(corpID string) []byte {
	type event struct {
		XMLName        xml.Name `xml:"xml"`
		ToUserName     cdata
		FromUserName   cdata
		CreateTime     int64
		MsgType        cdata
		Event          cdata
		ChangeType     cdata
		UserID         cdata
		ExternalUserID cdata
		State          cdata
		WelcomeCode    cdata
	}
	b, _ := xml.Marshal(event{ToUserName: cdata{corpID}, FromUserName: cdata{"sys"}, CreateTime: e.Time.Unix(),
		MsgType: cdata{"event"}, Event: cdata{"change_external_contact"}, ChangeType: cdata{"add_external_contact"},
		UserID: cdata{e.UserID}, ExternalUserID: cdata{e.ExternalUserID}, State: cdata{e.State}, WelcomeCode: cdata{"sim-welcome"}})
	return b
}

// Callback builds what WeCom POSTs to the app's callback URL for the plain
// event XML: the query (msg_signature, timestamp, nonce) and the body
// <xml><ToUserName/><AgentID/><Encrypt/></xml>, encrypted with the SDK's
// helpers exactly as WeCom does (AES-CBC, corpid as receiver id).
func (a CallbackApp) Callback(plain []byte, now time.Time) (url.Values, []byte, error) {
	encrypted, err := util.EncryptMsg([]byte(rand.Text()[:16]), plain, a.CorpID, a.AESKey)
	if err != nil {
		return nil, nil, fmt.Errorf("sim: encrypt callback: %w", err)
	}
	ts, nonce := strconv.FormatInt(now.Unix(), 10), rand.Text()[:10]
	type envelope struct {
		XMLName    xml.Name `xml:"xml"`
		ToUserName cdata
		AgentID    cdata
		Encrypt    cdata
	}
	body, _ := xml.Marshal(envelope{ToUserName: cdata{a.CorpID}, AgentID: cdata{a.AgentID}, Encrypt: cdata{string(encrypted)}})
	q := url.Values{"msg_signature": {util.Signature(a.Token, ts, nonce, string(encrypted))}, "timestamp": {ts}, "nonce": {nonce}}
	return q, body, nil
}

// VerifyURL builds WeCom's URL check (GET with echostr): the app must
// answer the decrypted echostr.
func (a CallbackApp) VerifyURL(echo string, now time.Time) (url.Values, error) {
	encrypted, err := util.EncryptMsg([]byte(rand.Text()[:16]), []byte(echo), a.CorpID, a.AESKey)
	if err != nil {
		return nil, fmt.Errorf("sim: encrypt echostr: %w", err)
	}
	ts, nonce := strconv.FormatInt(now.Unix(), 10), rand.Text()[:10]
	return url.Values{"msg_signature": {util.Signature(a.Token, ts, nonce, string(encrypted))}, "timestamp": {ts},
		"nonce": {nonce}, "echostr": {string(encrypted)}}, nil
}
