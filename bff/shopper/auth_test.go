package shopper_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/jifen/jifen/cmd/jifen/app/apptest"
)

func countRows(t *testing.T, h *apptest.Harness, table string) int64 {
	t.Helper()
	var n int64
	if err := h.Env.DB.Conn(context.Background()).Table(table).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

func TestLoginCreatesThenFindsMember(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	user := apptest.UniqueUser("login")
	r := h.Do("POST", "/api/v1/shopper/login", map[string]string{"code": h.Code(user)})
	if r.Status != 200 {
		t.Fatalf("status %d %s", r.Status, r.Body)
	}
	first := r.JSON()
	if first["is_new"] != true || first["expires_in"].(float64) != 900 {
		t.Fatalf("first login: %s", r.Body)
	}
	if strings.Contains(string(r.Body), "session_key") || strings.Contains(string(r.Body), "openid") {
		t.Fatalf("login leaks WeChat identifiers: %s", r.Body)
	}
	r2 := h.Do("POST", "/api/v1/shopper/login", map[string]string{"code": h.Code(user)})
	second := r2.JSON()
	if second["is_new"] != false {
		t.Fatalf("second login is_new: %s", r2.Body)
	}
	id1 := first["member"].(map[string]any)["id"]
	id2 := second["member"].(map[string]any)["id"]
	if id1 != id2 {
		t.Fatalf("same WeChat user got members %v and %v", id1, id2)
	}
	me := h.Do("GET", "/api/v1/shopper/me", nil, apptest.Auth(second["access_token"].(string))...)
	if me.Status != 200 || me.JSON()["member"].(map[string]any)["id"] != id1 {
		t.Fatalf("me: %d %s", me.Status, me.Body)
	}
	if got := countRows(t, h, "members"); got != 1 {
		t.Fatalf("members = %d, want 1", got)
	}
}

func signWith(t *testing.T, method jwt.SigningMethod, key any, claims jwt.MapClaims, kid string) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, claims)
	tok.Header["kid"] = kid
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestAccessTokenChecks(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	access, _, id := h.Login(apptest.UniqueUser("tok"))
	key := []byte(h.Config.Auth.JWTKey)
	now := h.Clock.Now()
	claims := func(aud string, exp time.Time) jwt.MapClaims {
		return jwt.MapClaims{"iss": "jifen", "sub": itoa(id), "aud": []string{aud}, "exp": exp.Unix(), "iat": now.Unix()}
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(access, ".")
	tampered := parts[0] + "." + parts[1] + "x." + parts[2]
	none, _ := jwt.NewWithClaims(jwt.SigningMethodNone, claims("shopper", now.Add(time.Hour))).SignedString(jwt.UnsafeAllowNoneSignatureType)

	cases := []struct {
		name, header string
		want         int
	}{
		{"valid", "Bearer " + access, 200},
		{"missing", "", 401},
		{"not bearer", "Basic abc", 401},
		{"garbage", "Bearer abc.def.ghi", 401},
		{"tampered payload", "Bearer " + tampered, 401},
		{"alg none", "Bearer " + none, 401},
		{"RS256 instead of HS256", "Bearer " + signWith(t, jwt.SigningMethodRS256, rsaKey, claims("shopper", now.Add(time.Hour)), "dev"), 401},
		{"wrong audience", "Bearer " + signWith(t, jwt.SigningMethodHS256, key, claims("console", now.Add(time.Hour)), "dev"), 401},
		{"unknown kid", "Bearer " + signWith(t, jwt.SigningMethodHS256, key, claims("shopper", now.Add(time.Hour)), "other"), 401},
		{"other key", "Bearer " + signWith(t, jwt.SigningMethodHS256, []byte("another-secret-another-secret-123456"), claims("shopper", now.Add(time.Hour)), "dev"), 401},
		{"expired", "Bearer " + signWith(t, jwt.SigningMethodHS256, key, claims("shopper", now.Add(-time.Second)), "dev"), 401},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var hdr []string
			if tc.header != "" {
				hdr = []string{"Authorization", tc.header}
			}
			r := h.Do("GET", "/api/v1/shopper/me", nil, hdr...)
			if r.Status != tc.want {
				t.Fatalf("status %d, want %d: %s", r.Status, tc.want, r.Body)
			}
			if tc.want == 401 && r.ErrorCode() != "UNAUTHORIZED" {
				t.Fatalf("error code %q", r.ErrorCode())
			}
		})
	}
	// The shopper's token, verified (and remembered) above, is still
	// refused where another audience is required.
	for _, path := range []string{"/api/v1/guide/me", "/api/v1/console/audit"} {
		if r := h.Do("GET", path, nil, apptest.Auth(access)...); r.Status != 401 || r.ErrorCode() != "UNAUTHORIZED" {
			t.Fatalf("a shopper's verified token on %s: %d %s, want 401", path, r.Status, r.Body)
		}
	}
	h.Clock.Advance(16 * time.Minute)
	if r := h.Do("GET", "/api/v1/shopper/me", nil, apptest.Auth(access)...); r.Status != 401 {
		t.Fatalf("token older than 15 minutes accepted: %d", r.Status)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestRefreshRotationAndReuse(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	_, refresh, _ := h.Login(apptest.UniqueUser("refresh"))
	r := h.Do("POST", "/api/v1/shopper/token/refresh", map[string]string{"refresh_token": refresh})
	if r.Status != 200 {
		t.Fatalf("refresh: %d %s", r.Status, r.Body)
	}
	next := r.JSON()["refresh_token"].(string)
	if next == refresh {
		t.Fatal("refresh token not rotated")
	}
	access := r.JSON()["access_token"].(string)
	if me := h.Do("GET", "/api/v1/shopper/me", nil, apptest.Auth(access)...); me.Status != 200 {
		t.Fatalf("new access token refused: %d", me.Status)
	}
	// Replaying the spent token revokes the whole family, the new one too.
	if r := h.Do("POST", "/api/v1/shopper/token/refresh", map[string]string{"refresh_token": refresh}); r.Status != 401 {
		t.Fatalf("reuse: %d %s", r.Status, r.Body)
	}
	if r := h.Do("POST", "/api/v1/shopper/token/refresh", map[string]string{"refresh_token": next}); r.Status != 401 {
		t.Fatalf("family not revoked after reuse: %d %s", r.Status, r.Body)
	}
	if r := h.Do("POST", "/api/v1/shopper/token/refresh", map[string]string{"refresh_token": "made-up"}); r.Status != 401 {
		t.Fatalf("unknown refresh token: %d", r.Status)
	}
}

func TestLogoutRevokesRefresh(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	_, refresh, _ := h.Login(apptest.UniqueUser("logout"))
	if r := h.Do("POST", "/api/v1/shopper/logout", map[string]string{"refresh_token": refresh}); r.Status != http.StatusNoContent {
		t.Fatalf("logout: %d %s", r.Status, r.Body)
	}
	if r := h.Do("POST", "/api/v1/shopper/token/refresh", map[string]string{"refresh_token": refresh}); r.Status != 401 {
		t.Fatalf("refresh after logout: %d", r.Status)
	}
}

// A logout ends the login's access tokens at once, not when they expire:
// the one in hand and one issued by an earlier refresh. Other logins of
// the same member keep working. With Redis wiped, or down, the database
// still knows.
func TestLogoutEndsTheAccessTokensAtOnce(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	user := apptest.UniqueUser("lgo")
	first, refresh, _ := h.Login(user)
	r := h.Do("POST", "/api/v1/shopper/token/refresh", map[string]string{"refresh_token": refresh})
	if r.Status != 200 {
		t.Fatalf("refresh: %d %s", r.Status, r.Body)
	}
	second, refresh := r.JSON()["access_token"].(string), r.JSON()["refresh_token"].(string)
	other, _, _ := h.Login(user) // the same member on another phone
	me := func(tok string) int { return h.Do("GET", "/api/v1/shopper/me", nil, apptest.Auth(tok)...).Status }
	if me(first) != 200 || me(second) != 200 {
		t.Fatal("tokens refused before the logout")
	}
	if r := h.Do("POST", "/api/v1/shopper/logout", map[string]string{"refresh_token": refresh}); r.Status != http.StatusNoContent {
		t.Fatalf("logout: %d %s", r.Status, r.Body)
	}
	check := func(when string) {
		t.Helper()
		for name, tok := range map[string]string{"current": second, "earlier": first} {
			if r := h.Do("GET", "/api/v1/shopper/me", nil, apptest.Auth(tok)...); r.Status != 401 || r.ErrorCode() != "UNAUTHORIZED" {
				t.Errorf("%s: the %s access token of a logged-out login: %d %s", when, name, r.Status, r.Body)
			}
		}
		if got := me(other); got != 200 {
			t.Errorf("%s: another login of the member: %d", when, got)
		}
	}
	check("after logout")
	if err := h.Env.Redis.DeleteAll(context.Background()); err != nil {
		t.Fatal(err)
	}
	check("Redis wiped")
	check("Redis rebuilt")
	if h.Env.Mini == nil {
		h.Env.Redis.C.Close() // real Redis in CI: stop talking to it
	} else {
		h.Env.Mini.Close()
	}
	check("Redis down")
}

// TestLogoutAndRefreshNeedARefreshToken: the spec requires refresh_token;
// a logout without one must not answer 204 as if a session had ended.
func TestLogoutAndRefreshNeedARefreshToken(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	_, refresh, _ := h.Login(apptest.UniqueUser("nort"))
	for _, path := range []string{"/api/v1/shopper/logout", "/api/v1/shopper/token/refresh"} {
		for _, body := range []string{`{}`, `{"refresh_token":""}`, `{"refresh_token":null}`} {
			r := h.DoInvalid("POST", path, body)
			if r.Status != http.StatusBadRequest || r.Fields()["refresh_token"] == nil {
				t.Errorf("%s %s: want 400 naming refresh_token, got %d %s", path, body, r.Status, r.Body)
			}
		}
	}
	if r := h.Do("POST", "/api/v1/shopper/token/refresh", map[string]string{"refresh_token": refresh}); r.Status != http.StatusOK {
		t.Fatalf("the session was touched by the refused requests: %d %s", r.Status, r.Body)
	}
}

func TestRefreshExpires(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	_, refresh, _ := h.Login(apptest.UniqueUser("rexp"))
	h.Clock.Advance(h.Config.Auth.RefreshTTL + time.Second)
	if r := h.Do("POST", "/api/v1/shopper/token/refresh", map[string]string{"refresh_token": refresh}); r.Status != 401 {
		t.Fatalf("expired refresh accepted: %d", r.Status)
	}
}

// TestLoginIsOneCommit: the refresh token is stored in the login's own
// transaction, so a login whose token cannot be stored leaves nothing
// behind — no new member, no returning member's last_active moved — and
// the next login works as a first one.
func TestLoginIsOneCommit(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	db := h.Env.DB.Conn(context.Background())
	user := apptest.UniqueUser("onecommit")
	if err := db.Exec("ALTER TABLE refresh_tokens RENAME TO refresh_tokens_away").Error; err != nil {
		t.Fatal(err)
	}
	r := h.Do("POST", "/api/v1/shopper/login", map[string]string{"code": h.Code(user)})
	if r.Status < 500 {
		t.Fatalf("login without a token table: %d %s, want a 5xx", r.Status, r.Body)
	}
	if got := countRows(t, h, "members"); got != 0 {
		t.Fatalf("a failed first login left %d members, want 0", got)
	}
	if err := db.Exec("ALTER TABLE refresh_tokens_away RENAME TO refresh_tokens").Error; err != nil {
		t.Fatal(err)
	}
	first := h.Do("POST", "/api/v1/shopper/login", map[string]string{"code": h.Code(user)})
	if first.Status != 200 || first.JSON()["is_new"] != true {
		t.Fatalf("first login after the failed one: %d %s", first.Status, first.Body)
	}
	var before time.Time
	if err := db.Table("members").Select("last_active").Take(&before).Error; err != nil {
		t.Fatal(err)
	}
	h.Clock.Advance(time.Hour)
	if err := db.Exec("ALTER TABLE refresh_tokens RENAME TO refresh_tokens_away").Error; err != nil {
		t.Fatal(err)
	}
	r = h.Do("POST", "/api/v1/shopper/login", map[string]string{"code": h.Code(user)})
	if r.Status < 500 {
		t.Fatalf("returning login without a token table: %d %s, want a 5xx", r.Status, r.Body)
	}
	var after time.Time
	if err := db.Table("members").Select("last_active").Take(&after).Error; err != nil {
		t.Fatal(err)
	}
	if !after.Equal(before) {
		t.Fatalf("a failed returning login moved last_active from %v to %v", before, after)
	}
	if err := db.Exec("ALTER TABLE refresh_tokens_away RENAME TO refresh_tokens").Error; err != nil {
		t.Fatal(err)
	}
	if got := countRows(t, h, "refresh_tokens"); got != 1 {
		t.Fatalf("refresh tokens = %d, want the one of the successful login", got)
	}
}
