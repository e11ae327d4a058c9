package mall

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/audit"
	"github.com/jifen/jifen/domain/batch"
	"github.com/jifen/jifen/domain/ledger"
)

// Points is the part of the ledger the mall uses; writes join the
// transaction in ctx.
type Points interface {
	Spend(ctx context.Context, in ledger.SpendInput) (ledger.Entry, error)
	Reverse(ctx context.Context, in ledger.ReverseInput) (ledger.Entry, error)
	Balance(ctx context.Context, memberID int64) (ledger.Balance, error)
	// SettledBalance is Balance inside the redemption's transaction: due
	// pending points unlocked first, as the spend would (shopperFor).
	SettledBalance(ctx context.Context, memberID int64) (ledger.Balance, error)
	// ApplyWithoutIDs is what a group of redemptions spends through
	// (group.go).
	ApplyWithoutIDs(ctx context.Context, ops []ledger.Op) ([]ledger.Entry, []error, error)
}

// Cards credits make-up cards (signin.Service.AddMakeupCards) in the
// transaction in ctx.
type Cards interface {
	AddMakeupCards(ctx context.Context, memberID int64, n int) error
}

// Tiers tells a member's tier code.
type Tiers interface {
	Code(ctx context.Context, memberID int64) (string, error)
}

// Service runs the mall.
type Service struct {
	Store  Store
	Gate   Gate
	Points Points
	Tiers  Tiers
	// Reports reads the console report (the SQL store).
	Reports Reporter
	Tx      domain.UnitOfWork
	Clock   domain.Clock
	// Audit records the console's edits of items and code pools and its
	// redemption events, each in the unit of work of the change (audit.go).
	Audit audit.Store
	// Cash takes the cash part of points + cash items (pay.go); nil
	// refuses them.
	Cash *Cash
	// Cards delivers the make-up cards of BenefitMakeupCard items; nil
	// refuses their redemption.
	Cards Cards
	// Stores checks the stores a pickup item names, TierCodes (the
	// configured tier codes) the tiers an item is for (refs.go).
	Stores    Stores
	TierCodes []string
	// GroupCommit groups concurrent points-only redemptions into one
	// transaction (group.go); the zero value redeems one by one.
	GroupCommit batch.Settings
	// ItemTTL lets a redemption start from an item read this long ago
	// (items.go); 0 reads it for every redemption.
	ItemTTL time.Duration

	group batch.Committer[*redeemJob]
	items itemCache
	// copies runs the copies of one request (member and key) one at a
	// time, so each finds the first's redemption.
	copies domain.KeyLocks
}

// RefType is the ledger reference type of mall spends; the id is the
// redemption id.
const RefType = "mall"

func ledgerRef(id int64) ledger.Ref { return ledger.Ref{Type: RefType, ID: strconv.FormatInt(id, 10)} }

// CreateItem validates and stores an item (audited as mall_item.create).
func (s *Service) CreateItem(ctx context.Context, a Actor, it *Item) error {
	if err := it.Validate(); err != nil {
		return err
	}
	if err := s.checkRefs(ctx, it); err != nil {
		return err
	}
	now := s.Clock.Now()
	it.Sold, it.CreatedAt, it.UpdatedAt = 0, now, now
	return s.Tx.InTx(ctx, func(ctx context.Context) error {
		if err := s.Store.CreateItem(ctx, it); err != nil {
			return err
		}
		return s.audit(ctx, a, "mall_item.create", itemTarget(it.ID), itemFields(it))
	})
}

// UpdateItem replaces an item's fields; its kind never changes and its
// stock may not go below what is sold. The audit row (mall_item.update)
// names the fields that changed, old and new.
func (s *Service) UpdateItem(ctx context.Context, a Actor, it *Item) (*Item, error) {
	if err := it.Validate(); err != nil {
		return nil, err
	}
	if err := s.checkRefs(ctx, it); err != nil {
		return nil, err
	}
	err := s.Tx.InTx(ctx, func(ctx context.Context) error {
		cur, err := s.Store.Item(ctx, it.ID)
		if err != nil {
			return err
		}
		if cur.Kind != it.Kind {
			return domain.FieldError("kind", "cannot change; create a new item")
		}
		it.CreatedAt, it.UpdatedAt = cur.CreatedAt, s.Clock.Now()
		if err := s.Store.UpdateItem(ctx, it); err != nil {
			return err
		}
		return s.audit(ctx, a, "mall_item.update", itemTarget(it.ID),
			map[string]any{"name": it.Name, "changes": audit.Changes(itemFields(cur), itemFields(it))})
	})
	if err != nil {
		return nil, err
	}
	s.items.forget(it.ID)
	// The Gate's copy of the stock is stale now; it is rebuilt on the next
	// redemption.
	if err := s.Gate.Reset(ctx, it.ID); err != nil {
		return nil, gateDown(err)
	}
	return s.Store.Item(ctx, it.ID)
}

