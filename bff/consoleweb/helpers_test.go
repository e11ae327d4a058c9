package consoleweb_test

import (
	"context"
	"testing"

	"github.com/jifen/jifen/cmd/jifen/app/apptest"
)

func count(t *testing.T, h *apptest.Harness, table string) int64 {
	t.Helper()
	var n int64
	if err := h.Env.DB.Conn(context.Background()).Table(table).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}
