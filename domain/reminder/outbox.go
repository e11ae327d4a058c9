package reminder

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jifen/jifen/domain"
)

// Delivery is one outbox row: one message of one campaign to one member on
// one channel.
type Delivery struct {
	ID       int64
	Campaign string // "auto:T-7:20261231", "campaign:12:1", …
	MemberID int64
	Channel  Channel
	Message  Message
	Status   Status
	Reason   string // why skipped or failed
	ErrCode  int64
	NextAt   time.Time
	// Quiet is the campaign's quiet window: sends wait until it ends.
	Quiet    QuietHours
	Attempts int
	// AttemptedAt is the last attempt (zero before the first); filled by
	// Deliveries only.
	AttemptedAt time.Time
}

// OutboxStore persists the outbox and the subscription quotas.
type OutboxStore interface {
	// Enqueue inserts the deliveries, skipping any whose campaign × member
	// × channel exists, and returns how many it inserted.
	Enqueue(ctx context.Context, ds []Delivery) (int, error)
	// Recover ends expired leases: claimed rows go back to pending (never
	// sent), sending rows become uncertain (maybe sent).
	Recover(ctx context.Context, now time.Time) (released, uncertain int, err error)
	// Claim leases up to limit pending rows due at now to token.
	Claim(ctx context.Context, token string, now, until time.Time, limit int) ([]Delivery, error)
	// Begin moves a row token holds from claimed to sending (attempts + 1,
	// attempted at now); false when the lease was lost.
	Begin(ctx context.Context, id int64, token string, now, until time.Time) (bool, error)
	// BeginMessage moves rows token holds from claimed to sending as one
	// grouped message (attempts + 1 each) and returns those it moved (not
	// those whose lease was lost). Only the first moved row is marked
	// attempted at now, so AttemptsSince counts messages, not rows.
	BeginMessage(ctx context.Context, ids []int64, token string, now, until time.Time) ([]int64, error)
	// Finish records the outcome of a row token holds (claimed, sending or
	// already marked uncertain by a recovery): status, errcode, reason and,
	// for pending, when to try again.
	Finish(ctx context.Context, id int64, token string, st Status, errcode int64, reason string, next, now time.Time) error
	// AttemptsSince counts the channel's sends begun after since (all
	// instances): the throttle's window.
	AttemptsSince(ctx context.Context, ch Channel, since time.Time) (int, error)
	// SpendQuota takes one send from the member's subscription to template;
	// false when none is left.
	SpendQuota(ctx context.Context, memberID int64, templateID string) (bool, error)
	// RefundQuota gives back a send WeChat refused before delivering.
	RefundQuota(ctx context.Context, memberID int64, templateID string) error
	// ZeroQuota records that WeChat says the member has none left (43101).
	ZeroQuota(ctx context.Context, memberID int64, templateID string) error
}

// Dispatcher drains the outbox: it claims due rows, waits out quiet hours,
// throttles per channel and sends each row at most once (see the package
// doc).
type Dispatcher struct {
	Store   DispatchStore
	Tx      domain.UnitOfWork
	Clock   domain.Clock
	Senders map[Channel]Sender
	Owner   string
	// Batch rows are claimed at a time (200 when 0), sent by Workers
	// goroutines (8 when 0).
	Batch   int
	Workers int
	// Chunk rows a worker marks sending in one transaction and records
	// the outcomes of in one statement (1, row by row, when 0). Every
	// worker has its own chunk sending at once, so a crash leaves up to
	// Workers × Chunk rows uncertain (never sent twice, maybe not sent):
	// keep it small.
	Chunk int
	// Lease bounds how long a claimed or sending row stays ours (5 minutes
	// when 0); it must exceed a send's timeout (Chunk sends' timeouts when
	// chunked).
	Lease time.Duration
	// MaxAttempts before a retried row fails (5 when 0). Tries that never
	// reached WeChat (no access token) do not count: see notSentTries.
	MaxAttempts int
	// PerMinute caps sends per channel per minute, across instances; 0 or
	// absent is no cap.
	PerMinute map[Channel]int
	// Paused reports whether a campaign is paused: its messages already
	// queued wait, a minute at a time, until it is resumed (they go) or
	// cancelled (they are skipped). nil: nothing waits.
	Paused func(ctx context.Context, campaignID int64) (bool, error)
	seq    atomic.Int64
}