// Item returns an item for the console.
func (s *Service) Item(ctx context.Context, id int64) (*Item, error) { return s.Store.Item(ctx, id) }

// Items lists the catalogue for the console (every item).
func (s *Service) Items(ctx context.Context, p Page) ([]Item, *Cursor, error) {
	p.OnSaleOnly = false
	return s.Store.Items(ctx, p)
}

// Browse lists what shoppers see: enabled items whose sales window has
// not ended, by category, in catalogue order.
func (s *Service) Browse(ctx context.Context, p Page) ([]Item, *Cursor, error) {
	p.OnSaleOnly, p.Now = true, s.Clock.Now()
	return s.Store.Items(ctx, p)
}

// Detail is an item as one shopper sees it.
type Detail struct {
	Item    *Item
	Verdict Verdict
	// Refusal says why the shopper may not redeem now ("" when they may).
	Refusal     string
	RefusalCode domain.Code
}

// Detail returns an enabled item with what the member may do with it.
func (s *Service) Detail(ctx context.Context, memberID, itemID int64) (Detail, error) {
	it, err := s.Store.Item(ctx, itemID)
	if err != nil {
		return Detail{}, err
	}
	if !it.Enabled {
		return Detail{}, domain.Errorf(domain.NotFound, "no item %d", itemID)
	}
	now := s.Clock.Now()
	who, err := s.shopper(ctx, memberID)
	if err != nil {
		return Detail{}, err
	}
	used, err := s.Store.Usage(ctx, itemID, memberID, domain.DayOf(now).Int())
	if err != nil {
		return Detail{}, err
	}
	v, why := Decide(it, who, used, now)
	d := Detail{Item: it, Verdict: v}
	if why != nil {
		d.Refusal, d.RefusalCode = domain.ErrorMessage(why), domain.ErrorCode(why)
	}
	return d, nil
}

func (s *Service) shopper(ctx context.Context, memberID int64) (Shopper, error) {
	tier, err := s.Tiers.Code(ctx, memberID)
	if err != nil {
		return Shopper{}, err
	}
	bal, err := s.Points.Balance(ctx, memberID)
	if err != nil {
		return Shopper{}, err
	}
	return Shopper{Tier: tier, Available: bal.Available}, nil
}

// gateDown turns a Gate failure into 503: without the Gate the mall does
// not guess at stock.
func gateDown(err error) error {
	return fmt.Errorf("%w (%v)", domain.Errorf(domain.Unavailable, "the mall is unavailable; retry shortly"), err)
}

