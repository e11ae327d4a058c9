// Package mallstore implements mall.Store over gorm (MySQL and SQLite,
// tables in repo/schema/mall.go) and mall.Gate over Redis (gate.go).
//
// # A group of redemptions on MySQL
//
// A group of redemptions of one item (domain/mall group.go) runs in a
// pipelined transaction (repo.DB.InPipelinedTx): a statement whose answer
// nobody waits for is queued (repo.DB.Later, LaterRead) and sent with the
// transaction's next statement. A group costs three requests to the
// server whatever its size:
//
//  1. LoadGroup: the member rows' upsert and locking read, the usage
//     count, the reads under the keys, the ledger's account lock
//     (Store.Accounts, ledger.AccountTaker) and the free codes (locking,
//     SKIP LOCKED) wait and travel with the item's read;
//  2. InsertRedemptions: the redemptions' multi-row INSERT (its first id
//     reported: ids are consecutive, repo.DB.ConsecutiveIDs; else one
//     INSERT per row);
//  3. the ledger's writes (ledger.Service.ApplyWithoutIDs), then SellGroup:
//     the codes' UPDATE and the item's stock UPDATE and its guard wait and
//     travel with the COMMIT.
//
// # Lock order
//
// A redemption, one by one or grouped, locks the member's row of the item
// first (which serialises the member's redemptions of it and makes the
// lookup under the key the truth), the ledger account next and the item
// row last. The pool's codes are read FOR UPDATE SKIP LOCKED — a group
// after the accounts, one by one before its spend: concurrent units of
// work skip each other's codes instead of queueing on the first one, so
// they never wait on them. The item row is the hot one (every redemption
// of the item takes it): a group locks it only with the COMMIT, so it is
// held for the time the server takes to run the last request, not for a
// round trip. The item is read without a lock at step 1; its stock is
// decided at SellGroup (the UPDATE of sold and its guard, which fails the
// transaction with mall.ErrStockShort when fewer units were left than the
// group took).
//
// On SQLite every statement runs at once, in process, in the same order
// (taking the accounts is then nothing: the ledger locks them when it
// applies).
package mallstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/ledger"
	"github.com/jifen/jifen/domain/mall"
	"github.com/jifen/jifen/repo"
)

// Store implements mall.Store.
type Store struct {
	DB *repo.DB
	// Accounts takes a group's ledger accounts with its load: the ledger
	// store of the ledger.Service the mall's Points are.
	Accounts ledger.AccountTaker
}

// New returns the store of db whose groups take their ledger accounts
// through accounts.
func New(db *repo.DB, accounts ledger.AccountTaker) *Store {
	return &Store{DB: db, Accounts: accounts}
}

var _ mall.Store = (*Store)(nil)

type itemRow struct {
	ID          int64 `gorm:"primaryKey"`
	Kind        string
	Name        string
	Images      string
	Description string
	Category    string
	Points      int64
	CashFen     int64
	Stock       int64
	Sold        int64
	LimitDaily  int
	LimitTotal  int
	Tiers       string
	Stores      string
	Benefit     string
	BenefitQty  int
	StartsAt    *time.Time
	EndsAt      *time.Time
	SortOrder   int
	Enabled     bool
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

func (itemRow) TableName() string { return "mall_items" }

type memberRow struct {
	ItemID    int64 `gorm:"primaryKey;autoIncrement:false"`
	MemberID  int64 `gorm:"primaryKey;autoIncrement:false"`
	UpdatedAt time.Time
}

func (memberRow) TableName() string { return "mall_members" }

type redemptionRow struct {
	ID         int64 `gorm:"primaryKey"`
	ItemID     int64
	MemberID   int64
	IdemKey    string
	Day        int
	Kind       string
	ItemName   string
	Points     int64
	CashFen    int64
	Status     string
	CouponCode string
	PickupCode *string
	Carrier    string
	TrackingNo string
	StoreID    int64
	Note       string
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

func (redemptionRow) TableName() string { return "mall_redemptions" }

type codeRow struct {
	ID           int64 `gorm:"primaryKey"`
	ItemID       int64
	Code         string
	RedemptionID int64
	CreatedAt    time.Time
}

func (codeRow) TableName() string { return "mall_codes" }

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC().Truncate(time.Millisecond)
	return &u
}

func timeOf(p *time.Time) time.Time {
	if p == nil {
		return time.Time{}
	}
	return *p
}

func joinIDs(ids []int64) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = strconv.FormatInt(id, 10)
	}
	return strings.Join(parts, ",")
}

