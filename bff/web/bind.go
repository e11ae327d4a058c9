package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/domain"
)

// Bind decodes the JSON body into dst strictly: keys that are not exactly
// a field's name, keys repeated in one object, wrong types, trailing data,
// bodies over the limit, null where the field is not `bind:"nullable"` and
// missing `bind:"required"` fields are refused with a clear error naming
// the field by its path (lines[1].qty). The body must say it is JSON:
// Content-Type application/json, in UTF-8 if it names a charset.
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
	if !isJSON(c.GetHeader("Content-Type")) {
		return domain.FieldError("Content-Type", "must be application/json")
	}
	t := reflect.TypeOf(dst)
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(dst); err != nil {
		return jsonError(err, body, t)
	}
	if found, ok := readKeys(body, t, 0); ok {
		return domain.FieldError(found.path, found.problem)
	}
	if dec.More() {
		return domain.Errorf(domain.Invalid, "request body has data after the JSON object")
	}
	if hasTime(t) {
		// A time the decoder took may still be one no store can hold.
		if path, problem := badTime(body, t); path != "" {
			return domain.FieldError(path, problem)
		}
	}
	return checkPresence(body, t)
}

// NoBody refuses a body on a route that takes none, as Bind refuses a bad
// one where a body is taken: no body, or an empty JSON object, passes;
// anything else (malformed JSON, an array, a key, text) is 400 before the
// handler changes anything.
func NoBody(c *gin.Context) {
	if c.Request.ContentLength == 0 {
		// No body said so (a chunked one is -1): nothing to read, and
		// nothing allocated on the GETs of every page.
		c.Next()
		return
	}
	body, err := io.ReadAll(c.Request.Body)
	if err == nil && len(bytes.TrimSpace(body)) == 0 {
		c.Next()
		return
	}
	if err == nil {
		c.Request.Body = io.NopCloser(bytes.NewReader(body))
		var none struct{}
		err = Bind(c, &none)
		if err == nil && bytes.TrimSpace(body)[0] != '{' {
			err = domain.Errorf(domain.Invalid, "request body must be a JSON object") // null
		}
		if err == nil {
			c.Next()
			return
		}
	} else {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			err = &domain.Error{Code: CodeTooLarge, Message: fmt.Sprintf("request body larger than %d bytes", tooBig.Limit)}
		} else {
			err = domain.Errorf(domain.Invalid, "cannot read request body")
		}
	}
	if de, ok := err.(*domain.Error); ok && de.Code == domain.Invalid && len(de.Fields) == 0 {
		err = domain.Errorf(domain.Invalid, "this route takes no body (%s)", de.Message)
	}
	Fail(c, err)
}

// isJSON reports whether a Content-Type header says JSON in UTF-8. A body
// sent as a form or as text/plain is not read as JSON whatever it holds:
// it is what curl -d and a cross-site page's form send.
func isJSON(header string) bool {
	typ, params, err := mime.ParseMediaType(header)
	if err != nil || typ != "application/json" {
		return false
	}
	cs, ok := params["charset"]
	return !ok || strings.EqualFold(cs, "utf-8")
}

