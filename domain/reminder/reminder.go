// Package reminder tells members about points that are about to expire and
// expires them when due: the daily expiry job, the automatic T−30/T−7/T−1
// reminders and marketers' campaigns, all delivered through one outbox.
//
// # Never send twice
//
// Every message is a row of the outbox, unique per campaign × member ×
// channel, so enqueueing a campaign again adds nothing. A dispatcher claims
// due rows with a lease (status "claimed"), then commits "sending" before
// calling WeChat and the outcome after, for one row or, with
// Dispatcher.Chunk, a chunk of rows at a time (one commit before the chunk's
// calls, one after). A crash leaves rows "claimed" (never sent: they go back
// to pending when the lease ends) or "sending" (maybe sent: they become
// "uncertain" and are never sent again; with chunks, up to Chunk rows of
// which some were never called).
// A call that ends without an answer (timeout, broken connection) is
// uncertain too. Retries happen only for answers that prove nothing was
// delivered: errcode −1, 45009 and HTTP 5xx.
//
// # Expiry
//
// The expiry job splits member ids into ranges and claims one range at a
// time with a lease; every batch expires its members' due lots through the
// ledger (set-based: a fixed number of statements per batch) and advances
// the range's cursor in the same transaction, so a
// crashed run resumes where it stopped, two instances share a run, and a
// rerun expires nothing twice.
package reminder

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jifen/jifen/domain"
)

// Channel is a way to reach a member.
type Channel string

// The channels, and "none" for a member no channel can reach.
const (
	Subscribe Channel = "subscribe" // mini-program subscribe message (one-time quota)
	Template  Channel = "template"  // official-account template message (followers)
	WeCom     Channel = "wecom"     // WeCom app message to the member's shop guide
	Robot     Channel = "robot"     // WeCom store-group robot
	None      Channel = "none"
)

// Channels lists every real channel.
var Channels = []Channel{Subscribe, Template, WeCom, Robot}

// ParseChannel validates a channel name.
func ParseChannel(s string) (Channel, error) {
	for _, c := range Channels {
		if string(c) == s {
			return c, nil
		}
	}
	return "", fmt.Errorf("unknown channel %q (want subscribe, template, wecom or robot)", s)
}

// Status is the life stage of an outbox row.
type Status string

// The statuses. Claimed and sending are transient; the report folds them
// into pending.
const (
	Pending   Status = "pending"
	Claimed   Status = "claimed"
	Sending   Status = "sending"
	Sent      Status = "sent"
	Failed    Status = "failed"
	Skipped   Status = "skipped"
	Uncertain Status = "uncertain"
	// Holdout is a member the campaign left out at random (the control
	// group of the reminder effect): recorded, never sent; NextAt is when
	// the message would have been sent.
	Holdout Status = "holdout"
)

// Message is what one outbox row delivers. To is the channel's address:
// the mini-program openid, the official-account openid, the guide's WeCom
// userid or the robot's webhook key.
type Message struct {
	To         string            `json:"to"`
	TemplateID string            `json:"template_id,omitempty"`
	Page       string            `json:"page,omitempty"`
	Data       map[string]string `json:"data,omitempty"`
	Text       string            `json:"text,omitempty"`
}

// Sender delivers a message on one channel. Implementations (package
// wechat) return a *SendError for any WeChat answer that is not success.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// SendError is a failed send as WeChat answered it. ErrCode 0 with
// HTTPStatus 0 means no answer arrived (timeout, broken connection): the
// message may have been delivered.
type SendError struct {
	ErrCode    int64
	HTTPStatus int
	// NotSent reports a failure before the message left (no access token):
	// safe to retry.
	NotSent bool
	Err     error
}

func (e *SendError) Error() string {
	return fmt.Sprintf("wechat send: errcode %d, http %d: %v", e.ErrCode, e.HTTPStatus, e.Err)
}

func (e *SendError) Unwrap() error { return e.Err }

