package lotterystore

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/jifen/jifen/domain/lottery"
	"github.com/jifen/jifen/repo"
)

var _ lottery.GroupStore = (*Store)(nil)

// groupChunk caps the rows of one multi-row statement (placeholders stay
// far below both dialects' limits: 15 per draw row).
const groupChunk = 500

// memberWhere is "(campaign_id = ? AND member_id IN (…)) OR …" for keys,
// one term per campaign.
func memberWhere(keys []lottery.MemberKey) (string, []any) {
	by := map[int64][]int64{}
	var cids []int64
	for _, k := range keys {
		if _, ok := by[k.CampaignID]; !ok {
			cids = append(cids, k.CampaignID)
		}
		by[k.CampaignID] = append(by[k.CampaignID], k.MemberID)
	}
	sort.Slice(cids, func(a, b int) bool { return cids[a] < cids[b] })
	terms := make([]string, 0, len(cids))
	args := make([]any, 0, len(keys)+len(cids))
	for _, c := range cids {
		terms = append(terms, "(campaign_id = ? AND member_id IN ("+repo.Marks(len(by[c]))+"))")
		args = append(args, c)
		for _, m := range by[c] {
			args = append(args, m)
		}
	}
	return strings.Join(terms, " OR "), args
}

func (s *Store) conn(ctx context.Context) interface {
	ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
} {
	return s.db(ctx).Statement.ConnPool
}

func (s *Store) forUpdate() string {
	if s.DB.Dialect() == repo.MySQL {
		return " FOR UPDATE"
	}
	return ""
}

// prizes reads the campaigns' prizes as stored now (no lock).
func (s *Store) prizes(ctx context.Context, campaignIDs []int64) (map[int64]lottery.Prize, error) {
	var rows []prizeRow
	if err := s.db(ctx).Where("campaign_id IN ?", campaignIDs).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("load prizes: %w", err)
	}
	out := make(map[int64]lottery.Prize, len(rows))
	for i := range rows {
		out[rows[i].ID] = rows[i].toDomain()
	}
	return out, nil
}

// winsOf counts the members' draws of the prizes (only the keys asked):
// one grouped count per campaign.
func (s *Store) winsOf(ctx context.Context, keys []lottery.WinKey) (map[lottery.WinKey]int, error) {
	out := map[lottery.WinKey]int{}
	by := map[int64][]lottery.WinKey{}
	for _, k := range keys {
		by[k.CampaignID] = append(by[k.CampaignID], k)
	}
	for cid, ks := range by {
		var members, prizes []int64
		for _, k := range ks {
			members = append(members, k.MemberID)
			prizes = append(prizes, k.PrizeID)
		}
		var rows []struct {
			MemberID int64
			PrizeID  int64
			N        int
		}
		if err := s.db(ctx).Model(&drawRow{}).Select("member_id, prize_id, COUNT(*) AS n").
			Where("campaign_id = ? AND member_id IN ? AND prize_id IN ?", cid, members, prizes).
			Group("member_id, prize_id").Scan(&rows).Error; err != nil {
			return nil, fmt.Errorf("member wins: %w", err)
		}
		for _, r := range rows {
			out[lottery.WinKey{CampaignID: cid, MemberID: r.MemberID, PrizeID: r.PrizeID}] = r.N
		}
	}
	return out, nil
}

