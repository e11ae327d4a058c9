// Package leaderboard serves ranked boards (points earned this week, sign-in
// streak, and whatever another capability registers, such as invites).
//
// A Board is small: a name, the period an instant falls in (a board
// instance per ISO week, per day, or one for all time) and a function that
// computes every member's score for a period from SQL. The Cache (Redis
// sorted sets) holds the scores; writers bump it after their commit, and a
// missing or expired instance is rebuilt from the Board, so the cache can
// be lost at any time without changing an answer.
package leaderboard

import (
	"context"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/jifen/jifen/domain"
)

// Board is one kind of leaderboard.
type Board interface {
	Name() string
	// Period names the board instance that now falls in, e.g. "2026-W48".
	Period(now time.Time) string
	// Scores computes every member's score for the period of now from the
	// source of truth. Members with score 0 may be left out.
	Scores(ctx context.Context, now time.Time) (map[int64]int64, error)
}

// Entry is one ranked member.
type Entry struct {
	MemberID int64
	Score    int64
	Rank     int // 1-based
}

// Cache keeps board instances (Redis sorted sets). key names an instance.
type Cache interface {
	// Top returns the first limit entries, and false when the instance is
	// not built.
	Top(ctx context.Context, key string, limit int) ([]Entry, bool, error)
	// Own returns the member's rank and score (found false when unranked).
	Own(ctx context.Context, key string, memberID int64) (Entry, bool, error)
	// Fill replaces the instance with scores, built for ttl.
	Fill(ctx context.Context, key string, scores map[int64]int64, ttl time.Duration) error
	// Incr adds delta, and Set sets the score, only when the instance is
	// built (otherwise the next read rebuilds it from SQL).
	Incr(ctx context.Context, key string, memberID, delta int64) error
	Set(ctx context.Context, key string, memberID, score int64) error
	// Update applies Incr and Set changes together (one round trip).
	Update(ctx context.Context, changes []Change) error
}

// Change is one Incr (Set false: Score is the delta) or Set of a member's
// score on the instance at Key.
type Change struct {
	Key      string
	MemberID int64
	Score    int64
	Set      bool
}

// Profile is what a board shows of a member.
type Profile struct {
	Nickname  string
	AvatarURL string
}

// Profiles loads members' public profiles.
type Profiles interface {
	Profiles(ctx context.Context, ids []int64) (map[int64]Profile, error)
}

// Service serves the registered boards.
type Service struct {
	Cache    Cache
	Profiles Profiles
	Clock    domain.Clock
	// TTL bounds how long a built instance is trusted; after it the board
	// is rebuilt from SQL, which also picks up earnings from flows that do
	// not bump the cache. 0 means 10 minutes.
	TTL time.Duration

	mu     sync.RWMutex
	boards map[string]Board
}

// Register adds a board; a name registered twice is a wiring mistake.
func (s *Service) Register(b Board) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.boards == nil {
		s.boards = map[string]Board{}
	}
	if _, dup := s.boards[b.Name()]; dup {
		panic("leaderboard: board " + b.Name() + " registered twice")
	}
	s.boards[b.Name()] = b
}

