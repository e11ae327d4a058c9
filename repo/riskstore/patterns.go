package riskstore

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jifen/jifen/domain/batch"
	"github.com/jifen/jifen/domain/ledger"
	"github.com/jifen/jifen/domain/risk"
	"github.com/jifen/jifen/repo"
)

// Journal implements risk.Journal over ledger_entries. The first pages
// that concurrent spends ask for (the laundering rule after every paid
// draw) are read in one statement.
type Journal struct {
	DB *repo.DB

	once   sync.Once
	firsts batch.Loader[firstPageKey, []ledger.Entry]
}

var _ risk.Journal = (*Journal)(nil)

// firstPage is how many entries Recent reads first: a member's window
// (a day) usually holds fewer, and the rest is read only when it does not.
const firstPage = 16

type firstPageKey struct {
	member int64
	from   int64 // the oldest id read, 0: any
	size   int
}

// Recent implements risk.Journal through the (member_id, id) index, newest
// first, in pages (the first of firstPage, or of limit from a known entry
// on) until an entry is older than since, so a long history costs no more
// than a short one.
func (j *Journal) Recent(ctx context.Context, memberID int64, since time.Time, fromID int64, limit int) ([]ledger.Entry, error) {
	var out []ledger.Entry
	if j.DB.IsPortable() {
		// A later commit may have a lower id: read from the newest on.
		fromID = 0
	}
	before, page := int64(0), min(firstPage, limit)
	if fromID > 0 {
		page = limit // what came after a known entry: usually a few
	}
	for page > 0 {
		var rows []ledger.Entry
		var err error
		if before == 0 && !j.DB.InTransaction(ctx) {
			j.once.Do(func() { j.firsts.Load = j.firstPages })
			rows, err = j.firsts.Get(ctx, firstPageKey{member: memberID, from: fromID, size: page})
		} else {
			q, args := "SELECT "+entryCols+" FROM "+j.byMember()+" WHERE member_id = ? AND id >= ?", []any{memberID, fromID}
			if before > 0 {
				q, args = q+" AND id < ?", append(args, before)
			}
			rows, err = j.entries(ctx, memberID, q+" ORDER BY id DESC LIMIT ?", append(args, page)...)
		}
		if err != nil {
			return nil, fmt.Errorf("entries of member %d: %w", memberID, err)
		}
		for _, e := range rows {
			if e.CreatedAt.Before(since) {
				return out, nil
			}
			out = append(out, e)
		}
		if len(rows) < page {
			return out, nil
		}
		before, page = rows[len(rows)-1].ID, limit-len(out)
	}
	return out, nil
}

// FirstPageReads reports how many statements read first pages and how
// many first pages they answered.
func (j *Journal) FirstPageReads() (statements, pages int64) { return j.firsts.Stats() }

// firstPages reads the newest entries of several members in one
// statement: one index range each, glued by UNION ALL.
func (j *Journal) firstPages(ctx context.Context, keys []firstPageKey) (map[firstPageKey][]ledger.Entry, error) {
	if len(keys) == 1 {
		k := keys[0]
		rows, err := j.entries(ctx, k.member, "SELECT "+entryCols+" FROM "+j.byMember()+" WHERE member_id = ? AND id >= ? ORDER BY id DESC LIMIT ?", k.member, k.from, k.size)
		return map[firstPageKey][]ledger.Entry{k: rows}, err
	}
	var q strings.Builder
	args := make([]any, 0, 4*len(keys))
	for i, k := range keys {
		if i > 0 {
			q.WriteString(" UNION ALL ")
		}
		// MySQL takes a parenthesized SELECT with its own LIMIT; SQLite
		// takes no LIMIT on a member of a compound SELECT, so there each
		// is a derived table, which MySQL would materialize (a temporary
		// table per member: half the statement's cost). The row order is
		// not the union's: sorted below.
		page := fmt.Sprintf("SELECT ? AS k, member_id, %s FROM %s WHERE member_id = ? AND id >= ? ORDER BY id DESC LIMIT ?", entryCols, j.byMember())
		if j.DB.Dialect() == repo.MySQL {
			fmt.Fprintf(&q, "(%s)", page)
		} else {
			fmt.Fprintf(&q, "SELECT * FROM (%s) AS p%d", page, i)
		}
		args = append(args, i, k.member, k.from, k.size)
	}
	rows, err := j.DB.Conn(ctx).Statement.ConnPool.QueryContext(ctx, q.String(), args...)
	if err != nil {
		return nil, repo.SQLOutage(err)
	}
	defer rows.Close()
	out := make(map[firstPageKey][]ledger.Entry, len(keys))
	for rows.Next() {
		var i int
		var e ledger.Entry
		var kind string
		var at repo.AnyTime
		if err := rows.Scan(&i, &e.MemberID, &e.ID, &kind, &e.Amount, &e.Delta, &e.Ref.Type, &e.Ref.ID, &at); err != nil {
			return nil, err
		}
		if i < 0 || i >= len(keys) {
			return nil, fmt.Errorf("first pages: row of page %d of %d", i, len(keys))
		}
		e.Kind, e.CreatedAt = ledger.Kind(kind), at.T
		out[keys[i]] = append(out[keys[i]], e)
	}
	for _, es := range out {
		slices.SortFunc(es, func(a, b ledger.Entry) int { return cmp.Compare(b.ID, a.ID) })
	}
	return out, rows.Err()
}

