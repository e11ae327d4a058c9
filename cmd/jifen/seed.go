package main

import (
	"bytes"
	"context"
	cryptorand "crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/crypto/bcrypt"

	"github.com/jifen/jifen/bff/auth"
	"github.com/jifen/jifen/bff/hooks"
	"github.com/jifen/jifen/cmd/jifen/app"
	"github.com/jifen/jifen/configs"
	"github.com/jifen/jifen/domain"
)

// seedOptions are the flags of `jifen seed`.
type seedOptions struct {
	Members int
	Days    int
	Seed    uint64
	Staging bool
}

// seedCmd fills a database with demo data through the service's own API.
func (c *cli) seedCmd() *cobra.Command {
	var o seedOptions
	cmd := &cobra.Command{
		Use:   "seed",
		Short: "Fill the database with demo members and a few months of their activity (for trying the console and reminders)",
		Long: `seed fills the database with realistic demo data: stores and guides, members
(some bound to a guide, some invited by another member) with phones, a
migrated opening balance of which part expires within the next weeks, and
--days of history: daily sign-ins, paid orders, lottery draws and guide
grants. Everything goes through the service's own API (in-process, on a
clock that walks through the past days), so the ledger, the journal and
the analytics are exactly what real use would have made. Run it before
serve on the embedded default; production mode (mysql.dsn) needs --staging.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, _, err := c.config()
			if err != nil {
				return err
			}
			return status(seed(cmd.Context(), cfg, o, c.stdout, c.stderr))
		},
	}
	cmd.Flags().IntVar(&o.Members, "members", 200, "how many demo members (1–100000)")
	cmd.Flags().IntVar(&o.Days, "days", 90, "days of history up to now (1–300)")
	cmd.Flags().Uint64Var(&o.Seed, "seed", 1, "random seed: the same seed on an empty database makes the same history")
	cmd.Flags().BoolVar(&o.Staging, "staging", false, "allow production mode (mysql.dsn set): only ever on a staging database")
	return cmd
}

// The streams of the seed's two random sources (PCG's second word): the
// seeder's choices and the lottery's chances, each from --seed alone.
const (
	seedStream        = 0x6a6966656e2d7364 // "jifen-sd"
	seedLotteryStream = 0x6a6966656e2d6c74 // "jifen-lt"
)

// seedRunID names one run of seed in the names it gives (stores, guides,
// members, orders): the second it started and 32 random bits, so runs on
// one database never collide, even within a second. The bits come from
// crypto/rand, not from --seed, which would give a second run with the
// same seed the names of the first.
func seedRunID(now time.Time) string {
	var b [4]byte
	_, _ = cryptorand.Read(b[:]) // never fails (crypto/rand.Read)
	return strconv.FormatInt(now.Unix(), 36) + hex.EncodeToString(b[:])
}

// lockedRandBelow is a lottery.Service.Rand drawing from r, which is not
// safe for concurrent use on its own (draws are committed by a group's
// goroutine).
func lockedRandBelow(r *rand.Rand) func(n int64) int64 {
	var mu sync.Mutex
	return func(n int64) int64 {
		mu.Lock()
		defer mu.Unlock()
		return r.Int64N(n)
	}
}

// The odds of a member's activity on one day of the history.
const (
	seedSigninOdds = 0.35
	seedOrderOdds  = 0.04
	seedDrawOdds   = 0.08
)

func seed(ctx context.Context, cfg *configs.Config, o seedOptions, stdout, stderr io.Writer) int {
	fail := func(format string, args ...any) int {
		fmt.Fprintf(stderr, "jifen seed: "+format+"\n", args...)
		return 1
	}
	if o.Members < 1 || o.Members > 100000 {
		fmt.Fprintln(stderr, "jifen seed: --members must be from 1 to 100000")
		return 2
	}
	if o.Days < 1 || o.Days > 300 {
		fmt.Fprintln(stderr, "jifen seed: --days must be from 1 to 300")
		return 2
	}
	if cfg.Production() && !o.Staging {
		fmt.Fprintln(stderr, "jifen seed: refusing to put demo members into a production database (mysql.dsn is set); add --staging if this is a staging database")
		return 2
	}
	// The demo users log in hundreds of times a minute from one address,
	// and WeChat is the in-process simulator reached without the network.
	cfg.RateLimit.PerIPPerMinute, cfg.RateLimit.PerMemberPerMinute = math.MaxInt32, math.MaxInt32
	cfg.WeChat.SimulatorRoutes = false
	// The seed's console calls are an admin's (consoleLogin): a console
	// token is good only for a user console.users names, so this process
	// (which serves nobody else) names "seed", with a password no one has.
	hash, err := bcrypt.GenerateFromPassword([]byte(auth.NewSessionID()+auth.NewSessionID()), bcrypt.MinCost)
	if err != nil {
		return fail("%v", err)
	}
	cfg.Console.Users = append(cfg.Console.Users, configs.ConsoleUser{Username: "seed", Role: "admin", PasswordHash: configs.Secret(hash)})
	st, err := app.OpenStores(ctx, cfg, false)
	if err != nil {
		return fail("%v", err)
	}
	defer st.Close()
	// The history ends now on the service's clock (clock.offset), the day
	// serve will see.
	wall := domain.NewOffsetClock(domain.SystemClock{}, cfg.Clock.Offset).Now()
	// The opening balances are migrated 355 days ago, so those of them that
	// expire after 12 months (the default policies) run out in 10 days.
	clock := domain.NewFakeClock(wall.Add(-355 * 24 * time.Hour))
	a, err := app.New(cfg, st, app.Options{Clock: clock, Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	if err != nil {
		return fail("%v", err)
	}
	// Every random choice — the seed's and the lottery's — comes from
	// o.Seed alone, so the same seed on an empty database makes the same
	// history (dated back from today).
	s := &seeder{h: a.Handler, clock: clock, rnd: rand.New(rand.NewPCG(o.Seed, seedStream)), run: seedRunID(wall),
		secret: []byte(cfg.Orders.WebhookSecret), tokens: a.Tokens}
	a.Lottery.Rand = lockedRandBelow(rand.New(rand.NewPCG(o.Seed, seedLotteryStream)))
	if a.Sim != nil {
		s.phoneCode = func(phone string) string { return a.Sim.PhoneCode(phone, clock.Now()) }
	}
	if err := s.setup(o.Members, wall.Add(time.Duration(o.Days)*-24*time.Hour), wall); err != nil {
		return fail("%v", err)
	}
	bar := newProgress(stderr, "seed: day", o.Days)
	for d := o.Days; d >= 1; d-- {
		if err := ctx.Err(); err != nil {
			return fail("interrupted: %v", err)
		}
		// 09:00–19:00 Shanghai of that day: the shop hours.
		day := domain.DayOf(wall.Add(time.Duration(d) * -24 * time.Hour))
		clock.Set(time.Date(day.Year, day.Month, day.Day, 9, 0, 0, 0, domain.Shanghai))
		// The guides' weekly grants fall every 7th day back from today,
		// whatever the weekday: the same seed makes the same history
		// whenever it runs.
		if err := s.day(d%7 == 0); err != nil {
			return fail("%s: %v", day, err)
		}
		bar.step(o.Days - d + 1)
	}
	bar.done()
	clock.Set(wall)
	if _, err := a.Analytics.Run(ctx); err != nil {
		return fail("analytics: %v", err)
	}
	fmt.Fprintf(stdout, "seeded %d members over %d days: %d sign-ins, %d paid orders, %d draws, %d guide grants, %d opening balances (run %s)\n",
		len(s.members), o.Days, s.counts.signins, s.counts.orders, s.counts.draws, s.counts.grants, s.counts.balances, s.run)
	fmt.Fprintln(stdout, "members are named seed-"+s.run+"-<n> (simulator users), phones 139…; see them in the console")
	return 0
}

// seedMember is one demo member.
type seedMember struct {
	user    string
	id      int64
	refresh string
	token   string
	guide   int // index into guides, -1 for none
}

type seedGuide struct {
	userid string
	token  string
}

// seeder drives the service's handler as the mini-program, the console,
// the guides and the order system would.
type seeder struct {
	h      http.Handler
	clock  *domain.FakeClock
	rnd    *rand.Rand
	run    string
	secret []byte
	tokens *auth.Tokens
	// phoneCode issues a phone code in the in-process simulator (nil with a
	// simulator elsewhere: a hand-written code, which works once).
	phoneCode func(phone string) string
	nonce     int
	admin     string
	lottery   int64
	members   []*seedMember
	guides    []seedGuide
	counts    struct{ signins, orders, draws, grants, balances int }
}

// call sends one request; any answer but 2xx is an error naming it.
func (s *seeder) call(method, path, token string, body any, out any, headers ...string) error {
	var raw []byte
	if body != nil {
		var err error
		if raw, err = json.Marshal(body); err != nil {
			return err
		}
	}
	req := httptest.NewRequest(method, path, bytes.NewReader(raw))
	req.RemoteAddr = "127.0.0.1:1"
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	s.h.ServeHTTP(rec, req)
	if rec.Code >= 300 {
		return fmt.Errorf("%s %s: %d %s", method, path, rec.Code, bytes.TrimSpace(rec.Body.Bytes()))
	}
	if out != nil {
		return json.Unmarshal(rec.Body.Bytes(), out)
	}
	return nil
}

func (s *seeder) next() string { s.nonce++; return strconv.Itoa(s.nonce) }

// consoleLogin gives the seed an admin's console token at the clock's
// time, signed as console login would (no password: staging has no demo
// users); the audit log names the actor "seed".
func (s *seeder) consoleLogin() error {
	var err error
	s.admin, err = s.tokens.Sign(auth.Console, "seed", "admin")
	return err
}

// setup makes the stores, guides, an earning rule, the lottery (open from
// before historyStarts until after now) and the members with their opening
// balances, at the clock's (past) time.
func (s *seeder) setup(members int, historyStarts, now time.Time) error {
	if err := s.consoleLogin(); err != nil {
		return fmt.Errorf("console token: %w", err)
	}
	var scenes []string
	for i, name := range []string{"静安店", "徐汇店", "浦东店"} {
		var store struct {
			Store struct {
				ID int64 `json:"id"`
			} `json:"store"`
		}
		if err := s.call("POST", "/api/v1/console/stores", s.admin, map[string]any{"name": name + " " + s.run, "robot_key": "seed-robot-" + s.run + "-" + strconv.Itoa(i)}, &store); err != nil {
			return err
		}
		for j := 0; j < 2; j++ {
			g := seedGuide{userid: fmt.Sprintf("seed-%s-guide-%d-%d", s.run, i, j)}
			var out struct {
				Guide struct {
					Scene string `json:"scene"`
				} `json:"guide"`
			}
			if err := s.call("POST", "/api/v1/console/guides", s.admin, map[string]any{"userid": g.userid, "name": fmt.Sprintf("导购%d-%d", i+1, j+1),
				"store_id": store.Store.ID, "monthly_budget": 20000}, &out); err != nil {
				return err
			}
			scenes = append(scenes, out.Guide.Scene)
			s.guides = append(s.guides, g)
		}
	}
	if err := s.call("POST", "/api/v1/console/rules", s.admin, map[string]any{"name": "演示：每元 1 积分 " + s.run, "trigger": "order_paid",
		"effect": map[string]any{"kind": "rate", "brackets": []map[string]any{{"from_fen": 0, "per_mille": 1000}}}}, nil); err != nil {
		return err
	}
	var lot struct {
		Campaign struct {
			ID int64 `json:"id"`
		} `json:"campaign"`
	}
	if err := s.call("POST", "/api/v1/console/lottery/campaigns", s.admin, map[string]any{"name": "演示转盘 " + s.run,
		"starts_at": historyStarts.Add(-24 * time.Hour).UTC().Format(time.RFC3339), "ends_at": now.Add(60 * 24 * time.Hour).UTC().Format(time.RFC3339),
		"cost_points": 20, "free_per_day": 1, "limit_daily": 3, "pity_after": 8,
		"prizes": []map[string]any{
			{"name": "50积分", "kind": "points", "points": 50, "weight": 15, "stock": 100000},
			{"name": "谢谢参与", "kind": "nothing", "weight": 85},
		}}, &lot); err != nil {
		return err
	}
	s.lottery = lot.Campaign.ID
	var codes []string
	for i := 0; i < members; i++ {
		m := &seedMember{user: fmt.Sprintf("seed-%s-%d", s.run, i+1), guide: -1}
		login := map[string]string{"code": "sim:" + m.user + ":" + s.next()}
		switch r := s.rnd.Float64(); {
		case r < 0.25:
			m.guide = s.rnd.IntN(len(scenes))
			login["scene"] = scenes[m.guide]
		case r < 0.45 && len(codes) > 0:
			login["invite_code"] = codes[s.rnd.IntN(len(codes))]
		}
		if err := s.login(m, login); err != nil {
			return err
		}
		if err := s.bindPhone(m); err != nil {
			return err
		}
		if i%5 == 0 {
			var ref struct {
				Code string `json:"code"`
			}
			if err := s.call("GET", "/api/v1/shopper/referral", m.token, nil, &ref); err != nil {
				return err
			}
			codes = append(codes, ref.Code)
		}
		if s.rnd.Float64() < 0.7 {
			delta := 100 + 50*s.rnd.IntN(15)
			if err := s.call("POST", fmt.Sprintf("/api/v1/console/members/%d/adjustments", m.id), s.admin,
				map[string]any{"delta": delta, "reason": "历史积分迁移"}, nil, "Idempotency-Key", "seed-open-"+m.user); err != nil {
				return err
			}
			s.counts.balances++
		}
		s.members = append(s.members, m)
	}
	return nil
}

// bindPhone binds a random 139 number to m (getPhoneNumber); a number an
// earlier run gave another member is refused (409), so it tries others,
// drawn from the process's random source: a run with the seed of an earlier
// run on the database draws that run's numbers first, and retries from the
// seed's source would walk into the numbers later runs took.
func (s *seeder) bindPhone(m *seedMember) error {
	var err error
	for try := 0; try < 5; try++ {
		n := s.rnd.IntN(1e8)
		if try > 0 {
			n = rand.IntN(1e8) // the process's own source
		}
		phone := fmt.Sprintf("139%08d", n)
		code := "sim-phone:" + phone
		if s.phoneCode != nil {
			code = s.phoneCode(phone)
		}
		if err = s.call("POST", "/api/v1/shopper/phone", m.token, map[string]string{"code": code}, nil); err == nil || !strings.Contains(err.Error(), ": 409 ") {
			return err
		}
	}
	return err
}

// login logs m in (the mini-program's wx.login) and keeps its tokens.
func (s *seeder) login(m *seedMember, body map[string]string) error {
	var out struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
		Member       struct {
			ID int64 `json:"id"`
		} `json:"member"`
	}
	if err := s.call("POST", "/api/v1/shopper/login", "", body, &out); err != nil {
		return err
	}
	m.token, m.refresh, m.id = out.AccessToken, out.RefreshToken, out.Member.ID
	return nil
}

// day plays one day of the history: each member opens the mini-program
// with some odds, then signs in, orders or draws; on a grants day each
// guide grants once.
func (s *seeder) day(grants bool) error {
	if err := s.consoleLogin(); err != nil {
		return err
	}
	for _, m := range s.members {
		signin, order, draw := s.rnd.Float64() < seedSigninOdds, s.rnd.Float64() < seedOrderOdds, s.rnd.Float64() < seedDrawOdds
		if !signin && !order && !draw {
			continue
		}
		s.clock.Advance(time.Duration(s.rnd.IntN(30)) * time.Second)
		if err := s.login(m, map[string]string{"code": "sim:" + m.user + ":" + s.next()}); err != nil {
			return err
		}
		if signin {
			if err := s.call("POST", "/api/v1/shopper/signin", m.token, nil, nil); err != nil {
				return err
			}
			s.counts.signins++
		}
		if order {
			if err := s.order(m); err != nil {
				return err
			}
			s.counts.orders++
		}
		if draw {
			// A draw beyond the day's limit or without the points is refused
			// (422) as it would be for a real shopper: that is not an error here.
			if err := s.call("POST", fmt.Sprintf("/api/v1/shopper/lottery/campaigns/%d/draws", s.lottery), m.token, nil, nil,
				"Idempotency-Key", "seed-draw-"+s.next()); err == nil {
				s.counts.draws++
			}
		}
	}
	if !grants {
		return nil
	}
	return s.grants()
}

// order posts a signed paid-order event, as the order system does.
func (s *seeder) order(m *seedMember) error {
	total := 1000 * (5 + s.rnd.IntN(45)) // 50–500 yuan, in fen
	now := s.clock.Now()
	body, err := json.Marshal(map[string]any{"event_id": "seed-ev-" + s.run + "-" + s.next(), "type": "paid",
		"order_id": "SEED-" + s.run + "-" + s.next(), "member": map[string]any{"openid": "sim-openid-" + m.user},
		"store_id": "S001", "channel": "mini", "occurred_at": now.UTC().Format(time.RFC3339), "total_fen": total,
		"lines": []map[string]any{{"sku": "DEMO", "category": "A", "qty": 1, "amount_fen": total}}})
	if err != nil {
		return err
	}
	ts := strconv.FormatInt(now.Unix(), 10)
	return s.call("POST", "/api/v1/hooks/orders", "", json.RawMessage(body), nil,
		"X-Jifen-Timestamp", ts, "X-Jifen-Signature", hooks.Sign(s.secret, ts, body))
}

// grants: once a week each guide thanks one of the members bound to them.
func (s *seeder) grants() error {
	for gi := range s.guides {
		g := &s.guides[gi]
		var bound []*seedMember
		for _, m := range s.members {
			if m.guide == gi {
				bound = append(bound, m)
			}
		}
		if len(bound) == 0 {
			continue
		}
		var out struct {
			AccessToken string `json:"access_token"`
		}
		if err := s.call("POST", "/api/v1/guide/login", "", map[string]string{"code": "sim-wecom:" + g.userid + ":" + s.next()}, &out); err != nil {
			return err
		}
		m := bound[s.rnd.IntN(len(bound))]
		if err := s.call("POST", "/api/v1/guide/grants", out.AccessToken, map[string]any{"member_id": m.id, "points": 20 + 10*s.rnd.IntN(5), "reason": "到店体验"},
			nil, "Idempotency-Key", "seed-grant-"+s.next()); err != nil {
			return err
		}
		s.counts.grants++
	}
	return nil
}
