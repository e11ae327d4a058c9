package shopper_test

import (
	"github.com/jifen/jifen/bff/bfftest"
	"github.com/jifen/jifen/domain/mall"
	"github.com/jifen/jifen/repo/mallstore"
)

func mallAuditor(h *bfftest.Harness) mall.Auditor { return &mallstore.Store{DB: h.Env.DB} }
