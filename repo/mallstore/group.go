package mallstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/jifen/jifen/domain/mall"
	"github.com/jifen/jifen/repo"
)

// groupChunk caps the rows of one multi-row INSERT (17 placeholders a row).
const groupChunk = 500

var redemptionCols = []string{"item_id", "member_id", "idem_key", "day", "kind", "item_name", "points", "cash_fen", "status",
	"coupon_code", "pickup_code", "carrier", "tracking_no", "store_id", "note", "created_at", "updated_at"}

func (s *Store) forUpdate() string {
	if s.DB.Dialect() == repo.MySQL {
		return " FOR UPDATE"
	}
	return ""
}

// lockMembersLater queues the members' rows' upsert and locking read and,
// with usage, the count of their usage of the item; the func returned,
// called after the next statement, gives the usage.
func (s *Store) lockMembersLater(ctx context.Context, itemID int64, members []int64, day int, usage bool) (func() (map[int64]mall.Usage, error), error) {
	now := s.DB.Now()
	args := make([]any, 0, 3*len(members))
	for _, m := range members {
		args = append(args, itemID, m, now)
	}
	ins := "INSERT INTO mall_members (item_id, member_id, updated_at) VALUES " + repo.RowsOf(len(members), 3)
	if s.DB.Dialect() == repo.MySQL {
		ins += " ON DUPLICATE KEY UPDATE member_id = member_id"
	} else {
		ins += " ON CONFLICT DO NOTHING"
	}
	if err := s.DB.Later(ctx, nil, ins, args...); err != nil {
		return nil, fmt.Errorf("create mall members: %w", err)
	}
	ids := make([]any, 0, len(members)+1)
	ids = append(ids, itemID)
	for _, m := range members {
		ids = append(ids, m)
	}
	in := "(" + repo.Marks(len(members)) + ")"
	if err := s.DB.LaterRead(ctx, func(rows *sql.Rows) error {
		for rows.Next() {
		}
		return rows.Err()
	}, "SELECT member_id FROM mall_members WHERE item_id = ? AND member_id IN "+in+" ORDER BY member_id"+s.forUpdate(), ids...); err != nil {
		return nil, fmt.Errorf("lock mall members: %w", err)
	}
	out := map[int64]mall.Usage{}
	if !usage {
		return func() (map[int64]mall.Usage, error) { return out, nil }, nil
	}
	q := "SELECT member_id, COUNT(*), COALESCE(SUM(CASE WHEN day = ? THEN 1 ELSE 0 END), 0) FROM mall_redemptions" +
		" WHERE item_id = ? AND member_id IN " + in + " AND status NOT IN (?, ?) GROUP BY member_id"
	uargs := append([]any{day}, ids...)
	uargs = append(uargs, string(mall.StatusCancelled), string(mall.StatusRefunded))
	var scanErr error
	err := s.DB.LaterRead(ctx, func(rows *sql.Rows) error {
		for rows.Next() {
			var m int64
			var u mall.Usage
			if err := rows.Scan(&m, &u.Total, &u.Today); err != nil {
				scanErr = err
				return err
			}
			out[m] = u
		}
		return rows.Err()
	}, q, uargs...)
	if err != nil {
		return nil, fmt.Errorf("mall usage: %w", err)
	}
	return func() (map[int64]mall.Usage, error) { return out, scanErr }, nil
}

