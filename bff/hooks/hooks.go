// Package hooks holds the server-to-server webhooks (/api/v1/hooks). They
// carry no user token: the brand's order system signs each request with an
// HMAC-SHA256 shared secret over the timestamp and the raw body; WeCom
// callbacks are checked (msg_signature) and decrypted with the WeChat SDK's
// helpers before anything reads them.
package hooks

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/web"
	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/checkout"
	"github.com/jifen/jifen/domain/guide"
	"github.com/jifen/jifen/domain/orders"
	"github.com/jifen/jifen/domain/risk"
)

// Signature headers.
const (
	HeaderTimestamp = "X-Jifen-Timestamp"
	HeaderSignature = "X-Jifen-Signature"
)

// Handlers serves the hook routes.
type Handlers struct {
	Orders   *orders.Service
	Checkout *checkout.Service
	// Risk refuses a hold for a member held for risk review (issue #24).
	Risk   *risk.Service
	Secret []byte
	Window time.Duration // accepted clock skew each way (5 minutes)
	Clock  domain.Clock
	// Wall, when set, is the wall clock: a timestamp within Window of it
	// is accepted too, while a demo runs the service's Clock ahead.
	Wall domain.Clock
}

// Sign returns the hex HMAC-SHA256 of timestamp + "." + body: what the
// order system sends in X-Jifen-Signature. A GET has no body: it signs
// SignedLine(method, path) in its place.
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
	return verifySigned(h.Secret, h.Window, h.Clock, h.Wall, timestamp, signature, body)
}

// verifySigned checks signature = hex HMAC-SHA256(secret, timestamp + "."
// + body), and that timestamp (Unix seconds) is within window of now,
// either way: now by the service's clock, or, when wall is set, by the
// wall clock. A demo's moved clock (clock.offset, /_sim/clock) is not the
// order system's: it signs with its own clock, the wall's. The one check
// of every hook the order system signs.
func verifySigned(secret []byte, window time.Duration, clock, wall domain.Clock, timestamp, signature string, body []byte) error {
	if timestamp == "" || signature == "" {
		return domain.Errorf(domain.Unauthorized, "X-Jifen-Timestamp and X-Jifen-Signature headers required")
	}
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return domain.Errorf(domain.Unauthorized, "X-Jifen-Timestamp must be Unix seconds")
	}
	got, err := hex.DecodeString(signature)
	if err != nil || !hmac.Equal(got, mustHex(Sign(secret, timestamp, body))) {
		return domain.Errorf(domain.Unauthorized, "bad signature")
	}
	within := func(c domain.Clock) bool {
		skew := c.Now().Sub(time.Unix(ts, 0))
		return skew <= window && skew >= -window
	}
	if !within(clock) && (wall == nil || !within(wall)) {
		return domain.Errorf(domain.Unauthorized, "timestamp outside the %s window", window)
	}
	return nil
}

// readSigned reads the request body and checks its signature; nothing
// else reads the body before.
func (h *Handlers) readSigned(c *gin.Context) ([]byte, error) {
	body, err := readBody(c)
	if err != nil {
		return nil, err
	}
	if err := h.verify(c.GetHeader(HeaderTimestamp), c.GetHeader(HeaderSignature), body); err != nil {
		return nil, err
	}
	return body, nil
}

// readBody reads the request body: BODY_TOO_LARGE only when it is past
// server.body_limit_bytes, any other read error (a connection cut short)
// INVALID.
func readBody(c *gin.Context) ([]byte, error) {
	body, err := io.ReadAll(c.Request.Body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, &domain.Error{Code: web.CodeTooLarge, Message: fmt.Sprintf("request body larger than %d bytes", tooBig.Limit)}
		}
		return nil, domain.Errorf(domain.Invalid, "cannot read request body")
	}
	return body, nil
}

// SignedLine is what a request without a body signs in place of one: its
// method and path ("GET /api/v1/hooks/checkout/holds/3"). Signing the
// empty body would let one captured GET be replayed on every other id for
// the rest of the timestamp's window.
func SignedLine(method, path string) []byte { return []byte(method + " " + path) }

// readSignedLine checks the signature of a request without a body, over
// SignedLine.
func (h *Handlers) readSignedLine(c *gin.Context) error {
	body, err := readBody(c)
	if err != nil {
		return err
	}
	if len(body) > 0 {
		return domain.Errorf(domain.Invalid, "a %s carries no body", c.Request.Method)
	}
	return h.verify(c.GetHeader(HeaderTimestamp), c.GetHeader(HeaderSignature), SignedLine(c.Request.Method, c.Request.URL.Path))
}

// bindSigned checks the signature, then binds the JSON body strictly into
// dst (web.Bind).
func (h *Handlers) bindSigned(c *gin.Context, dst any) error {
	body, err := h.readSigned(c)
	if err != nil {
		return err
	}
	c.Request.Body = io.NopCloser(bytes.NewReader(body))
	return web.Bind(c, dst)
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
	Guard  *CallbackGuard
}
