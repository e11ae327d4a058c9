package reminderstore

import (
	"context"

	"github.com/jifen/jifen/domain/reminder"
	"github.com/jifen/jifen/repo"
)

// Recipients implements reminder.RecipientStore on the members table.
type Recipients struct{ DB *repo.DB }

var _ reminder.RecipientStore = (*Recipients)(nil)

type recipientRow struct {
	ID       int64
	OpenID   string `gorm:"column:openid"`
	Nickname string
}

// Recipients implements reminder.RecipientStore.
func (s *Recipients) Recipients(ctx context.Context, ids []int64) (map[int64]reminder.Recipient, error) {
	out := make(map[int64]reminder.Recipient, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var rows []recipientRow
	if err := s.DB.Conn(ctx).Table("members").Select("id, openid, nickname").Where("id IN ?", ids).Find(&rows).Error; err != nil {
		return nil, err
	}
	for _, r := range rows {
		out[r.ID] = reminder.Recipient{MemberID: r.ID, OpenID: r.OpenID, Nickname: r.Nickname}
	}
	return out, nil
}
