package referral

import (
	"errors"
	"testing"
	"time"

	"github.com/jifen/jifen/domain"
)

func TestRulesValidate(t *testing.T) {
	ok := Rules{Window: 72 * time.Hour, Phone: Amounts{Inviter: 50, SecondLevel: 10}, FirstOrder: Amounts{Inviter: 200}, DailyCap: 1000}
	cases := []struct {
		name  string
		edit  func(*Rules)
		wants []string // the fields named, none when valid
	}{
		{"defaults", func(*Rules) {}, nil},
		{"no cap and no rewards", func(r *Rules) { *r = Rules{Window: time.Hour} }, nil},
		{"a quarter exactly", func(r *Rules) { r.Window = MaxWindow }, nil},
		{"window under an hour", func(r *Rules) { r.Window = 59 * time.Minute }, []string{"referral.window"}},
		{"window past a quarter", func(r *Rules) { r.Window = MaxWindow + time.Second }, []string{"referral.window"}},
		{"negative reward and cap", func(r *Rules) { r.FirstOrder.SecondLevel, r.DailyCap = -1, -5 },
			[]string{"referral.rewards.first_order_second_level", "referral.daily_cap_points"}},
		{"reward past the points range", func(r *Rules) { r.Phone.Inviter = int64(domain.MaxPoints) + 1 }, []string{"referral.rewards.phone_inviter"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := ok
			c.edit(&r)
			err := r.Validate("referral")
			var de *domain.Error
			if len(c.wants) == 0 {
				if err != nil {
					t.Fatalf("valid rules refused: %v", err)
				}
				return
			}
			if !errors.As(err, &de) || de.Code != domain.Invalid || len(de.Fields) != len(c.wants) {
				t.Fatalf("got %v, want Invalid naming %v", err, c.wants)
			}
			for _, f := range c.wants {
				if de.Fields[f] == "" {
					t.Fatalf("%s not named in %v", f, de.Fields)
				}
			}
		})
	}
}
