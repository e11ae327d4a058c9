// Package orderstore keeps order events and orders (domain/orders) in MySQL
// or SQLite. It opens no transaction: it joins the one in the context.
//
// # A group of paid events on MySQL
//
// The order webhook's groups (domain/orders group.go) run in a pipelined
// transaction (repo.DB.InPipelinedTx): a statement whose answer nobody
// waits for is queued (repo.DB.Later, LaterRead) and sent with the
// transaction's next statement, the reads running on the server in the
// order they were queued. LoadPaidGroup (group.go) queues, in this order,
// the read of the taken event ids, the tier rows' locking read (FOR
// UPDATE, Store.Tiers: tier.RowTaker) and — when the group's rules draw on
// no limit (orders.PaidGroupQuery.Limited false), so that no usage or pool
// row is locked in between — the ledger accounts' locking read
// (Store.Accounts: ledger.AccountTaker) and what the first-paid load hooks
// ask for (referral's bindings); the members' read (Store.Members) sends
// them. InsertPaid's INSERTs are queued with repo.DB.Later.
//
// The locks are taken in the ordinary path's order: tier rows, usage and
// pools, accounts. A group whose rules have no caps or pools is two
// requests to the server: the BEGIN and the reads of step 1; every write
// of steps 2 to 5 with the COMMIT. With caps or pools it is four or five:
// step 1 without the accounts; the locked reads of step 3 (carrying the
// tier UPDATE and the bindings' read, which the group's first-paid load
// hooks queued after step 2); when the group drew on a pool, the pools'
// conditional UPDATE, whose answer is awaited (a pool is never
// overspent); the accounts' locking read; the writes with the COMMIT. A
// taken order or event id fails the statement it travels with, and the
// whole transaction rolls back.
//
// A member whose tier row is missing gets it inserted at step 2, after
// step 1 may have locked their account: a lone event of that member
// running at the same moment may then deadlock with the group, and
// InnoDB's deadlock detection rolls one back to run again.
//
// On SQLite, in a transaction already, or with pipelining disabled, every
// statement runs at once, in the same order (taking the tier rows and the
// accounts is then nothing: they are locked when they are changed).
package orderstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/ledger"
	"github.com/jifen/jifen/domain/member"
	"github.com/jifen/jifen/domain/orders"
	"github.com/jifen/jifen/domain/tier"
	"github.com/jifen/jifen/repo"
)

// Store implements orders.Store.
type Store struct {
	DB *repo.DB
	// Tiers, Accounts and Members are what a group of paid events loads
	// with its event ids (LoadPaidGroup): the tier store of the
	// tier.Service, the ledger store of the ledger.Service and the member
	// store the orders.Service uses.
	Tiers    tier.RowTaker
	Accounts ledger.AccountTaker
	Members  interface {
		ByIDs(ctx context.Context, ids []int64) (map[int64]*member.Member, error)
	}
}

// New returns the store of db whose groups of paid events take their
// members' tier rows through tiers and accounts through accounts, and read
// the members through members.
func New(db *repo.DB, tiers tier.RowTaker, accounts ledger.AccountTaker, members interface {
	ByIDs(ctx context.Context, ids []int64) (map[int64]*member.Member, error)
}) *Store {
	return &Store{DB: db, Tiers: tiers, Accounts: accounts, Members: members}
}

var _ orders.Store = (*Store)(nil)

type eventRow struct {
	EventID     string `gorm:"primaryKey"`
	OrderID     string
	Type        string
	RequestHash string
	Outcome     string
	CreatedAt   time.Time
}

func (eventRow) TableName() string { return "order_events" }

type orderRow struct {
	OrderID     string `gorm:"primaryKey"`
	MemberID    int64
	OpenID      string `gorm:"column:openid"`
	Phone       string
	Status      string
	StoreID     string
	Channel     string
	TotalFen    int64
	RefundedFen int64
	Lines       string
	Refunded    string
	RefundedQty sql.NullString // NULL before any refund line stated a qty
	Points      int64
	Reversed    int64
	Breakdown   string
	OccurredAt  time.Time
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

func (orderRow) TableName() string { return "orders" }

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only plain structs, maps and slices are marshalled here
	}
	return string(b)
}

// refundedQty is NULL until a refund line states a qty (as the column is
// on orders stored before it existed).
func refundedQty(m map[string]int64) sql.NullString {
	if len(m) == 0 {
		return sql.NullString{}
	}
	return sql.NullString{String: mustJSON(m), Valid: true}
}

func toRow(o *orders.Order) orderRow {
	return orderRow{OrderID: o.ID, MemberID: o.MemberID, OpenID: o.OpenID, Phone: o.Phone, Status: o.Status,
		StoreID: o.StoreID, Channel: o.Channel, TotalFen: o.TotalFen, RefundedFen: o.RefundedFen,
		Lines: mustJSON(o.Lines), Refunded: mustJSON(o.Refunded), RefundedQty: refundedQty(o.RefundedQty), Points: o.Points, Reversed: o.Reversed,
		Breakdown: mustJSON(o.Breakdown), OccurredAt: o.OccurredAt.UTC(), CreatedAt: o.CreatedAt.UTC(), UpdatedAt: o.UpdatedAt.UTC()}
}

