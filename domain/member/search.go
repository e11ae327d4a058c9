package member

import (
	"context"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/jifen/jifen/domain"
)

// SearchBy names what a console search matches on.
type SearchBy string

// What a marketer can find a member by. Phone and PhoneLast4 compare the
// bound number; Nickname matches a prefix; the others are exact.
const (
	ByID         SearchBy = "id"
	ByPhone      SearchBy = "phone"
	ByPhoneLast4 SearchBy = "phone_last4"
	ByNickname   SearchBy = "nickname"
	ByOpenID     SearchBy = "openid"
	ByUnionID    SearchBy = "unionid"
)

// SearchKinds lists every SearchBy, in the order a form offers them.
var SearchKinds = []SearchBy{ByPhoneLast4, ByPhone, ByID, ByNickname, ByOpenID, ByUnionID}

// Query is one console member search. From and To (Shanghai days, both
// optional, inclusive) narrow by registration day: four digits of a phone
// alone can match many members.
type Query struct {
	By    SearchBy
	Value string
	From  domain.Day
	To    domain.Day
	Limit int // 1–50, default 20
}

// Finder is what a search needs from storage. Search returns at most
// q.Limit members, newest first, matching q (already validated).
type Finder interface {
	Search(ctx context.Context, q Query) ([]*Member, error)
	Lister
}

// Directory answers the console's member searches.
type Directory struct {
	Store Finder
}

// Search validates q and returns the matching members, newest first.
func (d *Directory) Search(ctx context.Context, q Query) ([]*Member, error) {
	if err := q.normalise(); err != nil {
		return nil, err
	}
	return d.Store.Search(ctx, q)
}

func digits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

func (q *Query) normalise() error {
	q.Value = strings.TrimSpace(q.Value)
	if q.Value == "" {
		return domain.FieldError("q", "required")
	}
	if utf8.RuneCountInString(q.Value) > 64 {
		return domain.FieldError("q", "at most 64 characters")
	}
	switch q.By {
	case ByID:
		if n, err := strconv.ParseInt(q.Value, 10, 64); err != nil || n < 1 {
			return domain.FieldError("q", "a member id is a positive integer")
		}
	case ByPhone:
		var ok bool
		if q.Value, ok = NormalPhone(q.Value); !ok {
			return domain.FieldError("q", "a phone number is 7 to 20 digits")
		}
	case ByPhoneLast4:
		if !digits(q.Value) || len(q.Value) != 4 {
			return domain.FieldError("q", "exactly the last 4 digits of the phone")
		}
	case ByNickname, ByOpenID, ByUnionID:
	default:
		return domain.FieldError("by", "one of id, phone, phone_last4, nickname, openid, unionid")
	}
	if q.From != (domain.Day{}) && q.To != (domain.Day{}) && q.To.Before(q.From) {
		return domain.FieldError("to", "must not be before from")
	}
	switch {
	case q.Limit == 0:
		q.Limit = 20
	case q.Limit < 1 || q.Limit > 50:
		return domain.FieldError("limit", "must be an integer from 1 to 50")
	}
	return nil
}

// Lister pages through every member by id, for the console's export.
type Lister interface {
	// After returns at most limit members with id above after, by id.
	After(ctx context.Context, after int64, limit int) ([]*Member, error)
}

// Export calls fn with every member by id, limit at a time (1–1000), until
// the end or fn's error.
func (d *Directory) Export(ctx context.Context, limit int, fn func([]*Member) error) error {
	if limit < 1 || limit > 1000 {
		return domain.FieldError("limit", "must be from 1 to 1000")
	}
	var after int64
	for {
		page, err := d.Store.After(ctx, after, limit)
		if err != nil {
			return err
		}
		if len(page) > 0 {
			if err := fn(page); err != nil {
				return err
			}
			after = page[len(page)-1].ID
		}
		if len(page) < limit {
			return nil
		}
	}
}
