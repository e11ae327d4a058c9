package guide

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/adjustment"
	"github.com/jifen/jifen/domain/audit"
	"github.com/jifen/jifen/domain/ledger"
	"github.com/jifen/jifen/domain/member"
)

// Service is the guides capability.
type Service struct {
	Repo     Repository
	Members  Members
	Ledger   *ledger.Service
	Adjust   *adjustment.Service
	WeCom    WeCom
	Notifier StoreNotifier
	Tiers    Tiers // the customers' tiers (tier.Service); nil: the first level, "normal"
	Tx       domain.UnitOfWork
	Clock    domain.Clock
	Rules    Rules
	// Audit records the console's edits of stores and guides, in the same
	// unit of work as the edit.
	Audit audit.Store
	// Watch hears of each grant that committed (risk control's guide
	// rules); nil: nobody.
	Watch GrantWatcher
}

// Actor is the console user editing stores and guides.
type Actor struct{ Name, Role string }

// audited runs edit and records it as action on target in one unit of work.
func (s *Service) audited(ctx context.Context, a Actor, action string, edit func(ctx context.Context) (target string, detail any, err error)) error {
	return s.Tx.InTx(ctx, func(ctx context.Context) error {
		target, detail, err := edit(ctx)
		if err != nil {
			return err
		}
		b, _ := json.Marshal(detail)
		return s.Audit.Insert(ctx, &audit.Entry{Actor: a.Name, ActorRole: a.Role, Action: action, Target: target,
			Detail: string(b), CreatedAt: s.Clock.Now()})
	})
}

// storeDetail is what the audit keeps of a store: never its robot key.
func storeDetail(st *Store) any {
	return map[string]any{"name": st.Name, "robot_key_set": st.RobotKey != ""}
}

func guideDetail(g *Guide) any {
	return map[string]any{"userid": g.UserID, "name": g.Name, "store_id": g.StoreID, "monthly_budget": g.MonthlyBudget, "status": g.Status,
		"phone": member.MaskPhone(g.Phone)}
}

// MaxBudget bounds a guide's monthly budget and a single grant.
const MaxBudget = 1_000_000_000

var userIDPattern = regexp.MustCompile(`^[A-Za-z0-9_.@-]{1,64}$`)

func checkName(field, v string, max int) (string, error) {
	v = strings.TrimSpace(v)
	switch {
	case v == "":
		return "", domain.FieldError(field, "required")
	case utf8.RuneCountInString(v) > max:
		return "", domain.FieldError(field, "too long")
	}
	return v, nil
}

// StoreInput creates or patches a store; nil fields are left alone on a patch.
type StoreInput struct {
	Name     *string
	RobotKey *string
}

func (in StoreInput) apply(s *Store) error {
	if in.Name != nil {
		n, err := checkName("name", *in.Name, 64)
		if err != nil {
			return err
		}
		s.Name = n
	}
	if in.RobotKey != nil {
		k := strings.TrimSpace(*in.RobotKey)
		if len(k) > 128 {
			return domain.FieldError("robot_key", "at most 128 characters")
		}
		s.RobotKey = k
	}
	return nil
}

// CreateStore adds a store; the name is required and unique. The audit
// trail records it (store.create).
func (s *Service) CreateStore(ctx context.Context, a Actor, in StoreInput) (*Store, error) {
	if in.Name == nil {
		return nil, domain.FieldError("name", "required")
	}
	st := &Store{}
	if err := in.apply(st); err != nil {
		return nil, err
	}
	st.CreatedAt, st.UpdatedAt = s.Clock.Now(), s.Clock.Now()
	err := s.audited(ctx, a, "store.create", func(ctx context.Context) (string, any, error) {
		err := s.Repo.CreateStore(ctx, st)
		return "store:" + strconv.FormatInt(st.ID, 10), storeDetail(st), err
	})
	return st, err
}

// UpdateStore patches a store (audited as store.update).
func (s *Service) UpdateStore(ctx context.Context, a Actor, id int64, in StoreInput) (*Store, error) {
	var st *Store
	err := s.audited(ctx, a, "store.update", func(ctx context.Context) (string, any, error) {
		var err error
		if st, err = s.Repo.StoreByID(ctx, id); err != nil {
			return "", nil, err
		}
		if err := in.apply(st); err != nil {
			return "", nil, err
		}
		st.UpdatedAt = s.Clock.Now()
		return "store:" + strconv.FormatInt(id, 10), storeDetail(st), s.Repo.UpdateStore(ctx, st)
	})
	return st, err
}

// Stores lists every store.
func (s *Service) Stores(ctx context.Context) ([]Store, error) { return s.Repo.ListStores(ctx) }

// GuideInput creates or patches a guide; nil fields are left alone on a
// patch and required on create (Status defaults to active).
type GuideInput struct {
	UserID        *string
	Name          *string
	StoreID       *int64
	MonthlyBudget *int64
	Status        *string
	Phone         *string // "" clears it
}