// byMember names ledger_entries read through its (member_id, id) index.
// MariaDB's optimizer, seeing few entries per member, takes the
// (member_id, ref_type, ref_id) index instead and sorts every entry of the
// member to find the newest: a page then costs as much as the member's
// history, and a statement of 25 pages a third more MariaDB CPU than
// through the member index (measured: 0.99 against 0.70 ms).
func (j *Journal) byMember() string {
	if j.DB.Dialect() == repo.MySQL {
		return "ledger_entries FORCE INDEX (idx_ledger_entries_member)"
	}
	return "ledger_entries INDEXED BY idx_ledger_entries_member"
}

// entryCols are the columns entries reads, in its order.
const entryCols = "id, kind, amount, delta, ref_type, ref_id, created_at"

// entries runs q (selecting entryCols) by plain SQL: the laundering rule
// reads a page after every spend, and gorm's statement building and
// reflection were most of its cost.
func (j *Journal) entries(ctx context.Context, memberID int64, q string, args ...any) ([]ledger.Entry, error) {
	rows, err := j.DB.Conn(ctx).Statement.ConnPool.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, repo.SQLOutage(err)
	}
	defer rows.Close()
	var out []ledger.Entry
	for rows.Next() {
		e := ledger.Entry{MemberID: memberID}
		var kind string
		var at repo.AnyTime
		if err := rows.Scan(&e.ID, &kind, &e.Amount, &e.Delta, &e.Ref.Type, &e.Ref.ID, &at); err != nil {
			return nil, err
		}
		e.Kind, e.CreatedAt = ledger.Kind(kind), at.T
		out = append(out, e)
	}
	return out, rows.Err()
}

// Phones implements risk.Phones over referral_identities, where referral
// remembers every phone a member bound, when (its primary key is kind,
// value, member: a range of numbers is one index range).
type Phones struct{ DB *repo.DB }

var _ risk.Phones = (*Phones)(nil)

// BoundBetween implements risk.Phones.
func (p *Phones) BoundBetween(ctx context.Context, lo, hi string, since time.Time) ([]risk.PhoneBinding, error) {
	var rows []struct {
		Value     string
		MemberID  int64
		CreatedAt time.Time
	}
	err := p.DB.Conn(ctx).Table("referral_identities").Select("value, member_id, created_at").
		Where("kind = 'phone' AND value BETWEEN ? AND ? AND created_at >= ?", lo, hi, since.UTC()).
		Order("value").Order("member_id").Limit(1000).Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("phones %s to %s: %w", lo, hi, err)
	}
	out := make([]risk.PhoneBinding, len(rows))
	for i, r := range rows {
		out[i] = risk.PhoneBinding{MemberID: r.MemberID, Phone: r.Value, BoundAt: r.CreatedAt.UTC()}
	}
	return out, nil
}

// Referrals implements risk.Referrals over referrals, referral_rewards and
// orders.
type Referrals struct{ DB *repo.DB }

var _ risk.Referrals = (*Referrals)(nil)