// DispatchReport counts what one RunOnce did.
type DispatchReport struct {
	Claimed, Sent, Failed, Skipped, Uncertain, Retried, Deferred int
	Recovered, MadeUncertain                                     int
}

// RunOnce recovers expired leases and sends one batch; Drain repeats it.
func (d *Dispatcher) RunOnce(ctx context.Context) (DispatchReport, error) {
	var rep DispatchReport
	now := d.Clock.Now()
	var err error
	if rep.Recovered, rep.MadeUncertain, err = d.Store.Recover(ctx, now); err != nil {
		return rep, fmt.Errorf("recover outbox leases: %w", err)
	}
	token := fmt.Sprintf("%s#%d", d.Owner, d.seq.Add(1))
	rows, err := d.Store.Claim(ctx, token, now, now.Add(d.lease()), d.batch())
	if err != nil {
		return rep, fmt.Errorf("claim outbox rows: %w", err)
	}
	rep.Claimed = len(rows)
	if rows, err = d.holdPaused(ctx, token, now, rows, &rep); err != nil {
		return rep, err
	}
	if len(rows) == 0 {
		return rep, nil
	}
	budget := map[Channel]*atomic.Int64{}
	for ch, limit := range d.PerMinute {
		if limit <= 0 {
			continue
		}
		used, err := d.Store.AttemptsSince(ctx, ch, now.Add(-time.Minute))
		if err != nil {
			return rep, err
		}
		b := &atomic.Int64{}
		b.Store(int64(limit - used))
		budget[ch] = b
	}
	var mu sync.Mutex
	var firstErr error
	work := make(chan workItem)
	var wg sync.WaitGroup
	for range d.workers() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for w := range work {
				var res map[Status]int
				var err error
				if w.group {
					res, err = d.deliverGroup(ctx, token, now, w.rows, budget)
				} else {
					var sts []Status
					sts, err = d.deliverChunk(ctx, token, now, w.rows, budget)
					res = map[Status]int{}
					for _, st := range sts {
						res[st]++
					}
				}
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				rep.Sent += res[Sent]
				rep.Failed += res[Failed]
				rep.Skipped += res[Skipped]
				rep.Uncertain += res[Uncertain]
				rep.Retried += res[Pending]
				rep.Deferred += res[Claimed]
				mu.Unlock()
			}
		}()
	}
	// One guide's or one robot's rows go as one message; the other rows
	// are committed Chunk at a time.
	chunk := max(d.Chunk, 1)
	var singles []Delivery
	for _, g := range groupRows(rows) {
		if len(g) > 1 {
			work <- workItem{group: true, rows: g}
			continue
		}
		singles = append(singles, g[0])
		if len(singles) == chunk {
			work <- workItem{rows: singles}
			singles = nil
		}
	}
	if len(singles) > 0 {
		work <- workItem{rows: singles}
	}
	close(work)
	wg.Wait()
	return rep, firstErr
}

// holdPaused gives back, due again in a minute, the claimed rows of
// paused campaigns (one look-up per campaign), and returns the others.
func (d *Dispatcher) holdPaused(ctx context.Context, token string, now time.Time, rows []Delivery, rep *DispatchReport) ([]Delivery, error) {
	if d.Paused == nil {
		return rows, nil
	}
	paused := map[int64]bool{}
	kept := rows[:0]
	for _, row := range rows {
		id, ok := campaignIDOf(row.Campaign)
		if ok {
			p, seen := paused[id]
			if !seen {
				var err error
				if p, err = d.Paused(ctx, id); err != nil {
					return nil, fmt.Errorf("campaign %d: %w", id, err)
				}
				paused[id] = p
			}
			if p {
				if err := d.Store.Finish(ctx, row.ID, token, Pending, 0, "", now.Add(time.Minute), now); err != nil {
					return nil, err
				}
				rep.Deferred++
				continue
			}
		}
		kept = append(kept, row)
	}
	return kept, nil
}

