package reminder

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"time"
)

// maxGroupText bounds the text of one grouped message: WeCom app and robot
// text messages hold 2048 bytes; a group that does not fit is split.
const maxGroupText = 2000

// groupRows splits a claimed batch into what is sent as one message: the
// rows for one shop guide (wecom) or one store robot (robot) together,
// every other row alone. Order follows the batch.
func groupRows(rows []Delivery) [][]Delivery {
	type key struct {
		ch Channel
		to string
	}
	var out [][]Delivery
	at := map[key]int{}
	for _, r := range rows {
		if r.Channel != WeCom && r.Channel != Robot {
			out = append(out, []Delivery{r})
			continue
		}
		k := key{r.Channel, r.Message.To}
		if i, ok := at[k]; ok {
			out[i] = append(out[i], r)
			continue
		}
		at[k] = len(out)
		out = append(out, []Delivery{r})
	}
	return out
}

// groupText is the message for rows to one guide or robot: a header and
// one line per customer, each row's own text.
func groupText(ch Channel, rows []Delivery) string {
	var b strings.Builder
	if ch == WeCom {
		fmt.Fprintf(&b, "您有 %d 位顾客的积分即将过期：", len(rows))
	} else {
		fmt.Fprintf(&b, "门店提醒：%d 位会员的积分即将过期：", len(rows))
	}
	for _, r := range rows {
		b.WriteString("\n")
		b.WriteString(r.Message.Text)
	}
	return b.String()
}

// chunks splits rows into messages whose text fits maxGroupText (a row
// too long on its own still goes, alone).
func chunks(ch Channel, rows []Delivery) [][]Delivery {
	var out [][]Delivery
	var cur []Delivery
	for _, r := range rows {
		if len(cur) > 0 && len(groupText(ch, append(cur, r))) > maxGroupText {
			out = append(out, cur)
			cur = nil
		}
		cur = append(cur, r)
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// deliverGroup sends the rows of one guide or robot as few messages as fit
// and returns how many rows ended in each status (Claimed: put back to
// wait). Every row of a message takes its outcome: all are committed
// "sending" before the call, as deliver does for one row, so a crash makes
// them all uncertain and none is sent again.
func (d *Dispatcher) deliverGroup(ctx context.Context, token string, now time.Time, rows []Delivery, budget map[Channel]*atomic.Int64) (map[Status]int, error) {
	res := map[Status]int{}
	ch := rows[0].Channel
	var ready []Delivery
	for _, row := range rows {
		if end, quiet := row.Quiet.Wait(now); quiet {
			res[Claimed]++
			if err := d.Store.Finish(ctx, row.ID, token, Pending, 0, "", end, now); err != nil {
				return res, err
			}
			continue
		}
		ready = append(ready, row)
	}
	sender, ok := d.Senders[ch]
	if !ok {
		for _, row := range ready {
			res[Skipped]++
			if err := d.Store.Finish(ctx, row.ID, token, Skipped, 0, "channel "+string(ch)+" is not configured", now, now); err != nil {
				return res, err
			}
		}
		return res, nil
	}
	for _, msg := range chunks(ch, ready) {
		if len(msg) == 1 {
			st, err := d.deliver(ctx, token, now, msg[0], budget)
			res[st]++
			if err != nil {
				return res, err
			}
			continue
		}
		if err := d.sendMessage(ctx, token, now, ch, sender, msg, budget, res); err != nil {
			return res, err
		}
	}
	return res, nil
}

// sendMessage sends rows (two or more, one guide or robot) as one message.
func (d *Dispatcher) sendMessage(ctx context.Context, token string, now time.Time, ch Channel, sender Sender, rows []Delivery, budget map[Channel]*atomic.Int64, res map[Status]int) error {
	if b := budget[ch]; b != nil && b.Add(-1) < 0 {
		for _, row := range rows {
			res[Claimed]++
			if err := d.Store.Finish(ctx, row.ID, token, Pending, 0, "", now.Add(time.Minute), now); err != nil {
				return err
			}
		}
		return nil
	}
	ids := make([]int64, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	var begun []int64
	err := d.Tx.InTx(ctx, func(ctx context.Context) error {
		var err error
		begun, err = d.Store.BeginMessage(ctx, ids, token, now, now.Add(d.lease()))
		return err
	})
	if err != nil {
		res[Pending] += len(rows)
		return err
	}
	in := map[int64]bool{}
	for _, id := range begun {
		in[id] = true
	}
	var sending []Delivery
	for _, r := range rows {
		if in[r.ID] {
			sending = append(sending, r)
		} else {
			res[Claimed]++ // the lease ended and a recovery took the row back
		}
	}
	if len(sending) == 0 {
		return nil
	}
	sendErr := sender.Send(ctx, Message{To: sending[0].Message.To, Text: groupText(ch, sending)})
	done := d.Clock.Now()
	out, code := classify(sendErr)
	reason := ""
	if sendErr != nil {
		reason = truncate(sendErr.Error(), 200)
	}
	for _, row := range sending {
		st, next := Uncertain, done
		switch out {
		case delivered:
			st, reason = Sent, ""
		case retry:
			st, next = Pending, done.Add(backoff(row.Attempts+1))
			if d.givesUp(row.Attempts+1, sendErr) {
				st, next = Failed, done
			}
		case permanent:
			st = Failed
		}
		if err := d.Store.Finish(ctx, row.ID, token, st, code, reason, next, done); err != nil {
			return err
		}
		res[st]++
	}
	return nil
}
