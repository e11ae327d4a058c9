package sim

import (
	"crypto/rand"
	"encoding/xml"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/silenceper/wechat/v2/util"
)

// The official account's openid of simulator user <u> is
// "sim-oa-openid-<u>"; its unionid is "sim-unionid-<u>", the same one
// jscode2session gives the mini-program, as WeChat does for apps of one
// open-platform account.
const officialOpenIDPrefix = "sim-oa-openid-"

// OfficialOpenID is user's openid in the simulated official account.
func OfficialOpenID(user string) string { return officialOpenIDPrefix + user }

// OfficialUnionID maps a simulated official-account openid to its unionid;
// false for an openid the simulator never issues.
func OfficialUnionID(openid string) (string, bool) {
	user, ok := strings.CutPrefix(openid, officialOpenIDPrefix)
	if !ok || user == "" {
		return "", false
	}
	return "sim-unionid-" + user, true
}

// OfficialAccountApp is what an official account's server URL is
// configured with.
type OfficialAccountApp struct {
	AppID  string
	Token  string
	AESKey string // 43 characters; needed for encrypted pushes
}

// Subscribe is the push WeChat sends when user follows the account.
func (a OfficialAccountApp) Subscribe(user string, at time.Time) []byte {
	return a.followEvent(user, "subscribe", at)
}

// Unsubscribe is the push WeChat sends when user unfollows the account.
func (a OfficialAccountApp) Unsubscribe(user string, at time.Time) []byte {
	return a.followEvent(user, "unsubscribe", at)
}

func (a OfficialAccountApp) followEvent(user, ev string, at time.Time) []byte {
	type event struct {
		XMLName      xml.Name `xml:"xml"`
		ToUserName   cdata
		FromUserName cdata
		CreateTime   int64
		MsgType      cdata
		Event        cdata
	}
	b, _ := xml.Marshal(event{ToUserName: cdata{"gh_sim_official"}, FromUserName: cdata{OfficialOpenID(user)},
		CreateTime: at.Unix(), MsgType: cdata{"event"}, Event: cdata{ev}})
	return b
}

// Push builds what WeChat POSTs to the server URL for the plain push XML:
// in plaintext mode the query signature, timestamp, nonce and the XML as
// body; encrypted (safe mode), also encrypt_type=aes and msg_signature over
// the <Encrypt> payload, made with the SDK's helpers as WeChat does.
func (a OfficialAccountApp) Push(plain []byte, now time.Time, encrypted bool) (url.Values, []byte, error) {
	ts, nonce := strconv.FormatInt(now.Unix(), 10), rand.Text()[:10]
	q := url.Values{"signature": {util.Signature(a.Token, ts, nonce)}, "timestamp": {ts}, "nonce": {nonce}}
	if !encrypted {
		return q, plain, nil
	}
	enc, err := util.EncryptMsg([]byte(rand.Text()[:16]), plain, a.AppID, a.AESKey)
	if err != nil {
		return nil, nil, fmt.Errorf("sim: encrypt push: %w", err)
	}
	type envelope struct {
		XMLName    xml.Name `xml:"xml"`
		ToUserName cdata
		Encrypt    cdata
	}
	body, _ := xml.Marshal(envelope{ToUserName: cdata{"gh_sim_official"}, Encrypt: cdata{string(enc)}})
	q.Set("encrypt_type", "aes")
	q.Set("msg_signature", util.Signature(a.Token, ts, nonce, string(enc)))
	return q, body, nil
}

// VerifyURL builds WeChat's server URL check (GET with echostr).
func (a OfficialAccountApp) VerifyURL(echo string, now time.Time) url.Values {
	ts, nonce := strconv.FormatInt(now.Unix(), 10), rand.Text()[:10]
	return url.Values{"signature": {util.Signature(a.Token, ts, nonce)}, "timestamp": {ts}, "nonce": {nonce}, "echostr": {echo}}
}
