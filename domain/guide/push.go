package guide

import (
	"context"
	"crypto/rand"
	"time"

	"github.com/jifen/jifen/domain"
)

// maxPushRecipients is WeCom's limit of external contacts per broadcast.
const maxPushRecipients = 10000

// PushResult is one broadcast.
type PushResult struct {
	MsgID      string
	Recipients int      // customers in the broadcast
	Skipped    int      // customers with expiring points already reminded today
	FailList   []string // external userids WeCom refused
}

// Push asks WeCom to broadcast an expiry reminder from the guide to their
// customers (those known as WeCom external contacts) whose points expire
// within Rules.PushWindowDays; WeCom then asks the guide to confirm. Each
// customer is reminded at most once a day: the pushes are reserved in the
// database before the call, released again if WeCom fails, and the call
// happens outside any transaction.
func (s *Service) Push(ctx context.Context, guideID int64) (PushResult, error) {
	g, err := s.active(ctx, guideID)
	if err != nil {
		return PushResult{}, err
	}
	now := s.Clock.Now()
	until := now.Add(time.Duration(s.Rules.PushWindowDays) * 24 * time.Hour)
	day := domain.DayOf(now).Int()
	batch := rand.Text()
	var want []Push
	external := map[int64]string{}
	for after := int64(0); len(want) < maxPushRecipients; {
		bs, err := s.Repo.Customers(ctx, g.ID, after, 500)
		if err != nil {
			return PushResult{}, err
		}
		for _, b := range bs {
			after = b.MemberID
			if b.ExternalUserID == "" {
				continue
			}
			bal, err := s.Ledger.Balance(ctx, b.MemberID)
			if err != nil {
				return PushResult{}, err
			}
			if len(bal.Expiring) == 0 || bal.Expiring[0].ExpiresAt.After(until) {
				continue
			}
			want = append(want, Push{GuideID: g.ID, MemberID: b.MemberID, Day: day, Batch: batch, At: now})
			external[b.MemberID] = b.ExternalUserID
		}
		if len(bs) < 500 {
			break
		}
	}
	if len(want) == 0 {
		return PushResult{}, domain.Errorf(domain.RuleViolation, "none of your WeCom customers has points expiring within %d days", s.Rules.PushWindowDays)
	}
	want = want[:min(len(want), maxPushRecipients)]
	var got []Push
	if err := s.Tx.InTx(ctx, func(ctx context.Context) error {
		var err error
		got, err = s.Repo.ReservePushes(ctx, want)
		return err
	}); err != nil {
		return PushResult{}, err
	}
	if len(got) == 0 {
		return PushResult{}, domain.Errorf(domain.RuleViolation, "every customer with expiring points was already reminded today")
	}
	ids := make([]string, len(got))
	for i, p := range got {
		ids[i] = external[p.MemberID]
	}
	msgID, failed, err := s.WeCom.AddMsgTemplate(ctx, g.UserID, ids, s.Rules.PushText)
	if err != nil {
		// Nothing was sent: free the day's slots for a retry.
		if derr := s.Repo.DeletePushes(context.WithoutCancel(ctx), batch); derr != nil {
			return PushResult{}, derr
		}
		return PushResult{}, err
	}
	if err := s.Repo.SetPushMsgID(ctx, batch, msgID); err != nil {
		return PushResult{}, err
	}
	return PushResult{MsgID: msgID, Recipients: len(got), Skipped: len(want) - len(got), FailList: failed}, nil
}
