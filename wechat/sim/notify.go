package sim

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"time"
)

// notifyState is what the message APIs remember: subscription quotas per
// openid and template, each robot's recent sends, and every delivered
// message.
type notifyState struct {
	quotas    map[string]int64       // openid + "|" + template id → sends left
	robotSent map[string][]time.Time // webhook key → send times in the last minute
	delivered []Delivered
}

// Delivered is one message the simulator accepted.
type Delivered struct {
	API        string         `json:"api"`
	To         string         `json:"to"` // openid, userid or robot key
	TemplateID string         `json:"template_id,omitempty"`
	Page       string         `json:"page,omitempty"` // template message: miniprogram.pagepath
	Data       map[string]any `json:"data,omitempty"`
	Text       string         `json:"text,omitempty"`
	Time       time.Time      `json:"time"`
}

// More codes the message APIs answer.
const (
	codeInvalidOpenID   = 40003
	codeInvalidTemplate = 40037
	codeNoQuota         = 43101
	codeFreqLimit       = 45009
	codeArgsInvalid     = 47003
	codeBadWebhookKey   = 93000
	robotPerMinute      = 20
)

func init() {
	messages[codeInvalidOpenID] = "invalid openid"
	messages[codeInvalidTemplate] = "invalid template_id"
	messages[codeNoQuota] = "user refuse to accept the msg"
	messages[codeFreqLimit] = "reach max api daily quota limit"
	messages[codeArgsInvalid] = "argument invalid! data.thing1.value invalid"
	messages[codeBadWebhookKey] = "invalid webhook url"
}

// GrantSubscription adds n sends of template to openid, as the user's
// "accept" in wx.requestSubscribeMessage does at WeChat.
func (s *Server) GrantSubscription(openid, template string, n int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.notify.quotas == nil {
		s.notify.quotas = map[string]int64{}
	}
	s.notify.quotas[openid+"|"+template] += n
}

// SubscriptionQuota returns the sends openid has left for template.
func (s *Server) SubscriptionQuota(openid, template string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.notify.quotas[openid+"|"+template]
}

// Delivered returns the accepted messages to `to` (all when ""), oldest
// first.
func (s *Server) Delivered(to string) []Delivered {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []Delivered{}
	for _, d := range s.notify.delivered {
		if to == "" || d.To == to {
			out = append(out, d)
		}
	}
	return out
}

func (s *Server) deliver(d Delivered) {
	if len(s.notify.delivered) == maxCalls {
		s.notify.delivered = append(s.notify.delivered[:0], s.notify.delivered[1:]...)
	}
	s.notify.delivered = append(s.notify.delivered, d)
}

// subscribeSend is the mini-program subscribe message,
// POST /cgi-bin/message/subscribe/send. Each send spends one of the
// openid's subscriptions to the template; none left is 43101. A value
// that breaks its keyword type's rule (keywords.go) is 47003 and spends
// nothing.
func (s *Server) subscribeSend(req *Request) any {
	if !req.JSON {
		return errReply(codeDataFormat, "")
	}
	to, tmpl := req.Param("touser"), req.Param("template_id")
	if user, ok := strings.CutPrefix(to, "sim-openid-"); !ok || user == "" {
		return errReply(codeInvalidOpenID, "")
	}
	if reply := checkTemplateMessage(tmpl, req.Params["data"]); reply != nil {
		return reply
	}
	data := req.Params["data"].(map[string]any)
	for k, v := range data {
		if value := v.(map[string]any)["value"].(string); !keywordOK(k, value) {
			return errReply(codeArgsInvalid, "argument invalid! data."+k+".value invalid")
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	key := to + "|" + tmpl
	if s.notify.quotas[key] <= 0 {
		return errReply(codeNoQuota, "")
	}
	s.notify.quotas[key]--
	s.deliver(Delivered{API: "subscribe_send", To: to, TemplateID: tmpl, Data: data, Time: req.Now})
	return map[string]any{"errcode": 0, "errmsg": "ok", "msgid": req.Now.UnixNano()}
}

// webhookSend is the WeCom group robot, POST /cgi-bin/webhook/send?key=.
// A key starting with "bad" is 93000; more than 20 messages a minute to one
// robot is 45009.
func (s *Server) webhookSend(req *Request) any {
	key := req.Param("key")
	if key == "" || strings.HasPrefix(key, "bad") {
		return errReply(codeBadWebhookKey, "")
	}
	text, _ := req.Params["text"].(map[string]any)
	content, _ := text["content"].(string)
	if !req.JSON || req.Param("msgtype") != "text" || content == "" {
		return errReply(codeDataFormat, "")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.notify.robotSent == nil {
		s.notify.robotSent = map[string][]time.Time{}
	}
	recent := s.notify.robotSent[key][:0]
	for _, t := range s.notify.robotSent[key] {
		if req.Now.Sub(t) < time.Minute {
			recent = append(recent, t)
		}
	}
	if len(recent) >= robotPerMinute {
		s.notify.robotSent[key] = recent
		return errReply(codeFreqLimit, "")
	}
	s.notify.robotSent[key] = append(recent, req.Now)
	s.deliver(Delivered{API: "webhook_send", To: key, Text: content, Time: req.Now})
	return map[string]any{"errcode": 0, "errmsg": "ok"}
}

// serveNotifyControl serves POST /_sim/subscriptions
// {"openid","template_id","count"} and GET /_sim/delivered?to=.
func (s *Server) serveNotifyControl(w http.ResponseWriter, r *http.Request, path string) {
	switch {
	case path == "/delivered" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, s.Delivered(r.URL.Query().Get("to")))
	case path == "/subscriptions" && r.Method == http.MethodPost:
		dec := json.NewDecoder(io.LimitReader(r.Body, maxBody))
		dec.DisallowUnknownFields()
		var g struct {
			OpenID     string `json:"openid"`
			TemplateID string `json:"template_id"`
			Count      int64  `json:"count"`
		}
		if err := dec.Decode(&g); err != nil || g.OpenID == "" || g.TemplateID == "" || g.Count < 1 {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "want {openid, template_id, count >= 1}"})
			return
		}
		s.GrantSubscription(g.OpenID, g.TemplateID, g.Count)
		writeJSON(w, http.StatusCreated, map[string]int64{"quota": s.SubscriptionQuota(g.OpenID, g.TemplateID)})
	default:
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "method not allowed"})
	}
}

// checkTemplateMessage answers what WeChat answers for a subscribe or
// template message whose template id is unknown (empty or "bad…") or whose
// data is not {"field":{"value":"…"}}; nil when both are fine.
func checkTemplateMessage(tmpl string, rawData any) any {
	if tmpl == "" || strings.HasPrefix(tmpl, "bad") {
		return errReply(codeInvalidTemplate, "")
	}
	data, ok := rawData.(map[string]any)
	if !ok || len(data) == 0 {
		return errReply(codeArgsInvalid, "")
	}
	for _, v := range data {
		item, ok := v.(map[string]any)
		if !ok {
			return errReply(codeArgsInvalid, "")
		}
		if _, ok := item["value"].(string); !ok {
			return errReply(codeArgsInvalid, "")
		}
	}
	return nil
}
