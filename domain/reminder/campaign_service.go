package reminder

import (
	"context"
	"fmt"
	"time"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/audit"
)

// CampaignStore persists campaigns (reminder_campaigns) and reads their
// outbox rows.
type CampaignStore interface {
	CreateCampaign(ctx context.Context, c *Campaign) error
	// Campaign returns a NotFound *domain.Error for an unknown id.
	Campaign(ctx context.Context, id int64) (*Campaign, error)
	// Campaigns lists newest first from before cursor (0: the newest);
	// next is 0 at the end.
	Campaigns(ctx context.Context, limit int, cursor int64) (list []Campaign, next int64, err error)
	// SaveCampaign writes c's name, status, spec and next run if the row is
	// still at c.Version, and bumps c.Version; false when it is not.
	SaveCampaign(ctx context.Context, c *Campaign, now time.Time) (bool, error)
	// DueCampaigns lists campaigns to run at now: scheduled ones whose next
	// run has come, and running ones whose runner's lease ended.
	DueCampaigns(ctx context.Context, now time.Time, limit int) ([]Campaign, error)
	// ClaimCampaign moves c (as loaded, at c.Version) to running with run
	// number run and a lease until until; false when another instance
	// changed it first.
	ClaimCampaign(ctx context.Context, c *Campaign, run int, now, until time.Time) (bool, error)
	// Heartbeat extends the lease of a running run; false when the campaign
	// is no longer running that run (paused, cancelled).
	Heartbeat(ctx context.Context, id int64, run int, until time.Time) (bool, error)
	// FinishRun ends run: status done, or scheduled at next.
	FinishRun(ctx context.Context, id int64, run int, st CampaignStatus, next *time.Time, now time.Time) (bool, error)
	// Enqueued returns which of ids already have a row of campaign key.
	Enqueued(ctx context.Context, key string, ids []int64) (map[int64]bool, error)
	// SkipPending marks the not yet sent rows (pending, claimed) whose
	// campaign key starts with prefix skipped with reason.
	SkipPending(ctx context.Context, prefix, reason string, now time.Time) (int, error)
	// Report counts the rows whose campaign key starts with prefix.
	Report(ctx context.Context, prefix string, samples int) (CampaignReport, error)
	// Deliveries lists the rows whose campaign key starts with prefix and
	// whose id is above after, by id, at most limit, without messages.
	Deliveries(ctx context.Context, prefix string, after int64, limit int) ([]Delivery, error)
	// Attempted counts every reminder's outbox rows (campaigns' and the
	// automatic expiry reminders') last attempted in [from, to), by status.
	Attempted(ctx context.Context, from, to time.Time) (map[Status]int, error)
}

// AudienceStore applies the audience filters that live outside the ledger.
type AudienceStore interface {
	// Filter keeps the ids matching a's tier, store and inactivity filters.
	Filter(ctx context.Context, ids []int64, a Audience, lowestTier string, now time.Time) (map[int64]bool, error)
	// Balances pages members (id > after, ascending) with their available
	// points, filtered by a entirely in SQL (MinPoints on the balance).
	Balances(ctx context.Context, a Audience, lowestTier string, now time.Time, after int64, limit int) ([]AudienceMember, error)
}

// AudienceMember is one member of an audience with the points a message
// tells them about.
type AudienceMember struct {
	MemberID    int64
	Points      int64
	FirstExpiry time.Time // zero without audience.expiring_within_days
}

// CampaignReport counts a campaign's outbox rows over all its runs.
type CampaignReport struct {
	ByStatus  map[Status]int // pending (claimed and sending folded in), sent, failed, skipped, uncertain, holdout
	ByErrCode map[int64]int
	Failures  []Delivery // up to the sample size, oldest first
}

// Campaigns is the marketers' campaign service.
type Campaigns struct {
	Store      CampaignStore
	Audience   AudienceStore
	Ledger     ExpiringLister
	Recipients RecipientStore
	Outbox     OutboxStore
	Audit      audit.Store // the trail of Audited
	Tx         domain.UnitOfWork
	Clock      domain.Clock
	Config     CampaignConfig
	// Lease bounds how long a running campaign stays with its instance
	// without progress (5 minutes when 0); Page is members per audience page
	// (500 when 0).
	Lease time.Duration
	Page  int
}

