package sim

import (
	"encoding/json"
	"io"
	"net/http"
)

// followerState is the official account's audience: the openids that
// follow it, in the order they followed (the order cgi-bin/user/get pages
// through).
type followerState struct {
	order    []string        // following openids, oldest first
	follows  map[string]bool // openid → following now
	pageSize int             // user/get page (10000, as WeChat, when 0)
}

// More codes the official-account APIs answer.
const (
	codeNotFollowing = 43004
	userGetPage      = 10000
)

func init() {
	messages[codeNotFollowing] = "require subscribe"
}

// Follow makes openid ("sim-oa-openid-<u>", see OfficialOpenID) follow the
// official account, or unfollow it when following is false. Following
// twice changes nothing; a re-follow goes to the end of the list, as at
// WeChat.
func (s *Server) Follow(openid string, following bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := &s.followers
	if f.follows == nil {
		f.follows = map[string]bool{}
	}
	if f.follows[openid] == following {
		return
	}
	if following {
		f.follows[openid] = true
		f.order = append(f.order, openid)
		return
	}
	delete(f.follows, openid)
	for i, o := range f.order {
		if o == openid {
			f.order = append(f.order[:i], f.order[i+1:]...)
			break
		}
	}
}

// Following reports whether openid follows the official account.
func (s *Server) Following(openid string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.followers.follows[openid]
}

// SetFollowerPageSize makes cgi-bin/user/get answer at most n openids a
// call (10000, WeChat's page, when n <= 0), so tests can page.
func (s *Server) SetFollowerPageSize(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.followers.pageSize = n
}

// templateSend is the official account's template message,
// POST /cgi-bin/message/template/send: touser must be an official-account
// openid (else 40003), template_id known (empty or "bad…" is 40037, as for
// subscribe messages), data {key:{value,color}} (else 47003), and the user
// must follow the account (else 43004).
func (s *Server) templateSend(req *Request) any {
	if !req.JSON {
		return errReply(codeDataFormat, "")
	}
	to, tmpl := req.Param("touser"), req.Param("template_id")
	if _, ok := OfficialUnionID(to); !ok {
		return errReply(codeInvalidOpenID, "")
	}
	if reply := checkTemplateMessage(tmpl, req.Params["data"]); reply != nil {
		return reply
	}
	data := req.Params["data"].(map[string]any)
	page := ""
	if mp, ok := req.Params["miniprogram"].(map[string]any); ok {
		page, _ = mp["pagepath"].(string)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.followers.follows[to] {
		return errReply(codeNotFollowing, "")
	}
	s.deliver(Delivered{API: "template_send", To: to, TemplateID: tmpl, Data: data, Page: page, Time: req.Now})
	return map[string]any{"errcode": 0, "errmsg": "ok", "msgid": req.Now.UnixNano()}
}

// userGet lists followers, GET /cgi-bin/user/get?next_openid=: the page
// after next_openid (from the start when empty). As at WeChat, a page
// names its last openid as next_openid, and the call after the last page
// answers count 0 and next_openid "".
func (s *Server) userGet(req *Request) any {
	after := req.Param("next_openid")
	s.mu.Lock()
	defer s.mu.Unlock()
	f := &s.followers
	size := f.pageSize
	if size <= 0 {
		size = userGetPage
	}
	start := 0
	if after != "" {
		start = len(f.order)
		for i, o := range f.order {
			if o == after {
				start = i + 1
				break
			}
		}
	}
	end := min(start+size, len(f.order))
	page := append([]string{}, f.order[start:end]...)
	out := map[string]any{"total": len(f.order), "count": len(page), "next_openid": ""}
	if len(page) > 0 {
		out["data"] = map[string]any{"openid": page}
		out["next_openid"] = page[len(page)-1]
	}
	return out
}

// SetOpenPlatform says whether the official account appID is bound to a
// WeChat open-platform account (every account is, until told otherwise).
// WeChat's user/info names a unionid only for a bound account.
func (s *Server) SetOpenPlatform(appID string, bound bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.unbound == nil {
		s.unbound = map[string]bool{}
	}
	s.unbound[appID] = !bound
}

func (s *Server) openPlatform(appID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.unbound[appID]
}

// userInfo is GET /cgi-bin/user/info?openid=&lang=: subscribe 1 with
// nickname, unionid and subscribe_time for a follower; subscribe 0 with
// openid and unionid for someone who does not follow. As WeChat documents,
// the unionid is there only when the account is bound to the open platform
// (SetOpenPlatform). An openid the simulator never issues is 40003.
func (s *Server) userInfo(req *Request) any {
	openid := req.Param("openid")
	unionid, ok := OfficialUnionID(openid)
	if !ok {
		return errReply(codeInvalidOpenID, "")
	}
	var reply map[string]any
	if !s.Following(openid) {
		reply = map[string]any{"subscribe": 0, "openid": openid}
	} else {
		reply = map[string]any{"subscribe": 1, "openid": openid, "nickname": "",
			"language": "zh_CN", "subscribe_time": req.Now.Unix(), "remark": "", "groupid": 0, "tagid_list": []int{},
			"subscribe_scene": "ADD_SCENE_QR_CODE", "qr_scene": 0, "qr_scene_str": ""}
	}
	if s.openPlatform(req.AppID) {
		reply["unionid"] = unionid
	}
	return reply
}

// serveFollowers serves POST /_sim/followers {"openid","subscribe":bool}
// (follow or unfollow; "user" may replace openid: "sim-oa-openid-<user>")
// and GET /_sim/followers (the following openids, oldest first).
func (s *Server) serveFollowers(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		s.mu.Lock()
		out := append([]string{}, s.followers.order...)
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, out)
	case http.MethodPost:
		dec := json.NewDecoder(io.LimitReader(r.Body, maxBody))
		dec.DisallowUnknownFields()
		var in struct {
			OpenID    string `json:"openid"`
			User      string `json:"user"`
			Subscribe *bool  `json:"subscribe"`
		}
		err := dec.Decode(&in)
		if in.OpenID == "" && in.User != "" {
			in.OpenID = OfficialOpenID(in.User)
		}
		if _, ok := OfficialUnionID(in.OpenID); err != nil || !ok || in.Subscribe == nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": `want {"openid":"sim-oa-openid-<u>" or "user":"<u>", "subscribe":true|false}`})
			return
		}
		s.Follow(in.OpenID, *in.Subscribe)
		writeJSON(w, http.StatusOK, map[string]any{"openid": in.OpenID, "subscribe": s.Following(in.OpenID)})
	default:
		w.Header().Set("Allow", "GET, POST")
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "method not allowed"})
	}
}

// serveOpenPlatform is POST /_sim/open_platform {"appid","bound"}:
// SetOpenPlatform.
func (s *Server) serveOpenPlatform(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "method not allowed"})
		return
	}
	var in struct {
		AppID string `json:"appid"`
		Bound *bool  `json:"bound"`
	}
	dec := json.NewDecoder(io.LimitReader(r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil || in.AppID == "" || in.Bound == nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": `open_platform: want {"appid", "bound": true|false}`})
		return
	}
	s.SetOpenPlatform(in.AppID, *in.Bound)
	w.WriteHeader(http.StatusNoContent)
}
