package console

import "github.com/jifen/jifen/domain/guide"

type guideRequest struct {
	UserID        *string `json:"userid"`
	Name          *string `json:"name"`
	StoreID       *int64  `json:"store_id"`
	MonthlyBudget *int64  `json:"monthly_budget"`
	Status        *string `json:"status"`
	Phone         *string `json:"phone"`
}

func (r guideRequest) input() guide.GuideInput {
	return guide.GuideInput{UserID: r.UserID, Name: r.Name, StoreID: r.StoreID, MonthlyBudget: r.MonthlyBudget, Status: r.Status,
		Phone: r.Phone}
}

type storeRequest struct {
	Name     *string `json:"name"`
	RobotKey *string `json:"robot_key"`
}
