package member

import (
	"context"
	"fmt"
	"time"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/batch"
)

// Service logs shoppers in and keeps their profile.
type Service struct {
	Store  Store
	WeChat MiniProgram
	Tx     domain.UnitOfWork
	Clock  domain.Clock
	Hooks  Hooks
	// Sessions, when set, starts a login session for each of memberIDs
	// (in order) in the caller's unit of work: a login and its session
	// are one commit, and a session never exists for a login that rolled
	// back.
	Sessions func(ctx context.Context, memberIDs []int64) ([]Session, error)
	// GroupCommit groups concurrent logins (group.go); zero: each alone.
	GroupCommit batch.Settings

	group batch.Committer[*loginJob]
}

// Login exchanges a wx.login code for a member, creating one on first
// login (the Registered hooks run in the same unit of work), and starts
// its session (Sessions).
func (s *Service) Login(ctx context.Context, code string, info LoginInfo) (Login, error) {
	if err := domain.CheckLoginCode(code); err != nil {
		return Login{}, err
	}
	sess, err := s.WeChat.Code2Session(ctx, code)
	if err != nil {
		return Login{}, err
	}
	now := s.Clock.Now()
	if s.grouping(ctx) {
		if r := s.submit(ctx, sess, info, now); !r.alone {
			return r.login, r.err
		}
	}
	var l Login
	err = s.Tx.InTx(ctx, func(ctx context.Context) error {
		var err error
		l, err = s.loginAlone(ctx, sess, info, now)
		return err
	})
	if domain.ErrorCode(err) == domain.Conflict {
		// Two first logins of the same user raced; the other one created the
		// member. Read it back instead of failing the second tap.
		existing, gerr := s.Store.ByOpenID(ctx, sess.OpenID)
		if gerr != nil {
			return Login{}, gerr
		}
		l = Login{Member: existing}
		if l.Session, err = s.startSession(ctx, existing.ID); err != nil {
			return Login{}, fmt.Errorf("login: %w", err)
		}
		return l, nil
	}
	if err != nil {
		return Login{}, fmt.Errorf("login: %w", err)
	}
	return l, nil
}

// loginAlone is one login in ctx's unit of work.
func (s *Service) loginAlone(ctx context.Context, sess WeChatSession, info LoginInfo, now time.Time) (Login, error) {
	l := Login{}
	existing, err := s.Store.ByOpenID(ctx, sess.OpenID)
	switch {
	case err == nil:
		l.Member = existing
		learnUnionID(existing, sess)
		existing.LastActive = now
		if err := s.Store.UpdateLogin(ctx, existing.ID, sess.UnionID, now); err != nil {
			return l, err
		}
	case domain.ErrorCode(err) != domain.NotFound:
		return l, err
	default:
		m := newMember(sess, now)
		if err := s.Store.Create(ctx, m); err != nil {
			return l, err
		}
		l.Member, l.IsNew = m, true
		if err := s.registered(ctx, []Registration{{Member: m, Info: info}}); err != nil {
			return l, err
		}
	}
	l.Session, err = s.startSession(ctx, l.Member.ID)
	return l, err
}

// newMember is the member a first login creates.
func newMember(sess WeChatSession, now time.Time) *Member {
	return &Member{OpenID: sess.OpenID, UnionID: sess.UnionID, CreatedAt: now, LastActive: now}
}

// learnUnionID keeps the unionid WeChat sent with a returning member's
// login (Store.UpdateLogin stores it); reports whether it is new.
func learnUnionID(m *Member, sess WeChatSession) bool {
	if sess.UnionID == "" || sess.UnionID == m.UnionID {
		return false
	}
	m.UnionID = sess.UnionID
	return true
}

// registered runs every Registered hook, in order, for members just
// created together.
func (s *Service) registered(ctx context.Context, regs []Registration) error {
	for _, h := range s.Hooks.Registered {
		if err := h.run(ctx, regs); err != nil {
			return err
		}
	}
	return nil
}

// startSession starts memberID's session (nil without Sessions).
func (s *Service) startSession(ctx context.Context, memberID int64) (*Session, error) {
	if s.Sessions == nil {
		return nil, nil
	}
	ss, err := s.Sessions(ctx, []int64{memberID})
	if err != nil {
		return nil, err
	}
	return &ss[0], nil
}

// Get returns the member with id.
func (s *Service) Get(ctx context.Context, id int64) (*Member, error) {
	return s.Store.ByID(ctx, id)
}

// BindPhone resolves a getPhoneNumber code and binds the number. Binding the
// number the member already has is a no-op; a number bound to someone else
// is a Conflict.
func (s *Service) BindPhone(ctx context.Context, memberID int64, code string) (*Member, error) {
	if err := domain.CheckLoginCode(code); err != nil {
		return nil, err
	}
	phone, err := s.WeChat.PhoneNumber(ctx, code)
	if err != nil {
		return nil, err
	}
	var m *Member
	err = s.Tx.InTx(ctx, func(ctx context.Context) error {
		var err error
		m, err = s.Store.ByID(ctx, memberID)
		if err != nil {
			return err
		}
		if m.Phone == phone {
			return nil
		}
		if m.Phone != "" {
			return domain.Errorf(domain.Conflict, "a phone is already bound to this member")
		}
		if err := s.Store.SetPhone(ctx, memberID, phone); err != nil {
			return err
		}
		m.Phone = phone
		for _, h := range s.Hooks.PhoneBound {
			if err := h(ctx, m); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}
