package reminder

import (
	"context"

	"github.com/jifen/jifen/domain"
)

// Outcome statuses in the order reports show them: claimed and sending
// are folded into pending, as in the campaign report.
var Outcomes = []Status{Sent, Failed, Uncertain, Skipped, Pending}

// DayOutcomes is what became of the reminders attempted on one Shanghai
// day: every channel, campaigns and the automatic expiry reminders alike.
type DayOutcomes struct {
	Day      domain.Day
	ByStatus map[Status]int // every status of Outcomes, zeros included
}

// MaxOutcomeDays bounds a report of outcomes, as analytics.MaxRange does
// the points facts.
const MaxOutcomeDays = 366

// Outcomes counts, per Shanghai day of from…to (inclusive), the reminder
// messages whose last attempt fell on that day, by status: a message
// retried on a later day counts on the day of its last attempt, a member
// a campaign held out (never attempted) on the day the message would have
// been sent, and a message never attempted otherwise (skipped before
// sending, or still queued) on none.
func (s *Campaigns) Outcomes(ctx context.Context, from, to domain.Day) ([]DayOutcomes, error) {
	if to.Before(from) {
		return nil, domain.Errorf(domain.Invalid, "to is before from")
	}
	if from.AddDays(MaxOutcomeDays - 1).Before(to) {
		return nil, domain.Errorf(domain.Invalid, "a report spans at most %d days", MaxOutcomeDays)
	}
	var out []DayOutcomes
	for d := from; !to.Before(d); d = d.AddDays(1) {
		got, err := s.Store.Attempted(ctx, d.Start(), d.AddDays(1).Start())
		if err != nil {
			return nil, err
		}
		r := DayOutcomes{Day: d, ByStatus: map[Status]int{}}
		for _, st := range Outcomes {
			r.ByStatus[st] = 0
		}
		for st, n := range got {
			if st == Claimed || st == Sending {
				st = Pending
			}
			r.ByStatus[st] += n
		}
		out = append(out, r)
	}
	return out, nil
}