// Redeem redeems one unit of an item for the member. The same key returns
// the first redemption (Replayed); the same key for another item is an
// IdempotencyConflict. Refusals are RuleViolation or PointsInsufficient
// (422) and charge nothing.
func (s *Service) Redeem(ctx context.Context, memberID, itemID int64, key string) (Redemption, error) {
	key = strings.TrimSpace(key)
	if key == "" || len(key) > 100 {
		return Redemption{}, domain.FieldError("Idempotency-Key", "1 to 100 characters")
	}
	unlock, err := s.copies.Lock(ctx, memberID, key)
	if err != nil {
		return Redemption{}, err
	}
	defer unlock()
	it, err := s.itemForRedeem(ctx, itemID)
	if domain.ErrorCode(err) == domain.NotFound {
		return s.turnedAway(ctx, memberID, itemID, key, err)
	}
	if err != nil {
		return Redemption{}, err
	}
	now := s.Clock.Now()
	day := domain.DayOf(now).Int()
	// A closed item takes nothing from the Gate. Everything else about the
	// member (tier, limits, points) is decided under the lock.
	switch {
	case !it.Enabled:
		return s.turnedAway(ctx, memberID, itemID, key, domain.Errorf(domain.NotFound, "no item %d", itemID))
	case it.CashFen > 0 && s.Cash == nil:
		return s.turnedAway(ctx, memberID, itemID, key, errNoCash(it))
	case it.Benefit != BenefitNone && s.Cards == nil:
		return s.turnedAway(ctx, memberID, itemID, key, errNoBenefit(it))
	}
	if err := it.OnSale(now); err != nil {
		return s.turnedAway(ctx, memberID, itemID, key, err)
	}
	res := Reservation{ItemID: itemID, MemberID: memberID, Day: day, LimitTotal: it.LimitTotal, LimitDaily: it.LimitDaily, Key: key}
	reserved := true
	// A limit or a unit that a copy of this request holds (on another
	// instance: the copies lock above is this process's) turns it away
	// only once that copy has given its reservation back; until then its
	// redemption is looked for and the Gate asked again (domain.AwaitCopy).
	var rerr error
	prior, found, err := domain.AwaitCopy(ctx, "redemption", func() bool {
		rerr = s.reserve(ctx, it, res)
		return errors.Is(rerr, domain.ErrCopyInFlight)
	}, func() (Redemption, bool, error) { return s.Store.RedemptionByKey(ctx, memberID, key) })
	switch {
	case err != nil:
		return Redemption{}, err
	case found:
		return s.replayed(ctx, prior, itemID)
	case errors.Is(rerr, errGateSkipped):
		reserved = false
	case rerr != nil:
		return s.turnedAway(ctx, memberID, itemID, key, rerr)
	}
	var r Redemption
	soldOut, alone := false, true
	if s.grouping(ctx, it) {
		g := s.redeemGrouped(ctx, it, memberID, key, now, day)
		r, soldOut, err, alone = g.r, g.soldOut, g.err, g.alone
	}
	if alone {
		err = s.Tx.InTx(ctx, func(ctx context.Context) error {
			var err error
			r, soldOut, err = s.commit(ctx, itemID, memberID, key, now, day)
			return err
		})
	}
	if err != nil || r.Replayed {
		// Given back even when the request's ctx has ended: a reservation
		// left taken would hold stock until the counters are rebuilt.
		bg := context.WithoutCancel(ctx)
		if reserved {
			if rerr := s.Gate.Release(bg, res); rerr != nil && err == nil {
				err = gateDown(rerr)
			}
		}
		if soldOut {
			_ = s.Gate.SoldOut(bg, itemID)
		}
		if errors.Is(err, ErrDuplicateKey) {
			prior, found, perr := s.Store.RedemptionByKey(ctx, memberID, key)
			if perr != nil || !found {
				return Redemption{}, errors.Join(err, perr)
			}
			if r, err = replay(prior, itemID); err != nil {
				return Redemption{}, err
			}
		}
		if err != nil {
			return Redemption{}, err
		}
		if r, err = replay(r, itemID); err != nil {
			return Redemption{}, err
		}
	}
	// Points + cash: the WeChat order, outside the transaction.
	if err := s.prepay(ctx, &r); err != nil {
		return Redemption{}, err
	}
	return r, nil
}

// turnedAway answers a request refused before its unit of work: the
// replay when the key was used already (an earlier request redeemed, so
// the item or the Gate may say no now), else refusal. A replay that the
// Gate let through is answered by the unit of work (which finds the key
// under the member's lock) and gives its reservation back: the common
// request costs no read of the key before it.
func (s *Service) turnedAway(ctx context.Context, memberID, itemID int64, key string, refusal error) (Redemption, error) {
	prior, found, err := s.Store.RedemptionByKey(ctx, memberID, key)
	if err != nil {
		return Redemption{}, errors.Join(refusal, err)
	}
	if !found {
		return Redemption{}, refusal
	}
	return s.replayed(ctx, prior, itemID)
}

// replayed answers a request with the redemption its key made before
// (a points + cash one with its WeChat order, freshly signed).
func (s *Service) replayed(ctx context.Context, prior Redemption, itemID int64) (Redemption, error) {
	r, err := replay(prior, itemID)
	if err == nil {
		err = s.prepay(ctx, &r)
	}
	return r, err
}

func replay(prior Redemption, itemID int64) (Redemption, error) {
	if prior.ItemID != itemID {
		return Redemption{}, domain.Errorf(domain.IdempotencyConflict, "this Idempotency-Key was used to redeem another item")
	}
	prior.Replayed = true
	return prior, nil
}