// campaignIDOf is the campaign of an outbox key "campaign:<id>:<run>".
func campaignIDOf(key string) (int64, bool) {
	rest, ok := strings.CutPrefix(key, "campaign:")
	if !ok {
		return 0, false
	}
	idText, _, _ := strings.Cut(rest, ":")
	id, err := strconv.ParseInt(idText, 10, 64)
	return id, err == nil
}

// Drain runs RunOnce until a batch claims nothing or ctx ends.
func (d *Dispatcher) Drain(ctx context.Context) (DispatchReport, error) {
	var total DispatchReport
	for ctx.Err() == nil {
		rep, err := d.RunOnce(ctx)
		total.add(rep)
		if err != nil || rep.Claimed == 0 || rep.Claimed == rep.Deferred {
			return total, err
		}
	}
	return total, ctx.Err()
}

func (r *DispatchReport) add(o DispatchReport) {
	r.Claimed += o.Claimed
	r.Sent += o.Sent
	r.Failed += o.Failed
	r.Skipped += o.Skipped
	r.Uncertain += o.Uncertain
	r.Retried += o.Retried
	r.Deferred += o.Deferred
	r.Recovered += o.Recovered
	r.MadeUncertain += o.MadeUncertain
}

// deliver sends one claimed row and returns its new status (Claimed when it
// was put back to wait for quiet hours or the throttle).
func (d *Dispatcher) deliver(ctx context.Context, token string, now time.Time, row Delivery, budget map[Channel]*atomic.Int64) (Status, error) {
	if end, quiet := row.Quiet.Wait(now); quiet {
		return Claimed, d.Store.Finish(ctx, row.ID, token, Pending, 0, "", end, now)
	}
	sender, ok := d.Senders[row.Channel]
	if !ok {
		return Skipped, d.Store.Finish(ctx, row.ID, token, Skipped, 0, "channel "+string(row.Channel)+" is not configured", now, now)
	}
	msg, err := Fit(row)
	if err != nil {
		// Refused here, so no subscription is spent and nothing is throttled.
		return Failed, d.Store.Finish(ctx, row.ID, token, Failed, 0, truncate(err.Error(), 200), now, now)
	}
	row.Message = msg
	if b := budget[row.Channel]; b != nil && b.Add(-1) < 0 {
		return Claimed, d.Store.Finish(ctx, row.ID, token, Pending, 0, "", now.Add(time.Minute), now)
	}
	// Spending the quota and marking the row "sending" commit together,
	// before the remote call: from here on a crash means "uncertain".
	var begun, noQuota bool
	err = d.Tx.InTx(ctx, func(ctx context.Context) error {
		begun, noQuota = false, false
		if row.Channel == Subscribe {
			ok, err := d.Store.SpendQuota(ctx, row.MemberID, row.Message.TemplateID)
			if err != nil {
				return err
			}
			if !ok {
				noQuota = true
				return d.Store.Finish(ctx, row.ID, token, Skipped, 0, "no subscription quota left", now, now)
			}
		}
		var err error
		begun, err = d.Store.Begin(ctx, row.ID, token, now, now.Add(d.lease()))
		return err
	})
	switch {
	case err != nil:
		return Pending, err
	case noQuota:
		return Skipped, nil
	case !begun:
		return Claimed, nil // the lease ended and a recovery took the row back
	}

	sendErr := sender.Send(ctx, row.Message)
	done := d.Clock.Now()
	out, code := classify(sendErr)
	reason := ""
	if sendErr != nil {
		reason = truncate(sendErr.Error(), 200)
	}
	switch out {
	case delivered:
		return Sent, d.Store.Finish(ctx, row.ID, token, Sent, 0, "", done, done)
	case retry:
		if err := d.refund(ctx, row); err != nil {
			return Pending, err
		}
		if d.givesUp(row.Attempts+1, sendErr) {
			return Failed, d.Store.Finish(ctx, row.ID, token, Failed, code, reason, done, done)
		}
		return Pending, d.Store.Finish(ctx, row.ID, token, Pending, code, reason, retryAt(code, row.Channel, row.Attempts+1, row.ID, done), done)
	case permanent:
		if code == CodeNoQuota {
			if err := d.Store.ZeroQuota(ctx, row.MemberID, row.Message.TemplateID); err != nil {
				return Failed, err
			}
		} else if err := d.refund(ctx, row); err != nil {
			return Failed, err
		}
		return Failed, d.Store.Finish(ctx, row.ID, token, Failed, code, reason, done, done)
	}
	return Uncertain, d.Store.Finish(ctx, row.ID, token, Uncertain, 0, reason, done, done)
}

