package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jifen/jifen/domain"
)

type strictLine struct {
	SKU string `json:"sku"`
	Qty int64  `json:"qty"`
}

type strictSchedule struct {
	OnceAt *time.Time `json:"once_at,omitempty"`
	Cron   string     `json:"cron,omitempty"`
}

type strictVersion struct {
	Version int64 `json:"version"`
}

type strictBody struct {
	Delta    int64           `json:"delta"`
	Reason   string          `json:"reason"`
	Note     *string         `json:"note" bind:"nullable"`
	Lines    []strictLine    `json:"lines"`
	Schedule strictSchedule  `json:"schedule"`
	Throttle map[string]int  `json:"throttle_per_minute"`
	Extra    any             `json:"extra"`
	Evidence json.RawMessage `json:"evidence"`
	strictVersion
}

// A key is a field only when it is exactly the field's name, and only once
// per object: encoding/json alone matches names ignoring case (with
// Unicode folding) and keeps the last of repeated keys, so a body would say
// one thing to the schema and another to the handler. Every refusal names
// the field by its full path, indexes and map keys included.
func TestBindKeysAreExactAndOnce(t *testing.T) {
	const unknown, dup = "unknown field", "duplicate key"
	cases := []struct {
		name, body string
		field      string // "" = accepted, "-" = INVALID without fields
		problem    string // the start of fields[field]
	}{
		{"plain", `{"delta":1,"reason":"x"}`, "", ""},
		{"empty object", `{}`, "", ""},
		{"nested objects, arrays, maps, null where nullable and free-form values",
			`{"delta":1,"reason":"x","note":null,"lines":[{"sku":"a","qty":1},{"sku":"b","qty":2}],` +
				`"schedule":{"once_at":"2026-12-10T00:00:00+08:00","cron":""},"throttle_per_minute":{"subscribe":5,"Subscribe":6},` +
				`"extra":{"Any":[{"k":1,"K":2}],"n":null},"evidence":{"a":[1,{"b":null}]},"version":3}`, "", ""},
		{"white space everywhere", " {\n \"delta\" : 1 ,\t\"lines\" : [ { \"sku\" : \"a\" } , { } ] , \"extra\" : [ ] }\n", "", ""},
		{"an escaped key spelling the name exactly", `{"del\u0074a":1,"reason":"x"}`, "", ""},
		{"keys and braces inside strings", `{"reason":"{\"Delta\":5,\"delta\":6} \\\" ]"}`, "", ""},

		{"a second spelling of a field", `{"delta":1,"Delta":500,"reason":"x"}`, "Delta", unknown},
		{"upper case", `{"DELTA":3,"REASON":"upper"}`, "DELTA", unknown},
		{"long s folds to s", `{"delta":1,"reaſon":"x"}`, "reaſon", unknown},
		{"Kelvin sign folds to k, nested", `{"lines":[{"s` + "\u212a" + `u":"a"}]}`, "lines[0].s\u212au", unknown},
		{"case variant in a nested struct", `{"schedule":{"Cron":"0 9 * * *"}}`, "schedule.Cron", unknown},
		{"unknown in an array's second item", `{"lines":[{"sku":"a"},{"sku":"b","bogus":1}]}`, "lines[1].bogus", unknown},
		{"unknown in a nested struct", `{"schedule":{"bogus":1}}`, "schedule.bogus", unknown},
		{"unknown at the top", `{"delta":1,"bogus":{"x":1}}`, "bogus", unknown},

		{"a repeated key", `{"delta":1,"delta":2,"reason":"x"}`, "delta", dup},
		{"a repeated key, escaped the second time", `{"delta":1,"d\u0065lta":2}`, "delta", dup},
		{"a repeated promoted field", `{"version":1,"version":2}`, "version", dup},
		{"repeated in an array item", `{"lines":[{"sku":"a"},{"sku":"b","qty":1,"sku":"c"}]}`, "lines[1].sku", dup},
		{"repeated in a nested struct", `{"schedule":{"cron":"a","cron":"b"}}`, "schedule.cron", dup},
		{"repeated map key", `{"throttle_per_minute":{"subscribe":1,"template":3,"subscribe":2}}`, "throttle_per_minute.subscribe", dup},
		{"repeated in a free-form value", `{"extra":[{"a":1,"a":2}]}`, "extra[0].a", dup},
		{"repeated in raw JSON", `{"evidence":{"a":{"b":1,"b":1}}}`, "evidence.a.b", dup},
		{"repeated object", `{"schedule":{},"schedule":{}}`, "schedule", dup},

		{"wrong type in an array's second item", `{"lines":[{"sku":"a","qty":1},{"sku":"b","qty":"1"}]}`, "lines[1].qty", "must be an integer"},
		{"an object for an integer", `{"lines":[{"qty":{"n":1}}]}`, "lines[0].qty", "must be an integer"},
		{"an array for a string", `{"lines":[{"sku":"a"},{"sku":["a"]}]}`, "lines[1].sku", "must be a string"},
		{"wrong type in a map value", `{"throttle_per_minute":{"subscribe":"5"}}`, "throttle_per_minute.subscribe", "must be an integer"},
		{"an object for an array", `{"lines":{"sku":"a"}}`, "lines", "must be an array"},
		{"an array for an object", `{"schedule":[1]}`, "schedule", "must be an object"},
		{"a fraction at the top", `{"delta":1.5}`, "delta", "must be an integer"},

		// No JSON object: a message without fields, whatever the keys
		// before the break.
		{"cut short after a variant", `{"delta":1,"Delta"`, "-", ""},
		{"a trailing comma", `{"delta":1,}`, "-", ""},
		{"a missing comma", `{"delta":1 "delta":2}`, "-", ""},
		{"unbalanced", `{"lines":[{"sku":"a"}}`, "-", ""},
		{"an array", `[{"delta":1}]`, "-", ""},
		{"a string", `"delta"`, "-", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := bindBody(t, tc.body, &strictBody{})
			if tc.field == "" {
				if err != nil {
					t.Fatalf("refused %s: %v", tc.body, err)
				}
				return
			}
			var de *domain.Error
			if tc.field == "-" {
				if !errors.As(err, &de) || de.Code != domain.Invalid || len(de.Fields) != 0 {
					t.Fatalf("%s: got %#v; want INVALID without fields", tc.body, err)
				}
				return
			}
			if !errors.As(err, &de) || de.Code != domain.Invalid || len(de.Fields) != 1 ||
				!strings.HasPrefix(de.Fields[tc.field], tc.problem) {
				t.Fatalf("%s: got %#v; want fields {%q: %q…}", tc.body, err, tc.field, tc.problem)
			}
		})
	}
}