// Names lists the registered boards.
func (s *Service) Names() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []string
	for n := range s.boards {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func (s *Service) board(name string) (Board, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	b, ok := s.boards[name]
	if !ok {
		return nil, domain.Errorf(domain.NotFound, "no leaderboard %q (boards: %s)", name, strings.Join(s.namesLocked(), ", "))
	}
	return b, nil
}

func (s *Service) namesLocked() []string {
	var out []string
	for n := range s.boards {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func key(b Board, now time.Time) string { return b.Name() + ":" + b.Period(now) }

func (s *Service) ttl() time.Duration {
	if s.TTL > 0 {
		return s.TTL
	}
	return 10 * time.Minute
}

// Add bumps a member's score on board after a commit. Errors are dropped:
// the board is rebuilt from SQL when its cache is gone.
func (s *Service) Add(ctx context.Context, board string, memberID, delta int64) {
	if b, err := s.board(board); err == nil {
		_ = s.Cache.Incr(ctx, key(b, s.Clock.Now()), memberID, delta)
	}
}

// Set sets a member's score on board after a commit.
func (s *Service) Set(ctx context.Context, board string, memberID, score int64) {
	if b, err := s.board(board); err == nil {
		_ = s.Cache.Set(ctx, key(b, s.Clock.Now()), memberID, score)
	}
}

// Ranked is a shown entry.
type Ranked struct {
	Entry
	Name      string // masked
	AvatarURL string
}

// View is a board as a member sees it.
type View struct {
	Board  string
	Period string
	Top    []Ranked
	Me     Entry // Rank 0 when unranked
}

// Top returns the first limit (1–100) entries of board and the caller's own
// rank and score.
func (s *Service) Top(ctx context.Context, board string, memberID int64, limit int) (View, error) {
	b, err := s.board(board)
	if err != nil {
		return View{}, err
	}
	if limit < 1 || limit > 100 {
		return View{}, domain.FieldError("limit", "must be an integer from 1 to 100")
	}
	now := s.Clock.Now()
	k := key(b, now)
	top, ok, err := s.Cache.Top(ctx, k, limit)
	if err != nil || !ok {
		scores, serr := b.Scores(ctx, now)
		if serr != nil {
			return View{}, serr
		}
		if err := s.Cache.Fill(ctx, k, scores, s.ttl()); err != nil {
			return s.fromScores(ctx, b, now, scores, memberID, limit)
		}
		if top, _, err = s.Cache.Top(ctx, k, limit); err != nil {
			return s.fromScores(ctx, b, now, scores, memberID, limit)
		}
	}
	me, found, err := s.Cache.Own(ctx, k, memberID)
	if err != nil {
		return View{}, err
	}
	if !found {
		me = Entry{MemberID: memberID}
	}
	return s.view(ctx, b, now, top, me)
}

// fromScores answers from SQL alone when Redis cannot be written.
func (s *Service) fromScores(ctx context.Context, b Board, now time.Time, scores map[int64]int64, memberID int64, limit int) (View, error) {
	top, me := topOf(scores, memberID, limit)
	return s.view(ctx, b, now, top, me)
}

// topOf is the first limit entries of scores, ranked as Rank does, and
// the member's own entry (Rank 0 when unranked).
func topOf(scores map[int64]int64, memberID int64, limit int) (top []Entry, me Entry) {
	all := Rank(scores)
	me = Entry{MemberID: memberID}
	for _, e := range all {
		if e.MemberID == memberID {
			me = e
		}
	}
	if len(all) > limit {
		all = all[:limit]
	}
	return all, me
}

// Rank orders scores the way the cache does: score descending, then member
// id descending; members with score ≤ 0 are left out.
func Rank(scores map[int64]int64) []Entry {
	var out []Entry
	for m, sc := range scores {
		if sc > 0 {
			out = append(out, Entry{MemberID: m, Score: sc})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Score != out[j].Score {
			return out[i].Score > out[j].Score
		}
		return out[i].MemberID > out[j].MemberID
	})
	for i := range out {
		out[i].Rank = i + 1
	}
	return out
}

func (s *Service) view(ctx context.Context, b Board, now time.Time, top []Entry, me Entry) (View, error) {
	ids := make([]int64, 0, len(top))
	for _, e := range top {
		ids = append(ids, e.MemberID)
	}
	profiles, err := s.Profiles.Profiles(ctx, ids)
	if err != nil {
		return View{}, err
	}
	v := View{Board: b.Name(), Period: b.Period(now), Top: make([]Ranked, 0, len(top)), Me: me}
	for _, e := range top {
		p := profiles[e.MemberID]
		v.Top = append(v.Top, Ranked{Entry: e, Name: MaskName(p.Nickname), AvatarURL: p.AvatarURL})
	}
	return v, nil
}

// MaskName keeps the first character: "张三丰" → "张**"; no name → "微信用户".
func MaskName(n string) string {
	n = strings.TrimSpace(n)
	if n == "" {
		return "微信用户"
	}
	r, _ := utf8.DecodeRuneInString(n)
	return string(r) + "**"
}
