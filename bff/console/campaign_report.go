package console

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/web"
)

type campaignFailureJSON struct {
	MemberID int64  `json:"member_id"`
	Channel  string `json:"channel"`
	ErrCode  int64  `json:"errcode"`
	Reason   string `json:"reason"`
}

// ReminderCampaignReport handles GET /api/v1/console/campaigns/{id}/report
// (any role): the campaign's messages over all its runs by status (claimed
// and sending count as pending) and by WeChat errcode, and up to 10
// failures.
func (h *Handlers) ReminderCampaignReport(c *gin.Context) {
	id, err := web.PathID(c, "id")
	if err != nil {
		web.Fail(c, err)
		return
	}
	camp, rep, err := h.Campaigns.Report(c.Request.Context(), id)
	if err != nil {
		web.Fail(c, err)
		return
	}
	byStatus := map[string]int{}
	total := 0
	for st, n := range rep.ByStatus {
		byStatus[string(st)] = n
		total += n
	}
	byCode := map[string]int{}
	for code, n := range rep.ByErrCode {
		byCode[errcodeKey(code)] = n
	}
	failures := make([]campaignFailureJSON, 0, len(rep.Failures))
	for _, d := range rep.Failures {
		failures = append(failures, campaignFailureJSON{MemberID: d.MemberID, Channel: string(d.Channel), ErrCode: d.ErrCode, Reason: d.Reason})
	}
	c.JSON(http.StatusOK, gin.H{"campaign": toReminderCampaignJSON(camp), "report": gin.H{"total": total,
		"by_status": byStatus, "by_errcode": byCode, "failures": failures}})
}