// Bind never panics on any bytes, and what it accepts has no key twice in
// any object and only the exact field names at the top (checked here the
// slow way, token by token).
func FuzzBindKeys(f *testing.F) {
	for _, s := range []string{`{"delta":1,"reason":"x"}`, `{"delta":1,"Delta":2}`, `{"lines":[{"sku":"a"},{"sku":"b","sku":"c"}]}`,
		`{"extra":{"a":{"b":1,"b":2}}}`, `{"reason":"\"}\\"}`, `{"del\u0074a":1}`, `{"throttle_per_minute":{"a":1,"a":"2"}}`, `[`, `{"a`} {
		f.Add([]byte(s))
	}
	fields := map[string]bool{}
	for _, jf := range jsonFields(reflect.TypeFor[strictBody]()) {
		fields[jf.name] = true
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if err := bindBody(t, string(body), &strictBody{}); err != nil {
			return
		}
		dec := json.NewDecoder(bytes.NewReader(body))
		type frame struct {
			object bool
			keys   map[string]bool
			key    bool // the next string is a key
		}
		var stack []*frame
		for {
			tok, err := dec.Token()
			if err != nil {
				return
			}
			var top *frame
			if len(stack) > 0 {
				top = stack[len(stack)-1]
			}
			if k, ok := tok.(string); ok && top != nil && top.object && top.key {
				if top.keys[k] {
					t.Fatalf("accepted %q twice in %s", k, body)
				}
				if len(stack) == 1 && !fields[k] {
					t.Fatalf("accepted key %q in %s", k, body)
				}
				top.keys[k], top.key = true, false
				continue
			}
			switch tok {
			case json.Delim('{'):
				stack = append(stack, &frame{object: true, keys: map[string]bool{}, key: true})
				continue
			case json.Delim('['):
				stack = append(stack, &frame{})
				continue
			case json.Delim('}'), json.Delim(']'):
				stack = stack[:len(stack)-1]
			}
			if len(stack) > 0 && stack[len(stack)-1].object {
				stack[len(stack)-1].key = true
			}
		}
	})
}
