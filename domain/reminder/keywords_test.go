package reminder

import (
	"strings"
	"testing"

	"github.com/jifen/jifen/domain"
)

func TestFitKeywords(t *testing.T) {
	tests := []struct {
		key, value string
		want       string // "" with wantErr
		wantErr    bool
	}{
		{key: "thing1", value: "1,200 积分即将过期", want: "1,200 积分即将过期"},
		{key: "thing1", value: strings.Repeat("积", 25), want: strings.Repeat("积", 19) + "…"},
		{key: "thing1", value: "  ", wantErr: true},
		{key: "name2", value: strings.Repeat("王", 12), want: strings.Repeat("王", 9) + "…"},
		{key: "name2", value: strings.Repeat("a", 25), want: strings.Repeat("a", 19) + "…"},
		{key: "number3", value: "1,200", want: "1200"},
		{key: "number3", value: "12a", wantErr: true},
		{key: "number3", value: strings.Repeat("9", 33), wantErr: true},
		{key: "character_string4", value: strings.Repeat("A", 40), want: strings.Repeat("A", 31) + "…", wantErr: false},
		{key: "character_string4", value: "订单", wantErr: true},
		{key: "phrase5", value: "即将过期了吗", want: "即将过期…"},
		{key: "phrase5", value: "ok", wantErr: true},
		{key: "amount6", value: "¥1,200.50", want: "¥1200.50"},
		{key: "amount6", value: "lots", wantErr: true},
		{key: "amount6", value: "¥" + strings.Repeat("9", 10), want: "¥" + strings.Repeat("9", 10)},
		{key: "amount6", value: "¥" + strings.Repeat("9", 11), wantErr: true}, // WeChat: at most 10 digits
		{key: "amount6", value: "¥" + strings.Repeat("9", 12), wantErr: true},
		{key: "thing1", value: "积分\t即将\r\n过期", want: "积分 即将  过期"},
		{key: "car_number9", value: "粤A8Z888挂", want: "粤A8Z888挂"},
		{key: "car_number9", value: "粤A-8Z88", wantErr: true},
		{key: "car_number9", value: "粤A中Z888", wantErr: true},
		{key: "date7", value: ChineseDate(domain.Day{Year: 2027, Month: 12, Day: 5}), want: "2027年12月5日"},
		{key: "date7", value: "2026-12-05 15:01", want: "2026-12-05 15:01"},
		{key: "date7", value: "12月5日", wantErr: true}, // WeChat takes it; Jifen sends the year
		{key: "date7", value: "2026-12-05\t15:01", want: "2026-12-05 15:01"},
		{key: "time8", value: "2026年12月5日 15:01~2026年12月5日 18:00", want: "2026年12月5日 15:01~2026年12月5日 18:00"},
		{key: "time8", value: "3pm", wantErr: true},
		{key: "keyword1", value: "x", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.key+"="+tt.value, func(t *testing.T) {
			got, err := FitKeywords(map[string]string{tt.key: tt.value})
			if tt.wantErr {
				if err == nil || !strings.HasPrefix(err.Error(), tt.key+":") {
					t.Fatalf("got %v, %v; want an error naming %s", got, err, tt.key)
				}
				return
			}
			if err != nil || got[tt.key] != tt.want {
				t.Fatalf("got %q, %v; want %q", got[tt.key], err, tt.want)
			}
		})
	}
}

func TestFitTemplateKeywordsLeavesOldKeysAlone(t *testing.T) {
	got, err := FitTemplateKeywords(map[string]string{"keyword1": strings.Repeat("长", 30), "thing2": strings.Repeat("长", 30)})
	if err != nil || got["keyword1"] != strings.Repeat("长", 30) || got["thing2"] != strings.Repeat("长", 19)+"…" {
		t.Fatalf("got %v, %v", got, err)
	}
}
