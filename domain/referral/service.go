package referral

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/ledger"
	"github.com/jifen/jifen/domain/member"
	"github.com/jifen/jifen/domain/orders"
)

// BoardName is the invites leaderboard: level-1 invites of all time.
const BoardName = "invites"

// maxChain bounds the walk up the inviter chain when looking for a cycle.
const maxChain = 1000

// Identity kinds remembered for the same-person checks.
const (
	kindPhone   = "phone"
	kindUnionID = "unionid"
)

// Service binds invitees and pays referral rewards.
type Service struct {
	Store   Store
	Members Members
	Points  Points
	Board   Board
	QR      QRCache
	WeChat  CodeMaker
	Tx      domain.UnitOfWork
	Clock   domain.Clock
	Rules   Rules
	Page    string // mini-program page the QR code opens
	// UncheckedPage lets WeChat make codes for a page it has not checked
	// is released (check_path false), before the first release.
	UncheckedPage bool
	Log           *slog.Logger
	// Rings hears of each bind refused because it would close a loop of
	// invitations (risk control's referral_ring rule); nil: nobody.
	Rings RingWatcher
}

// Code returns the member's invite code, creating it on first use.
func (s *Service) Code(ctx context.Context, memberID int64) (string, error) {
	code, err := s.Store.CodeOf(ctx, memberID)
	if err != nil || code != "" {
		return code, err
	}
	now := s.Clock.Now()
	for attempt := 0; attempt < 8; attempt++ {
		c, err := NewCode()
		if err != nil {
			return "", err
		}
		err = s.Store.InsertCode(ctx, memberID, c, now)
		if errors.Is(err, ErrCodeTaken) {
			continue
		}
		if err != nil {
			return "", err
		}
		return s.Store.CodeOf(ctx, memberID) // a concurrent first call may have won
	}
	return "", fmt.Errorf("invite code for member %d: no free code after 8 tries", memberID)
}

// Overview returns the member's code, invite counts, points earned and rules.
func (s *Service) Overview(ctx context.Context, memberID int64) (Overview, error) {
	code, err := s.Code(ctx, memberID)
	if err != nil {
		return Overview{}, err
	}
	o, err := s.Summary(ctx, memberID)
	o.Code, o.Rules = code, s.RulesText()
	return o, err
}

// Summary is Overview for someone other than the member (the console): it
// reads the code without creating one.
func (s *Service) Summary(ctx context.Context, memberID int64) (Overview, error) {
	code, err := s.Store.CodeOf(ctx, memberID)
	if err != nil {
		return Overview{}, err
	}
	l1, l2, err := s.Store.Counts(ctx, memberID)
	if err != nil {
		return Overview{}, err
	}
	earned, err := s.Store.Earned(ctx, memberID)
	if err != nil {
		return Overview{}, err
	}
	return Overview{Code: code, Level1: l1, Level2: l2, RewardsEarned: earned}, nil
}

// RulesText describes the configured rules to shoppers.
func (s *Service) RulesText() string {
	r := s.Rules
	var b strings.Builder
	fmt.Fprintf(&b, "新用户注册后 %d 小时内可填写邀请码绑定邀请人，每人只能绑定一次。", int(r.Window.Hours()))
	fmt.Fprintf(&b, "好友绑定手机号，您得 %d 积分；好友首单支付，您得 %d 积分。", r.Phone.Inviter, r.FirstOrder.Inviter)
	fmt.Fprintf(&b, "好友再邀请的新用户完成同样操作，您另得 %d / %d 积分。", r.Phone.SecondLevel, r.FirstOrder.SecondLevel)
	if r.DailyCap > 0 {
		fmt.Fprintf(&b, "每天邀请奖励最多 %d 积分。", r.DailyCap)
	}
	return b.String()
}

// Bind binds the member to the owner of code (POST /shopper/referral/bind).
func (s *Service) Bind(ctx context.Context, inviteeID int64, code string) (Binding, error) {
	var b Binding
	err := s.Tx.InTx(ctx, func(ctx context.Context) error {
		var err error
		b, err = s.bind(ctx, inviteeID, code)
		return err
	})
	if err != nil {
		s.ringRefused(ctx, err)
		return Binding{}, err
	}
	s.Board.Add(ctx, BoardName, b.InviterID, 1)
	return b, nil
}

