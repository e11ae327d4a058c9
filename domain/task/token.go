package task

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jifen/jifen/domain"
)

// A browse token proves when the member started looking at the page. It
// is "<payload>.<mac>", both base64url: payload is
// "member.task.period.start_unix.nonce" and mac is HMAC-SHA256 under
// Service.TokenKey. The server keeps nothing until the token is spent;
// then its nonce is stored unique, so each token counts once.
type startClaims struct {
	MemberID int64
	TaskID   int64
	Period   string
	Start    time.Time
	Nonce    string
}

func (s *Service) sign(c startClaims) string {
	payload := fmt.Sprintf("%d.%d.%s.%d.%s", c.MemberID, c.TaskID, c.Period, c.Start.Unix(), c.Nonce)
	mac := hmac.New(sha256.New, s.TokenKey)
	mac.Write([]byte(payload))
	return base64.RawURLEncoding.EncodeToString([]byte(payload)) + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

var errForged = domain.FieldError("token", "not a token this server issued")

func (s *Service) parse(token string) (startClaims, error) {
	p64, m64, ok := strings.Cut(token, ".")
	if !ok || len(token) > 512 {
		return startClaims{}, errForged
	}
	payload, err1 := base64.RawURLEncoding.DecodeString(p64)
	got, err2 := base64.RawURLEncoding.DecodeString(m64)
	if err1 != nil || err2 != nil {
		return startClaims{}, errForged
	}
	mac := hmac.New(sha256.New, s.TokenKey)
	mac.Write(payload)
	if !hmac.Equal(got, mac.Sum(nil)) {
		return startClaims{}, errForged
	}
	f := strings.Split(string(payload), ".")
	if len(f) != 5 {
		return startClaims{}, errForged
	}
	m, err1 := strconv.ParseInt(f[0], 10, 64)
	t, err2 := strconv.ParseInt(f[1], 10, 64)
	st, err3 := strconv.ParseInt(f[3], 10, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return startClaims{}, errForged
	}
	return startClaims{MemberID: m, TaskID: t, Period: f[2], Start: time.Unix(st, 0), Nonce: f[4]}, nil
}

// Started is a browse task's start: the token to send back after
// MinSeconds, and when that is.
type Started struct {
	Token    string
	NotUntil time.Time
	View     View
}

// Start issues a browse token for the member. Only browse tasks are
// started; one already at target for the period is RuleViolation.
func (s *Service) Start(ctx context.Context, memberID, taskID int64) (Started, error) {
	now := s.Clock.Now()
	t, err := s.liveTask(ctx, taskID, now)
	if err != nil {
		return Started{}, err
	}
	if t.Type != Browse {
		return Started{}, domain.Errorf(domain.RuleViolation, "only browse tasks are started; task %d is %s", t.ID, t.Type)
	}
	v, err := s.viewOf(ctx, memberID, t, now)
	if err != nil {
		return Started{}, err
	}
	if v.State != Todo && v.State != InProgress {
		return Started{}, domain.Errorf(domain.RuleViolation, "task %d is already done for this period", t.ID)
	}
	c := startClaims{MemberID: memberID, TaskID: t.ID, Period: v.Period, Start: now.Truncate(time.Second), Nonce: rand.Text()[:20]}
	return Started{Token: s.sign(c), NotUntil: c.Start.Add(time.Duration(t.MinSeconds) * time.Second), View: v}, nil
}

// spendable decides whether a token (already known to be this server's)
// may count a step of t for memberID at now: issued for them and t, in
// the current period, at least MinSeconds ago.
func (c startClaims) spendable(memberID int64, t *Task, now time.Time) error {
	switch {
	case c.MemberID != memberID || c.TaskID != t.ID || t.Type != Browse:
		return domain.FieldError("token", "issued for another member or task")
	case c.Period != t.PeriodKey(now):
		return domain.Errorf(domain.RuleViolation, "the token was issued in an earlier period; start again")
	case now.Sub(c.Start) < time.Duration(t.MinSeconds)*time.Second:
		return domain.Errorf(domain.RuleViolation, "browse at least %d seconds (%d so far)", t.MinSeconds, int(now.Sub(c.Start).Seconds()))
	}
	return nil
}

// Browsed spends a browse token: one step, if the token is this server's,
// for this member and task, of the current period, at least MinSeconds old
// and not spent before.
func (s *Service) Browsed(ctx context.Context, memberID, taskID int64, token string) (View, error) {
	if token == "" {
		return View{}, domain.FieldError("token", "required")
	}
	c, err := s.parse(token)
	if err != nil {
		return View{}, err
	}
	now := s.Clock.Now()
	t, err := s.liveTask(ctx, taskID, now)
	if err != nil {
		return View{}, err
	}
	if err := c.spendable(memberID, t, now); err != nil {
		return View{}, err
	}
	var out View
	err = s.Tx.InTx(ctx, func(ctx context.Context) error {
		if err := s.Store.RecordEvent(ctx, "browse", c.Nonce, memberID, now); err != nil {
			if errors.Is(err, ErrDuplicate) {
				return domain.Errorf(domain.Conflict, "this browse token was already used")
			}
			return err
		}
		if err := s.Store.Advance(ctx, ProgressKey{MemberID: memberID, TaskID: t.ID, Period: c.Period}, t.Target, now); err != nil {
			return err
		}
		v, err := s.viewOf(ctx, memberID, t, now)
		out = v
		return err
	})
	return out, err
}
