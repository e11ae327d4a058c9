package web

import (
	"encoding/json"
	"errors"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/domain"
)

type bindLine struct {
	SKU    string `json:"sku"`
	Amount int64  `json:"amount_fen" bind:"required"`
}

type bindNested struct {
	Name  string              `json:"name"`
	Lines []bindLine          `json:"lines"`
	ByKey map[string]bindLine `json:"by_key"`
	Free  any                 `json:"free"`
	Raw   json.RawMessage     `json:"raw"`
}

type bindPlain struct {
	Name string  `json:"name"`
	Note *string `json:"note" bind:"nullable"`
}

func bindBody(t *testing.T, body string, dst any) error {
	t.Helper()
	c, _ := gin.CreateTestContext(httptest.NewRecorder())
	c.Request = httptest.NewRequest("POST", "/", strings.NewReader(body))
	c.Request.Header.Set("Content-Type", "application/json")
	return Bind(c, dst)
}

// The presence rules hold whether or not the body needs the second walk:
// null refused unless nullable, required fields required at any depth,
// and the word null inside a string is only a string.
func TestBindPresenceRules(t *testing.T) {
	cases := []struct {
		name, body string
		dst        any
		field      string // "" = accepted
	}{
		{"plain body, no null", `{"name":"a"}`, &bindPlain{}, ""},
		{"null inside a string", `{"name":"null and void"}`, &bindPlain{}, ""},
		{"null where nullable", `{"name":"a","note":null}`, &bindPlain{}, ""},
		{"null where not nullable", `{"name":null}`, &bindPlain{}, "name"},
		{"the body null", `null`, &bindPlain{}, "-"},
		{"nested required given", `{"lines":[{"sku":"x","amount_fen":0}]}`, &bindNested{}, ""},
		{"nested required missing", `{"lines":[{"sku":"x"}]}`, &bindNested{}, "lines[0].amount_fen"},
		{"required in a later element missing", `{"lines":[{"amount_fen":1},{"sku":"y"}]}`, &bindNested{}, "lines[1].amount_fen"},
		{"required spelled with an escape", `{"lines":[{"amount\u005ffen":1}]}`, &bindNested{}, ""},
		{"null element", `{"lines":[{"amount_fen":1},null]}`, &bindNested{}, "lines[1]"},
		{"null map value", `{"by_key":{"a":{"amount_fen":1},"b":null}}`, &bindNested{}, "by_key.b"},
		{"required in a map value missing", `{"by_key":{"a":{"sku":"x"}}}`, &bindNested{}, "by_key.a.amount_fen"},
		{"null inside a free-form value", `{"free":{"a":null,"b":[null]},"raw":{"c":null}}`, &bindNested{}, ""},
		{"the first problem in the document", `{"name":null,"lines":[{"sku":"x"}]}`, &bindNested{}, "name"},
		{"white space around null", " {\n \"name\" :\tnull } ", &bindNested{}, "name"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := bindBody(t, tc.body, tc.dst)
			switch {
			case tc.field == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.field == "-" && domain.ErrorCode(err) != domain.Invalid:
				t.Fatalf("got %v; want Invalid", err)
			case tc.field != "" && tc.field != "-":
				var de *domain.Error
				if !errors.As(err, &de) || de.Fields[tc.field] == "" {
					t.Fatalf("got %v; want a field error on %s", err, tc.field)
				}
			}
		})
	}
	if hasRequired(reflect.TypeOf(&bindPlain{})) || !hasRequired(reflect.TypeOf(&bindNested{})) {
		t.Fatal("hasRequired misjudged the test types")
	}
}

type bindTimes struct {
	At    *time.Time           `json:"at"`
	Lines []bindTimedLine      `json:"lines"`
	Marks map[string]time.Time `json:"marks"`
}

type bindTimedLine struct {
	SKU string    `json:"sku"`
	At  time.Time `json:"at"`
}

// A time that is valid JSON but no RFC 3339 time is a field error named by
// its path, at any depth; good times are accepted.
func TestBindNamesABadTime(t *testing.T) {
	const at = `"2026-12-10T00:00:00+08:00"`
	cases := []struct {
		name, body, field string // "" = accepted
	}{
		{"good times", `{"at":` + at + `,"lines":[{"sku":"a","at":` + at + `}],"marks":{"x":` + at + `}}`, ""},
		{"a date", `{"at":"2026-12-10"}`, "at"},
		{"a number", `{"at":5}`, "at"},
		{"an object", `{"at":{}}`, "at"},
		{"in an array", `{"lines":[{"sku":"a","at":` + at + `},{"sku":"b","at":"noon"}]}`, "lines[1].at"},
		{"in a map", `{"marks":{"x":true}}`, "marks.x"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := bindBody(t, tc.body, &bindTimes{})
			var de *domain.Error
			switch {
			case tc.field == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.field != "" && (!errors.As(err, &de) || de.Code != domain.Invalid ||
				de.Fields[tc.field] != "must be an RFC 3339 time, e.g. 2026-12-10T00:00:00+08:00"):
				t.Fatalf("got %#v; want a field error on %s", err, tc.field)
			}
		})
	}
}
