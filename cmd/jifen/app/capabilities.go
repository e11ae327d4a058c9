package app

import (
	"github.com/jifen/jifen/domain/ledger"
	"github.com/jifen/jifen/domain/lottery"
	"github.com/jifen/jifen/domain/mall"
	"github.com/jifen/jifen/domain/orders"
	"github.com/jifen/jifen/domain/signin"
	"github.com/jifen/jifen/domain/tier"
	"github.com/jifen/jifen/repo/ledgerstore"
	"github.com/jifen/jifen/repo/lotterystore"
	"github.com/jifen/jifen/repo/mallstore"
	"github.com/jifen/jifen/repo/orderstore"
	"github.com/jifen/jifen/repo/signinstore"
	"github.com/jifen/jifen/repo/tierstore"
)

// The capabilities the group-committing services require of what New
// wires into them, checked at compile time: a store or service without
// one does not build (the stores check their own interfaces too).
var (
	_ ledger.Store        = (*ledgerstore.Store)(nil)
	_ ledger.AccountTaker = (*ledgerstore.Store)(nil) // lotterystore.New, mallstore.New, orderstore.New, signinstore.New
	_ tier.RowTaker       = (*tierstore.Store)(nil)   // orderstore.New
	_ lottery.Store       = (*lotterystore.Store)(nil)
	_ lottery.Points      = (*ledger.Service)(nil)
	_ mall.Store          = (*mallstore.Store)(nil)
	_ mall.Points         = (*ledger.Service)(nil)
	_ signin.Store        = (*signinstore.Store)(nil)
	_ signin.Ledger       = (*ledger.Service)(nil)
	_ orders.Store        = (*orderstore.Store)(nil)
	_ orders.Points       = (*ledger.Service)(nil)
	_ orders.Growth       = (*tier.Service)(nil)
	_ tier.Store          = (*tierstore.Store)(nil)
)
