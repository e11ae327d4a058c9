// Package hooks holds the server-to-server webhooks (/api/v1/hooks). They
// carry no user token: the brand's order system signs each request with an
// HMAC-SHA256 shared secret over the timestamp and the raw body; WeCom
// callbacks are checked (msg_signature) and decrypted with the WeChat SDK's
// helpers before anything reads them.
package hooks

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"time"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/guide"
	"github.com/jifen/jifen/domain/orders"
)

// Signature headers.
const (
	HeaderTimestamp = "X-Jifen-Timestamp"
	HeaderSignature = "X-Jifen-Signature"
)

// Handlers serves the hook routes.
type Handlers struct {
	Orders *orders.Service
	Secret []byte
	Window time.Duration // accepted clock skew each way (5 minutes)
	Clock  domain.Clock
}

// Sign returns the hex HMAC-SHA256 of timestamp + "." + body: what the
// order system sends in X-Jifen-Signature.
func Sign(secret []byte, timestamp string, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(timestamp))
	m.Write([]byte("."))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// verify checks the signature and the timestamp window; any failure is
// Unauthorized with a reason the sender can act on.
func (h *Handlers) verify(timestamp, signature string, body []byte) error {
	if timestamp == "" || signature == "" {
		return domain.Errorf(domain.Unauthorized, "X-Jifen-Timestamp and X-Jifen-Signature headers required")
	}
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return domain.Errorf(domain.Unauthorized, "X-Jifen-Timestamp must be Unix seconds")
	}
	got, err := hex.DecodeString(signature)
	if err != nil || !hmac.Equal(got, mustHex(Sign(h.Secret, timestamp, body))) {
		return domain.Errorf(domain.Unauthorized, "bad signature")
	}
	skew := h.Clock.Now().Sub(time.Unix(ts, 0))
	if skew > h.Window || skew < -h.Window {
		return domain.Errorf(domain.Unauthorized, "timestamp outside the %s window", h.Window)
	}
	return nil
}

func mustHex(s string) []byte {
	b, _ := hex.DecodeString(s)
	return b
}

// WeCom serves the WeCom app's callback URL.
type WeCom struct {
	Guides *guide.Service
	CorpID string
	Token  string
	AESKey string
}
