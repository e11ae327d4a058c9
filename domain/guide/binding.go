package guide

import (
	"context"
	"strings"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/member"
)

// ScenePrefix starts a mini-program scene that names a guide: "g:<code>".
const ScenePrefix = "g:"

// OnRegistered is a member.Hooks.Registered hook, in the login's unit of
// work. First the WeCom contacts kept for the member's unionid (guides who
// added the shopper before this first login) are bound, oldest first;
// then a new member who opened the mini-program from a guide's code
// becomes that guide's customer. Both go through the rebinding rule, in
// the order they happened. Scenes that name no active guide are ignored: a
// stale poster must not break a login.
func (s *Service) OnRegistered(ctx context.Context, m *member.Member, info member.LoginInfo) error {
	if m.UnionID != "" {
		contacts, err := s.Repo.TakeContacts(ctx, m.UnionID)
		if err != nil {
			return err
		}
		for _, c := range contacts {
			g, err := s.Repo.GuideByID(ctx, c.GuideID)
			if domain.ErrorCode(err) == domain.NotFound {
				continue
			}
			if err != nil {
				return err
			}
			if g.Status != Active {
				continue
			}
			if err := s.bind(ctx, m.ID, g.ID, SourceWeCom, c.ExternalUserID); err != nil {
				return err
			}
		}
	}
	code, ok := sceneCode(info.Scene)
	if !ok {
		return nil
	}
	g, err := s.Repo.GuideByCode(ctx, code)
	if domain.ErrorCode(err) == domain.NotFound {
		return nil
	}
	if err != nil {
		return err
	}
	if g.Status != Active {
		return nil
	}
	return s.bind(ctx, m.ID, g.ID, SourceScene, "")
}

// OnRegisteredMany is OnRegistered for members created together (a
// member.RegisteredHook's Many): one read finds the members with WeCom
// contacts kept, and OnRegistered runs for them and for those who came
// with a guide's scene; for the others it would do nothing.
func (s *Service) OnRegisteredMany(ctx context.Context, regs []member.Registration) error {
	unionIDs := make([]string, 0, len(regs))
	for _, r := range regs {
		if r.Member.UnionID != "" {
			unionIDs = append(unionIDs, r.Member.UnionID)
		}
	}
	kept, err := s.Repo.ContactsKept(ctx, unionIDs)
	if err != nil {
		return err
	}
	for _, r := range regs {
		if _, scene := sceneCode(r.Info.Scene); !scene && !kept[r.Member.UnionID] {
			continue
		}
		if err := s.OnRegistered(ctx, r.Member, r.Info); err != nil {
			return err
		}
	}
	return nil
}

// bindAction is what meeting a guide does to a member's binding.
type bindAction int

const (
	keep        bindAction = iota // nothing changes
	learnUserID                   // the same guide: remember the external userid
	bindAnew                      // the member becomes the guide's customer
)

// rebinding decides what meeting guideID (through externalUserID; "" for
// a scene) does to a member whose binding is cur (found false: none).
func (r Rules) rebinding(cur Binding, found bool, guideID int64, externalUserID string) bindAction {
	switch {
	case found && cur.GuideID == guideID:
		if externalUserID == "" || cur.ExternalUserID == externalUserID {
			return keep
		}
		return learnUserID
	case found && r.Rebind != LastWins:
		return keep
	}
	return bindAnew
}

// sceneCode is the guide code a mini-program scene names ("g:<code>",
// at most 16 characters), or false.
func sceneCode(scene string) (string, bool) {
	code, ok := strings.CutPrefix(scene, ScenePrefix)
	if !ok || code == "" || len(code) > 16 {
		return "", false
	}
	return code, true
}

// bind applies the rebinding rule: the same guide only learns the external
// userid; another guide takes over only under LastWins.
func (s *Service) bind(ctx context.Context, memberID, guideID int64, source, externalUserID string) error {
	cur, found, err := s.Repo.Binding(ctx, memberID)
	if err != nil {
		return err
	}
	switch s.Rules.rebinding(cur, found, guideID, externalUserID) {
	case keep:
		return nil
	case learnUserID:
		cur.ExternalUserID = externalUserID
		return s.Repo.SaveBinding(ctx, cur)
	}
	return s.Repo.SaveBinding(ctx, Binding{MemberID: memberID, GuideID: guideID, Source: source,
		ExternalUserID: externalUserID, BoundAt: s.Clock.Now()})
}

// ExternalContactAdded is WeCom's add_external_contact callback: the guide
// with GuideUserID added the WeChat user ExternalUserID.
type ExternalContactAdded struct {
	GuideUserID    string
	ExternalUserID string
	// Digest identifies the callback (a hash of its encrypted payload), so a
	// replay changes nothing.
	Digest string
}

// OnExternalContactAdded binds the member with the contact's unionid to the
// guide. A contact of a person who has not opened the mini-program yet is
// kept, and bound at their first login (OnRegistered). A contact WeCom
// names no unionid for (the company is not linked to the WeChat open
// platform, or the userid is no external contact) is kept too, but
// nothing can match it: such a shopper becomes the guide's customer
// through the guide's code. Callbacks about unknown or disabled guides
// change nothing; a replay changes nothing. The unionid is looked up
// before the transaction.
func (s *Service) OnExternalContactAdded(ctx context.Context, ev ExternalContactAdded) error {
	if ev.GuideUserID == "" || ev.ExternalUserID == "" || ev.Digest == "" {
		return domain.Errorf(domain.Invalid, "add_external_contact without UserID or ExternalUserID")
	}
	if seen, err := s.Repo.CallbackSeen(ctx, ev.Digest); err != nil || seen {
		return err
	}
	g, err := s.Repo.GuideByUserID(ctx, ev.GuideUserID)
	if domain.ErrorCode(err) == domain.NotFound {
		return nil
	}
	if err != nil {
		return err
	}
	if g.Status != Active {
		return nil
	}
	unionID, err := s.WeCom.ExternalUnionID(ctx, ev.ExternalUserID)
	if err != nil {
		return err
	}
	return s.Tx.InTx(ctx, func(ctx context.Context) error {
		fresh, err := s.Repo.RecordCallback(ctx, ev.Digest, "add_external_contact", s.Clock.Now())
		if err != nil || !fresh {
			return err
		}
		if unionID == "" {
			return s.Repo.KeepContact(ctx, Contact{ExternalUserID: ev.ExternalUserID, GuideID: g.ID, AddedAt: s.Clock.Now()})
		}
		m, err := s.Members.ByUnionID(ctx, unionID)
		if domain.ErrorCode(err) == domain.NotFound {
			return s.Repo.KeepContact(ctx, Contact{ExternalUserID: ev.ExternalUserID, GuideID: g.ID,
				UnionID: unionID, AddedAt: s.Clock.Now()})
		}
		if err != nil {
			return err
		}
		return s.bind(ctx, m.ID, g.ID, SourceWeCom, ev.ExternalUserID)
	})
}

// BindingOf returns the member's guide binding and the guide; found is
// false for a member no guide has.
func (s *Service) BindingOf(ctx context.Context, memberID int64) (b Binding, g *Guide, found bool, err error) {
	b, found, err = s.Repo.Binding(ctx, memberID)
	if err != nil || !found {
		return b, nil, found, err
	}
	g, err = s.Repo.GuideByID(ctx, b.GuideID)
	return b, g, err == nil, err
}