// WriteGroup implements lottery.GroupStore: one INSERT of the draws (ids
// from the first one reported when MySQL promises consecutive ids, else
// read back by key), one upsert of the members' counters, one UPDATE of
// the prizes' won.
func (s *Store) WriteGroup(ctx context.Context, draws []*lottery.Draw, members map[lottery.MemberKey]lottery.MemberState, won map[int64]int64) error {
	if repo.Pipelined(ctx) && len(draws) <= groupChunk && s.DB.ConsecutiveIDs() {
		return s.writeGroupLate(ctx, draws, members, won)
	}
	c := s.conn(ctx)
	for lo := 0; lo < len(draws); lo += groupChunk {
		part := draws[lo:min(lo+groupChunk, len(draws))]
		args := make([]any, 0, 15*len(part))
		for _, d := range part {
			d.CreatedAt = d.CreatedAt.UTC().Truncate(time.Millisecond)
			args = append(args, d.CampaignID, d.MemberID, d.Key, d.Ref, d.Day, d.PrizeID, string(d.PrizeKind), d.PrizeName,
				d.Points, d.CouponCode, d.CostPoints, d.Free, d.Pity, d.CreatedAt)
		}
		res, err := c.ExecContext(ctx, `INSERT INTO lottery_draws (campaign_id, member_id, idem_key, ref, day, prize_id, prize_kind,
			prize_name, points, coupon_code, cost_points, free, pity, created_at) VALUES `+repo.RowsOf(len(part), 14), args...)
		if repo.IsDuplicate(err) {
			return fmt.Errorf("%w: %v", lottery.ErrDuplicateDraw, err)
		}
		if err != nil {
			return fmt.Errorf("insert draws: %w", err)
		}
		if s.DB.ConsecutiveIDs() {
			first, err := res.LastInsertId()
			if err != nil {
				return fmt.Errorf("insert draws: %w", err)
			}
			for i, d := range part {
				d.ID = first + int64(i)
			}
			continue
		}
		keys := make([]lottery.DrawKey, len(part))
		for i, d := range part {
			keys[i] = lottery.DrawKey{MemberID: d.MemberID, Key: d.Key}
		}
		got, err := s.drawsByKeys(ctx, keys)
		if err != nil {
			return err
		}
		for i, d := range part {
			g, ok := got[keys[i]]
			if !ok || g.Ref != d.Ref {
				return fmt.Errorf("insert draws: draw %v not found after insert", keys[i])
			}
			d.ID = g.ID
		}
	}

	for _, u := range memberUpdates(members, s.DB.Now()) {
		res, err := c.ExecContext(ctx, u.q, u.args...)
		if err != nil {
			return fmt.Errorf("save lottery members: %w", err)
		}
		// Every row changes (draws grows): fewer means a row was missing.
		if n, err := res.RowsAffected(); err != nil || n != int64(u.rows) {
			return fmt.Errorf("save lottery members: %d of %d rows updated (%v)", n, u.rows, err)
		}
	}

	if len(won) > 0 {
		q, args := wonUpdate(won)
		if _, err := c.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("update prizes won: %w", err)
		}
	}
	return nil
}

type stmt struct {
	q    string
	args []any
	rows int // rows it updates
}

// memberUpdates are the UPDATEs saving the members' counters, one per
// campaign (in key order). The rows exist and are locked.
func memberUpdates(members map[lottery.MemberKey]lottery.MemberState, now time.Time) []stmt {
	keys := sortedMemberKeys(members)
	var out []stmt
	for lo := 0; lo < len(keys); {
		hi := lo
		for hi < len(keys) && hi-lo < groupChunk && keys[hi].CampaignID == keys[lo].CampaignID {
			hi++
		}
		part := keys[lo:hi]
		q, args := repo.ScopedCaseUpdate("lottery_members", "campaign_id = ?", []any{part[0].CampaignID}, "member_id", len(part),
			[]string{"draws", "day", "day_draws", "free_used", "miss_streak", "updated_at"}, func(i int) (any, []any) {
				st := members[part[i]]
				return part[i].MemberID, []any{int64(st.Draws), int64(st.Day), int64(st.DayDraws), int64(st.FreeUsed), int64(st.MissStreak), now}
			})
		out = append(out, stmt{q, args, len(part)})
		lo = hi
	}
	return out
}

// sortedMemberKeys returns the keys of members in lock order.
func sortedMemberKeys(members map[lottery.MemberKey]lottery.MemberState) []lottery.MemberKey {
	keys := make([]lottery.MemberKey, 0, len(members))
	for k := range members {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(a, b int) bool {
		if keys[a].CampaignID != keys[b].CampaignID {
			return keys[a].CampaignID < keys[b].CampaignID
		}
		return keys[a].MemberID < keys[b].MemberID
	})
	return keys
}