func splitIDs(s string) []int64 {
	var out []int64
	for _, p := range strings.Split(s, ",") {
		if id, err := strconv.ParseInt(p, 10, 64); err == nil {
			out = append(out, id)
		}
	}
	return out
}

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

func fromItem(it *mall.Item) itemRow {
	images, _ := json.Marshal(append([]string{}, it.Images...))
	return itemRow{ID: it.ID, Kind: string(it.Kind), Name: it.Name, Images: string(images), Description: it.Description,
		Category: it.Category, Points: it.Points, CashFen: it.CashFen, Stock: it.Stock, Sold: it.Sold,
		LimitDaily: it.LimitDaily, LimitTotal: it.LimitTotal, Tiers: strings.Join(it.Tiers, ","), Stores: joinIDs(it.Stores),
		Benefit: string(it.Benefit), BenefitQty: it.BenefitQty,
		StartsAt: timePtr(it.StartsAt), EndsAt: timePtr(it.EndsAt), SortOrder: it.Sort, Enabled: it.Enabled,
		CreatedAt: it.CreatedAt.UTC(), UpdatedAt: it.UpdatedAt.UTC()}
}

func (r *itemRow) toDomain() mall.Item {
	var images []string
	_ = json.Unmarshal([]byte(r.Images), &images)
	return mall.Item{ID: r.ID, Kind: mall.Kind(r.Kind), Name: r.Name, Images: images, Description: r.Description,
		Category: r.Category, Points: r.Points, CashFen: r.CashFen, Stock: r.Stock, Sold: r.Sold,
		LimitDaily: r.LimitDaily, LimitTotal: r.LimitTotal, Tiers: splitList(r.Tiers), Stores: splitIDs(r.Stores),
		Benefit: mall.Benefit(r.Benefit), BenefitQty: r.BenefitQty,
		StartsAt: timeOf(r.StartsAt), EndsAt: timeOf(r.EndsAt), Sort: r.SortOrder, Enabled: r.Enabled,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

func fromRedemption(r *mall.Redemption) redemptionRow {
	row := redemptionRow{ID: r.ID, ItemID: r.ItemID, MemberID: r.MemberID, IdemKey: r.Key, Day: r.Day, Kind: string(r.Kind),
		ItemName: r.ItemName, Points: r.Points, CashFen: r.CashFen, Status: string(r.Status), CouponCode: r.CouponCode,
		Carrier: r.Carrier, TrackingNo: r.TrackingNo, StoreID: r.StoreID, Note: r.Note,
		CreatedAt: r.CreatedAt.UTC().Truncate(time.Millisecond), UpdatedAt: r.UpdatedAt.UTC().Truncate(time.Millisecond)}
	if r.PickupCode != "" {
		c := r.PickupCode
		row.PickupCode = &c
	}
	return row
}

func (r *redemptionRow) toDomain() mall.Redemption {
	out := mall.Redemption{ID: r.ID, ItemID: r.ItemID, MemberID: r.MemberID, Key: r.IdemKey, Day: r.Day, Kind: mall.Kind(r.Kind),
		ItemName: r.ItemName, Points: r.Points, CashFen: r.CashFen, Status: mall.Status(r.Status), CouponCode: r.CouponCode,
		Carrier: r.Carrier, TrackingNo: r.TrackingNo, StoreID: r.StoreID, Note: r.Note, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
	if r.PickupCode != nil {
		out.PickupCode = *r.PickupCode
	}
	return out
}

func (s *Store) db(ctx context.Context) *gorm.DB { return s.DB.Conn(ctx) }

// CreateItem inserts an item.
func (s *Store) CreateItem(ctx context.Context, it *mall.Item) error {
	r := fromItem(it)
	r.ID = 0
	if err := s.db(ctx).Create(&r).Error; err != nil {
		return fmt.Errorf("create mall item: %w", err)
	}
	it.ID = r.ID
	return nil
}

// UpdateItem saves an item's fields, refusing a stock below what is sold
// (checked in the UPDATE itself, so a concurrent redemption cannot slip
// between).
func (s *Store) UpdateItem(ctx context.Context, it *mall.Item) error {
	r := fromItem(it)
	res := s.db(ctx).Model(&itemRow{}).Where("id = ? AND sold <= ?", it.ID, it.Stock).
		Select("*").Omit("id", "kind", "sold", "created_at").Updates(&r)
	if res.Error != nil {
		return fmt.Errorf("update mall item: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		cur, err := s.Item(ctx, it.ID)
		if err != nil {
			return err
		}
		if cur.Sold > it.Stock {
			return domain.Errorf(domain.RuleViolation, "stock %d is below the %d already redeemed", it.Stock, cur.Sold)
		}
	}
	return nil
}

// Item loads an item.
func (s *Store) Item(ctx context.Context, id int64) (*mall.Item, error) {
	var rows []itemRow
	if err := s.db(ctx).Where("id = ?", id).Limit(1).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("load mall item: %w", err)
	}
	if len(rows) == 0 {
		return nil, domain.Errorf(domain.NotFound, "no item %d", id)
	}
	it := rows[0].toDomain()
	return &it, nil
}

// Items lists one page in catalogue order (sort order descending, newest
// first within one sort order).
func (s *Store) Items(ctx context.Context, p mall.Page) ([]mall.Item, *mall.Cursor, error) {
	q := s.db(ctx).Model(&itemRow{})
	if p.Category != "" {
		q = q.Where("category = ?", p.Category)
	}
	if p.OnSaleOnly {
		q = q.Where("enabled = ?", true)
		if !p.Now.IsZero() {
			q = q.Where("(ends_at IS NULL OR ends_at > ?)", p.Now.UTC())
		}
	}
	if p.After != nil {
		q = q.Where("sort_order < ? OR (sort_order = ? AND id < ?)", p.After.Sort, p.After.Sort, p.After.ID)
	}
	var rows []itemRow
	if err := q.Order("sort_order DESC, id DESC").Limit(p.Limit + 1).Find(&rows).Error; err != nil {
		return nil, nil, fmt.Errorf("list mall items: %w", err)
	}
	var next *mall.Cursor
	if len(rows) > p.Limit {
		rows = rows[:p.Limit]
		last := rows[p.Limit-1]
		next = &mall.Cursor{Sort: last.SortOrder, ID: last.ID}
	}
	out := make([]mall.Item, 0, len(rows))
	for i := range rows {
		out = append(out, rows[i].toDomain())
	}
	return out, next, nil
}

// LockMember creates the member's row for the item if missing, locks it
// and returns the usage.
func (s *Store) LockMember(ctx context.Context, itemID, memberID int64, day int) (mall.Usage, error) {
	if err := s.db(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&memberRow{ItemID: itemID, MemberID: memberID, UpdatedAt: s.DB.Now()}).Error; err != nil {
		return mall.Usage{}, fmt.Errorf("create mall member: %w", err)
	}
	var r memberRow
	if err := s.DB.ForUpdate(s.db(ctx)).Where("item_id = ? AND member_id = ?", itemID, memberID).Take(&r).Error; err != nil {
		return mall.Usage{}, fmt.Errorf("lock mall member: %w", err)
	}
	return s.Usage(ctx, itemID, memberID, day)
}

// Usage counts the member's live redemptions of the item, in all and on day.
func (s *Store) Usage(ctx context.Context, itemID, memberID int64, day int) (mall.Usage, error) {
	var out struct {
		Total int
		Today int
	}
	err := s.db(ctx).Model(&redemptionRow{}).
		Select("COUNT(*) AS total, COALESCE(SUM(CASE WHEN day = ? THEN 1 ELSE 0 END), 0) AS today", day).
		Where("member_id = ? AND item_id = ? AND status NOT IN ?", memberID, itemID, []string{string(mall.StatusCancelled), string(mall.StatusRefunded)}).
		Scan(&out).Error
	if err != nil {
		return mall.Usage{}, fmt.Errorf("mall usage: %w", err)
	}
	return mall.Usage{Total: out.Total, Today: out.Today}, nil
}

// TakeStock is the SQL stock guard: one conditional UPDATE.
func (s *Store) TakeStock(ctx context.Context, itemID, n int64) (bool, error) {
	res := s.db(ctx).Exec("UPDATE mall_items SET sold = sold + ? WHERE id = ? AND sold + ? <= stock", n, itemID, n)
	if res.Error != nil {
		return false, fmt.Errorf("take stock: %w", res.Error)
	}
	return res.RowsAffected == 1, nil
}

// ReturnStock gives one unit back.
func (s *Store) ReturnStock(ctx context.Context, itemID int64) error {
	res := s.db(ctx).Exec("UPDATE mall_items SET sold = sold - 1 WHERE id = ? AND sold > 0", itemID)
	if res.Error != nil {
		return fmt.Errorf("return stock: %w", res.Error)
	}
	if res.RowsAffected != 1 {
		return fmt.Errorf("return stock: item %d has nothing sold", itemID)
	}
	return nil
}

// ImportCodes inserts the codes the pool does not have yet. What it added
// is counted, not taken from the statements' affected rows: MySQL counts
// a skipped duplicate of ON DUPLICATE KEY UPDATE as affected.
func (s *Store) ImportCodes(ctx context.Context, itemID int64, codes []string, now time.Time) (int, error) {
	var before, after int64
	if err := s.db(ctx).Model(&codeRow{}).Where("item_id = ?", itemID).Count(&before).Error; err != nil {
		return 0, fmt.Errorf("count codes: %w", err)
	}
	for start := 0; start < len(codes); start += 1000 {
		end := min(len(codes), start+1000)
		rows := make([]codeRow, 0, end-start)
		for _, c := range codes[start:end] {
			rows = append(rows, codeRow{ItemID: itemID, Code: c, CreatedAt: now.UTC()})
		}
		if err := s.db(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&rows).Error; err != nil {
			return 0, fmt.Errorf("import codes: %w", err)
		}
	}
	if err := s.db(ctx).Model(&codeRow{}).Where("item_id = ?", itemID).Count(&after).Error; err != nil {
		return 0, fmt.Errorf("count codes: %w", err)
	}
	return int(after - before), nil
}

// ClaimCode gives the oldest free code to the redemption. On MySQL
// concurrent claims skip each other's locked rows instead of queueing on
// the first free code; SQLite's writer lock serialises them anyway.
func (s *Store) ClaimCode(ctx context.Context, itemID, redemptionID int64) (string, bool, error) {
	q := s.db(ctx).Where("item_id = ? AND redemption_id = 0", itemID).Order("id").Limit(1)
	if s.DB.Dialect() == repo.MySQL {
		q = q.Clauses(clause.Locking{Strength: "UPDATE", Options: "SKIP LOCKED"})
	}
	var rows []codeRow
	if err := q.Find(&rows).Error; err != nil {
		return "", false, fmt.Errorf("find free code: %w", err)
	}
	if len(rows) == 0 {
		return "", false, nil
	}
	res := s.db(ctx).Model(&codeRow{}).Where("id = ? AND redemption_id = 0", rows[0].ID).Update("redemption_id", redemptionID)
	if res.Error != nil {
		return "", false, fmt.Errorf("claim code: %w", res.Error)
	}
	if res.RowsAffected != 1 {
		return "", false, fmt.Errorf("claim code %d: taken meanwhile", rows[0].ID)
	}
	return rows[0].Code, true, nil
}

// FreeCodes locks up to n free codes, oldest first. On MySQL concurrent
// units of work skip each other's locked rows instead of queueing on the
// first free code; SQLite's writer lock serialises them anyway.
func (s *Store) FreeCodes(ctx context.Context, itemID int64, n int) ([]mall.PoolCode, error) {
	q := s.db(ctx).Where("item_id = ? AND redemption_id = 0", itemID).Order("id").Limit(n)
	if s.DB.Dialect() == repo.MySQL {
		q = q.Clauses(clause.Locking{Strength: "UPDATE", Options: "SKIP LOCKED"})
	}
	var rows []codeRow
	if err := q.Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("find free codes: %w", err)
	}
	out := make([]mall.PoolCode, len(rows))
	for i, r := range rows {
		out[i] = mall.PoolCode{ID: r.ID, Code: r.Code}
	}
	return out, nil
}

// GiveCodes names each code's redemption: one UPDATE for all (a CASE on
// the id), sent with the unit of work's next statement in a pipelined
// transaction (repo.DB.Later). The codes are locked by FreeCodes.
func (s *Store) GiveCodes(ctx context.Context, given []mall.PoolCode) error {
	if len(given) == 0 {
		return nil
	}
	q, args := repo.CaseUpdate("mall_codes", "id", len(given), []string{"redemption_id"}, func(i int) (any, []any) {
		return given[i].ID, []any{given[i].RedemptionID}
	})
	if err := s.DB.Later(ctx, nil, q+" AND redemption_id = 0", args...); err != nil {
		return fmt.Errorf("give codes: %w", err)
	}
	return nil
}

// CodesLeft counts free codes per item.
func (s *Store) CodesLeft(ctx context.Context, itemIDs []int64) (map[int64]int64, error) {
	out := map[int64]int64{}
	if len(itemIDs) == 0 {
		return out, nil
	}
	var rows []struct {
		ItemID int64
		N      int64
	}
	if err := s.db(ctx).Model(&codeRow{}).Select("item_id, COUNT(*) AS n").
		Where("item_id IN ? AND redemption_id = 0", itemIDs).Group("item_id").Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("codes left: %w", err)
	}
	for _, r := range rows {
		out[r.ItemID] = r.N
	}
	return out, nil
}

// InsertRedemption stores a redemption.
func (s *Store) InsertRedemption(ctx context.Context, r *mall.Redemption) error {
	row := fromRedemption(r)
	row.ID = 0
	err := s.db(ctx).Create(&row).Error
	if repo.IsDuplicate(err) && r.PickupCode != "" {
		// Which unique key? The error does not always say (gorm's
		// translated SQLite error names none): the code tells.
		var n int64
		if cerr := s.db(ctx).Model(&redemptionRow{}).Where("pickup_code = ?", r.PickupCode).Count(&n).Error; cerr != nil {
			return fmt.Errorf("insert redemption: %w", errors.Join(err, cerr))
		}
		if n > 0 {
			return fmt.Errorf("%w: %v", mall.ErrDuplicatePickupCode, err)
		}
	}
	if repo.DuplicateOf(err, "uk_mall_redemptions_key") {
		return fmt.Errorf("%w: %v", mall.ErrDuplicateKey, err)
	}
	if err != nil {
		return fmt.Errorf("insert redemption: %w", err)
	}
	r.ID = row.ID
	return nil
}

// UpdateRedemption saves the fields that change after insert.
func (s *Store) UpdateRedemption(ctx context.Context, r *mall.Redemption) error {
	row := fromRedemption(r)
	return s.db(ctx).Model(&redemptionRow{}).Where("id = ?", r.ID).Updates(map[string]any{
		"status": row.Status, "coupon_code": row.CouponCode, "pickup_code": row.PickupCode, "carrier": row.Carrier,
		"tracking_no": row.TrackingNo, "store_id": row.StoreID, "note": row.Note, "updated_at": row.UpdatedAt}).Error
}

func (s *Store) oneRedemption(q *gorm.DB) (mall.Redemption, bool, error) {
	var rows []redemptionRow
	if err := q.Limit(1).Find(&rows).Error; err != nil {
		return mall.Redemption{}, false, fmt.Errorf("load redemption: %w", err)
	}
	if len(rows) == 0 {
		return mall.Redemption{}, false, nil
	}
	return rows[0].toDomain(), true, nil
}

// RedemptionByKey finds the member's redemption with the key.
func (s *Store) RedemptionByKey(ctx context.Context, memberID int64, key string) (mall.Redemption, bool, error) {
	return s.oneRedemption(s.db(ctx).Where("member_id = ? AND idem_key = ?", memberID, key))
}

// Redemption loads and locks a redemption.
func (s *Store) Redemption(ctx context.Context, id int64) (mall.Redemption, error) {
	r, found, err := s.oneRedemption(s.DB.ForUpdate(s.db(ctx)).Where("id = ?", id))
	if err == nil && !found {
		err = domain.Errorf(domain.NotFound, "no redemption %d", id)
	}
	return r, err
}

// RedemptionByPickupCode loads and locks the redemption with the code.
func (s *Store) RedemptionByPickupCode(ctx context.Context, code string) (mall.Redemption, bool, error) {
	return s.oneRedemption(s.DB.ForUpdate(s.db(ctx)).Where("pickup_code = ?", code))
}

// Redemptions lists the member's redemptions newest first.
func (s *Store) Redemptions(ctx context.Context, memberID int64, limit int, cursor int64) ([]mall.Redemption, int64, error) {
	if memberID <= 0 {
		return nil, 0, nil // no filter must never mean everyone's
	}
	return s.FindRedemptions(ctx, mall.RedemptionFilter{MemberID: memberID}, limit, cursor)
}

// FindRedemptions lists the redemptions that match f newest first.
func (s *Store) FindRedemptions(ctx context.Context, f mall.RedemptionFilter, limit int, cursor int64) ([]mall.Redemption, int64, error) {
	q := s.db(ctx).Model(&redemptionRow{})
	if f.Status != "" {
		q = q.Where("status = ?", string(f.Status))
	}
	if f.ItemID > 0 {
		q = q.Where("item_id = ?", f.ItemID)
	}
	if f.MemberID > 0 {
		q = q.Where("member_id = ?", f.MemberID)
	}
	rows, next, err := repo.KeysetPage(q, limit, cursor, func(r *redemptionRow) int64 { return r.ID })
	if err != nil {
		return nil, 0, fmt.Errorf("find redemptions: %w", err)
	}
	out := make([]mall.Redemption, 0, len(rows))
	for i := range rows {
		out = append(out, rows[i].toDomain())
	}
	return out, next, nil
}

var _ mall.Auditor = (*Store)(nil)

// Audit returns the figures Check compares, four grouped reads per batch.
func (s *Store) Audit(ctx context.Context, after int64, limit int) ([]mall.ItemAudit, error) {
	var items []itemRow
	if err := s.db(ctx).Where("id > ?", after).Order("id").Limit(limit).Find(&items).Error; err != nil {
		return nil, fmt.Errorf("audit items: %w", err)
	}
	if len(items) == 0 {
		return nil, nil
	}
	ids := make([]int64, len(items))
	for i := range items {
		ids[i] = items[i].ID
	}
	type count struct {
		ItemID int64
		N      int64
	}
	counts := func(q *gorm.DB) (map[int64]int64, error) {
		var rows []count
		if err := q.Scan(&rows).Error; err != nil {
			return nil, fmt.Errorf("audit: %w", err)
		}
		m := map[int64]int64{}
		for _, r := range rows {
			m[r.ItemID] = r.N
		}
		return m, nil
	}
	dead := []string{string(mall.StatusCancelled), string(mall.StatusRefunded)}
	live, err := counts(s.db(ctx).Model(&redemptionRow{}).Select("item_id, COUNT(*) AS n").
		Where("item_id IN ? AND status NOT IN ?", ids, dead).Group("item_id"))
	if err != nil {
		return nil, err
	}
	given, err := counts(s.db(ctx).Model(&codeRow{}).Select("item_id, COUNT(*) AS n").
		Where("item_id IN ? AND redemption_id <> 0", ids).Group("item_id"))
	if err != nil {
		return nil, err
	}
	coded, err := counts(s.db(ctx).Model(&redemptionRow{}).Select("item_id, COUNT(*) AS n").
		Where("item_id IN ? AND coupon_code <> ''", ids).Group("item_id"))
	if err != nil {
		return nil, err
	}
	mismatched, err := counts(s.db(ctx).Table("mall_redemptions r").Select("r.item_id, COUNT(*) AS n").
		Joins("LEFT JOIN mall_codes c ON c.redemption_id = r.id AND c.item_id = r.item_id AND c.code = r.coupon_code").
		Where("r.item_id IN ? AND r.coupon_code <> '' AND c.id IS NULL", ids).Group("r.item_id"))
	if err != nil {
		return nil, err
	}
	out := make([]mall.ItemAudit, 0, len(items))
	for _, it := range items {
		out = append(out, mall.ItemAudit{ItemID: it.ID, Kind: mall.Kind(it.Kind), Stock: it.Stock, Sold: it.Sold,
			LiveRedemptions: live[it.ID], CodesGiven: given[it.ID], CodedRedemptions: coded[it.ID], CodesMismatched: mismatched[it.ID]})
	}
	return out, nil
}

var _ mall.Reporter = (*Store)(nil)

// DayLines sums live redemptions per item and day.
func (s *Store) DayLines(ctx context.Context, from, to int) ([]mall.DayLine, error) {
	var rows []struct {
		ItemID   int64
		ItemName string
		Day      int
		N        int64
		Points   int64
		CashFen  int64
	}
	err := s.db(ctx).Model(&redemptionRow{}).
		Select("item_id, MAX(item_name) AS item_name, day, COUNT(*) AS n, SUM(points) AS points, SUM(cash_fen) AS cash_fen").
		Where("day BETWEEN ? AND ? AND status NOT IN ?", from, to, []string{string(mall.StatusCancelled), string(mall.StatusRefunded), string(mall.StatusReserved)}).
		Group("day, item_id").Order("day, item_id").Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("mall report: %w", err)
	}
	out := make([]mall.DayLine, 0, len(rows))
	for _, r := range rows {
		out = append(out, mall.DayLine{ItemID: r.ItemID, ItemName: r.ItemName, Day: r.Day, Redemptions: r.N, Points: r.Points, CashFen: r.CashFen})
	}
	return out, nil
}

