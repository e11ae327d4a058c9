package web

import (
	"time"

	"github.com/jifen/jifen/domain/guide"
	"github.com/jifen/jifen/domain/member"
)

// GuideJSON is a guide as the guide and the console see it.
type GuideJSON struct {
	ID            int64     `json:"id"`
	UserID        string    `json:"userid"`
	Code          string    `json:"code"`
	Scene         string    `json:"scene"`
	Name          string    `json:"name"`
	StoreID       int64     `json:"store_id"`
	MonthlyBudget int64     `json:"monthly_budget"`
	PhoneMasked   string    `json:"phone_masked"` // the guide's own phone, masked as members' are; "" when none
	Status        string    `json:"status"`
	CreatedAt     time.Time `json:"created_at"`
}

// ToGuideJSON converts a guide.
func ToGuideJSON(g *guide.Guide) GuideJSON {
	return GuideJSON{ID: g.ID, UserID: g.UserID, Code: g.Code, Scene: guide.ScenePrefix + g.Code, Name: g.Name,
		StoreID: g.StoreID, MonthlyBudget: g.MonthlyBudget, PhoneMasked: member.MaskPhone(g.Phone), Status: string(g.Status),
		CreatedAt: g.CreatedAt}
}

// StoreJSON is a store; the robot key is shown only as whether it is set.
type StoreJSON struct {
	ID          int64     `json:"id"`
	Name        string    `json:"name"`
	HasRobotKey bool      `json:"has_robot_key"`
	CreatedAt   time.Time `json:"created_at"`
}

// ToStoreJSON converts a store.
func ToStoreJSON(s *guide.Store) StoreJSON {
	return StoreJSON{ID: s.ID, Name: s.Name, HasRobotKey: s.RobotKey != "", CreatedAt: s.CreatedAt}
}