// wonUpdate is the one UPDATE setting the prizes' won, in id order.
func wonUpdate(won map[int64]int64) (string, []any) {
	ids := make([]int64, 0, len(won))
	for id := range won {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(a, b int) bool { return ids[a] < ids[b] })
	return repo.CaseUpdate("lottery_prizes", "id", len(ids), []string{"won"}, func(i int) (any, []any) {
		return ids[i], []any{won[ids[i]]}
	})
}

// lateDrawVar holds the first id of a late group's draws.
const lateDrawVar = "@jifen_first_draw"

// writeGroupLate is WriteGroup in a pipelined transaction: every statement
// travels with the COMMIT, and the draws' ids (consecutive from the one
// LAST_INSERT_ID() reports) are filled when it returns. A used key fails
// the transaction, with ErrDuplicateDraw.
func (s *Store) writeGroupLate(ctx context.Context, draws []*lottery.Draw, members map[lottery.MemberKey]lottery.MemberState, won map[int64]int64) error {
	if len(draws) > 0 {
		args := make([]any, 0, 14*len(draws))
		for _, d := range draws {
			d.CreatedAt = d.CreatedAt.UTC().Truncate(time.Millisecond)
			args = append(args, d.CampaignID, d.MemberID, d.Key, d.Ref, d.Day, d.PrizeID, string(d.PrizeKind), d.PrizeName,
				d.Points, d.CouponCode, d.CostPoints, d.Free, d.Pity, d.CreatedAt)
		}
		if err := s.DB.Later(ctx, func(err error) error {
			if repo.DuplicateOf(err, "uk_lottery_draws_key") {
				return fmt.Errorf("%w: %v", lottery.ErrDuplicateDraw, err)
			}
			return err
		}, `INSERT INTO lottery_draws (campaign_id, member_id, idem_key, ref, day, prize_id, prize_kind,
			prize_name, points, coupon_code, cost_points, free, pity, created_at) VALUES `+repo.RowsOf(len(draws), 14), args...); err != nil {
			return err
		}
		if err := s.DB.LaterRead(ctx, func(rows *sql.Rows) error {
			var first int64
			if !rows.Next() {
				return fmt.Errorf("insert draws: no first id")
			}
			if err := rows.Scan(&first); err != nil {
				return fmt.Errorf("insert draws: %w", err)
			}
			for i, d := range draws {
				d.ID = first + int64(i)
			}
			return nil
		}, "SELECT "+lateDrawVar+" := LAST_INSERT_ID()"); err != nil {
			return err
		}
	}
	for _, u := range memberUpdates(members, s.DB.Now()) {
		if err := s.DB.Later(ctx, nil, u.q, u.args...); err != nil {
			return fmt.Errorf("save lottery members: %w", err)
		}
	}
	if len(won) > 0 {
		q, args := wonUpdate(won)
		if err := s.DB.Later(ctx, nil, q, args...); err != nil {
			return fmt.Errorf("update prizes won: %w", err)
		}
	}
	return nil
}

// drawsByKeys is drawsByKeysLater, sent now.
func (s *Store) drawsByKeys(ctx context.Context, keys []lottery.DrawKey) (map[lottery.DrawKey]lottery.Draw, error) {
	f, err := s.drawsByKeysLater(ctx, keys)
	if err == nil {
		err = s.DB.Flush(ctx)
	}
	if err != nil {
		return nil, err
	}
	return f()
}

// createMembersLater queues the creation of the missing rows, in key
// order, by an upsert that changes nothing on the rows that exist (it
// locks them all).
func (s *Store) createMembersLater(ctx context.Context, keys []lottery.MemberKey) error {
	now := s.DB.Now()
	ins := make([]any, 0, 3*len(keys))
	for _, k := range keys {
		ins = append(ins, k.CampaignID, k.MemberID, now)
	}
	q := `INSERT INTO lottery_members (campaign_id, member_id, draws, day, day_draws, free_used, miss_streak, updated_at) VALUES ` +
		strings.TrimSuffix(strings.Repeat("(?, ?, 0, 0, 0, 0, 0, ?), ", len(keys)), ", ")
	if s.DB.Dialect() == repo.MySQL {
		q += " ON DUPLICATE KEY UPDATE campaign_id = campaign_id"
	} else {
		q += " ON CONFLICT DO NOTHING"
	}
	if err := s.DB.Later(ctx, nil, q, ins...); err != nil {
		return fmt.Errorf("create lottery members: %w", err)
	}
	return nil
}

