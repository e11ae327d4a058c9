package web

import (
	"errors"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/domain"
)

type bindLine struct {
	SKU    string `json:"sku"`
	Amount int64  `json:"amount_fen" bind:"required"`
}

type bindNested struct {
	Name  string     `json:"name"`
	Lines []bindLine `json:"lines"`
}

type bindPlain struct {
	Name string  `json:"name"`
	Note *string `json:"note" bind:"nullable"`
}

func bindBody(t *testing.T, body string, dst any) error {
	t.Helper()
	c, _ := gin.CreateTestContext(httptest.NewRecorder())
	c.Request = httptest.NewRequest("POST", "/", strings.NewReader(body))
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
