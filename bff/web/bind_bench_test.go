package web

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http/httptest"
	"reflect"
	"testing"

	"github.com/gin-gonic/gin"
)

// benchOrder is shaped like the order webhook's body, the busiest write.
type benchOrder struct {
	EventID string `json:"event_id"`
	Type    string `json:"type"`
	OrderID string `json:"order_id"`
	Member  struct {
		ID int64 `json:"member_id"`
	} `json:"member"`
	StoreID    string           `json:"store_id"`
	Channel    string           `json:"channel"`
	OccurredAt string           `json:"occurred_at"`
	TotalFen   int64            `json:"total_fen"`
	Lines      []benchOrderLine `json:"lines"`
	HoldID     int64            `json:"points_hold_id"`
}

type benchOrderLine struct {
	SKU       string `json:"sku" bind:"required"`
	Category  string `json:"category"`
	Qty       int64  `json:"qty"`
	AmountFen int64  `json:"amount_fen" bind:"required"`
}

type benchAdjustment struct {
	Delta  int64  `json:"delta"`
	Reason string `json:"reason"`
}

var benchBodies = []struct {
	name string
	body string
	dst  func() any
}{
	{"order", `{"event_id":"evt-20261123-000123","type":"paid","order_id":"O-20261123-000123","member":{"member_id":10086},` +
		`"store_id":"S001","channel":"mini","occurred_at":"2026-11-23T10:00:00+08:00","total_fen":25800,"lines":[` +
		`{"sku":"SKU-1","category":"A","qty":1,"amount_fen":12800},{"sku":"SKU-2","category":"B","qty":2,"amount_fen":10000},` +
		`{"sku":"SKU-3","category":"A","qty":1,"amount_fen":3000}]}`, func() any { return new(benchOrder) }},
	{"adjustment", `{"delta":500,"reason":"goodwill for the late delivery"}`, func() any { return new(benchAdjustment) }},
}

// BenchmarkBind measures Bind on typical bodies beside a bare
// encoding/json decode of the same body (the baseline: what Bind adds is
// the difference), and the one pass of readKeys on its own.
func BenchmarkBind(b *testing.B) {
	gin.SetMode(gin.TestMode)
	for _, bb := range benchBodies {
		body := []byte(bb.body)
		b.Run(bb.name+"/readKeys", func(b *testing.B) {
			t := reflect.TypeOf(bb.dst())
			b.ReportAllocs()
			for b.Loop() {
				if f, ok := readKeys(body, t, 0); ok {
					b.Fatal(f)
				}
			}
		})
		b.Run(bb.name+"/json.Unmarshal", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := json.Unmarshal(body, bb.dst()); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(bb.name+"/Bind", func(b *testing.B) {
			c, _ := gin.CreateTestContext(httptest.NewRecorder())
			c.Request = httptest.NewRequest("POST", "/", nil)
			c.Request.Header.Set("Content-Type", "application/json")
			rd := bytes.NewReader(body)
			c.Request.Body = io.NopCloser(rd)
			b.ReportAllocs()
			for b.Loop() {
				rd.Reset(body)
				if err := Bind(c, bb.dst()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