// CouponPools counts the free codes of coupon items, fewest first.
func (s *Store) CouponPools(ctx context.Context, limit int) ([]mall.PoolLine, error) {
	var rows []struct {
		ID        int64
		Name      string
		CodesLeft int64
	}
	err := s.db(ctx).Table("mall_items i").
		Select("i.id, i.name, (SELECT COUNT(*) FROM mall_codes c WHERE c.item_id = i.id AND c.redemption_id = 0) AS codes_left").Where("i.kind = ?", string(mall.KindCoupon)).Order("codes_left, i.id").Limit(limit).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("code pools: %w", err)
	}
	out := make([]mall.PoolLine, 0, len(rows))
	for _, r := range rows {
		out = append(out, mall.PoolLine{ItemID: r.ID, ItemName: r.Name, Left: r.CodesLeft})
	}
	return out, nil
}

// LowStock returns enabled items with little left.
func (s *Store) LowStock(ctx context.Context, left int64, limit int) ([]mall.Item, error) {
	var rows []itemRow
	if err := s.db(ctx).Where("enabled = ? AND stock - sold <= ?", true, left).Order("stock - sold, id").Limit(limit).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("low stock: %w", err)
	}
	out := make([]mall.Item, 0, len(rows))
	for i := range rows {
		out = append(out, rows[i].toDomain())
	}
	return out, nil
}
