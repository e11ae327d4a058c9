package sim

import "net/http"

// Hosts the simulator serves, as named by the X-Sim-Host header.
const (
	HostWeChat = "api.weixin.qq.com"
	HostWeCom  = "qyapi.weixin.qq.com"
)

// handler serves one API. It returns the value to send as JSON: the
// official success shape, or errReply(code) on failure; or a rawReply for
// APIs that answer with bytes (the JPEG of a mini-program code).
type handler func(req *Request) any

// route is one API of the table.
type route struct {
	host   string
	path   string // official path, without the /_sim prefix
	method string
	name   string // "" means the last segment of path
	token  bool   // needs a valid access_token query parameter
	handle handler
}

// routes lists every API the simulator serves. Keep it in one place so a
// reader sees the whole surface at once.
func (s *Server) routes() []route {
	return []route{
		{host: HostWeChat, path: "/cgi-bin/token", method: http.MethodGet, handle: s.token},
		{host: HostWeChat, path: "/cgi-bin/stable_token", method: http.MethodPost, handle: s.stableToken},
		{host: HostWeCom, path: "/cgi-bin/gettoken", method: http.MethodGet, handle: s.workToken},

		{host: HostWeChat, path: "/sns/jscode2session", method: http.MethodGet, handle: s.jscode2session},
		{host: HostWeChat, path: "/wxa/business/getuserphonenumber", method: http.MethodPost, token: true, handle: s.getUserPhoneNumber},
		{host: HostWeChat, path: "/wxa/getwxacodeunlimit", method: http.MethodPost, token: true, handle: s.getWXACodeUnlimit},

		{host: HostWeCom, path: "/cgi-bin/auth/getuserinfo", method: http.MethodGet, token: true, handle: s.getUserInfo},
		{host: HostWeCom, path: "/cgi-bin/externalcontact/get", method: http.MethodGet, name: "externalcontact/get", token: true, handle: s.externalContactGet},
		{host: HostWeCom, path: "/cgi-bin/externalcontact/add_msg_template", method: http.MethodPost, token: true, handle: s.addMsgTemplate},

		{host: HostWeChat, path: "/cgi-bin/message/subscribe/send", method: http.MethodPost, name: "subscribe_send", token: true, handle: s.subscribeSend},
		{host: HostWeCom, path: "/cgi-bin/webhook/send", method: http.MethodPost, name: "webhook_send", handle: s.webhookSend},
		{host: HostWeChat, path: "/cgi-bin/message/template/send", method: http.MethodPost, name: "template_send", token: true, handle: s.templateSend},
		{host: HostWeCom, path: "/cgi-bin/message/send", method: http.MethodPost, name: "message_send", token: true, handle: s.messageSend},

		{host: HostWeChat, path: "/wxaapi/newtmpl/gettemplate", method: http.MethodGet, token: true, handle: s.subscribeTemplates},
		{host: HostWeChat, path: "/cgi-bin/template/get_all_private_template", method: http.MethodGet, token: true, handle: s.officialTemplates},

		{host: HostWeChat, path: "/cgi-bin/user/get", method: http.MethodGet, name: "user/get", token: true, handle: s.userGet},
		{host: HostWeChat, path: "/cgi-bin/user/info", method: http.MethodGet, name: "user/info", token: true, handle: s.userInfo},
	}
}