func (r *orderRow) toDomain() (orders.Order, error) {
	o := orders.Order{ID: r.OrderID, MemberID: r.MemberID, OpenID: r.OpenID, Phone: r.Phone, Status: r.Status,
		StoreID: r.StoreID, Channel: r.Channel, TotalFen: r.TotalFen, RefundedFen: r.RefundedFen, Points: r.Points,
		Reversed: r.Reversed, OccurredAt: r.OccurredAt, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
	if err := json.Unmarshal([]byte(r.Lines), &o.Lines); err != nil {
		return o, fmt.Errorf("order %s lines: %w", r.OrderID, err)
	}
	if err := json.Unmarshal([]byte(r.Refunded), &o.Refunded); err != nil {
		return o, fmt.Errorf("order %s refunds: %w", r.OrderID, err)
	}
	if err := json.Unmarshal([]byte(r.Breakdown), &o.Breakdown); err != nil {
		return o, fmt.Errorf("order %s breakdown: %w", r.OrderID, err)
	}
	if r.RefundedQty.Valid {
		if err := json.Unmarshal([]byte(r.RefundedQty.String), &o.RefundedQty); err != nil {
			return o, fmt.Errorf("order %s refunded quantities: %w", r.OrderID, err)
		}
	}
	if o.Refunded == nil {
		o.Refunded = map[string]int64{}
	}
	if o.RefundedQty == nil {
		o.RefundedQty = map[string]int64{}
	}
	if o.Breakdown == nil {
		o.Breakdown = []orders.BreakdownLine{}
	}
	return o, nil
}

// InsertEvent implements orders.Store.
func (s *Store) InsertEvent(ctx context.Context, r *orders.EventRecord) error {
	row := eventRow{EventID: r.EventID, OrderID: r.OrderID, Type: r.Type, RequestHash: r.RequestHash, Outcome: "{}", CreatedAt: r.CreatedAt.UTC()}
	err := s.DB.Conn(ctx).Create(&row).Error
	if repo.IsDuplicate(err) {
		return fmt.Errorf("event %s: %w", r.EventID, orders.ErrDuplicateEvent)
	}
	return err
}

// SetOutcome implements orders.Store.
func (s *Store) SetOutcome(ctx context.Context, eventID string, o orders.Outcome) error {
	return s.DB.Conn(ctx).Model(&eventRow{}).Where("event_id = ?", eventID).Update("outcome", mustJSON(o)).Error
}

// EventByID implements orders.Store.
func (s *Store) EventByID(ctx context.Context, eventID string) (orders.EventRecord, bool, error) {
	var r eventRow
	err := s.DB.Conn(ctx).Where("event_id = ?", eventID).Take(&r).Error
	if repo.IsNotFound(err) {
		return orders.EventRecord{}, false, nil
	}
	if err != nil {
		return orders.EventRecord{}, false, err
	}
	out := orders.EventRecord{EventID: r.EventID, OrderID: r.OrderID, Type: r.Type, RequestHash: r.RequestHash, CreatedAt: r.CreatedAt}
	if err := json.Unmarshal([]byte(r.Outcome), &out.Outcome); err != nil {
		return out, false, fmt.Errorf("event %s outcome: %w", r.EventID, err)
	}
	if out.Outcome.Breakdown == nil {
		out.Outcome.Breakdown = []orders.BreakdownLine{}
	}
	return out, true, nil
}

// InsertOrder implements orders.Store.
func (s *Store) InsertOrder(ctx context.Context, o *orders.Order) error {
	row := toRow(o)
	err := s.DB.Conn(ctx).Create(&row).Error
	if repo.IsDuplicate(err) {
		return domain.Errorf(domain.Conflict, "order %q was already paid (under another event id)", o.ID)
	}
	return err
}

func (s *Store) one(ctx context.Context, lock bool, where string, args ...any) (orders.Order, bool, error) {
	q := s.DB.Conn(ctx).Where(where, args...)
	if lock {
		q = s.DB.ForUpdate(q)
	}
	var r orderRow
	err := q.Take(&r).Error
	if repo.IsNotFound(err) {
		return orders.Order{}, false, nil
	}
	if err != nil {
		return orders.Order{}, false, err
	}
	o, err := r.toDomain()
	return o, err == nil, err
}

// LockOrder implements orders.Store.
func (s *Store) LockOrder(ctx context.Context, id string) (orders.Order, bool, error) {
	return s.one(ctx, true, "order_id = ?", id)
}

// MemberOrder implements orders.Store.
func (s *Store) MemberOrder(ctx context.Context, memberID int64, id string) (orders.Order, bool, error) {
	return s.one(ctx, false, "order_id = ? AND member_id = ? AND status = ?", id, memberID, orders.StatusMatched)
}

// SaveOrder implements orders.Store.
func (s *Store) SaveOrder(ctx context.Context, o *orders.Order) error {
	r := toRow(o)
	return s.DB.Conn(ctx).Model(&orderRow{}).Where("order_id = ?", o.ID).Updates(map[string]any{
		"member_id": r.MemberID, "status": r.Status, "refunded_fen": r.RefundedFen, "refunded": r.Refunded, "refunded_qty": r.RefundedQty,
		"points": r.Points, "reversed": r.Reversed, "breakdown": r.Breakdown, "updated_at": r.UpdatedAt,
	}).Error
}

// UnmatchedOpenIDs implements orders.Store: one locking read.
func (s *Store) UnmatchedOpenIDs(ctx context.Context, openids []string) (map[string]bool, error) {
	out := make(map[string]bool)
	if len(openids) == 0 {
		return out, nil
	}
	var found []string
	q := s.DB.Conn(ctx).Model(&orderRow{}).Where("status = ? AND openid IN ?", orders.StatusUnmatched, openids)
	if err := s.DB.ForUpdate(q).Pluck("openid", &found).Error; err != nil {
		return nil, fmt.Errorf("unmatched orders: %w", err)
	}
	for _, o := range found {
		out[o] = true
	}
	return out, nil
}

// LockUnmatched implements orders.Store.
func (s *Store) LockUnmatched(ctx context.Context, openid, phone string) ([]orders.Order, error) {
	if openid == "" && phone == "" {
		return nil, nil
	}
	q := s.DB.Conn(ctx).Where("status = ?", orders.StatusUnmatched)
	switch {
	case openid != "" && phone != "":
		q = q.Where("openid = ? OR phone = ?", openid, phone)
	case openid != "":
		q = q.Where("openid = ?", openid)
	default:
		q = q.Where("phone = ?", phone)
	}
	var rows []orderRow
	if err := s.DB.ForUpdate(q.Order("occurred_at, order_id")).Find(&rows).Error; err != nil {
		return nil, err
	}
	out := make([]orders.Order, 0, len(rows))
	for i := range rows {
		o, err := rows[i].toDomain()
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, nil
}

var _ orders.BatchStore = (*Store)(nil)

// TakenEvents marks in taken which of ids are already stored (the first
// read of LoadPaidGroup): one read, which in a pipelined transaction
// travels with the transaction's next statement (repo.DB.LaterRead) and
// fills taken only then.
func (s *Store) TakenEvents(ctx context.Context, ids []string, taken map[string]bool) error {
	if len(ids) == 0 {
		return nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	return s.DB.LaterRead(ctx, func(rows *sql.Rows) error {
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				return fmt.Errorf("taken events: %w", err)
			}
			taken[id] = true
		}
		return rows.Err()
	}, `SELECT event_id FROM order_events WHERE event_id IN (`+repo.Marks(len(ids))+`)`, args...)
}

const (
	orderCols = "`order_id`, `member_id`, `openid`, `phone`, `status`, `store_id`, `channel`, `total_fen`, `refunded_fen`, " +
		"`lines`, `refunded`, `points`, `reversed`, `breakdown`, `occurred_at`, `created_at`, `updated_at`"
	eventCols = "`event_id`, `order_id`, `type`, `request_hash`, `outcome`, `created_at`"
)

// InsertPaid implements orders.BatchStore: one multi-row INSERT of the
// orders, then one of the events with their outcomes, sent with the
// transaction's next statement or its COMMIT in a pipelined transaction
// (repo.DB.Later). A taken order or event id fails the statement they
// travel with: ErrDuplicateEvent, and the transaction must roll back.
func (s *Store) InsertPaid(ctx context.Context, events []orders.EventRecord, os []*orders.Order) error {
	dup := func(what string) func(error) error {
		return func(err error) error {
			if repo.DuplicateOf(err, "PRIMARY") { // order_id, event_id
				return fmt.Errorf("%s: %w", what, orders.ErrDuplicateEvent)
			}
			return err
		}
	}
	if len(os) > 0 {
		args := make([]any, 0, 17*len(os))
		for _, o := range os {
			r := toRow(o)
			args = append(args, r.OrderID, r.MemberID, r.OpenID, r.Phone, r.Status, r.StoreID, r.Channel, r.TotalFen, r.RefundedFen,
				r.Lines, r.Refunded, r.Points, r.Reversed, r.Breakdown, r.OccurredAt, r.CreatedAt, r.UpdatedAt)
		}
		if err := s.DB.Later(ctx, dup("orders"), `INSERT INTO orders (`+orderCols+`) VALUES `+repo.RowsOf(len(os), 17), args...); err != nil {
			return err
		}
	}
	if len(events) == 0 {
		return nil
	}
	args := make([]any, 0, 6*len(events))
	for _, r := range events {
		args = append(args, r.EventID, r.OrderID, r.Type, r.RequestHash, mustJSON(r.Outcome), r.CreatedAt.UTC())
	}
	return s.DB.Later(ctx, dup("events"), `INSERT INTO order_events (`+eventCols+`) VALUES `+repo.RowsOf(len(events), 6), args...)
}