// Fit returns the message row sends, its keyword values fitted to
// WeChat's rules (FitKeywords) for subscribe and template messages, or why
// it cannot be sent: the one check every send path makes before spending
// anything.
func Fit(row Delivery) (Message, error) {
	var data map[string]string
	var err error
	switch row.Channel {
	case Subscribe:
		data, err = FitKeywords(row.Message.Data)
	case Template:
		data, err = FitTemplateKeywords(row.Message.Data)
	default:
		return row.Message, nil
	}
	if err != nil {
		return Message{}, fmt.Errorf("not sent, %s data: %w", row.Channel, err)
	}
	m := row.Message
	m.Data = data
	return m, nil
}

// refund gives back the subscription send a refused message spent: WeChat
// only spends one on delivery.
func (d *Dispatcher) refund(ctx context.Context, row Delivery) error {
	if row.Channel != Subscribe {
		return nil
	}
	return d.Store.RefundQuota(ctx, row.MemberID, row.Message.TemplateID)
}

// backoff is the wait before attempt n+1: 1, 2, 4 … minutes, at most an hour.
func backoff(n int) time.Duration {
	d := time.Minute << min(n-1, 6)
	return min(d, time.Hour)
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n])
}

func (d *Dispatcher) lease() time.Duration {
	if d.Lease <= 0 {
		return 5 * time.Minute
	}
	return d.Lease
}

func (d *Dispatcher) batch() int {
	if d.Batch <= 0 {
		return 200
	}
	return d.Batch
}

func (d *Dispatcher) workers() int {
	if d.Workers <= 0 {
		return 8
	}
	return d.Workers
}

// notSentTries bounds the tries of a row that never reached WeChat (no
// access token: WeChat's token API, or its setting, failing). They do not
// count toward MaxAttempts, whose backoff gives up after about 15 minutes
// and would fail every queued reminder for good during a longer outage;
// with the backoff at its hour, this many more ride out about a day.
const notSentTries = 24

// givesUp reports whether a row whose try number attempt was turned away
// with err (a retry) fails for good.
func (d *Dispatcher) givesUp(attempt int, err error) bool {
	var se *SendError
	if errors.As(err, &se) && se.NotSent {
		return attempt >= d.maxAttempts()+notSentTries
	}
	return attempt >= d.maxAttempts()
}

func (d *Dispatcher) maxAttempts() int {
	if d.MaxAttempts <= 0 {
		return 5
	}
	return d.MaxAttempts
}

// workItem is what one dispatcher worker sends at a time: one guide's or
// robot's rows as one message (group), or a chunk of rows sent one by one.
type workItem struct {
	group bool
	rows  []Delivery
}
