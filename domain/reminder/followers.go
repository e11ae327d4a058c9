package reminder

import (
	"context"
	"fmt"
	"time"

	"github.com/jifen/jifen/domain"
)

// Follower is one user of the official account: the template channel
// reaches members whose unionid has a subscribed follower.
type Follower struct {
	OpenID     string // official-account openid
	UnionID    string // "" while unknown
	Subscribed bool
}

// FollowerSource is the official account's user API (package wechat).
type FollowerSource interface {
	// FollowerPage lists following openids after `after` ("" from the
	// start); next is "" after the last page.
	FollowerPage(ctx context.Context, after string) (openids []string, next string, err error)
	// Follower looks one openid up.
	Follower(ctx context.Context, openid string) (Follower, error)
}

// FollowerStore keeps the followers (table official_followers).
type FollowerStore interface {
	// SaveFollowers upserts fs at now; an empty UnionID keeps the stored one.
	SaveFollowers(ctx context.Context, fs []Follower, now time.Time) error
	// KnownUnionIDs returns the stored unionid of those of openids that have one.
	KnownUnionIDs(ctx context.Context, openids []string) (map[string]string, error)
	// UnsubscribeNotSeenSince marks unsubscribed every subscribed follower
	// last written before since, and returns how many.
	UnsubscribeNotSeenSince(ctx context.Context, since time.Time) (int, error)
	// SaveFollowerEvent saves f as of the event time at, unless the stored
	// follower was written for a later moment; false when it was (the
	// event is older than what is known). An empty UnionID keeps the
	// stored one.
	SaveFollowerEvent(ctx context.Context, f Follower, at time.Time) (bool, error)
}

// Followers keeps official_followers in step with the official account:
// the push hook records each subscribe and unsubscribe as it happens, and
// Sync pages through the whole follower list daily to catch what pushes
// missed.
type Followers struct {
	Source FollowerSource
	Store  FollowerStore
	Clock  domain.Clock
}

// Changed records a subscribe (subscribed true) or unsubscribe push for
// openid, sent by WeChat at at (its CreateTime). Pushes can arrive out of
// order (WeChat retries one it got no answer to), so a push older than
// what is stored for the follower changes nothing: a late retried
// subscribe does not undo a newer unsubscribe. A subscribe looks the
// unionid up unless it is already known; if the lookup fails the follower
// is kept without one and the next Sync fills it in, so the push is still
// acknowledged.
func (f *Followers) Changed(ctx context.Context, openid string, subscribed bool, at time.Time) error {
	if openid == "" {
		return nil
	}
	fl := Follower{OpenID: openid, Subscribed: subscribed}
	if subscribed && f.Source != nil {
		known, err := f.Store.KnownUnionIDs(ctx, []string{openid})
		if err != nil {
			return err
		}
		if known[openid] == "" {
			if info, err := f.Source.Follower(ctx, openid); err == nil {
				fl.UnionID = info.UnionID
			}
		}
	}
	_, err := f.Store.SaveFollowerEvent(ctx, fl, at)
	return err
}

// SyncReport counts what one Sync saw.
type SyncReport struct {
	Followers    int // openids the account lists
	LookedUp     int // user-info calls made (followers without a known unionid)
	Unsubscribed int // stored followers the list no longer holds
	// WithoutUnionID counts looked-up followers WeChat named no unionid
	// for: the official account is not bound to the open platform, so the
	// template channel cannot match them to members.
	WithoutUnionID int
}

// Sync pages through the follower list: every listed openid is saved as
// subscribed (looking up the unionid only for openids not known yet), and
// every stored follower the list did not name is marked unsubscribed. A
// failed run changes only what it saved; the next run completes it.
func (f *Followers) Sync(ctx context.Context) (SyncReport, error) {
	var rep SyncReport
	start := f.Clock.Now()
	after := ""
	for {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		ids, next, err := f.Source.FollowerPage(ctx, after)
		if err != nil {
			return rep, fmt.Errorf("follower list after %q: %w", after, err)
		}
		if len(ids) == 0 {
			break
		}
		rep.Followers += len(ids)
		known, err := f.Store.KnownUnionIDs(ctx, ids)
		if err != nil {
			return rep, err
		}
		page := make([]Follower, 0, len(ids))
		for _, id := range ids {
			fl := Follower{OpenID: id, UnionID: known[id], Subscribed: true}
			if fl.UnionID == "" {
				info, err := f.Source.Follower(ctx, id)
				if err != nil {
					return rep, fmt.Errorf("follower %s: %w", id, err)
				}
				rep.LookedUp++
				fl.UnionID, fl.Subscribed = info.UnionID, info.Subscribed
				if fl.UnionID == "" {
					rep.WithoutUnionID++
				}
			}
			page = append(page, fl)
		}
		if err := f.Store.SaveFollowers(ctx, page, start); err != nil {
			return rep, err
		}
		if next == "" {
			break
		}
		after = next
	}
	n, err := f.Store.UnsubscribeNotSeenSince(ctx, start)
	rep.Unsubscribed = n
	return rep, err
}
