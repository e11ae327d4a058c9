package ledger

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jifen/jifen/domain"
)

// EarnInput credits points as a new lot. AvailableAt zero means now; a
// later AvailableAt makes the points pending until then. ExpiresAt zero
// means the service's expiry policy of the earn's source, which the type of
// Ref names (sourceOfRef).
type EarnInput struct {
	MemberID    int64
	Points      int64
	Key         string
	Ref         Ref
	Title       string
	AvailableAt time.Time
	ExpiresAt   time.Time
	Operator    string
}

// SpendInput debits available points, first to expire first.
type SpendInput struct {
	MemberID int64
	Points   int64
	Key      string
	Ref      Ref
	Title    string
	Operator string
}

// HoldInput reserves available points until Capture or Release; Deadline
// zero means now + Service.HoldTTL.
type HoldInput struct {
	MemberID int64
	Points   int64
	Key      string
	Ref      Ref
	Title    string
	Deadline time.Time
	Operator string
}

// CloseHoldInput names the hold to capture or release by its reference
// (the latest hold of the member with that reference). The entry written
// carries the same reference.
type CloseHoldInput struct {
	MemberID int64
	Hold     Ref
	Key      string
	Title    string
	Operator string
}

// ReverseInput reverses all or part of an earlier earn, spend or capture,
// found by its reference Of (and OfKind when the reference has several).
// Points zero means everything not reversed yet. Ref names the reversal
// itself (e.g. the refund); zero means Of.
type ReverseInput struct {
	MemberID int64
	Of       Ref
	OfKind   Kind
	Points   int64
	Key      string
	Ref      Ref
	Title    string
	Operator string
}

// AdjustInput is a manual correction: Points > 0 credits a new lot (with
// the expiry policy of Source, SourceConsole when empty), Points < 0 debits
// available points (never below zero). Operator and Reason are required.
type AdjustInput struct {
	MemberID int64
	Points   int64
	Source   Source
	Key      string
	Ref      Ref
	Title    string
	Reason   string
	Operator string
}

func checkMember(id int64) error {
	if id <= 0 {
		return domain.FieldError("member_id", "must be positive")
	}
	return nil
}

func checkPoints(p int64) error {
	_, err := domain.ParsePoints("points", p)
	return err
}

func checkKey(k string) error {
	if strings.TrimSpace(k) == "" {
		return domain.FieldError("key", "required")
	}
	if len(k) > maxKeyBytes {
		return domain.FieldError("key", "at most 128 bytes")
	}
	if strings.HasPrefix(k, "sys:") {
		return domain.FieldError("key", `the "sys:" prefix is reserved`)
	}
	return nil
}

func checkRef(field string, r Ref, required bool) error {
	if required && (r.Type == "" || r.ID == "") {
		return domain.FieldError(field, "type and id required")
	}
	if len(r.Type) > 32 || utf8.RuneCountInString(r.ID) > maxRefRunes {
		return domain.FieldError(field, "type at most 32 bytes, id at most 64 characters")
	}
	return nil
}

func checkText(field, v string, max int, required bool) error {
	if required && strings.TrimSpace(v) == "" {
		return domain.FieldError(field, "required")
	}
	if utf8.RuneCountInString(v) > max {
		return domain.FieldError(field, fmt.Sprintf("at most %d characters", max))
	}
	return nil
}

// firstErr returns the first non-nil error.
func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// requestHash identifies a request for idempotency: the same key must come
// with the same hash.
func requestHash(kind Kind, parts ...any) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s", kind)
	for _, p := range parts {
		if t, ok := p.(time.Time); ok {
			if t.IsZero() {
				p = "0"
			} else {
				p = t.UTC().Format(time.RFC3339Nano)
			}
		}
		fmt.Fprintf(h, "\x1f%v", p)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// dbTime rounds t the way the database stores it (milliseconds, UTC), so an
// answer built in memory equals its replay read back.
func dbTime(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC().Truncate(time.Millisecond)
}
