package member

import (
	"context"
	"fmt"

	"github.com/jifen/jifen/domain"
)

// Service logs shoppers in and keeps their profile.
type Service struct {
	Store  Store
	WeChat MiniProgram
	Tx     domain.UnitOfWork
	Clock  domain.Clock
	Hooks  Hooks
}

// Login exchanges a wx.login code for a member, creating one on first login.
func (s *Service) Login(ctx context.Context, code string, info LoginInfo) (m *Member, isNew bool, err error) {
	m, isNew, _, err = s.LoginOnce(ctx, code, info)
	return m, isNew, err
}

// LoginOnce is Login that also reports whether info.InLogin ran in the
// login's transaction (false only when a racing first login created the
// member and this one read it back).
func (s *Service) LoginOnce(ctx context.Context, code string, info LoginInfo) (m *Member, isNew, ran bool, err error) {
	if err := domain.CheckLoginCode(code); err != nil {
		return nil, false, false, err
	}
	sess, err := s.WeChat.Code2Session(ctx, code)
	if err != nil {
		return nil, false, false, err
	}
	now := s.Clock.Now()
	then := func(ctx context.Context, m *Member) error {
		if info.InLogin == nil {
			return nil
		}
		return info.InLogin(ctx, m)
	}
	err = s.Tx.InTx(ctx, func(ctx context.Context) error {
		existing, err := s.Store.ByOpenID(ctx, sess.OpenID)
		if err == nil {
			m, isNew = existing, false
			if existing.UnionID == "" && sess.UnionID != "" {
				existing.UnionID = sess.UnionID
			}
			existing.LastActive = now
			if err := s.Store.UpdateLogin(ctx, existing.ID, sess.UnionID, now); err != nil {
				return err
			}
			return then(ctx, existing)
		}
		if domain.ErrorCode(err) != domain.NotFound {
			return err
		}
		m = &Member{OpenID: sess.OpenID, UnionID: sess.UnionID, CreatedAt: now, LastActive: now}
		if err := s.Store.Create(ctx, m); err != nil {
			return err
		}
		isNew = true
		for _, h := range s.Hooks.Registered {
			if err := h(ctx, m, info); err != nil {
				return err
			}
		}
		return then(ctx, m)
	})
	if domain.ErrorCode(err) == domain.Conflict {
		// Two first logins of the same user raced; the other one created the
		// member. Read it back instead of failing the second tap.
		existing, gerr := s.Store.ByOpenID(ctx, sess.OpenID)
		if gerr != nil {
			return nil, false, false, gerr
		}
		return existing, false, false, nil
	}
	if err != nil {
		return nil, false, false, fmt.Errorf("login: %w", err)
	}
	return m, isNew, true, nil
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
