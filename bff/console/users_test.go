package console_test

import (
	"net/http"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/jifen/jifen/cmd/jifen/app/apptest"
	"github.com/jifen/jifen/configs"
)

// A console token is good only while console.users names its user, with
// the role it has there: after a restart without the marketer and with
// admin made an auditor, the marketer's token is 401 and admin's writes
// are 403, though both tokens have not expired (auth.access_ttl may be up
// to a day).
func TestConsoleTokensFollowTheConsoleUsers(t *testing.T) {
	t.Parallel()
	before := apptest.New(t)
	marketer := apptest.Auth(before.ConsoleLogin("marketer"))
	admin := apptest.Auth(before.ConsoleLogin("admin"))
	hash, err := bcrypt.GenerateFromPassword([]byte("admin123"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	h := apptest.NewOn(t, before.Env, func(c *configs.Config) {
		c.Console.Users = []configs.ConsoleUser{{Username: "admin", Role: "auditor", PasswordHash: configs.Secret(hash)}}
	})
	if r := h.Do("GET", "/api/v1/console/stores", nil, marketer...); r.Status != http.StatusUnauthorized {
		t.Fatalf("removed user reads: %d %s", r.Status, r.Body)
	}
	if r := h.Do("POST", "/api/v1/console/stores", `{"name":"静安店"}`, marketer...); r.Status != http.StatusUnauthorized {
		t.Fatalf("removed user writes: %d %s", r.Status, r.Body)
	}
	if r := h.Do("GET", "/api/v1/console/stores", nil, admin...); r.Status != http.StatusOK {
		t.Fatalf("demoted user reads: %d %s", r.Status, r.Body)
	}
	if r := h.Do("POST", "/api/v1/console/stores", `{"name":"静安店"}`, admin...); r.Status != http.StatusForbidden {
		t.Fatalf("demoted user writes: %d %s", r.Status, r.Body)
	}
}