// bind applies every binding rule and stores the binding in the tx in ctx.
func (s *Service) bind(ctx context.Context, inviteeID int64, raw string) (Binding, error) {
	code, err := ParseCode(raw)
	if err != nil {
		return Binding{}, err
	}
	inviterID, found, err := s.Store.OwnerOf(ctx, code)
	if err != nil {
		return Binding{}, err
	}
	if !found {
		return Binding{}, domain.Errorf(domain.NotFound, "no member has invite code %s", code)
	}
	if inviterID == inviteeID {
		return Binding{}, domain.Errorf(domain.RuleViolation, "you cannot use your own invite code")
	}
	// Locked before its binding is read: a binding to the invitee made at
	// the same moment (which checkChain's walk from another bind may
	// cross) commits first or waits for this one.
	if err := s.Store.LockMember(ctx, inviteeID); err != nil {
		return Binding{}, err
	}
	if _, bound, err := s.Store.Binding(ctx, inviteeID); err != nil {
		return Binding{}, err
	} else if bound {
		return Binding{}, domain.Errorf(domain.Conflict, "you are already bound to an inviter")
	}
	invitee, err := s.Members.Info(ctx, inviteeID)
	if err != nil {
		return Binding{}, err
	}
	now := s.Clock.Now()
	if err := s.Rules.inWindow(invitee.CreatedAt, now); err != nil {
		return Binding{}, err
	}
	// The invitee may already have invited people; binding to one of their
	// descendants would close a loop.
	parent2, err := s.checkChain(ctx, inviteeID, inviterID)
	if err != nil {
		return Binding{}, err
	}
	b := Binding{InviteeID: inviteeID, InviterID: inviterID, Parent2ID: parent2, CreatedAt: now}
	if note, err := s.samePerson(ctx, invitee, inviterID); err != nil {
		return Binding{}, err
	} else if note != "" {
		b.Flagged, b.FlagNote = true, note
	}
	if err := s.Store.InsertBinding(ctx, b); err != nil {
		if errors.Is(err, ErrDuplicate) {
			return Binding{}, domain.Errorf(domain.Conflict, "you are already bound to an inviter")
		}
		return Binding{}, err
	}
	return b, nil
}

// checkChain walks up from the inviter; meeting the invitee is a cycle. It
// returns the inviter's own inviter. Each member is locked before its
// binding is read: a concurrent bind of that member (which holds its lock)
// has committed by then, so binds that would close a loop together (a→b
// with b→a, or a→b, b→c, c→d, d→a at once) cannot all pass; MySQL's
// deadlock between two such walks is retried by the transaction.
func (s *Service) checkChain(ctx context.Context, inviteeID, inviterID int64) (int64, error) {
	var parent2 int64
	var chain []Binding
	cur := inviterID
	for hop := 0; hop < maxChain; hop++ {
		if err := s.Store.LockMember(ctx, cur); err != nil {
			return 0, err
		}
		up, found, err := s.Store.Binding(ctx, cur)
		if err != nil {
			return 0, err
		}
		if !found {
			return parent2, nil
		}
		if hop == 0 {
			parent2 = up.InviterID
		}
		chain = append(chain, up)
		if up.InviterID == inviteeID {
			return 0, loopError(chain, Binding{InviteeID: inviteeID, InviterID: inviterID, CreatedAt: s.Clock.Now()})
		}
		cur = up.InviterID
	}
	return 0, domain.Errorf(domain.RuleViolation, "the inviter chain is too long")
}

// samePerson returns why the invitee looks like someone already known (a
// phone or unionid another member had), or "".
func (s *Service) samePerson(ctx context.Context, invitee MemberInfo, inviterID int64) (string, error) {
	for _, id := range []struct{ kind, value string }{{kindUnionID, invitee.UnionID}, {kindPhone, invitee.Phone}} {
		if id.value == "" {
			continue
		}
		other, err := s.Store.SeenElsewhere(ctx, id.kind, id.value, invitee.ID)
		if err != nil {
			return "", err
		}
		if other != 0 {
			return fmt.Sprintf("%s seen on member %d (inviter %d)", id.kind, other, inviterID), nil
		}
	}
	return "", nil
}

// OnRegistered is a member.Hooks.Registered hook: it remembers the new
// member's unionid, gives them a code, and binds the invite code they came
// with. A bad invite code never fails the login: it is logged and skipped.
func (s *Service) OnRegistered(ctx context.Context, m *member.Member, info member.LoginInfo) error {
	return s.OnRegisteredMany(ctx, []member.Registration{{Member: m, Info: info}})
}