// jsonError names the field of a decode error where it can: t is the type
// body was decoded into.
func jsonError(err error, body []byte, t reflect.Type) error {
	var syn *json.SyntaxError
	switch {
	case errors.As(err, &syn):
		return domain.Errorf(domain.Invalid, "malformed JSON at byte %d", syn.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return domain.Errorf(domain.Invalid, "malformed JSON: unexpected end")
	}
	// The decoder read one whole, well-formed value before it set a field:
	// its keys can be read, and an unknown or repeated key is the first
	// thing to say, whatever the decoder made of the values. A wrong type
	// is named by the path of the value at the error's offset, which
	// UnmarshalTypeError.Field gives without indexes and map keys.
	var typ *json.UnmarshalTypeError
	var at int64
	if errors.As(err, &typ) {
		at = typ.Offset
	}
	found, ok := readKeys(body, t, at)
	switch {
	case ok && found.problem != "":
		return domain.FieldError(found.path, found.problem)
	case typ != nil:
		path := typ.Field
		if ok {
			path = found.path
		}
		if path == "" {
			return domain.Errorf(domain.Invalid, "request body must be a JSON object")
		}
		return domain.FieldError(path, "must be "+jsonKind(typ.Type.Kind().String()))
	}
	// time.Time's own UnmarshalJSON refused a value ("2026-12-10", 5), and
	// encoding/json does not say whose: find the field.
	if path, problem := badTime(body, t); path != "" {
		return domain.FieldError(path, problem)
	}
	return domain.Errorf(domain.Invalid, "malformed JSON")
}

var timeType = reflect.TypeFor[time.Time]()

// The problems of a time field: not a time, or one outside the years a
// store can hold (MySQL's driver writes years 1 to 9999, encoding/json
// 0 to 9999, both in UTC: 0001-01-01T00:00:00+08:00 is year 0).
const (
	problemNoTime = "must be an RFC 3339 time, e.g. 2026-12-10T00:00:00+08:00"
	// ProblemTimeSpan is the problem of a time no store can hold, for
	// handlers that parse a time themselves (TimeFits).
	ProblemTimeSpan = "must be a time from 0001-01-01 to 9999-12-31 in UTC"
)

// TimeFits reports whether t is a time the stores can hold: its UTC year
// is 1 to 9999.
func TimeFits(t time.Time) bool {
	y := t.UTC().Year()
	return y >= 1 && y <= 9999
}

// hasTimeCache remembers, by type, whether hasTime found a time.Time.
var hasTimeCache sync.Map // reflect.Type → bool

// hasTime reports whether a value of t can hold a time.Time anywhere.
func hasTime(t reflect.Type) bool {
	if v, ok := hasTimeCache.Load(t); ok {
		return v.(bool)
	}
	found := containsTime(t, map[reflect.Type]bool{})
	hasTimeCache.Store(t, found)
	return found
}

func containsTime(t reflect.Type, seen map[reflect.Type]bool) bool {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == timeType {
		return true
	}
	if seen[t] {
		return false
	}
	seen[t] = true
	switch t.Kind() {
	case reflect.Struct:
		for _, f := range jsonFields(t) {
			if containsTime(f.typ, seen) {
				return true
			}
		}
	case reflect.Map, reflect.Slice, reflect.Array:
		return containsTime(t.Elem(), seen)
	}
	return false
}

// badTime walks a body beside the type it was decoded into, fields in the
// type's order, and returns the path of the first time.Time field whose
// value is no RFC 3339 time or one outside the years stores hold
// (order.lines[0].at, as checkPresence names them) and its problem; ""
// if there is none.
func badTime(body []byte, t reflect.Type) (path, problem string) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return "", ""
	}
	return findBadTime(v, t, "")
}

func findBadTime(v any, t reflect.Type, path string) (string, string) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if v == nil {
		return "", ""
	}
	if t == timeType {
		var tm time.Time
		raw, err := json.Marshal(v)
		if err != nil || tm.UnmarshalJSON(raw) != nil {
			return path, problemNoTime
		}
		if !TimeFits(tm) {
			return path, ProblemTimeSpan
		}
		return "", ""
	}
	switch v := v.(type) {
	case map[string]any:
		switch t.Kind() {
		case reflect.Struct:
			for _, f := range jsonFields(t) {
				if e, ok := v[f.name]; ok {
					if p, pr := findBadTime(e, f.typ, join(path, f.name)); p != "" {
						return p, pr
					}
				}
			}
		case reflect.Map:
			for _, k := range slices.Sorted(maps.Keys(v)) {
				if p, pr := findBadTime(v[k], t.Elem(), join(path, k)); p != "" {
					return p, pr
				}
			}
		}
	case []any:
		if t.Kind() == reflect.Slice || t.Kind() == reflect.Array {
			for i, e := range v {
				if p, pr := findBadTime(e, t.Elem(), fmt.Sprintf("%s[%d]", path, i)); p != "" {
					return p, pr
				}
			}
		}
	}
	return "", ""
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
// (MySQL's utf8mb4 columns refuse anything else) of at most 100 bytes, and
// given once: of two headers a proxy may keep either, so a retry could
// arrive under the other key and apply again.
func OptionalIdempotencyKey(c *gin.Context) (string, error) {
	if len(c.Request.Header.Values("Idempotency-Key")) > 1 {
		return "", domain.FieldError("Idempotency-Key", "given more than once")
	}
	k := strings.TrimSpace(c.GetHeader("Idempotency-Key"))
	if len(k) > 100 {
		return "", domain.FieldError("Idempotency-Key", "at most 100 characters")
	}
	if !utf8.ValidString(k) {
		return "", domain.FieldError("Idempotency-Key", "must be UTF-8 text")
	}
	return k, nil
}
