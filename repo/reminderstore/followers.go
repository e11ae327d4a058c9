package reminderstore

import (
	"context"
	"time"

	"gorm.io/gorm/clause"

	"github.com/jifen/jifen/domain/reminder"
	"github.com/jifen/jifen/repo"
)

// Followers implements reminder.FollowerStore on official_followers.
type Followers struct{ DB *repo.DB }

var _ reminder.FollowerStore = (*Followers)(nil)

type followerRow struct {
	OpenID     string `gorm:"column:openid;primaryKey"`
	UnionID    string `gorm:"column:unionid"`
	Subscribed bool
	UpdatedAt  time.Time
}

func (followerRow) TableName() string { return "official_followers" }

// SaveFollowers implements reminder.FollowerStore. Rows without a unionid
// go in a separate upsert that leaves the stored unionid alone.
func (s *Followers) SaveFollowers(ctx context.Context, fs []reminder.Follower, now time.Time) error {
	var with, without []followerRow
	for _, f := range fs {
		r := followerRow{OpenID: f.OpenID, UnionID: f.UnionID, Subscribed: f.Subscribed, UpdatedAt: now.UTC()}
		if f.UnionID == "" {
			without = append(without, r)
		} else {
			with = append(with, r)
		}
	}
	for _, b := range []struct {
		rows []followerRow
		cols []string
	}{{with, []string{"unionid", "subscribed", "updated_at"}}, {without, []string{"subscribed", "updated_at"}}} {
		if len(b.rows) == 0 {
			continue
		}
		err := s.DB.Conn(ctx).Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "openid"}},
			DoUpdates: clause.AssignmentColumns(b.cols)}).CreateInBatches(b.rows, 500).Error
		if err != nil {
			return err
		}
	}
	return nil
}

// SaveFollowerEvent implements reminder.FollowerStore: updated_at is the
// moment the stored state is known for (an event's time, a sync's start),
// and the update only takes rows known for an earlier or the same moment.
func (s *Followers) SaveFollowerEvent(ctx context.Context, f reminder.Follower, at time.Time) (bool, error) {
	at = at.UTC()
	cols := map[string]any{"subscribed": f.Subscribed, "updated_at": at}
	if f.UnionID != "" {
		cols["unionid"] = f.UnionID
	}
	db := s.DB.Conn(ctx)
	res := db.Model(&followerRow{}).Where("openid = ? AND updated_at <= ?", f.OpenID, at).Updates(cols)
	if res.Error != nil || res.RowsAffected > 0 {
		return res.Error == nil, res.Error
	}
	// No row, or one known for a later moment: only a missing one is added.
	res = db.Clauses(clause.OnConflict{DoNothing: true}).
		Create(&followerRow{OpenID: f.OpenID, UnionID: f.UnionID, Subscribed: f.Subscribed, UpdatedAt: at})
	return res.RowsAffected > 0, res.Error
}

// KnownUnionIDs implements reminder.FollowerStore.
func (s *Followers) KnownUnionIDs(ctx context.Context, openids []string) (map[string]string, error) {
	out := map[string]string{}
	if len(openids) == 0 {
		return out, nil
	}
	var rows []followerRow
	err := s.DB.Conn(ctx).Where("openid IN ? AND unionid <> ''", openids).Find(&rows).Error
	for _, r := range rows {
		out[r.OpenID] = r.UnionID
	}
	return out, err
}

// UnsubscribeNotSeenSince implements reminder.FollowerStore.
func (s *Followers) UnsubscribeNotSeenSince(ctx context.Context, since time.Time) (int, error) {
	// MariaDB truncates what it stores to the column's precision, so a row
	// written at since reads back earlier than since: compare whole seconds.
	cut := since.UTC().Truncate(time.Second)
	res := s.DB.Conn(ctx).Model(&followerRow{}).Where("subscribed = ? AND updated_at < ?", true, cut).
		Updates(map[string]any{"subscribed": false, "updated_at": since.UTC()})
	return int(res.RowsAffected), res.Error
}

// Follower returns one stored follower (tests and support).
func (s *Followers) Follower(ctx context.Context, openid string) (reminder.Follower, bool, error) {
	var rows []followerRow
	if err := s.DB.Conn(ctx).Where("openid = ?", openid).Limit(1).Find(&rows).Error; err != nil || len(rows) == 0 {
		return reminder.Follower{}, false, err
	}
	r := rows[0]
	return reminder.Follower{OpenID: r.OpenID, UnionID: r.UnionID, Subscribed: r.Subscribed}, true, nil
}