// lockMembersLater queues the locking read of the members' rows (with
// create, the missing ones created first), sent with the transaction's
// next statement; the func returned, called after it, gives their counters
// and the keys without a row.
func (s *Store) lockMembersLater(ctx context.Context, keys []lottery.MemberKey, create bool) (func() (map[lottery.MemberKey]lottery.MemberState, []lottery.MemberKey, error), error) {
	out := make(map[lottery.MemberKey]lottery.MemberState, len(keys))
	if create {
		if err := s.createMembersLater(ctx, keys); err != nil {
			return nil, err
		}
	}
	where, args := memberWhere(keys)
	err := s.DB.LaterRead(ctx, func(rows *sql.Rows) error {
		for rows.Next() {
			var k lottery.MemberKey
			var st lottery.MemberState
			if err := rows.Scan(&k.CampaignID, &k.MemberID, &st.Draws, &st.Day, &st.DayDraws, &st.FreeUsed, &st.MissStreak); err != nil {
				return fmt.Errorf("lock lottery members: %w", err)
			}
			out[k] = st
		}
		return rows.Err()
	}, `SELECT campaign_id, member_id, draws, day, day_draws, free_used, miss_streak
			FROM lottery_members WHERE `+where+` ORDER BY campaign_id, member_id`+s.forUpdate(), args...)
	if err != nil {
		return nil, fmt.Errorf("lock lottery members: %w", err)
	}
	return func() (map[lottery.MemberKey]lottery.MemberState, []lottery.MemberKey, error) {
		var missing []lottery.MemberKey
		for _, k := range keys {
			if _, ok := out[k]; !ok {
				missing = append(missing, k)
			}
		}
		return out, missing, nil
	}, nil
}

// drawsByKeysLater queues the read of the draws stored under the keys,
// sent with the transaction's next statement.
func (s *Store) drawsByKeysLater(ctx context.Context, keys []lottery.DrawKey) (func() (map[lottery.DrawKey]lottery.Draw, error), error) {
	out := map[lottery.DrawKey]lottery.Draw{}
	if len(keys) == 0 {
		return func() (map[lottery.DrawKey]lottery.Draw, error) { return out, nil }, nil
	}
	want := make(map[lottery.DrawKey]bool, len(keys))
	for _, k := range keys {
		want[k] = true
	}
	q, args := s.drawKeysWhere(keys)
	db := s.db(ctx)
	err := s.DB.LaterRead(ctx, func(rows *sql.Rows) error {
		for rows.Next() {
			var r drawRow
			if err := db.ScanRows(rows, &r); err != nil {
				return fmt.Errorf("draws by keys: %w", err)
			}
			if k := (lottery.DrawKey{MemberID: r.MemberID, Key: r.IdemKey}); want[k] {
				out[k] = r.toDomain()
			}
		}
		return rows.Err()
	}, "SELECT * FROM lottery_draws WHERE "+q, args...)
	if err != nil {
		return nil, fmt.Errorf("draws by keys: %w", err)
	}
	return func() (map[lottery.DrawKey]lottery.Draw, error) { return out, nil }, nil
}

