package reminderstore

import (
	"context"

	"github.com/jifen/jifen/domain/reminder"
	"github.com/jifen/jifen/repo"
)

// Recipients implements reminder.RecipientStore: one query joins each
// member to their subscribed official-account follower (by unionid), their
// shop guide and the guide's store; a second reads the page's subscription
// quotas. Two queries per page, whatever its size.
type Recipients struct{ DB *repo.DB }

var (
	_ reminder.RecipientStore = (*Recipients)(nil)
	_ reminder.Guides         = (*Recipients)(nil)
)

type recipientRow struct {
	ID             int64
	OpenID         string  `gorm:"column:openid"`
	UnionID        *string `gorm:"column:unionid"`
	Nickname       string
	OfficialOpenID *string `gorm:"column:official_openid"`
	GuideUserID    *string `gorm:"column:guide_userid"`
	GuideStatus    *string `gorm:"column:guide_status"`
	StoreID        *int64  `gorm:"column:store_id"`
	RobotKey       *string `gorm:"column:robot_key"`
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func (s *Recipients) rows(ctx context.Context, ids []int64) ([]recipientRow, error) {
	var rows []recipientRow
	err := s.DB.Conn(ctx).Table("members m").
		Select("m.id, m.openid, m.unionid, m.nickname, f.openid AS official_openid, g.userid AS guide_userid, "+
			"g.status AS guide_status, st.id AS store_id, st.robot_key").
		Joins("LEFT JOIN official_followers f ON f.unionid = m.unionid AND f.subscribed = ? AND f.unionid <> ''", true).
		Joins("LEFT JOIN guide_customers gc ON gc.member_id = m.id").
		Joins("LEFT JOIN guides g ON g.id = gc.guide_id").
		Joins("LEFT JOIN stores st ON st.id = g.store_id").
		Where("m.id IN ?", ids).Order("m.id").Find(&rows).Error
	return rows, err
}

// guideOf is the member's guide as the row joins it: a disabled guide
// receives nothing, but their store's robot still reaches the store group.
func guideOf(r recipientRow) reminder.Guide {
	g := reminder.Guide{RobotKey: str(r.RobotKey)}
	if r.StoreID != nil {
		g.StoreID = *r.StoreID
	}
	if str(r.GuideStatus) == "active" {
		g.UserID = str(r.GuideUserID)
	}
	return g
}

// Recipients implements reminder.RecipientStore.
func (s *Recipients) Recipients(ctx context.Context, ids []int64) (map[int64]reminder.Recipient, error) {
	out := make(map[int64]reminder.Recipient, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := s.rows(ctx, ids)
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		if _, dup := out[r.ID]; dup {
			continue // a unionid followed twice: the first follower will do
		}
		out[r.ID] = reminder.Recipient{MemberID: r.ID, OpenID: r.OpenID, UnionID: str(r.UnionID), Nickname: r.Nickname,
			OfficialOpenID: str(r.OfficialOpenID), Guide: guideOf(r), Quota: map[string]int64{}}
	}
	var quotas []subscriptionRow
	if err := s.DB.Conn(ctx).Where("member_id IN ? AND quota > 0", ids).Find(&quotas).Error; err != nil {
		return nil, err
	}
	for _, q := range quotas {
		if r, ok := out[q.MemberID]; ok {
			r.Quota[q.TemplateID] = q.Quota
		}
	}
	return out, nil
}

// GuidesOf implements reminder.Guides.
func (s *Recipients) GuidesOf(ctx context.Context, ids []int64) (map[int64]reminder.Guide, error) {
	out := map[int64]reminder.Guide{}
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := s.rows(ctx, ids)
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		if g := guideOf(r); g != (reminder.Guide{}) {
			out[r.ID] = g
		}
	}
	return out, nil
}
