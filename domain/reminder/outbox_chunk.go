package reminder

import (
	"context"
	"sync/atomic"
	"time"
)

// ChunkStore commits a chunk of rows' "sending" and their outcomes with
// one transaction and one statement instead of one of each per row (see
// Dispatcher.Chunk).
type ChunkStore interface {
	// BeginChunk, in one transaction, spends one subscription send for each
	// subscribe row and moves every row token holds from claimed to sending
	// (attempts + 1, attempted at now, leased until until). Rows whose
	// member has no send left are finished skipped and returned in noQuota.
	// When any other row is no longer claimed by token (its lease ended),
	// nothing is written and lost is true: the caller goes row by row.
	BeginChunk(ctx context.Context, token string, rows []Delivery, now, until time.Time) (begun, noQuota []Delivery, lost bool, err error)
	// FinishChunk records outcomes as Finish does, grouped into as few
	// statements as there are distinct outcomes.
	FinishChunk(ctx context.Context, token string, outs []Outcome) error
}

// DispatchStore is the outbox as the dispatcher uses it: row by row and a
// chunk at a time.
type DispatchStore interface {
	OutboxStore
	ChunkStore
}

// Outcome is the result of one row, as Finish records it.
type Outcome struct {
	ID      int64
	Status  Status
	ErrCode int64
	Reason  string
	Next    time.Time
	Now     time.Time
}

// deliverChunk delivers rows claimed by token, Chunk at a time: one
// transaction marks them all sending (and spends their subscription
// sends) before the first call, and one statement records the outcomes
// after the last. A crash between the two leaves up to Chunk rows sending,
// and recovery makes them uncertain, so a chunk is never sent twice but up
// to Chunk rows that were not called yet may be lost (per worker: the
// Workers run at once): the price of committing once per chunk rather
// than twice per row. Rows waiting for
// quiet hours or the throttle, rows without a sender, rows whose data
// cannot be sent (Fit) and every refusal take the per-row path, as do
// chunks of one row.
func (d *Dispatcher) deliverChunk(ctx context.Context, token string, now time.Time, rows []Delivery, budget map[Channel]*atomic.Int64) ([]Status, error) {
	out := make([]Status, len(rows))
	if len(rows) == 1 {
		return d.deliverEach(ctx, token, now, rows, budget, out)
	}
	var ready []Delivery
	at := map[int64]int{}
	for i, row := range rows {
		_, quiet := row.Quiet.Wait(now)
		b := budget[row.Channel]
		msg, unfit := Fit(row)
		if quiet || d.Senders[row.Channel] == nil || b != nil && b.Load() <= 0 || unfit != nil {
			// The per-row path defers, skips or throttles it.
			s, err := d.deliver(ctx, token, now, row, budget)
			if err != nil {
				return out, err
			}
			out[i] = s
			continue
		}
		if b != nil && b.Add(-1) < 0 {
			out[i] = Claimed
			if err := d.Store.Finish(ctx, row.ID, token, Pending, 0, "", now.Add(time.Minute), now); err != nil {
				return out, err
			}
			continue
		}
		row.Message = msg
		at[row.ID] = i
		ready = append(ready, row)
	}
	if len(ready) == 0 {
		return out, nil
	}
	begun, noQuota, lost, err := d.Store.BeginChunk(ctx, token, ready, now, now.Add(d.lease()))
	if err != nil {
		return out, err
	}
	if lost {
		for _, row := range ready {
			if b := budget[row.Channel]; b != nil {
				b.Add(1) // deliver takes it again
			}
		}
		sub, err := d.deliverEach(ctx, token, now, ready, budget, make([]Status, len(ready)))
		for j, row := range ready {
			out[at[row.ID]] = sub[j]
		}
		return out, err
	}
	for _, row := range noQuota {
		out[at[row.ID]] = Skipped
	}
	var outs []Outcome
	var waits []time.Duration
	var firstErr error
	for _, row := range begun {
		o, wait, err := d.sendBegun(ctx, row)
		waits = append(waits, wait)
		if err != nil && firstErr == nil {
			firstErr = err
		}
		out[at[row.ID]] = o.Status
		outs = append(outs, o)
	}
	// One timestamp for the chunk's outcomes, so equal outcomes share one
	// statement.
	done := d.Clock.Now()
	for i := range outs {
		outs[i].Now, outs[i].Next = done, done.Add(waits[i])
	}
	if err := d.Store.FinishChunk(ctx, token, outs); err != nil && firstErr == nil {
		firstErr = err
	}
	return out, firstErr
}

func (d *Dispatcher) deliverEach(ctx context.Context, token string, now time.Time, rows []Delivery, budget map[Channel]*atomic.Int64, out []Status) ([]Status, error) {
	var firstErr error
	for i, row := range rows {
		s, err := d.deliver(ctx, token, now, row, budget)
		if err != nil && firstErr == nil {
			firstErr = err
		}
		out[i] = s
	}
	return out, firstErr
}

// sendBegun calls the channel for a row committed as sending and returns
// its outcome (without times: the caller sets them) and, for a retry, the
// wait before it, giving back or zeroing the quota as deliver does.
func (d *Dispatcher) sendBegun(ctx context.Context, row Delivery) (Outcome, time.Duration, error) {
	sendErr := d.Senders[row.Channel].Send(ctx, row.Message)
	res, code := classify(sendErr)
	o := Outcome{ID: row.ID}
	if sendErr != nil {
		o.Reason = truncate(sendErr.Error(), 200)
	}
	var err error
	var wait time.Duration
	switch res {
	case delivered:
		o.Status = Sent
	case retry:
		err = d.refund(ctx, row)
		o.Status, o.ErrCode = Pending, code
		if d.givesUp(row.Attempts+1, sendErr) {
			o.Status = Failed
		} else {
			wait = backoff(row.Attempts + 1)
		}
	case permanent:
		if code == CodeNoQuota {
			err = d.Store.ZeroQuota(ctx, row.MemberID, row.Message.TemplateID)
		} else {
			err = d.refund(ctx, row)
		}
		o.Status, o.ErrCode = Failed, code
	default:
		o.Status = Uncertain
	}
	return o, wait, err
}