// drawKeysWhere matches the draws under keys. MySQL gets one range of
// uk_lottery_draws_key per key from a row constructor; "member_id IN (…)
// AND idem_key IN (…)" would make it probe every member with every key
// (a group of 60 draws: 3,600 probes, four times the time of the
// statement). SQLite, without row-value lists, gets that form.
func (s *Store) drawKeysWhere(keys []lottery.DrawKey) (string, []any) {
	if s.DB.Dialect() == repo.MySQL {
		args := make([]any, 0, 2*len(keys))
		for _, k := range keys {
			args = append(args, k.MemberID, k.Key)
		}
		return "(member_id, idem_key) IN (" + repo.RowsOf(len(keys), 2) + ")", args
	}
	var members, idem []any
	mseen, kseen := map[int64]bool{}, map[string]bool{}
	for _, k := range keys {
		if !mseen[k.MemberID] {
			mseen[k.MemberID] = true
			members = append(members, k.MemberID)
		}
		if !kseen[k.Key] {
			kseen[k.Key] = true
			idem = append(idem, k.Key)
		}
	}
	return "member_id IN (" + repo.Marks(len(members)) + ") AND idem_key IN (" + repo.Marks(len(idem)) + ")", append(members, idem...)
}

// lockPrizesLater queues the locking read of the prizes (ascending), sent
// with the transaction's next statement.
func (s *Store) lockPrizesLater(ctx context.Context, ids []int64) (func() (map[int64]lottery.Prize, error), error) {
	out := make(map[int64]lottery.Prize, len(ids))
	if len(ids) == 0 {
		return func() (map[int64]lottery.Prize, error) { return out, nil }, nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	db := s.db(ctx)
	err := s.DB.LaterRead(ctx, func(rows *sql.Rows) error {
		for rows.Next() {
			var r prizeRow
			if err := db.ScanRows(rows, &r); err != nil {
				return fmt.Errorf("lock prizes: %w", err)
			}
			out[r.ID] = r.toDomain()
		}
		return rows.Err()
	}, "SELECT * FROM lottery_prizes WHERE id IN ("+repo.Marks(len(ids))+") ORDER BY id"+s.forUpdate(), args...)
	if err != nil {
		return nil, fmt.Errorf("lock prizes: %w", err)
	}
	return func() (map[int64]lottery.Prize, error) { return out, nil }, nil
}

// LoadDrawBatch implements lottery.GroupStore: step 1 of a draw group in
// one request (see the package doc) — the member rows' lock (with
// FirstDraws, their upsert first), under it the draws under the keys, the
// drawers' accounts when no campaign of the batch has a stocked prize (as
// the request saw it), and the prizes, whose read sends them all. A key
// without a row fails it with lottery.ErrFirstDraw: creating the row now
// would lock a member row after the accounts (taken in this request), so
// the group runs again creating them first.
func (s *Store) LoadDrawBatch(ctx context.Context, q lottery.DrawBatchQuery) (lottery.DrawBatchState, error) {
	mkeys := make([]lottery.MemberKey, 0, len(q.Draws))
	dkeys := make([]lottery.DrawKey, 0, len(q.Draws))
	var cids []int64
	cseen := map[int64]bool{}
	stocked := false
	for _, d := range q.Draws {
		mkeys = append(mkeys, lottery.MemberKey{CampaignID: d.Campaign.ID, MemberID: d.MemberID})
		dkeys = append(dkeys, lottery.DrawKey{MemberID: d.MemberID, Key: d.Key})
		if !cseen[d.Campaign.ID] {
			cseen[d.Campaign.ID] = true
			cids = append(cids, d.Campaign.ID)
			stocked = stocked || hasStock(d.Campaign)
		}
	}
	sort.Slice(mkeys, func(a, b int) bool {
		if mkeys[a].CampaignID != mkeys[b].CampaignID {
			return mkeys[a].CampaignID < mkeys[b].CampaignID
		}
		return mkeys[a].MemberID < mkeys[b].MemberID
	})
	mkeys = slices.Compact(mkeys) // a member's several draws: one row
	statesF, err := s.lockMembersLater(ctx, mkeys, q.FirstDraws)
	if err != nil {
		return lottery.DrawBatchState{}, err
	}
	priorF, err := s.drawsByKeysLater(ctx, dkeys)
	if err != nil {
		return lottery.DrawBatchState{}, err
	}
	// Without stocked prizes no prize row is locked, so the accounts can
	// be locked in this request, right after the member rows: the
	// one-by-one path's lock order holds.
	if !stocked {
		members := make([]int64, 0, len(q.Draws))
		spenders := map[int64]bool{}
		for _, d := range q.Draws {
			members = append(members, d.MemberID)
			if d.MaySpend {
				spenders[d.MemberID] = true
			}
		}
		if err := s.takeAccounts(ctx, members, spenders); err != nil {
			return lottery.DrawBatchState{}, err
		}
	}
	fresh, err := s.prizes(ctx, cids)
	if err != nil {
		return lottery.DrawBatchState{}, err
	}
	states, missing, err := statesF()
	if err != nil {
		return lottery.DrawBatchState{}, err
	}
	if len(missing) > 0 {
		return lottery.DrawBatchState{}, lottery.ErrFirstDraw
	}
	prior, err := priorF()
	if err != nil {
		return lottery.DrawBatchState{}, err
	}
	return lottery.DrawBatchState{Members: states, Prior: prior, Prizes: fresh}, nil
}

// LoadPrizeClaims implements lottery.GroupStore: step 3's reads in one
// request, in lock order — the stocked prizes, then the drawers' accounts
// (with the lots of the spenders) unless LoadDrawBatch took them, then the
// wins. With nothing to read it sends nothing.
func (s *Store) LoadPrizeClaims(ctx context.Context, q lottery.PrizeClaimQuery) (lottery.PrizeClaimState, error) {
	taken := s.accountsTaken(ctx)
	if taken && len(q.Stocked) == 0 && len(q.Wins) == 0 {
		return lottery.PrizeClaimState{Stocked: map[int64]lottery.Prize{}, Wins: map[lottery.WinKey]int{}}, nil
	}
	lockedF, err := s.lockPrizesLater(ctx, q.Stocked)
	if err != nil {
		return lottery.PrizeClaimState{}, err
	}
	if !taken {
		if err := s.takeAccounts(ctx, q.Drawers, q.Spenders); err != nil {
			return lottery.PrizeClaimState{}, err
		}
	}
	wins := map[lottery.WinKey]int{}
	if len(q.Wins) > 0 {
		if wins, err = s.winsOf(ctx, q.Wins); err != nil {
			return lottery.PrizeClaimState{}, err
		}
	} else if err := s.DB.Flush(ctx); err != nil {
		return lottery.PrizeClaimState{}, err
	}
	locked, err := lockedF()
	if err != nil {
		return lottery.PrizeClaimState{}, err
	}
	return lottery.PrizeClaimState{Stocked: locked, Wins: wins}, nil
}

// hasStock reports whether c (as cached) has a prize with a stock.
func hasStock(c *lottery.Campaign) bool {
	for _, p := range c.Prizes {
		if p.Stock != lottery.Unlimited && !p.Empty() {
			return true
		}
	}
	return false
}

// accountsTakenKey marks, in a pipelined transaction, that its draw group
// took its drawers' accounts (repo.Local).
type accountsTakenKey struct{}

// takeAccounts takes the members' ledger accounts (with the lots of the
// spenders) for the transaction in ctx: in a pipelined one their locking
// read waits for the next statement (ledger.AccountTaker), and the
// ledger's Apply later in the transaction reads them no more.
func (s *Store) takeAccounts(ctx context.Context, members []int64, spenders map[int64]bool) error {
	if len(members) == 0 {
		return nil
	}
	if s.Accounts == nil {
		return fmt.Errorf("lotterystore: no Accounts to take the drawers' points accounts (use New)")
	}
	members = slices.Clone(members)
	slices.Sort(members)
	members = slices.Compact(members)
	if _, err := s.Accounts.TakeAccounts(ctx, members, spenders); err != nil {
		return err
	}
	_, set := repo.Local(ctx, accountsTakenKey{})
	set(true)
	return nil
}

// accountsTaken reports whether the draw group in ctx took its drawers'
// accounts already (in a pipelined transaction; elsewhere taking them is
// nothing, and the ledger locks them when it applies).
func (s *Store) accountsTaken(ctx context.Context) bool {
	v, _ := repo.Local(ctx, accountsTakenKey{})
	return v != nil
}