// OnRegisteredMany is OnRegistered for members created together: their
// unionids remembered in one write, then each invite code bound.
func (s *Service) OnRegisteredMany(ctx context.Context, regs []member.Registration) error {
	now := s.Clock.Now()
	ids := make([]Identity, 0, len(regs))
	for _, r := range regs {
		if r.Member.UnionID != "" {
			ids = append(ids, Identity{Kind: kindUnionID, Value: r.Member.UnionID, MemberID: r.Member.ID})
		}
	}
	if len(ids) > 0 {
		if err := s.Store.RememberIdentities(ctx, ids, now); err != nil {
			return err
		}
	}
	for _, r := range regs {
		if strings.TrimSpace(r.Info.InviteCode) == "" {
			continue
		}
		if _, err := s.bind(ctx, r.Member.ID, r.Info.InviteCode); err != nil {
			if domain.ErrorCode(err) == domain.Internal {
				return err
			}
			s.log().InfoContext(ctx, "invite code at login skipped", "member_id", r.Member.ID, "reason", err.Error())
		}
	}
	return nil
}

// AfterLogin bumps the invites board once a new member's login committed
// (Redis is not touched inside the login transaction).
func (s *Service) AfterLogin(ctx context.Context, memberID int64) {
	if b, found, err := s.Store.Binding(ctx, memberID); err == nil && found {
		s.Board.Add(ctx, BoardName, b.InviterID, 1)
	}
}

// OnPhoneBound is a member.Hooks.PhoneBound hook: it remembers the phone,
// flags the pair when another member had it, and pays the phone rewards.
func (s *Service) OnPhoneBound(ctx context.Context, m *member.Member) error {
	now := s.Clock.Now()
	other, err := s.Store.SeenElsewhere(ctx, kindPhone, m.Phone, m.ID)
	if err != nil {
		return err
	}
	if err := s.Store.RememberIdentity(ctx, kindPhone, m.Phone, m.ID, now); err != nil {
		return err
	}
	b, found, err := s.Store.Binding(ctx, m.ID)
	if err != nil || !found {
		return err
	}
	if other != 0 && !b.Flagged {
		b.Flagged, b.FlagNote = true, fmt.Sprintf("phone seen on member %d (inviter %d)", other, b.InviterID)
		if err := s.Store.Flag(ctx, m.ID, b.FlagNote); err != nil {
			return err
		}
	}
	return s.reward(ctx, b, EventPhone, fmt.Sprint(m.ID), time.Time{})
}

// OnFirstPaidOrder pays the first-order rewards of the inviters of the
// member who paid p, pending until p.AvailableAt (the order's own points'
// return window). It is OnFirstPaidOrders for one order.
func (s *Service) OnFirstPaidOrder(ctx context.Context, p orders.FirstPaid) error {
	return s.OnFirstPaidOrders(ctx, []orders.FirstPaid{p})
}

// Bindings is what OnFirstPaidOrders needs of the Store: the bindings of
// many invitees at once, which LoadBindings asks for ahead (the store
// loads them with the unit of work's next read or write; repo/referralstore
// says how); the next Bindings it covers then loads nothing.
type Bindings interface {
	Bindings(ctx context.Context, inviteeIDs []int64) (map[int64]Binding, error)
	LoadBindings(ctx context.Context, inviteeIDs []int64) error
}

// LoadFirstPaid asks for the bindings of memberIDs, whose first paid
// orders OnFirstPaidOrders will be given later in the same unit of work,
// to be loaded with its next read or write (the order webhook's group
// calls it before one it makes anyway); OnFirstPaidOrders then loads
// nothing more for members nobody invited.
func (s *Service) LoadFirstPaid(ctx context.Context, memberIDs []int64) error {
	if len(memberIDs) == 0 {
		return nil
	}
	return s.Store.LoadBindings(ctx, memberIDs)
}