func (s *Service) apply(ctx context.Context, in GuideInput, g *Guide) error {
	if in.UserID != nil {
		if !userIDPattern.MatchString(*in.UserID) {
			return domain.FieldError("userid", "1–64 letters, digits or _ . @ -")
		}
		g.UserID = *in.UserID
	}
	if in.Name != nil {
		n, err := checkName("name", *in.Name, 64)
		if err != nil {
			return err
		}
		g.Name = n
	}
	if in.MonthlyBudget != nil {
		if *in.MonthlyBudget < 0 || *in.MonthlyBudget > MaxBudget {
			return domain.FieldError("monthly_budget", "must be from 0 to 1000000000")
		}
		g.MonthlyBudget = *in.MonthlyBudget
	}
	if in.Phone != nil {
		p, ok := member.NormalPhone(*in.Phone)
		if !ok && strings.TrimSpace(*in.Phone) != "" {
			return domain.FieldError("phone", "a phone number is 7 to 20 digits (spaces and +86 are dropped), or empty")
		}
		g.Phone = p
	}
	if in.Status != nil {
		switch Status(*in.Status) {
		case Active, Disabled:
			g.Status = Status(*in.Status)
		default:
			return domain.FieldError("status", "must be active or disabled")
		}
	}
	if in.StoreID != nil {
		if _, err := s.Repo.StoreByID(ctx, *in.StoreID); domain.ErrorCode(err) == domain.NotFound {
			return domain.FieldError("store_id", "no such store")
		} else if err != nil {
			return err
		}
		g.StoreID = *in.StoreID
	}
	return nil
}

// CreateGuide registers a guide with a fresh scene code (audited as
// guide.create).
func (s *Service) CreateGuide(ctx context.Context, a Actor, in GuideInput) (*Guide, error) {
	required := []struct {
		field   string
		missing bool
	}{{"userid", in.UserID == nil}, {"name", in.Name == nil}, {"store_id", in.StoreID == nil}, {"monthly_budget", in.MonthlyBudget == nil}}
	for _, r := range required {
		if r.missing {
			return nil, domain.FieldError(r.field, "required")
		}
	}
	g := &Guide{Status: Active, Code: newCode()}
	if err := s.apply(ctx, in, g); err != nil {
		return nil, err
	}
	g.CreatedAt, g.UpdatedAt = s.Clock.Now(), s.Clock.Now()
	err := s.audited(ctx, a, "guide.create", func(ctx context.Context) (string, any, error) {
		err := s.Repo.CreateGuide(ctx, g)
		return "guide:" + strconv.FormatInt(g.ID, 10), guideDetail(g), err
	})
	return g, err
}

// UpdateGuide patches a guide (audited as guide.update). Disabling one
// stops their logins and every action of tokens already issued.
func (s *Service) UpdateGuide(ctx context.Context, a Actor, id int64, in GuideInput) (*Guide, error) {
	var g *Guide
	err := s.audited(ctx, a, "guide.update", func(ctx context.Context) (string, any, error) {
		var err error
		if g, err = s.Repo.LockGuide(ctx, id); err != nil {
			return "", nil, err
		}
		if err := s.apply(ctx, in, g); err != nil {
			return "", nil, err
		}
		g.UpdatedAt = s.Clock.Now()
		return "guide:" + strconv.FormatInt(id, 10), guideDetail(g), s.Repo.UpdateGuide(ctx, g)
	})
	return g, err
}

// Guide returns one guide.
func (s *Service) Guide(ctx context.Context, id int64) (*Guide, error) {
	return s.Repo.GuideByID(ctx, id)
}

// Guides lists guides with id > after (ascending); next is 0 at the end.
func (s *Service) Guides(ctx context.Context, after int64, limit int) ([]Guide, int64, error) {
	gs, err := s.Repo.ListGuides(ctx, after, limit+1)
	if err != nil || len(gs) <= limit {
		return gs, 0, err
	}
	return gs[:limit], gs[limit-1].ID, nil
}

const codeAlphabet = "abcdefghjkmnpqrstuvwxyz23456789"

// newCode returns 8 random characters: short enough for a mini-program
// scene (32 characters), hard to guess.
func newCode() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = codeAlphabet[int(b[i])%len(codeAlphabet)]
	}
	return string(b)
}

// Login resolves a WeCom OAuth code to an active guide. A visitor who is
// not a registered, active guide is Forbidden.
func (s *Service) Login(ctx context.Context, code string) (*Guide, error) {
	if err := domain.CheckLoginCode(code); err != nil {
		return nil, err
	}
	userID, err := s.WeCom.UserIDFromCode(ctx, code)
	if err != nil {
		return nil, err
	}
	if userID == "" {
		return nil, domain.Errorf(domain.Forbidden, "only members of the corp can log in as guides")
	}
	g, err := s.Repo.GuideByUserID(ctx, userID)
	if domain.ErrorCode(err) == domain.NotFound {
		return nil, domain.Errorf(domain.Forbidden, "this WeCom user is not a registered guide")
	}
	if err != nil {
		return nil, err
	}
	if g.Status != Active {
		return nil, domain.Errorf(domain.Forbidden, "this guide is disabled")
	}
	return g, nil
}

// Active returns the guide behind a token: Unauthorized when it names no
// guide, Forbidden once the guide is disabled (their token lives on until
// it expires, their work does not).
func (s *Service) Active(ctx context.Context, id int64) (*Guide, error) { return s.active(ctx, id) }

// active returns the guide behind a token, Forbidden once disabled.
func (s *Service) active(ctx context.Context, id int64) (*Guide, error) {
	g, err := s.Repo.GuideByID(ctx, id)
	if domain.ErrorCode(err) == domain.NotFound {
		return nil, domain.Errorf(domain.Unauthorized, "unknown guide")
	}
	if err != nil {
		return nil, err
	}
	if g.Status != Active {
		return nil, domain.Errorf(domain.Forbidden, "this guide is disabled")
	}
	return g, nil
}
