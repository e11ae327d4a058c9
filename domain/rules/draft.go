package rules

import (
	"context"
	"errors"

	"github.com/jifen/jifen/domain"
)

// withDraft returns the rules of an evaluation with the draft taking part
// as if it were saved and active: in place of the rule it edits (draft.ID
// > 0), or as a new rule. A new rule gets an id above every other one for
// the evaluation, so among rules of equal priority it comes last, as it
// will once saved; tempID reports that id (0 when the draft edits a rule).
func withDraft(rs []Rule, draft Rule) (out []Rule, tempID int64) {
	draft.Status = Active
	out = make([]Rule, 0, len(rs)+1)
	var top int64
	for _, r := range rs {
		top = max(top, r.ID)
		if r.ID != draft.ID {
			out = append(out, r)
		}
	}
	if draft.ID == 0 {
		draft.ID, tempID = top+1, top+1
	}
	return append(out, draft), tempID
}

// draftLimiter answers for a new draft's caps and budget pool as a fresh
// rule would have them: nothing awarded yet, the whole budget left; other
// rules go to the real limiter. Simulations only: it records nothing.
type draftLimiter struct {
	limiter
	id     int64
	budget int64
}

func (d draftLimiter) awarded(ctx context.Context, member, rule int64, from, to domain.Day) (int64, error) {
	if rule == d.id {
		return 0, nil
	}
	return d.limiter.awarded(ctx, member, rule, from, to)
}

func (d draftLimiter) reserve(ctx context.Context, rule, points int64, dryRun bool) (int64, error) {
	if rule == d.id {
		return min(points, d.budget), nil
	}
	return d.limiter.reserve(ctx, rule, points, dryRun)
}

// checkDraft normalizes and validates a simulation's draft; its problems
// are named by their path in the request ("draft.effect.points").
func checkDraft(in *Input) error {
	d := *in.Draft
	Normalize(&d)
	if err := Validate(&d); err != nil {
		var e *domain.Error
		if errors.As(err, &e) {
			f := make(map[string]string, len(e.Fields))
			for k, v := range e.Fields {
				f["draft."+k] = v
			}
			return &domain.Error{Code: e.Code, Message: "the draft rule is not valid", Fields: f}
		}
		return err
	}
	if d.Trigger != in.Trigger {
		return domain.FieldError("draft.trigger", "must be the simulated trigger "+string(in.Trigger))
	}
	in.Draft = &d
	return nil
}
