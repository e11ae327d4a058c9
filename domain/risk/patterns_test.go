package risk

import (
	"fmt"
	"testing"
	"time"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/ledger"
)

var at0 = time.Date(2026, 12, 6, 10, 0, 0, 0, domain.Shanghai)

func TestSequenceIsTheLargestRunHoldingThePhone(t *testing.T) {
	r := Rule{Span: 10}
	b := func(member int64, phone string) PhoneBinding {
		return PhoneBinding{MemberID: member, Phone: phone, BoundAt: at0}
	}
	members := func(seq []PhoneBinding) string {
		out := ""
		for _, x := range seq {
			out += fmt.Sprintf("%d ", x.MemberID)
		}
		return out
	}
	cases := []struct {
		name  string
		phone string
		bound []PhoneBinding
		want  string // members of the sequence, by number
	}{
		{"alone", "13800000005", []PhoneBinding{b(1, "13800000005")}, "1 "},
		{"within ten", "13800000005", []PhoneBinding{b(1, "13800000000"), b(2, "13800000005"), b(3, "13800000009")}, "1 2 3 "},
		{"ten apart is outside", "13800000010", []PhoneBinding{b(1, "13800000000"), b(2, "13800000010")}, "2 "},
		{"the larger side", "13800000010", []PhoneBinding{b(1, "13800000001"), b(2, "13800000010"), b(3, "13800000012"),
			b(4, "13800000015"), b(5, "13800000019")}, "2 3 4 5 "},
		{"one member's two numbers count once", "13800000005", []PhoneBinding{b(1, "13800000004"), b(1, "13800000005"), b(2, "13800000006")}, "1 2 "},
		{"abroad is not evaluated", "+85291234567", []PhoneBinding{b(1, "+85291234567")}, ""},
		{"landline length is not evaluated", "0213800000", []PhoneBinding{b(1, "0213800000")}, ""},
		{"foreign numbers among them are left out", "13800000005", []PhoneBinding{b(1, "13800000004"), b(2, "2380000000"), b(3, "13800000005")}, "1 3 "},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := members(r.Sequence(c.phone, c.bound)); got != c.want {
				t.Fatalf("Sequence(%s) = members %q, want %q", c.phone, got, c.want)
			}
		})
	}
}

func TestCyclesAreEarningsSpentAtOnce(t *testing.T) {
	r := Rule{MaxMinutes: 10, MinPoints: 100}
	e := func(kind ledger.Kind, amount int64, minute int) ledger.Entry {
		delta := amount
		if kind == ledger.KindSpend || kind == ledger.KindHold {
			delta = -amount
		}
		return ledger.Entry{Kind: kind, Amount: amount, Delta: delta, CreatedAt: at0.Add(time.Duration(minute) * time.Minute),
			Ref: ledger.Ref{Type: "t", ID: fmt.Sprint(minute)}}
	}
	cases := []struct {
		name    string
		entries []ledger.Entry
		from    time.Time
		want    int
	}{
		{"earned and spent in 10 minutes", []ledger.Entry{e(ledger.KindEarn, 500, 0), e(ledger.KindSpend, 500, 10)}, at0, 1},
		{"11 minutes is not at once", []ledger.Entry{e(ledger.KindEarn, 500, 0), e(ledger.KindSpend, 500, 11)}, at0, 0},
		{"a small earning is no cycle", []ledger.Entry{e(ledger.KindEarn, 99, 0), e(ledger.KindSpend, 50, 1)}, at0, 0},
		{"a hold spends too", []ledger.Entry{e(ledger.KindEarn, 100, 0), e(ledger.KindHold, 100, 2)}, at0, 1},
		{"a hold captured spent", []ledger.Entry{e(ledger.KindEarn, 100, 0), e(ledger.KindHold, 100, 2),
			{Kind: ledger.KindCapture, Amount: 100, CreatedAt: at0.Add(3 * time.Minute), Ref: ledger.Ref{Type: "t", ID: "2"}}}, at0, 1},
		{"a hold released spent nothing", []ledger.Entry{e(ledger.KindEarn, 100, 0), e(ledger.KindHold, 100, 2),
			{Kind: ledger.KindRelease, Amount: 100, Delta: 0, CreatedAt: at0.Add(3 * time.Minute), Ref: ledger.Ref{Type: "t", ID: "2"}}}, at0, 0},
		{"a released hold does not end the cycle", []ledger.Entry{e(ledger.KindEarn, 100, 0), e(ledger.KindHold, 100, 2),
			{Kind: ledger.KindRelease, Amount: 100, CreatedAt: at0.Add(3 * time.Minute), Ref: ledger.Ref{Type: "t", ID: "2"}},
			e(ledger.KindHold, 100, 4)}, at0, 1},
		{"a manual credit earns", []ledger.Entry{e(ledger.KindAdjust, 300, 0), e(ledger.KindSpend, 300, 2)}, at0, 1},
		{"one earning, one cycle however many spends", []ledger.Entry{e(ledger.KindEarn, 500, 0), e(ledger.KindSpend, 100, 1),
			e(ledger.KindSpend, 100, 2), e(ledger.KindSpend, 100, 3)}, at0, 1},
		{"a small earning between does not end the cycle", []ledger.Entry{e(ledger.KindEarn, 500, 0), e(ledger.KindEarn, 5, 1),
			e(ledger.KindSpend, 500, 3)}, at0, 1},
		{"three cycles", []ledger.Entry{e(ledger.KindEarn, 500, 0), e(ledger.KindSpend, 500, 1), e(ledger.KindEarn, 500, 20),
			e(ledger.KindSpend, 500, 21), e(ledger.KindEarn, 500, 40), e(ledger.KindSpend, 500, 41)}, at0, 3},
		{"spends before the window are not counted", []ledger.Entry{e(ledger.KindEarn, 500, 0), e(ledger.KindSpend, 500, 1),
			e(ledger.KindEarn, 500, 20), e(ledger.KindSpend, 500, 21)}, at0.Add(10 * time.Minute), 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := r.Cycles(c.entries, c.from); len(got) != c.want {
				t.Fatalf("%d cycles %+v, want %d", len(got), got, c.want)
			}
		})
	}
}

