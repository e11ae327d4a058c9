package mall

import (
	"errors"
	"testing"

	"github.com/jifen/jifen/domain"
)

// Item.Validate on the benefit fields: the field each refusal names.
func TestValidateBenefit(t *testing.T) {
	base := Item{Kind: KindVirtual, Name: "补签卡", Category: "benefits", Points: 100, Stock: 10}
	cases := []struct {
		name  string
		edit  func(*Item)
		field string // "" when valid
	}{
		{"none", func(*Item) {}, ""},
		{"makeup cards", func(it *Item) { it.Benefit, it.BenefitQty = BenefitMakeupCard, 3 }, ""},
		{"the most per unit", func(it *Item) { it.Benefit, it.BenefitQty = BenefitMakeupCard, MaxBenefitQty }, ""},
		{"unknown benefit", func(it *Item) { it.Benefit, it.BenefitQty = "lottery", 1 }, "benefit"},
		{"not virtual", func(it *Item) { it.Kind, it.Benefit, it.BenefitQty = KindPhysical, BenefitMakeupCard, 1 }, "benefit"},
		{"no quantity", func(it *Item) { it.Benefit = BenefitMakeupCard }, "benefit_qty"},
		{"too many", func(it *Item) { it.Benefit, it.BenefitQty = BenefitMakeupCard, MaxBenefitQty+1 }, "benefit_qty"},
		{"negative", func(it *Item) { it.Benefit, it.BenefitQty = BenefitMakeupCard, -1 }, "benefit_qty"},
		{"quantity without benefit", func(it *Item) { it.BenefitQty = 2 }, "benefit_qty"},
		{"with a cash part", func(it *Item) { it.Benefit, it.BenefitQty, it.CashFen = BenefitMakeupCard, 1, 100 }, "cash_fen"},
	}
	for _, c := range cases {
		it := base
		c.edit(&it)
		err := it.Validate()
		if c.field == "" {
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
			}
			continue
		}
		var de *domain.Error
		if !errors.As(err, &de) || de.Code != domain.Invalid || de.Fields[c.field] == "" {
			t.Errorf("%s: %v, want a field error on %s", c.name, err, c.field)
		}
	}
}
