package shopper_test

import (
	"github.com/jifen/jifen/cmd/jifen/app/apptest"
	"github.com/jifen/jifen/domain/mall"
	"github.com/jifen/jifen/repo/mallstore"
)

func mallAuditor(h *apptest.Harness) mall.Auditor { return &mallstore.Store{DB: h.Env.DB} }
