package console

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/web"
	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/formkey"
)

// createOnce answers a create of the JSON API (a rule, a reminder
// campaign, a store, a guide, a task, a lottery campaign or prize, a mall
// item) once per Idempotency-Key, an optional header: an API client that
// lost the answer to a create and sends it again must not make a second
// rule that pays every order twice. Without the header every request
// creates.
//
// With it, the first request runs create and its answer (201 and the
// body) is kept a day (formkey.Retention) under the caller, the path and
// the key, with a digest of the request as bound (req). A copy — the same
// caller, path and key — waits for the first to finish and is answered
// with the first's body, 201 and Idempotent-Replayed: true, creating
// nothing; with another request under the key it is 409
// IDEMPOTENCY_CONFLICT. A create that fails keeps nothing, so the request
// can be corrected and sent again under the same key. The console's forms
// use the same keys (form_key), with the form's path: the two never meet.
func (h *Handlers) createOnce(c *gin.Context, req any, create func(ctx context.Context) (gin.H, error)) {
	key, err := web.OptionalIdempotencyKey(c)
	if err != nil {
		web.Fail(c, err)
		return
	}
	ctx := c.Request.Context()
	if key == "" || h.FormKeys == nil {
		body, err := create(ctx)
		if err != nil {
			web.Fail(c, err)
			return
		}
		c.JSON(http.StatusCreated, body)
		return
	}
	asked, err := json.Marshal(req)
	if err != nil {
		web.Fail(c, err)
		return
	}
	digest := hexDigest(asked)
	k := formkey.Key{Actor: web.Claims(c).Subject, Form: c.Request.Method + " " + c.Request.URL.Path, Key: hexDigest([]byte(key))}
	kept, replayed, err := h.FormKeys.Once(ctx, k, func(ctx context.Context) (string, error) {
		body, err := create(ctx)
		if err != nil {
			return "", err
		}
		b, err := json.Marshal(body)
		return digest + "\n" + string(b), err
	})
	if errors.Is(err, formkey.ErrPending) {
		err = domain.Errorf(domain.Conflict, "a request with this Idempotency-Key is still being saved; send it again in a moment")
	}
	if err != nil {
		web.Fail(c, err)
		return
	}
	was, body, _ := strings.Cut(kept, "\n")
	if replayed {
		if was != digest {
			web.Fail(c, domain.Errorf(domain.IdempotencyConflict, "this Idempotency-Key was used for another request to %s", c.Request.URL.Path))
			return
		}
		c.Header("Idempotent-Replayed", "true")
	}
	c.Data(http.StatusCreated, "application/json; charset=utf-8", []byte(body))
}

// hexDigest is the first 128 bits of b's SHA-256 in hex: a key of the
// length formkey takes, whatever the client's key was.
func hexDigest(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}