func TestLaunderWindowStartsAtShanghaiMidnight(t *testing.T) {
	cases := []struct {
		hours int
		at    time.Time
		want  time.Time
	}{
		{24, time.Date(2026, 12, 6, 23, 59, 0, 0, domain.Shanghai), time.Date(2026, 12, 6, 0, 0, 0, 0, domain.Shanghai)},
		{6, time.Date(2026, 12, 6, 13, 0, 0, 0, domain.Shanghai), time.Date(2026, 12, 6, 12, 0, 0, 0, domain.Shanghai)},
		{8, time.Date(2026, 12, 6, 7, 59, 59, 0, domain.Shanghai), time.Date(2026, 12, 6, 0, 0, 0, 0, domain.Shanghai)},
		// 01:00 UTC is 09:00 in Shanghai: the window of 24 hours is the Shanghai day's.
		{24, time.Date(2026, 12, 6, 1, 0, 0, 0, time.UTC), time.Date(2026, 12, 6, 0, 0, 0, 0, domain.Shanghai)},
	}
	for _, c := range cases {
		if got := (Rule{WindowHours: c.hours}).launderWindow(c.at); !got.Equal(c.want) {
			t.Errorf("window of %dh at %s: %s, want %s", c.hours, c.at, got, c.want)
		}
	}
}

func TestDefaultPolicyIsValidAndBreachedCountsPastTheLimit(t *testing.T) {
	p := DefaultPolicy()
	if err := p.Validate(); err != nil {
		t.Fatalf("the default policy: %v", err)
	}
	r := Rule{Enabled: true, MaxPerHour: 10}
	if r.Breached(10) || !r.Breached(11) || (Rule{MaxPerHour: 10}).Breached(100) {
		t.Fatal("Breached: 10 of 10 is within, 11 is past, a disabled rule never")
	}
}

func TestSamePhoneReadsNumbersAsMembersPhones(t *testing.T) {
	cases := []struct {
		guide, member string
		want          bool
	}{
		{"13912345678", "13912345678", true},
		{"+86 139 1234 5678", "13912345678", true},
		{"13912345678", "13912345679", false}, // the next number is someone else
		{"", "", false},                       // no phone on either side is no match
		{"13912345678", "", false},
		{"", "13912345678", false},
		{"1391234567a", "1391234567a", false}, // not a number
	}
	for _, c := range cases {
		if got := SamePhone(c.guide, c.member); got != c.want {
			t.Errorf("SamePhone(%q, %q) = %v, want %v", c.guide, c.member, got, c.want)
		}
	}
}