// reserve asks the Gate, rebuilding its counters from SQL when missing.
func (s *Service) reserve(ctx context.Context, it *Item, r Reservation) error {
	for attempt := 0; attempt < 10; attempt++ {
		if attempt >= 2 {
			// Counters rebuilt and lost again: a flush is still under way.
			time.Sleep(time.Duration(attempt) * time.Millisecond)
		}
		out, err := s.Gate.Reserve(ctx, r)
		if err != nil {
			return gateDown(err)
		}
		switch out {
		case GateReserved:
			return nil
		case GateCopyInFlight:
			return domain.ErrCopyInFlight
		case GateOutOfStock:
			return domain.Errorf(domain.RuleViolation, "%s is sold out", it.Name)
		case GateLimitTotal, GateLimitDaily:
			// The Gate's copy of the limits: Decide words the refusal.
			used := Usage{Total: it.LimitTotal, Today: it.LimitDaily}
			if out == GateLimitDaily {
				used.Total = 0
			}
			who, err := s.shopper(ctx, r.MemberID)
			if err != nil {
				return err
			}
			if _, err := Decide(it, who, used, s.Clock.Now()); err != nil {
				return err
			}
			return domain.Errorf(domain.RuleViolation, "limit reached")
		case GateMemberNotReady:
			u, err := s.Store.Usage(ctx, r.ItemID, r.MemberID, r.Day)
			if err != nil {
				return err
			}
			if err := s.Gate.RebuildMember(ctx, r.ItemID, r.MemberID, r.Day, u); err != nil {
				return gateDown(err)
			}
		case GateNotReady:
			// Everything of the item was lost (a flush): rebuild the
			// member's counters too, saving a round.
			fresh, err := s.Store.Item(ctx, r.ItemID)
			if err != nil {
				return err
			}
			if err := s.Gate.Rebuild(ctx, r.ItemID, fresh.Left()); err != nil {
				return gateDown(err)
			}
			if r.LimitTotal > 0 || r.LimitDaily > 0 {
				u, err := s.Store.Usage(ctx, r.ItemID, r.MemberID, r.Day)
				if err != nil {
					return err
				}
				if err := s.Gate.RebuildMember(ctx, r.ItemID, r.MemberID, r.Day, u); err != nil {
					return gateDown(err)
				}
			}
		}
	}
	// The counters keep vanishing (a flush still under way): SQL alone
	// decides this one, as it decides every redemption anyway.
	return errGateSkipped
}

// errGateSkipped reports that reserve took nothing from the Gate.
var errGateSkipped = errors.New("mall: gate skipped")

// commit is the unit of work of one redemption, one by one: its state
// loaded and saved one call at a time; decide says yes or no. SQL
// decides, whatever the Gate said. soldOut reports that SQL had no unit
// left.
func (s *Service) commit(ctx context.Context, itemID, memberID int64, key string, now time.Time, day int) (Redemption, bool, error) {
	used, err := s.Store.LockMember(ctx, itemID, memberID, day)
	if err != nil {
		return Redemption{}, false, err
	}
	// Under the member's lock a concurrent request with the same key has
	// either committed (found here) or not started its writes.
	if prior, found, err := s.Store.RedemptionByKey(ctx, memberID, key); err != nil {
		return Redemption{}, false, err
	} else if found {
		prior.Replayed = true
		return prior, false, nil
	}
	it, err := s.Store.Item(ctx, itemID)
	if err != nil {
		return Redemption{}, false, err
	}
	who, err := s.shopperFor(ctx, it, memberID)
	if err != nil {
		return Redemption{}, false, err
	}
	var free []PoolCode
	if needsCode(it) {
		if free, err = s.Store.FreeCodes(ctx, itemID, 1); err != nil {
			return Redemption{}, false, err
		}
	}
	r, err := decide(it, who, used, free, memberID, key, now, day)
	if err != nil {
		return Redemption{}, it.Left() <= 0, err
	}
	if err := s.insertRedemption(ctx, &r); err != nil {
		return Redemption{}, false, err
	}
	if err := s.charge(ctx, it, &r, now); err != nil {
		return Redemption{}, false, err
	}
	if err := s.deliver(ctx, it, &r); err != nil {
		return Redemption{}, false, err
	}
	if r.CouponCode != "" {
		if err := s.Store.GiveCodes(ctx, []PoolCode{{ID: free[0].ID, Code: r.CouponCode, RedemptionID: r.ID}}); err != nil {
			return Redemption{}, false, err
		}
	}
	// The item's stock last, as a group takes it (repo/mallstore's lock
	// order).
	ok, err := s.Store.TakeStock(ctx, itemID, 1)
	if err != nil {
		return Redemption{}, false, err
	}
	if !ok {
		return Redemption{}, true, domain.Errorf(domain.RuleViolation, "%s is sold out", it.Name)
	}
	return r, false, nil
}

