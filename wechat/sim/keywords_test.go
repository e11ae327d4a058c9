package sim

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestSubscribeSendChecksKeywordValues sends one value per row: WeChat's
// rule for the keyword type decides 0 or 47003, and a refused send spends
// no subscription.
func TestSubscribeSendChecksKeywordValues(t *testing.T) {
	c := newClient(t, nil)
	tok := c.token("wxkw")
	const to, tmpl = "sim-openid-kw", "tmpl-kw"
	c.sim.GrantSubscription(to, tmpl, 100)
	send := func(key, value string) string {
		data, _ := json.Marshal(map[string]any{"touser": to, "template_id": tmpl,
			"data": map[string]any{key: map[string]string{"value": value}}})
		return string(data)
	}
	path := "/_sim/cgi-bin/message/subscribe/send?access_token=" + tok
	var rows []row
	for _, tc := range []struct {
		key, value string
		code       int
	}{
		{"thing1", strings.Repeat("积", 20), 0},
		{"thing1", strings.Repeat("积", 21), 47003},
		{"thing1", "", 47003},
		{"thing1", "积分\t即将过期", 47003},
		{"thing1", "积分\r即将过期", 47003},
		{"thing1", "积分\n即将过期", 47003},
		{"number2", "1200", 0},
		{"number2", "12.5", 0},
		{"number2", "1,200", 47003},
		{"number2", strings.Repeat("9", 33), 47003},
		{"character_string3", "ORD-2026-0001", 0},
		{"character_string3", strings.Repeat("a", 33), 47003},
		{"character_string3", "订单1", 47003},
		{"phrase4", "配送中", 0},
		{"phrase4", "即将过期了吗啊", 47003},
		{"phrase4", "ok", 47003},
		{"name5", "王小明", 0},
		{"name5", strings.Repeat("王", 11), 47003},
		{"name5", strings.Repeat("a", 20), 0},
		{"amount6", "¥12.50", 0},
		{"amount6", "100元", 0},
		{"amount6", "12 yuan", 47003},
		{"amount6", "¥" + strings.Repeat("9", 10), 0},
		{"amount6", "¥" + strings.Repeat("9", 11), 47003},
		{"amount6", "¥" + strings.Repeat("9", 12), 47003},
		{"car_number9", "粤A8Z888挂", 0},
		{"car_number9", "粤A-8Z88", 47003},
		{"car_number9", "粤A中Z888", 47003},
		{"date7", "2026年12月5日", 0},
		{"date7", "2026-12-05 15:01", 0},
		{"date7", "2026年12月5日~2026年12月31日", 0},
		{"date7", "12月5日", 0}, // WeChat's notes list dates without the year
		{"date7", "12-05", 0},
		{"date7", "12月5日 15:01", 0},
		{"time8", "15:01", 0},
		{"time8", "2026年12月5日 15:01", 0},
		{"time8", "25:00", 47003},
		{"keyword1", "x", 47003},
		{"first", "x", 47003},
	} {
		rows = append(rows, row{name: tc.key + "=" + tc.value, method: "POST", path: path, body: send(tc.key, tc.value), wantCode: tc.code,
			check: func(t *testing.T, m map[string]any) {
				if msg, _ := m["errmsg"].(string); tc.code != 0 && msg != "argument invalid! data."+tc.key+".value invalid" {
					t.Errorf("errmsg %q", msg)
				}
			}})
	}
	c.run(rows)
	accepted := 0
	for _, r := range rows {
		if r.wantCode == 0 {
			accepted++
		}
	}
	if got := c.sim.SubscriptionQuota(to, tmpl); got != int64(100-accepted) {
		t.Fatalf("quota %d after %d accepted sends, want %d: refusals spend nothing", got, accepted, 100-accepted)
	}
}
