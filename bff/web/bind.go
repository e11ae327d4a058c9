package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/domain"
)

// Bind decodes the JSON body into dst strictly: unknown fields, wrong types,
// trailing data, bodies over the limit, null where the field is not
// `bind:"nullable"` and missing `bind:"required"` fields are refused with a
// clear error naming the field.
func Bind(c *gin.Context, dst any) error {
	body, err := io.ReadAll(c.Request.Body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return &domain.Error{Code: CodeTooLarge, Message: fmt.Sprintf("request body larger than %d bytes", tooBig.Limit)}
		}
		return domain.Errorf(domain.Invalid, "cannot read request body")
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return domain.Errorf(domain.Invalid, "request body must be a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return jsonError(err)
	}
	if dec.More() {
		return domain.Errorf(domain.Invalid, "request body has data after the JSON object")
	}
	return checkPresence(body, reflect.TypeOf(dst))
}

func jsonError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return domain.Errorf(domain.Invalid, "malformed JSON at byte %d", syn.Offset)
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			return domain.Errorf(domain.Invalid, "request body must be a JSON object")
		}
		return domain.FieldError(field, "must be "+jsonKind(typ.Type.Kind().String()))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return domain.FieldError(name, "unknown field")
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return domain.Errorf(domain.Invalid, "malformed JSON: unexpected end")
	}
	return domain.Errorf(domain.Invalid, "malformed JSON")
}

func jsonKind(k string) string {
	switch k {
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "struct", "map":
		return "an object"
	case "slice", "array":
		return "an array"
	case "float32", "float64":
		return "a number"
	}
	// Points, fen, ids and counts: 300.5, 1e3 and a value past int64 are
	// numbers, but not what the field takes.
	return "an integer"
}

// IdempotencyKey returns the Idempotency-Key header, required on writes
// that move points.
func IdempotencyKey(c *gin.Context) (string, error) {
	k, err := OptionalIdempotencyKey(c)
	if err == nil && k == "" {
		err = domain.FieldError("Idempotency-Key", "header required on this write")
	}
	return k, err
}

// OptionalIdempotencyKey returns the Idempotency-Key header, "" when there
// is none. The key is stored with what it keys, so it must be UTF-8 text
// (MySQL's utf8mb4 columns refuse anything else) of at most 100 bytes.
func OptionalIdempotencyKey(c *gin.Context) (string, error) {
	k := strings.TrimSpace(c.GetHeader("Idempotency-Key"))
	if len(k) > 100 {
		return "", domain.FieldError("Idempotency-Key", "at most 100 characters")
	}
	if !utf8.ValidString(k) {
		return "", domain.FieldError("Idempotency-Key", "must be UTF-8 text")
	}
	return k, nil
}