// OnFirstPaidOrders pays the first-order rewards of the inviters of the
// members who paid ps, in order, with one read of the bindings (most
// members were invited by nobody): an orders.Service.OnFirstPaidMany hook,
// for an event alone and a group alike. The orders capability calls it
// inside its own transaction (it joins the one in ctx); calling it again
// for the same member pays nothing more. Each reward is pending until its
// order's AvailableAt, as the order's own points are.
func (s *Service) OnFirstPaidOrders(ctx context.Context, ps []orders.FirstPaid) error {
	memberIDs := make([]int64, len(ps))
	for i, p := range ps {
		if p.MemberID <= 0 {
			return domain.FieldError("member_id", "must be positive")
		}
		if p.OrderID == "" || utf8.RuneCountInString(p.OrderID) > 64 {
			return domain.FieldError("order_id", "1 to 64 characters")
		}
		memberIDs[i] = p.MemberID
	}
	return s.Tx.InTx(ctx, func(ctx context.Context) error {
		found, err := s.Store.Bindings(ctx, memberIDs)
		if err != nil {
			return err
		}
		for _, p := range ps {
			if b, ok := found[p.MemberID]; ok {
				if err := s.reward(ctx, b, EventOrder, p.OrderID, p.AvailableAt); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// OnOrderRefunded takes back the first-order rewards paid for the
// member's order orderID, now fully refunded, that are still pending (the
// order's return window not over): each through the ledger, its reward
// marked reversed. A withheld reward, or one already the beneficiary's,
// stays as it is; a reversed one is never paid again. It is an
// orders.Service.OnFullyRefunded hook, run in the refund's transaction
// (it joins the one in ctx); calling it again reverses nothing more.
func (s *Service) OnOrderRefunded(ctx context.Context, memberID int64, orderID string) error {
	now := s.Clock.Now()
	return s.Tx.InTx(ctx, func(ctx context.Context) error {
		rs, err := s.Store.OrderRewards(ctx, memberID, orderID)
		if err != nil {
			return err
		}
		for _, r := range rs {
			if !r.reversible(now) {
				continue
			}
			if err := s.Store.LockOwner(ctx, r.BeneficiaryID); err != nil {
				return err
			}
			done, err := s.Store.Reverse(ctx, r.InviteeID, r.Event, r.BeneficiaryID)
			if err != nil {
				return err
			}
			if !done {
				continue // reversed meanwhile
			}
			if _, err := s.Points.Reverse(ctx, ledger.ReverseInput{MemberID: r.BeneficiaryID, Of: rewardRef(r.Event, r.InviteeID, orderID),
				OfKind: ledger.KindEarn, Key: rewardKey(r.Event, r.InviteeID, r.Level) + ":refund", Ref: ledger.Ref{Type: "refund", ID: orderID},
				Title: "邀请奖励扣回", Operator: "system"}); err != nil {
				return fmt.Errorf("reverse referral reward of member %d: %w", r.BeneficiaryID, err)
			}
		}
		return nil
	})
}

// reward decides (once) the reward of each level for the event, pending
// until availableAt (zero: available at once).
func (s *Service) reward(ctx context.Context, b Binding, e Event, ref string, availableAt time.Time) error {
	now := s.Clock.Now()
	day := domain.DayOf(now).Int()
	for _, l := range s.Rules.shares(b, e) {
		if err := s.Store.LockOwner(ctx, l.beneficiary); err != nil {
			return err
		}
		done, err := s.Store.RewardExists(ctx, b.InviteeID, e, l.beneficiary)
		if err != nil {
			return err
		}
		if done {
			continue
		}
		var paidToday int64
		if !b.Flagged && s.Rules.DailyCap > 0 {
			if paidToday, err = s.Store.PaidOn(ctx, l.beneficiary, day); err != nil {
				return err
			}
		}
		r := Reward{InviteeID: b.InviteeID, Event: e, BeneficiaryID: l.beneficiary, Level: l.level, Points: l.points,
			Day: day, Status: s.Rules.status(b.Flagged, paidToday, l.points), AvailableAt: availableAt, CreatedAt: now}
		if e == EventOrder {
			r.OrderID = ref
		}
		if err := s.Store.InsertReward(ctx, r); err != nil {
			if errors.Is(err, ErrDuplicate) {
				continue
			}
			return err
		}
		if r.Status != StatusPaid {
			continue
		}
		if _, err := s.Points.Earn(ctx, ledger.EarnInput{MemberID: l.beneficiary, Points: l.points, Key: l.key,
			Ref: rewardRef(e, b.InviteeID, ref), Title: l.title, AvailableAt: availableAt}); err != nil {
			return fmt.Errorf("referral reward to member %d: %w", l.beneficiary, err)
		}
	}
	return nil
}

// Report returns the top inviters and the flagged pairs.
func (s *Service) Report(ctx context.Context, limit int) (Report, error) {
	if limit < 1 || limit > 100 {
		return Report{}, domain.FieldError("limit", "must be an integer from 1 to 100")
	}
	top, err := s.Store.TopInviters(ctx, limit)
	if err != nil {
		return Report{}, err
	}
	flagged, err := s.Store.FlaggedBindings(ctx, limit)
	if err != nil {
		return Report{}, err
	}
	return Report{TopInviters: top, Flagged: flagged}, nil
}

// QRCode returns the member's mini-program code (JPEG): scene = invite
// code, page from the configuration. It is made by WeChat once and cached.
func (s *Service) QRCode(ctx context.Context, memberID int64) ([]byte, error) {
	code, err := s.Code(ctx, memberID)
	if err != nil {
		return nil, err
	}
	key := code + "|" + s.Page
	if img, ok, err := s.QR.Get(ctx, key); err == nil && ok {
		return img, nil
	}
	img, err := s.WeChat.WXACodeUnlimit(ctx, code, s.Page, !s.UncheckedPage)
	if err != nil {
		return nil, err
	}
	_ = s.QR.Put(ctx, key, img) // a lost cache entry only costs a WeChat call
	return img, nil
}

func (s *Service) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}