// CampaignInput is what a marketer sends for a campaign. QuietSet tells
// whether quiet_hours was given ("" then means none).
type CampaignInput struct {
	Name     string
	Spec     CampaignSpec
	QuietSet bool
	Version  int64 // on update: the version edited
}

// Create stores a draft.
func (s *Campaigns) Create(ctx context.Context, actor string, in CampaignInput) (*Campaign, error) {
	if err := s.Config.normalize(in.Name, &in.Spec, in.QuietSet); err != nil {
		return nil, err
	}
	now := s.Clock.Now()
	c := &Campaign{Name: in.Name, Status: CampaignDraft, Spec: in.Spec, CreatedBy: actor, Version: 1, CreatedAt: now, UpdatedAt: now}
	if err := s.Store.CreateCampaign(ctx, c); err != nil {
		return nil, fmt.Errorf("create campaign: %w", err)
	}
	return c, nil
}

// Get returns one campaign.
func (s *Campaigns) Get(ctx context.Context, id int64) (*Campaign, error) {
	return s.Store.Campaign(ctx, id)
}

// List pages campaigns, newest first.
func (s *Campaigns) List(ctx context.Context, limit int, cursor int64) ([]Campaign, int64, error) {
	return s.Store.Campaigns(ctx, limit, cursor)
}

// Update replaces a campaign's name and spec. A draft takes anything; a
// scheduled campaign too (its next run is recomputed); a paused one keeps
// its audience (its open run's recipients are partly enqueued); a running
// one may only be renamed; done and cancelled ones are final.
func (s *Campaigns) Update(ctx context.Context, id int64, in CampaignInput) (*Campaign, error) {
	if in.Version <= 0 {
		return nil, domain.FieldError("version", "required: the version being edited")
	}
	c, err := s.Store.Campaign(ctx, id)
	if err != nil {
		return nil, err
	}
	if c.Version != in.Version {
		return nil, domain.Errorf(domain.Conflict, "campaign %d is at version %d, not %d: reload and edit again", id, c.Version, in.Version)
	}
	if c.Status == CampaignDone || c.Status == CampaignCancelled {
		return nil, domain.Errorf(domain.Conflict, "campaign %d is %s: it can no longer change", id, c.Status)
	}
	if err := s.Config.normalize(in.Name, &in.Spec, in.QuietSet); err != nil {
		return nil, err
	}
	now := s.Clock.Now()
	switch c.Status {
	case CampaignRunning:
		if !sameSpec(c.Spec, in.Spec) {
			return nil, domain.Errorf(domain.Conflict, "campaign %d is running: only its name can change (pause it first)", id)
		}
	case CampaignPaused:
		if !sameAudience(c.Spec.Audience, in.Spec.Audience) {
			return nil, domain.Errorf(domain.Conflict, "campaign %d is paused with a run under way: its audience cannot change", id)
		}
	case CampaignScheduled:
		next, err := nextRun(in.Spec.Schedule, now)
		if err != nil {
			return nil, err
		}
		if c.OpenRun > 0 {
			next = now
		}
		c.NextRunAt = &next
	}
	c.Name, c.Spec = in.Name, in.Spec
	return c, s.save(ctx, c, now)
}

func (s *Campaigns) save(ctx context.Context, c *Campaign, now time.Time) error {
	ok, err := s.Store.SaveCampaign(ctx, c, now)
	if err != nil {
		return fmt.Errorf("save campaign %d: %w", c.ID, err)
	}
	if !ok {
		return domain.Errorf(domain.Conflict, "campaign %d changed meanwhile: reload and try again", c.ID)
	}
	return nil
}