// redemptionsByKeysLater queues one read of the members' rows with any of
// the keys, kept when the pair matches.
func (s *Store) redemptionsByKeysLater(ctx context.Context, keys []mall.RedemptionKey) (func() (map[mall.RedemptionKey]mall.Redemption, error), error) {
	out := map[mall.RedemptionKey]mall.Redemption{}
	if len(keys) == 0 {
		return func() (map[mall.RedemptionKey]mall.Redemption, error) { return out, nil }, nil
	}
	want := make(map[mall.RedemptionKey]bool, len(keys))
	var members, idem []any
	seenM, seenK := map[int64]bool{}, map[string]bool{}
	for _, k := range keys {
		want[k] = true
		if !seenM[k.MemberID] {
			seenM[k.MemberID] = true
			members = append(members, k.MemberID)
		}
		if !seenK[k.Key] {
			seenK[k.Key] = true
			idem = append(idem, k.Key)
		}
	}
	q := "SELECT id, item_id, member_id, idem_key, day, kind, item_name, points, cash_fen, status, coupon_code, pickup_code," +
		" carrier, tracking_no, store_id, note, created_at, updated_at FROM mall_redemptions WHERE member_id IN (" +
		repo.Marks(len(members)) + ") AND idem_key IN (" + repo.Marks(len(idem)) + ")"
	err := s.DB.LaterRead(ctx, func(rows *sql.Rows) error {
		for rows.Next() {
			var r redemptionRow
			if err := rows.Scan(&r.ID, &r.ItemID, &r.MemberID, &r.IdemKey, &r.Day, &r.Kind, &r.ItemName, &r.Points, &r.CashFen,
				&r.Status, &r.CouponCode, &r.PickupCode, &r.Carrier, &r.TrackingNo, &r.StoreID, &r.Note, &r.CreatedAt, &r.UpdatedAt); err != nil {
				return err
			}
			k := mall.RedemptionKey{MemberID: r.MemberID, Key: r.IdemKey}
			if want[k] {
				out[k] = r.toDomain()
			}
		}
		return rows.Err()
	}, q, append(members, idem...)...)
	if err != nil {
		return nil, fmt.Errorf("redemptions by keys: %w", err)
	}
	return func() (map[mall.RedemptionKey]mall.Redemption, error) { return out, nil }, nil
}

// freeCodesLater is FreeCodes queued (FreeCodes says how codes are locked).
func (s *Store) freeCodesLater(ctx context.Context, itemID int64, n int) (func() ([]mall.PoolCode, error), error) {
	q := "SELECT id, code FROM mall_codes WHERE item_id = ? AND redemption_id = 0 ORDER BY id LIMIT ?"
	if s.DB.Dialect() == repo.MySQL {
		q += " FOR UPDATE SKIP LOCKED"
	}
	var out []mall.PoolCode
	err := s.DB.LaterRead(ctx, func(rows *sql.Rows) error {
		for rows.Next() {
			var c mall.PoolCode
			if err := rows.Scan(&c.ID, &c.Code); err != nil {
				return err
			}
			out = append(out, c)
		}
		return rows.Err()
	}, q, itemID, n)
	if err != nil {
		return nil, fmt.Errorf("find free codes: %w", err)
	}
	return func() ([]mall.PoolCode, error) { return out, nil }, nil
}

// InsertRedemptions implements mall.Store: a multi-row INSERT per chunk,
// ids from the first one reported where MySQL promises consecutive ids;
// elsewhere one INSERT per row.
func (s *Store) InsertRedemptions(ctx context.Context, rs []*mall.Redemption) error {
	if !s.DB.ConsecutiveIDs() {
		for _, r := range rs {
			if err := s.InsertRedemption(ctx, r); err != nil {
				return err
			}
		}
		return nil
	}
	conn := s.db(ctx).Statement.ConnPool
	for lo := 0; lo < len(rs); lo += groupChunk {
		part := rs[lo:min(lo+groupChunk, len(rs))]
		args := make([]any, 0, len(redemptionCols)*len(part))
		for _, r := range part {
			row := fromRedemption(r)
			args = append(args, row.ItemID, row.MemberID, row.IdemKey, row.Day, row.Kind, row.ItemName, row.Points, row.CashFen,
				row.Status, row.CouponCode, row.PickupCode, row.Carrier, row.TrackingNo, row.StoreID, row.Note, row.CreatedAt, row.UpdatedAt)
		}
		res, err := conn.ExecContext(ctx, "INSERT INTO mall_redemptions ("+strings.Join(redemptionCols, ", ")+") VALUES "+
			repo.RowsOf(len(part), len(redemptionCols)), args...)
		if repo.DuplicateOf(err, "uk_mall_redemptions_key") {
			return fmt.Errorf("%w: %v", mall.ErrDuplicateKey, err)
		}
		if err != nil {
			return fmt.Errorf("insert redemptions: %w", err)
		}
		first, err := res.LastInsertId()
		if err != nil {
			return fmt.Errorf("insert redemptions: %w", err)
		}
		for i, r := range part {
			r.ID = first + int64(i)
		}
	}
	return nil
}

