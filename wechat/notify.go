package wechat

import (
	"context"
	"regexp"
	"strconv"

	"github.com/jifen/jifen/domain/reminder"
)

// The notifiers implement reminder.Sender, one per channel:
// SubscribeSender (mini-program subscribe message), TemplateSender
// (official-account template message), WeComMessageSender (WeCom app text
// message to a userid) and RobotSender (WeCom group robot). Unlike the
// login calls they do not retry and do not map to domain errors: the outbox
// decides what is retried, so they report what WeChat answered as a
// *reminder.SendError, and "no answer" (a timeout) as one with neither
// errcode nor HTTP status, which the outbox treats as maybe delivered.

var httpStatus = regexp.MustCompile(`statusCode=(\d{3})`)

// sendError turns an SDK error into a *reminder.SendError.
func sendError(err error) error {
	if err == nil {
		return nil
	}
	se := &reminder.SendError{ErrCode: errcode(err), Err: redacted{err}}
	if m := httpStatus.FindStringSubmatch(err.Error()); m != nil {
		se.HTTPStatus, _ = strconv.Atoi(m[1])
	}
	return se
}

// sendOnce runs fn, the send api, with a fresh access token, dropping a
// stale one and trying once more (a stale token proves nothing was
// delivered). Each try is bounded by the call timeout as well as by ctx,
// and observed like the calls of caller.do.
func (c *caller) sendOnce(ctx context.Context, api string, stale map[int64]bool, fn func(ctx context.Context, token string) error) error {
	for attempt := 0; ; attempt++ {
		actx, cancel := context.WithTimeout(ctx, c.timeout)
		tok, err := c.tokens.get(actx)
		if err != nil {
			cancel()
			return &reminder.SendError{NotSent: true, Err: redacted{err}}
		}
		err = fn(actx, tok)
		cancel()
		observe(api, errcode(err), err)
		if code := errcode(err); attempt == 0 && stale[code] {
			if derr := c.tokens.refresh(ctx, tok, c.timeout); derr != nil {
				return &reminder.SendError{NotSent: true, Err: redacted{derr}}
			}
			continue
		}
		return sendError(err)
	}
}
