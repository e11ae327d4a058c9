package sim

import (
	"net/http"
	"testing"
)

func TestTemplateSendAndFollowers(t *testing.T) {
	c := newClient(t, nil)
	tok := c.token("wx-oa")
	send := func(to, tmpl string) map[string]any {
		_, m := c.do("POST", "", "/_sim/cgi-bin/message/template/send?access_token="+tok,
			`{"touser":"`+to+`","template_id":"`+tmpl+`","url":"","miniprogram":{"appid":"wx-mini","pagepath":"pages/points/index"},`+
				`"data":{"first":{"value":"您有 100 积分将于 12月31日 过期","color":"#173177"}}}`)
		return m
	}
	if m := send(OfficialOpenID("ann"), "oa-tmpl"); errcode(m) != codeNotFollowing {
		t.Fatalf("not following: %v", m)
	}
	if st, m := c.do("POST", "", "/_sim/followers", `{"user":"ann","subscribe":true}`); st != http.StatusOK || m["subscribe"] != true {
		t.Fatalf("follow: %d %v", st, m)
	}
	c.do("POST", "", "/_sim/followers", `{"openid":"sim-oa-openid-bob","subscribe":true}`)
	c.do("POST", "", "/_sim/followers", `{"openid":"sim-oa-openid-cat","subscribe":true}`)
	if m := send(OfficialOpenID("ann"), "oa-tmpl"); errcode(m) != 0 || m["errmsg"] != "ok" || m["msgid"] == nil {
		t.Fatalf("send: %v", m)
	}
	if m := send(OfficialOpenID("ann"), "bad-tmpl"); errcode(m) != codeInvalidTemplate {
		t.Fatalf("bad template: %v", m)
	}
	if m := send("sim-openid-ann", "oa-tmpl"); errcode(m) != codeInvalidOpenID {
		t.Fatalf("mini-program openid: %v", m)
	}
	got := c.sim.Delivered(OfficialOpenID("ann"))
	if len(got) != 1 || got[0].API != "template_send" || got[0].Page != "pages/points/index" {
		t.Fatalf("delivered %+v", got)
	}

	c.sim.SetFollowerPageSize(2)
	c.do("POST", "", "/_sim/followers", `{"user":"bob","subscribe":false}`)
	c.do("POST", "", "/_sim/followers", `{"user":"dan","subscribe":true}`)
	var all []any
	next := ""
	for range 5 {
		_, m := c.do("GET", "", "/_sim/cgi-bin/user/get?access_token="+tok+"&next_openid="+next, "")
		if m["total"] != float64(3) {
			t.Fatalf("page %v", m)
		}
		if m["count"] == float64(0) {
			if m["next_openid"] != "" {
				t.Fatalf("end page %v", m)
			}
			break
		}
		ids := m["data"].(map[string]any)["openid"].([]any)
		all = append(all, ids...)
		next = m["next_openid"].(string)
	}
	if len(all) != 3 || all[0] != OfficialOpenID("ann") || all[1] != OfficialOpenID("cat") || all[2] != OfficialOpenID("dan") {
		t.Fatalf("followers %v", all)
	}
	_, m := c.do("GET", "", "/_sim/cgi-bin/user/info?access_token="+tok+"&openid="+OfficialOpenID("cat")+"&lang=zh_CN", "")
	if m["subscribe"] != float64(1) || m["unionid"] != "sim-unionid-cat" {
		t.Fatalf("info %v", m)
	}
	_, m = c.do("GET", "", "/_sim/cgi-bin/user/info?access_token="+tok+"&openid="+OfficialOpenID("bob"), "")
	if m["subscribe"] != float64(0) || m["unionid"] != "sim-unionid-bob" {
		t.Fatalf("info of an unfollower %v", m)
	}
	if st, _ := c.do("POST", "", "/_sim/followers", `{"openid":"nobody","subscribe":true}`); st != http.StatusBadRequest {
		t.Fatalf("bad follower control: %d", st)
	}
}

func TestWeComMessageSend(t *testing.T) {
	c := newClient(t, nil)
	_, m := c.do("GET", HostWeCom, "/_sim/cgi-bin/gettoken?corpid=ww&corpsecret=s", "")
	tok := m["access_token"].(string)
	send := func(to string) map[string]any {
		_, m := c.do("POST", HostWeCom, "/_sim/cgi-bin/message/send?access_token="+tok,
			`{"touser":"`+to+`","msgtype":"text","agentid":"1000002","text":{"content":"两位顾客积分将过期"}}`)
		return m
	}
	if m := send("guide-a|BadGuide"); errcode(m) != 0 || m["invaliduser"] != "badguide" || m["msgid"] == "" {
		t.Fatalf("partly valid: %v", m)
	}
	if m := send("bad-guide"); errcode(m) != codeAllInvalid || m["invaliduser"] != "bad-guide" {
		t.Fatalf("all invalid: %v", m)
	}
	if got := c.sim.Delivered("guide-a"); len(got) != 1 || got[0].Text != "两位顾客积分将过期" || got[0].API != "message_send" {
		t.Fatalf("delivered %+v", got)
	}
}

// user/info names a unionid only for an account bound to the open platform.
func TestUserInfoUnionIDNeedsTheOpenPlatform(t *testing.T) {
	c := newClient(t, nil)
	c.sim.Follow(OfficialOpenID("dot"), true)
	bound, unbound := c.token("wxoabound"), c.token("wxoaunbound")
	if st, _ := c.do("POST", "", "/_sim/open_platform", `{"appid":"wxoaunbound","bound":false}`); st != 204 {
		t.Fatalf("POST /_sim/open_platform: %d", st)
	}
	for _, who := range []string{"dot", "eve"} { // a follower and someone who is not
		_, m := c.do("GET", "", "/_sim/cgi-bin/user/info?access_token="+bound+"&openid="+OfficialOpenID(who), "")
		if m["unionid"] != "sim-unionid-"+who {
			t.Errorf("bound account, %s: %v", who, m)
		}
		_, m = c.do("GET", "", "/_sim/cgi-bin/user/info?access_token="+unbound+"&openid="+OfficialOpenID(who), "")
		if _, has := m["unionid"]; has || m["openid"] != OfficialOpenID(who) {
			t.Errorf("unbound account, %s: %v", who, m)
		}
	}
	if st, _ := c.do("POST", "", "/_sim/open_platform", `{"appid":"wxoaunbound"}`); st != 400 {
		t.Fatalf("without bound: %d, want 400", st)
	}
}