// SellGroup implements mall.Store: the codes' UPDATE (GiveCodes), then the
// stock taken (takeStockLater), all waiting for the COMMIT in a pipelined
// transaction.
func (s *Store) SellGroup(ctx context.Context, itemID, units int64, given []mall.PoolCode) error {
	if err := s.GiveCodes(ctx, given); err != nil {
		return err
	}
	return s.takeStockLater(ctx, itemID, units)
}

// takeStockLater is an UPDATE of sold, then a statement that fails when
// sold went past stock — it copies the item row onto itself, a duplicate
// of the primary key on every server and in every SQL mode — both waiting
// for the COMMIT in a pipelined transaction; elsewhere they run at once.
func (s *Store) takeStockLater(ctx context.Context, itemID, n int64) error {
	if err := s.DB.Later(ctx, nil, "UPDATE mall_items SET sold = sold + ? WHERE id = ?", n, itemID); err != nil {
		return fmt.Errorf("take stock: %w", err)
	}
	short := func(err error) error {
		if repo.DuplicateOf(err, "PRIMARY") {
			return fmt.Errorf("%w: item %d (%v)", mall.ErrStockShort, itemID, err)
		}
		return err
	}
	if err := s.DB.Later(ctx, short, "INSERT INTO mall_items SELECT * FROM mall_items WHERE id = ? AND sold > stock", itemID); err != nil {
		return fmt.Errorf("take stock: %w", err)
	}
	return nil
}

// LoadGroup implements mall.Store: step 1 of a group in one request (see
// the package doc), in the one-by-one path's lock order — the member rows
// (upsert, then locking read), their usage and the redemptions under the
// keys, the ledger accounts (Store.Accounts), the free codes (locking,
// SKIP LOCKED) — queued and sent by the item's read, which takes no lock:
// the item row is locked last, by SellGroup, with the COMMIT.
func (s *Store) LoadGroup(ctx context.Context, q mall.RedemptionGroupQuery) (mall.RedemptionGroup, error) {
	usageF, err := s.lockMembersLater(ctx, q.ItemID, q.Members, q.Day, q.Usage)
	if err != nil {
		return mall.RedemptionGroup{}, err
	}
	priorF, err := s.redemptionsByKeysLater(ctx, q.Keys)
	if err != nil {
		return mall.RedemptionGroup{}, err
	}
	if len(q.Members) > 0 {
		if s.Accounts == nil {
			return mall.RedemptionGroup{}, fmt.Errorf("mallstore: no Accounts to take the members' points accounts (use New)")
		}
		spenders := make(map[int64]bool, len(q.Members))
		for _, m := range q.Members {
			spenders[m] = true
		}
		if _, err := s.Accounts.TakeAccounts(ctx, q.Members, spenders); err != nil {
			return mall.RedemptionGroup{}, err
		}
	}
	var codesF func() ([]mall.PoolCode, error)
	if q.Codes > 0 {
		if codesF, err = s.freeCodesLater(ctx, q.ItemID, q.Codes); err != nil {
			return mall.RedemptionGroup{}, err
		}
	}
	it, err := s.Item(ctx, q.ItemID)
	if err != nil {
		return mall.RedemptionGroup{}, err
	}
	out := mall.RedemptionGroup{Item: it}
	if out.Usage, err = usageF(); err != nil {
		return mall.RedemptionGroup{}, err
	}
	if out.Prior, err = priorF(); err != nil {
		return mall.RedemptionGroup{}, err
	}
	if codesF != nil {
		if out.Codes, err = codesF(); err != nil {
			return mall.RedemptionGroup{}, err
		}
	}
	return out, nil
}