// Inviters implements risk.Referrals by the referrals primary key.
func (r *Referrals) Inviters(ctx context.Context, inviteeID int64) ([]int64, error) {
	var rows []struct{ InviterID, Parent2ID int64 }
	err := r.DB.Conn(ctx).Table("referrals").Select("inviter_id, parent2_id").Where("invitee_id = ?", inviteeID).
		Limit(1).Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("binding of member %d: %w", inviteeID, err)
	}
	var out []int64
	for _, b := range rows {
		for _, id := range []int64{b.InviterID, b.Parent2ID} {
			if id != 0 {
				out = append(out, id)
			}
		}
	}
	return out, nil
}

// Rewarded implements risk.Referrals through the (beneficiary_id, day)
// index of referral_rewards.
func (r *Referrals) Rewarded(ctx context.Context, memberID int64) (int64, int64, error) {
	var row struct{ N, Points int64 }
	err := r.DB.Conn(ctx).Table("referral_rewards").Select("COUNT(*) AS n, COALESCE(SUM(points), 0) AS points").
		Where("beneficiary_id = ? AND status = 'paid'", memberID).Scan(&row).Error
	if err != nil {
		return 0, 0, fmt.Errorf("referral rewards of member %d: %w", memberID, err)
	}
	return row.N, row.Points, nil
}

// Ordered implements risk.Referrals through the (member_id, occurred_at)
// index of orders.
func (r *Referrals) Ordered(ctx context.Context, memberID int64) (bool, error) {
	var ids []string
	err := r.DB.Conn(ctx).Table("orders").Select("order_id").Where("member_id = ? AND refunded_fen < total_fen", memberID).
		Limit(1).Find(&ids).Error
	if err != nil {
		return false, fmt.Errorf("orders of member %d: %w", memberID, err)
	}
	return len(ids) > 0, nil
}

// Payments implements risk.Payments over risk_payments, risk control's own
// table (primary key: account, order; read by account and time).
type Payments struct{ DB *repo.DB }

var _ risk.Payments = (*Payments)(nil)

type paymentRow struct {
	Account  string `gorm:"column:payer_account;primaryKey"`
	OrderID  string `gorm:"primaryKey"`
	MemberID int64
	PaidAt   time.Time
}

func (paymentRow) TableName() string { return "risk_payments" }

// Record implements risk.Payments.
func (p *Payments) Record(ctx context.Context, pay risk.Payment) error {
	r := paymentRow{Account: pay.Account, OrderID: pay.OrderID, MemberID: pay.MemberID, PaidAt: pay.PaidAt.UTC()}
	if err := p.DB.Conn(ctx).Create(&r).Error; err != nil && !repo.IsDuplicate(err) {
		return fmt.Errorf("record payment of order %s: %w", pay.OrderID, err)
	}
	return nil
}

// Since implements risk.Payments through the (payer_account, paid_at) index.
func (p *Payments) Since(ctx context.Context, account string, since time.Time, limit int) ([]risk.Payment, error) {
	var rows []paymentRow
	err := p.DB.Conn(ctx).Where("payer_account = ? AND paid_at >= ?", account, since.UTC()).
		Order("paid_at").Order("order_id").Limit(limit).Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("payments of an account: %w", err)
	}
	out := make([]risk.Payment, len(rows))
	for i, r := range rows {
		out[i] = risk.Payment{Account: r.Account, MemberID: r.MemberID, OrderID: r.OrderID, PaidAt: r.PaidAt.UTC()}
	}
	return out, nil
}

// Boundary implements risk.Journal: a walk of the (member_id, id) index
// back from beforeID that stops at the first spend, hold or earning of at
// least minPoints (small earnings, such as a day's sign-in points or a
// draw's prize, are passed over).
func (j *Journal) Boundary(ctx context.Context, memberID, beforeID, minPoints int64) (*ledger.Entry, error) {
	rows, err := j.entries(ctx, memberID, "SELECT "+entryCols+" FROM "+j.byMember()+` WHERE member_id = ? AND id < ?
		AND (kind IN (?, ?) OR ((kind = ? OR (kind = ? AND delta > 0)) AND amount >= ?)) ORDER BY id DESC LIMIT 1`,
		memberID, beforeID, string(ledger.KindSpend), string(ledger.KindHold), string(ledger.KindEarn), string(ledger.KindAdjust), minPoints)
	if err != nil {
		return nil, fmt.Errorf("boundary of member %d: %w", memberID, err)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	return &rows[0], nil
}