// WeChat errcodes the outbox acts on.
const (
	CodeBusy          = -1
	CodeMinuteLimit   = 45011 // the API's per-minute frequency limit
	CodeRobotLimit    = 45009 // daily quota of the API reached (robot: > 20 messages a minute)
	CodeDailyQuota    = CodeRobotLimit
	CodeNoQuota       = 43101 // the user has no subscription quota left
	CodeBadOpenID     = 40003
	CodeBadData       = 47003
	CodeNotFollowing  = 43004
	CodeBadTemplateID = 40037
)

// outcome classifies a send's error.
type outcome int

const (
	delivered outcome = iota
	retry             // WeChat said it did not deliver, try again later
	permanent         // WeChat refused: never retry
	unknown           // no answer: maybe delivered, never retry
)

func classify(err error) (outcome, int64) {
	if err == nil {
		return delivered, 0
	}
	var se *SendError
	if !errors.As(err, &se) {
		return unknown, 0
	}
	switch {
	case se.NotSent, se.HTTPStatus >= 500:
		return retry, 0
	case se.ErrCode == CodeBusy || se.ErrCode == CodeMinuteLimit || se.ErrCode == CodeDailyQuota:
		return retry, se.ErrCode
	case se.ErrCode != 0:
		return permanent, se.ErrCode
	case se.HTTPStatus != 0:
		return permanent, 0
	}
	return unknown, 0
}

// retryAt is when a send WeChat turned away with code (0: an HTTP 5xx or no
// token) is tried again; attempt counts the tries so far. The table is
// docs/features/wechat-errcodes.md:
//
//   - 45011, the per-minute limit (and the robot's 45009, which is its
//     20-a-minute limit): after a minute;
//   - 45009, the API's daily quota: the next Shanghai day, spread over its
//     first half hour;
//   - −1, 5xx: 1, 2, 4 … minutes (at most an hour) plus up to a fifth more,
//     so a burst of failures does not come back as a burst.
//
// The spread comes from the delivery id, so it is the same on every
// instance and in every run.
func retryAt(code int64, ch Channel, attempt int, id int64, now time.Time) time.Time {
	switch {
	case code == CodeMinuteLimit || code == CodeRobotLimit && ch == Robot:
		return now.Add(time.Minute + jitter(id, 15*time.Second))
	case code == CodeDailyQuota:
		d := domain.DayOf(now)
		return d.AddDays(1).Start().Add(jitter(id, 30*time.Minute))
	}
	b := backoff(attempt)
	return now.Add(b + jitter(id, b/5))
}

// jitter is a duration in [0, limit) chosen by id.
func jitter(id int64, limit time.Duration) time.Duration {
	if limit <= 0 {
		return 0
	}
	h := uint64(id)*0x9E3779B97F4A7C15 ^ 0xBF58476D1CE4E5B9
	h ^= h >> 31
	return time.Duration(h % uint64(limit))
}

// Recipient is what channel choice needs to know about a member.
type Recipient struct {
	MemberID       int64
	Nickname       string
	OpenID         string           // mini-program
	UnionID        string           // links the official account
	OfficialOpenID string           // "" unless the member follows the official account
	Quota          map[string]int64 // subscribe template id → sends left
	Guide          Guide            // zero when the member has no shop guide
}

// Guide is a member's shop guide and store, as the guides feature knows them.
type Guide struct {
	UserID   string // WeCom userid of the guide
	StoreID  int64
	RobotKey string // webhook key of the store group's robot
}

// Guides answers "who is this member's guide, which store" (the shop guides
// feature implements it).
type Guides interface {
	GuidesOf(ctx context.Context, memberIDs []int64) (map[int64]Guide, error)
}

// dayMinute is the minute of the Shanghai day of t.
func dayMinute(t time.Time, loc *time.Location) int {
	l := t.In(loc)
	return l.Hour()*60 + l.Minute()
}
