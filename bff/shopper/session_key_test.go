package shopper_test

import (
	"context"
	"testing"

	"github.com/jifen/jifen/cmd/jifen/app/apptest"
)

// WeChat's session_key is never kept: nothing reads it back, so storing it
// only gave a database leak something to decrypt users' data with (issue
// 19, item 10). Neither the first login nor a later one writes it.
func TestLoginDoesNotStoreTheSessionKey(t *testing.T) {
	t.Parallel()
	h := apptest.New(t)
	user := apptest.UniqueUser("sesskey")
	for i := range 2 {
		if r := h.Do("POST", "/api/v1/shopper/login", map[string]string{"code": h.Code(user)}); r.Status != 200 {
			t.Fatalf("login %d: %d %s", i+1, r.Status, r.Body)
		}
		var stored int64
		if err := h.Env.DB.Conn(context.Background()).Table("members").Where("session_key <> ''").Count(&stored).Error; err != nil {
			t.Fatal(err)
		}
		if stored != 0 {
			t.Fatalf("after login %d, %d members rows hold a session_key", i+1, stored)
		}
	}
}