// decide is the one decision of a redemption, whichever path commits it
// (one by one: commit; grouped: group.go): Decide on the item, the member
// and their usage as the path loaded them (the item's Sold counting what
// the path has taken already), then, for a points-only coupon item, the
// first of the free codes the path took from the pool — none left is sold
// out. It returns the redemption to write (no id yet; a points-only coupon
// or virtual item fulfilled at once, a pickup item with its code; charge
// marks a points + cash one reserved) or the refusal.
func decide(it *Item, who Shopper, used Usage, free []PoolCode, memberID int64, key string, now time.Time, day int) (Redemption, error) {
	if _, err := Decide(it, who, used, now); err != nil {
		return Redemption{}, err
	}
	r := Redemption{ItemID: it.ID, MemberID: memberID, Key: key, Day: day, Kind: it.Kind, ItemName: it.Name,
		Points: it.Points, CashFen: it.CashFen, Status: StatusPaid, CreatedAt: now, UpdatedAt: now}
	switch {
	case it.CashFen > 0:
		// Fulfilled when the cash arrives (pay.go).
		r.Status = StatusReserved
	case it.Kind == KindCoupon:
		if len(free) == 0 {
			return Redemption{}, domain.Errorf(domain.RuleViolation, "%s is sold out (no codes left)", it.Name)
		}
		r.CouponCode, r.Status = free[0].Code, StatusFulfilled
	case it.Kind == KindVirtual:
		r.Status = StatusFulfilled
	}
	if it.Kind == KindPickup {
		code, err := newPickupCode()
		if err != nil {
			return Redemption{}, err
		}
		r.PickupCode = code
	}
	return r, nil
}

// deliver credits the benefit of a virtual item to r's member, in the
// unit of work that spends the points (commit), so neither happens
// without the other. Only the one-by-one path redeems an item with a
// benefit (grouping).
func (s *Service) deliver(ctx context.Context, it *Item, r *Redemption) error {
	switch it.Benefit {
	case BenefitNone:
		return nil
	case BenefitMakeupCard:
		if s.Cards == nil {
			return errNoBenefit(it)
		}
		return s.Cards.AddMakeupCards(ctx, r.MemberID, it.BenefitQty)
	}
	return fmt.Errorf("mall: item %d has an unknown benefit %q", it.ID, it.Benefit)
}

// errNoBenefit refuses a benefit item on a server that cannot deliver it.
func errNoBenefit(it *Item) error {
	return domain.Errorf(domain.RuleViolation, "%s delivers %s, which this server does not keep", it.Name, it.Benefit)
}

// needsCode reports whether a redemption of it takes a pool code at once
// (a points-only coupon; points + cash takes it when paid).
func needsCode(it *Item) bool { return it.Kind == KindCoupon && it.CashFen == 0 }

// shopperFor is shopper for a redemption of it, inside its transaction:
// the tier is read only when the item is restricted to tiers (Decide reads
// it only then), and the balance is the settled one (pending points come
// due count, as the spend will count them; a plain Balance in a
// transaction leaves them pending).
func (s *Service) shopperFor(ctx context.Context, it *Item, memberID int64) (Shopper, error) {
	var who Shopper
	if len(it.Tiers) > 0 {
		tier, err := s.Tiers.Code(ctx, memberID)
		if err != nil {
			return Shopper{}, err
		}
		who.Tier = tier
	}
	bal, err := s.Points.SettledBalance(ctx, memberID)
	if err != nil {
		return Shopper{}, err
	}
	who.Available = bal.Available
	return who, nil
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		return string(r[:n])
	}
	return s
}

