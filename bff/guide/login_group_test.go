package guide_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/jifen/jifen/cmd/jifen/app/apptest"
	"github.com/jifen/jifen/configs"
	"github.com/jifen/jifen/domain/orders"
	"github.com/jifen/jifen/wechat/sim"
)

type loginCase struct {
	name, user, scene, invite string
}

type loginAnswer struct {
	status  int
	access  string
	refresh string
	id      int64
	isNew   bool
}

// Concurrent logins, committed in groups (members.group_commits) or each
// alone, give every shopper what a login alone gives: their own member and
// session; the WeCom contact kept for their unionid bound to its guide;
// the guide of the scene they came by; the inviter of their code; the
// order paid before they existed applied to them. A returning member stays
// who they were, and two first logins of one user make one member.
func TestConcurrentLoginsGetWhatALoginAloneGets(t *testing.T) {
	t.Parallel()
	for _, grouped := range []bool{true, false} {
		t.Run(fmt.Sprintf("grouped=%v", grouped), func(t *testing.T) {
			t.Parallel()
			w := setup(t, 1000, func(c *configs.Config) {
				if !grouped {
					c.Members.GroupCommits = 0
				}
			})
			h := w.h
			inviterTok, _, inviterID := h.Login(apptest.UniqueUser("inviter"))
			r := h.Do("GET", "/api/v1/shopper/referral", nil, apptest.Auth(inviterTok)...)
			code, _ := r.JSON()["code"].(string)
			if r.Status != 200 || code == "" {
				t.Fatalf("inviter's code: %d %s", r.Status, r.Body)
			}
			back := apptest.UniqueUser("back")
			_, _, backID := h.Login(back)

			contact, scene, invited, ordered, twice :=
				apptest.UniqueUser("contact"), apptest.UniqueUser("scene"), apptest.UniqueUser("invited"), apptest.UniqueUser("ordered"), apptest.UniqueUser("twice")
			w.contactAdded(w.b.UserID, sim.ExternalUserID(contact))
			out, err := h.App.Orders.Handle(context.Background(), orders.Event{EventID: "e-" + ordered, Type: orders.Paid, OrderID: "o-" + ordered,
				Member: orders.MemberRef{OpenID: "sim-openid-" + ordered}, OccurredAt: h.Clock.Now(), TotalFen: 10000,
				Lines: []orders.Line{{SKU: "s", Category: "A", Qty: 1, AmountFen: 10000}}})
			if err != nil || out.Status != orders.Unmatched {
				t.Fatalf("order before the member exists: %+v %v", out, err)
			}

			cases := []loginCase{{name: "contact", user: contact}, {name: "scene", user: scene, scene: w.a.Scene},
				{name: "invited", user: invited, invite: code}, {name: "ordered", user: ordered}, {name: "back", user: back},
				{name: "twice-1", user: twice}, {name: "twice-2", user: twice}}
			for i := range 24 {
				cases = append(cases, loginCase{name: fmt.Sprint("plain-", i), user: apptest.UniqueUser("plain")})
			}
			groups0, logins0 := h.App.Members.GroupStats()
			answers := make([]loginAnswer, len(cases))
			var wg sync.WaitGroup
			gate := make(chan struct{})
			for i, c := range cases {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-gate
					r := h.Do("POST", "/api/v1/shopper/login", map[string]string{"code": h.Code(c.user), "scene": c.scene, "invite_code": c.invite})
					var body struct {
						AccessToken  string `json:"access_token"`
						RefreshToken string `json:"refresh_token"`
						IsNew        bool   `json:"is_new"`
						Member       struct {
							ID int64 `json:"id"`
						} `json:"member"`
					}
					if r.Status == http.StatusOK {
						r.Decode(t, &body)
					}
					answers[i] = loginAnswer{status: r.Status, access: body.AccessToken, refresh: body.RefreshToken, id: body.Member.ID, isNew: body.IsNew}
				}()
			}
			close(gate)
			wg.Wait()

			byName := map[string]loginAnswer{}
			userOf := map[int64]string{} // member id → simulator user
			for i, a := range answers {
				c := cases[i]
				byName[c.name] = a
				if a.status != 200 || a.id == 0 || a.access == "" || a.refresh == "" {
					t.Fatalf("%s: %+v", c.name, a)
				}
				if u, ok := userOf[a.id]; ok && u != c.user {
					t.Fatalf("%s got member %d, another user's", c.name, a.id)
				}
				userOf[a.id] = c.user
				// The access token is the member's own.
				me := h.Do("GET", "/api/v1/shopper/me", nil, apptest.Auth(a.access)...)
				if me.Status != 200 || int64(me.JSON()["member"].(map[string]any)["id"].(float64)) != a.id {
					t.Fatalf("%s: /me with its token: %d %s, want member %d", c.name, me.Status, me.Body, a.id)
				}
				// So is the refresh token, its session stored with the login.
				rr := h.Do("POST", "/api/v1/shopper/token/refresh", map[string]string{"refresh_token": a.refresh})
				if rr.Status != 200 {
					t.Fatalf("%s: refresh: %d %s", c.name, rr.Status, rr.Body)
				}
			}
			if b := byName["back"]; b.id != backID || b.isNew {
				t.Fatalf("returning member: %+v, want member %d, not new", b, backID)
			}
			t1, t2 := byName["twice-1"], byName["twice-2"]
			if t1.id != t2.id || t1.isNew == t2.isNew {
				t.Fatalf("two first logins of one user: %+v and %+v, want one member, new once", t1, t2)
			}
			for name, a := range byName {
				if name != "back" && name[:5] != "twice" && !a.isNew {
					t.Fatalf("%s: not new", name)
				}
			}
			// 2 members before, and one per new user since (not "back", one
			// for "twice").
			members := int64(2 + len(cases) - 2)
			if n := count(t, h, "members"); n != members {
				t.Fatalf("%d members, want %d", n, members)
			}
			w.customerOf(w.bTok, byName["contact"].id, "wecom")
			w.customerOf(w.aTok, byName["scene"].id, "scene")
			if n := count(t, h, "guide_customers"); n != 2 {
				t.Fatalf("%d guide bindings, want the contact's and the scene's", n)
			}
			if n := count(t, h, "guide_contacts"); n != 0 {
				t.Fatalf("%d contacts still kept after the login", n)
			}
			ov := h.Do("GET", "/api/v1/shopper/referral", nil, apptest.Auth(inviterTok)...)
			if lv1 := ov.JSON()["invited"].(map[string]any)["level1"].(float64); lv1 != 1 {
				t.Fatalf("inviter %d invited %v, want 1: %s", inviterID, lv1, ov.Body)
			}
			if n := count(t, h, "referrals"); n != 1 {
				t.Fatalf("%d referral bindings, want 1", n)
			}
			op := h.Do("GET", "/api/v1/shopper/orders/o-"+ordered+"/points", nil, apptest.Auth(byName["ordered"].access)...)
			if op.Status != 200 {
				t.Fatalf("the order paid before the first login: %d %s", op.Status, op.Body)
			}
			// Every new member's unionid is remembered once.
			if n := count(t, h, "referral_identities"); n != members {
				t.Fatalf("%d identities remembered, want %d", n, members)
			}
			groups, logins := h.App.Members.GroupStats()
			groups, logins = groups-groups0, logins-logins0
			t.Logf("%d groups answered %d of %d logins", groups, logins, len(cases))
			if grouped && logins <= groups {
				t.Fatalf("%d groups answered %d logins: none held several", groups, logins)
			}
			if !grouped && groups != 0 {
				t.Fatalf("grouping off, yet %d groups", groups)
			}
		})
	}
}
