package wechat

import (
	"context"

	"github.com/jifen/jifen/wechat/sim"
)

// SimFollowers resolves simulated official-account openids to unionids by
// the simulator's convention (sim-oa-openid-<u> → sim-unionid-<u>). It is
// the task center's task.Followers while Jifen runs on the simulator.
// Real WeChat uses Official.UnionID (cgi-bin/user/info) instead.
type SimFollowers struct{}

// UnionID returns the unionid, or "" for an openid the simulator never issues.
func (SimFollowers) UnionID(_ context.Context, openid string) (string, error) {
	u, _ := sim.OfficialUnionID(openid)
	return u, nil
}