// Schedule moves a draft or paused campaign to scheduled. The schedule
// must fire in the future (a paused run resumes at once) and the audience
// must not be empty.
func (s *Campaigns) Schedule(ctx context.Context, id int64) (*Campaign, error) {
	c, err := s.Store.Campaign(ctx, id)
	if err != nil {
		return nil, err
	}
	if c.Status != CampaignDraft && c.Status != CampaignPaused {
		return nil, domain.Errorf(domain.Conflict, "campaign %d is %s: only a draft or paused campaign can be scheduled", id, c.Status)
	}
	now := s.Clock.Now()
	next, err := nextRun(c.Spec.Schedule, now)
	if c.OpenRun > 0 {
		next, err = now, nil // resume the interrupted run
	}
	if err != nil {
		return nil, err
	}
	empty := true
	err = s.eachAudiencePage(ctx, c, now, func(ms []AudienceMember) (bool, error) {
		empty = false
		return false, nil
	})
	if err != nil {
		return nil, err
	}
	if empty {
		return nil, violation("audience", "audience is empty: no member matches it now")
	}
	c.Status, c.NextRunAt = CampaignScheduled, &next
	return c, s.save(ctx, c, now)
}

// Pause stops a scheduled or running campaign; Schedule resumes it.
func (s *Campaigns) Pause(ctx context.Context, id int64) (*Campaign, error) {
	c, err := s.Store.Campaign(ctx, id)
	if err != nil {
		return nil, err
	}
	if c.Status != CampaignScheduled && c.Status != CampaignRunning {
		return nil, domain.Errorf(domain.Conflict, "campaign %d is %s: only a scheduled or running campaign can be paused", id, c.Status)
	}
	c.Status, c.NextRunAt = CampaignPaused, nil
	return c, s.save(ctx, c, s.Clock.Now())
}

// Cancel ends a campaign for good; its messages not sent yet are skipped
// with the reason "campaign cancelled", in the same transaction.
func (s *Campaigns) Cancel(ctx context.Context, id int64) (*Campaign, int, error) {
	var out *Campaign
	var skipped int
	err := s.Tx.InTx(ctx, func(ctx context.Context) error {
		c, err := s.Store.Campaign(ctx, id)
		if err != nil {
			return err
		}
		if c.Status == CampaignDone || c.Status == CampaignCancelled {
			return domain.Errorf(domain.Conflict, "campaign %d is already %s", id, c.Status)
		}
		now := s.Clock.Now()
		c.Status, c.NextRunAt = CampaignCancelled, nil
		if err := s.save(ctx, c, now); err != nil {
			return err
		}
		skipped, err = s.Store.SkipPending(ctx, CampaignKeyPrefix(id), "campaign cancelled", now)
		out = c
		return err
	})
	return out, skipped, err
}

// Report counts the campaign's messages over all its runs, with up to 10
// failures.
func (s *Campaigns) Report(ctx context.Context, id int64) (*Campaign, CampaignReport, error) {
	c, err := s.Store.Campaign(ctx, id)
	if err != nil {
		return nil, CampaignReport{}, err
	}
	rep, err := s.Store.Report(ctx, CampaignKeyPrefix(id), 10)
	return c, rep, err
}

// Deliveries pages through every message of campaign id over all its
// runs (id above after, ascending), for the console's CSV export.
func (s *Campaigns) Deliveries(ctx context.Context, id, after int64, limit int) ([]Delivery, error) {
	return s.Store.Deliveries(ctx, CampaignKeyPrefix(id), after, limit)
}

// DryRunResult is what a run would do now.
type DryRunResult struct {
	Audience  int
	ByChannel map[Channel]int
	Samples   []Delivery // up to 10, with rendered messages
}

// DryRun computes the audience, the channel each member would get and up
// to 10 rendered messages, writing nothing.
func (s *Campaigns) DryRun(ctx context.Context, id int64) (*Campaign, DryRunResult, error) {
	res := DryRunResult{ByChannel: map[Channel]int{Subscribe: 0, Template: 0, WeCom: 0, Robot: 0, None: 0}}
	c, err := s.Store.Campaign(ctx, id)
	if err != nil {
		return nil, res, err
	}
	now := s.Clock.Now()
	err = s.eachAudiencePage(ctx, c, now, func(ms []AudienceMember) (bool, error) {
		ds, err := s.deliveries(ctx, c, "dry-run", now, ms)
		if err != nil {
			return false, err
		}
		res.Audience += len(ms)
		for _, d := range ds {
			res.ByChannel[d.Channel]++
			if len(res.Samples) < 10 {
				res.Samples = append(res.Samples, d)
			}
		}
		return true, nil
	})
	return c, res, err
}