// insertRedemption stores r, drawing a new pickup code when its random
// one is in use already (a group with such a code fails and runs one by
// one, here).
func (s *Service) insertRedemption(ctx context.Context, r *Redemption) error {
	for attempt := 1; ; attempt++ {
		err := s.Store.InsertRedemption(ctx, r)
		if !errors.Is(err, ErrDuplicatePickupCode) || attempt == 5 {
			return err
		}
		if r.PickupCode, err = newPickupCode(); err != nil {
			return err
		}
	}
}

// newPickupCode is a 10-digit one-time code for collection in a store
// (crypto/rand; the store's unique index refuses a repeat, and
// insertRedemption draws again).
func newPickupCode() (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(9_000_000_000))
	if err != nil {
		return "", err
	}
	return strconv.FormatInt(1_000_000_000+n.Int64(), 10), nil
}

// MyRedemptions lists the member's redemptions newest first.
func (s *Service) MyRedemptions(ctx context.Context, memberID int64, limit int, cursor int64) ([]Redemption, int64, error) {
	return s.Store.Redemptions(ctx, memberID, limit, cursor)
}

// FindRedemptions lists redemptions for the console, newest first: by
// status (e.g. paid physical items waiting to be shipped), item or member.
func (s *Service) FindRedemptions(ctx context.Context, f RedemptionFilter, limit int, cursor int64) ([]Redemption, int64, error) {
	switch f.Status {
	case "", StatusReserved, StatusPaid, StatusShipped, StatusFulfilled, StatusCancelled, StatusRefunded:
	default:
		return nil, 0, domain.FieldError("status", "must be reserved, paid, shipped, fulfilled, cancelled or refunded")
	}
	return s.Store.FindRedemptions(ctx, f, limit, cursor)
}

// ImportCodes adds coupon codes to a coupon item's pool. codes[i] is line
// i+1 of the file they came from (its header, blank lines: ""), so that a
// refused code is named by its line. Codes are trimmed; blank entries are
// skipped; a code must be printable UTF-8 text of at most 64 bytes; a code
// already in the pool (given out or not) or twice in codes is skipped, so
// each code is given out once, ever. An import that added codes is
// audited (mall_codes.import, the counts, never the codes); a retry that
// added none writes no row.
func (s *Service) ImportCodes(ctx context.Context, a Actor, itemID int64, codes []string) (added, skipped int, err error) {
	it, err := s.Store.Item(ctx, itemID)
	if err != nil {
		return 0, 0, err
	}
	if it.Kind != KindCoupon {
		return 0, 0, domain.Errorf(domain.RuleViolation, "item %d is a %s item; codes belong to coupon items", itemID, it.Kind)
	}
	seen := map[string]bool{}
	var clean []string
	given := 0
	for i, c := range codes {
		c = strings.TrimSpace(c)
		if c == "" {
			continue
		}
		given++
		if why := badCode(c); why != "" {
			return 0, 0, domain.FieldError("codes", fmt.Sprintf("line %d: %s", i+1, why))
		}
		if !seen[c] {
			seen[c] = true
			clean = append(clean, c)
		}
	}
	if len(clean) == 0 {
		return 0, 0, domain.FieldError("codes", "no codes found")
	}
	if len(clean) > MaxImport {
		return 0, 0, domain.FieldError("codes", fmt.Sprintf("at most %d codes per import", MaxImport))
	}
	err = s.Tx.InTx(ctx, func(ctx context.Context) error {
		if added, err = s.Store.ImportCodes(ctx, itemID, clean, s.Clock.Now()); err != nil || added == 0 {
			return err
		}
		return s.audit(ctx, a, "mall_codes.import", itemTarget(itemID), map[string]any{"added": added, "skipped": given - added})
	})
	if err != nil {
		return 0, 0, err
	}
	return added, given - added, nil
}

// badCode says what is wrong with a trimmed, non-empty code, "" if nothing.
// A shopper is shown the code: it must be text they can read and type, so
// control and invisible characters (a byte-order mark, a zero-width space)
// are refused.
func badCode(c string) string {
	switch {
	case !utf8.ValidString(c):
		return "a code must be UTF-8 text"
	case strings.IndexFunc(c, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0:
		return "a code must be printable: no control or invisible characters"
	case len(c) > 64:
		return "a code is 1 to 64 printable bytes"
	}
	return ""
}

// MaxImport bounds one code import.
const MaxImport = 50_000
