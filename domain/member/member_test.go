package member

import (
	"strings"
	"testing"

	"github.com/jifen/jifen/domain"
)

func TestMaskPhone(t *testing.T) {
	cases := []struct{ phone, want string }{
		{"", ""},
		{"123456", "123456"},             // too short to mask: shown as is
		{"1234567", "1234567"},           // three plus four: nothing between
		{"13800001234", "138****1234"},   // a mainland mobile
		{"861380000123", "861*****0123"}, // every digit between the ends is hidden
		{"00000000000000000000", "000*************0000"},
	}
	for _, c := range cases {
		if got := MaskPhone(c.phone); got != c.want {
			t.Errorf("MaskPhone(%q) = %q, want %q", c.phone, got, c.want)
		}
		if got := (&Member{Phone: c.phone}).PhoneMasked(); got != c.want {
			t.Errorf("PhoneMasked of %q = %q, want %q", c.phone, got, c.want)
		}
		if len(c.phone) >= 7 && strings.Count(MaskPhone(c.phone), "*") != len(c.phone)-7 {
			t.Errorf("MaskPhone(%q) hides %d digits, want %d", c.phone, strings.Count(MaskPhone(c.phone), "*"), len(c.phone)-7)
		}
	}
}

// fieldOf is the one field an Invalid error names, "" for nil.
func fieldOf(err error) string {
	if err == nil {
		return ""
	}
	if de, ok := err.(*domain.Error); ok && de.Code == domain.Invalid && len(de.Fields) == 1 {
		for f := range de.Fields {
			return f
		}
	}
	return string(domain.ErrorCode(err))
}

func TestQueryNormalise(t *testing.T) {
	d1, d2 := domain.Day{Year: 2026, Month: 11, Day: 1}, domain.Day{Year: 2026, Month: 11, Day: 30}
	cases := []struct {
		name      string
		q         Query
		field     string // "" when valid
		value     string // the value searched for, when valid
		wantLimit int
	}{
		{"phone's last four", Query{By: ByPhoneLast4, Value: "1234"}, "", "1234", 20},
		{"last four with spaces around", Query{By: ByPhoneLast4, Value: " 1234 "}, "", "1234", 20},
		{"last three", Query{By: ByPhoneLast4, Value: "123"}, "q", "", 0},
		{"last five", Query{By: ByPhoneLast4, Value: "12345"}, "q", "", 0},
		{"last four with a letter", Query{By: ByPhoneLast4, Value: "12a4"}, "q", "", 0},
		{"a phone with +86 and spaces", Query{By: ByPhone, Value: "+86 138 0000 1234"}, "", "13800001234", 20},
		{"a phone of 7 digits", Query{By: ByPhone, Value: "1234567"}, "", "1234567", 20},
		{"a phone of 6 digits", Query{By: ByPhone, Value: "123456"}, "q", "", 0},
		{"a phone of 21 digits", Query{By: ByPhone, Value: strings.Repeat("1", 21)}, "q", "", 0},
		{"a phone with a dash", Query{By: ByPhone, Value: "138-0000-1234"}, "q", "", 0},
		{"an id", Query{By: ByID, Value: "42"}, "", "42", 20},
		{"id zero", Query{By: ByID, Value: "0"}, "q", "", 0},
		{"a negative id", Query{By: ByID, Value: "-3"}, "q", "", 0},
		{"an id that is a name", Query{By: ByID, Value: "小明"}, "q", "", 0},
		{"a nickname", Query{By: ByNickname, Value: "小明"}, "", "小明", 20},
		{"an openid", Query{By: ByOpenID, Value: "oAbC"}, "", "oAbC", 20},
		{"a unionid", Query{By: ByUnionID, Value: "uAbC"}, "", "uAbC", 20},
		{"nothing to search for", Query{By: ByNickname, Value: "  "}, "q", "", 0},
		{"64 characters", Query{By: ByNickname, Value: strings.Repeat("明", 64)}, "", strings.Repeat("明", 64), 20},
		{"65 characters", Query{By: ByNickname, Value: strings.Repeat("明", 65)}, "q", "", 0},
		{"an unknown kind", Query{By: "email", Value: "a@b"}, "by", "", 0},
		{"no kind", Query{Value: "a"}, "by", "", 0},
		{"a range", Query{By: ByNickname, Value: "a", From: d1, To: d2}, "", "a", 20},
		{"a one-day range", Query{By: ByNickname, Value: "a", From: d1, To: d1}, "", "a", 20},
		{"a range backwards", Query{By: ByNickname, Value: "a", From: d2, To: d1}, "to", "", 0},
		{"only from", Query{By: ByNickname, Value: "a", From: d2}, "", "a", 20},
		{"only to", Query{By: ByNickname, Value: "a", To: d1}, "", "a", 20},
		{"limit 1", Query{By: ByNickname, Value: "a", Limit: 1}, "", "a", 1},
		{"limit 50", Query{By: ByNickname, Value: "a", Limit: 50}, "", "a", 50},
		{"limit 51", Query{By: ByNickname, Value: "a", Limit: 51}, "limit", "", 0},
		{"a negative limit", Query{By: ByNickname, Value: "a", Limit: -1}, "limit", "", 0},
	}
	for _, c := range cases {
		q := c.q
		err := q.normalise()
		if got := fieldOf(err); got != c.field {
			t.Errorf("%s: error names %q, want %q (%v)", c.name, got, c.field, err)
			continue
		}
		if err == nil && (q.Value != c.value || q.Limit != c.wantLimit) {
			t.Errorf("%s: searches %q limit %d, want %q limit %d", c.name, q.Value, q.Limit, c.value, c.wantLimit)
		}
	}
}
