// Package sim is a simulator of the WeChat and WeCom HTTP APIs: a real HTTP
// server with the official paths and JSON shapes, deterministic test codes,
// fault injection and a record of every call. The embedded default of
// `jifen serve`, `jifen wechat-sim` and the tests all point the WeChat SDK at
// it (wechat.UseSimulator). Its invariant: a client that works against the
// simulator works against WeChat, so answers follow WeChat's conventions,
// errors included, even where a friendlier answer would be easier.
//
// # Addressing
//
// Every path lives under the prefix /_sim, so the simulator can share a
// server with the application. A WeChat API is served at /_sim followed by its
// official path (/_sim/sns/jscode2session, /_sim/cgi-bin/token). The host the
// client meant to reach travels in the header X-Sim-Host; without it the
// request is for api.weixin.qq.com. The host tells WeChat's /cgi-bin/token
// from WeCom's (qyapi.weixin.qq.com) /cgi-bin/gettoken, and an access token
// issued by one host is not valid on the other.
//
// Each API has a name, used by fault injection and the call record: the last
// segment of its path (token, gettoken, jscode2session, getuserphonenumber).
// Names are unique across hosts; an API whose last segment is taken is named
// by more of its path.
//
// # Answers
//
// As WeChat does, the simulator answers HTTP 200 with a JSON body, and
// {"errcode":…,"errmsg":…} when the call fails. A path it does not serve is
// an HTTP 404 with errcode 40066; a wrong method is 43001 (require GET) or
// 43002 (require POST).
//
// # APIs and test codes
//
//	GET  /cgi-bin/token?grant_type=client_credential&appid=&secret=   (api.weixin.qq.com)
//	     → {"access_token","expires_in":7200}. An appid must start with "wx"
//	     (40013 invalid appid); its secret is the one RegisterApp (or
//	     POST /_sim/apps) named, else the first one a call used, and any
//	     other is 40125 (invalid appsecret), as is "bad" always; grant_type
//	     must be client_credential (40002). Each call issues a new token and retires
//	     the previous one 5 minutes later (40001 afterwards); 2,000 calls a
//	     day per appid, then 45009.
//	POST /cgi-bin/stable_token  {"grant_type","appid","secret","force_refresh"}
//	     → the current token while valid (expires_in: what is left);
//	     force_refresh issues a new one (old retired after 5 minutes), at
//	     most 20 times a day (45009) and once per 30 s (45011).
//	GET  /cgi-bin/gettoken?corpid=&corpsecret=                         (qyapi.weixin.qq.com)
//	     → {"errcode":0,"errmsg":"ok","access_token","expires_in":7200};
//	     corpsecret "bad" → 40001, as WeCom answers a wrong secret. The
//	     same token while it is valid.
//	GET  /sns/jscode2session?appid=&secret=&js_code=&grant_type=authorization_code
//	     js_code "sim:<user>:<nonce>" → {"openid":"sim-openid-<user>",
//	     "unionid":"sim-unionid-<user>","session_key":<random base64>}.
//	     A code works once: its second use is 40163 (code been used). A code
//	     starting with "bad", or of any other shape, is 40029 (invalid code).
//	     The appid and secret are checked as for /cgi-bin/token (40013,
//	     40125) before the code, which a refused call does not use. Used codes are remembered for the life of the
//	     server (sim codes carry no issue time to expire them by).
//	POST /wxa/business/getuserphonenumber?access_token=   body {"code":…}
//	     code "sim-phone:<11 digits>" or "sim-phone:<11 digits>:<nonce>" →
//	     {"errcode":0,"errmsg":"ok","phone_info":{"phoneNumber",
//	     "purePhoneNumber","countryCode":"86","watermark":{"timestamp",
//	     "appid"}}}. As WeChat documents, a code works once and for 5
//	     minutes from its issue: a used, expired or otherwise shaped code is
//	     40029 (WeChat's only answer for a bad code here). PhoneCode (or
//	     POST /_sim/phone_codes) issues one at a given time; a code written
//	     by hand counts as issued at its first use.
//	POST /wxa/getwxacodeunlimit?access_token=   {scene, page, check_path}
//	     → a JPEG. A scene outside WeChat's 32 characters is 40169; a page
//	     that is not a path, or (unless check_path is false) not released
//	     in the app (DefaultPages, PublishPages), is 41030.
//
//	GET  /cgi-bin/auth/getuserinfo?access_token=&code=                 (qyapi.weixin.qq.com)
//	     code "sim-wecom:<userid>:<nonce>" → {"errcode":0,"userid":<userid>};
//	     "sim-wecom-ext:<openid>:<nonce>" → a visitor outside the corp
//	     ({"openid"}, no userid). A code works once; reuse and other shapes
//	     are 40029.
//	GET  /cgi-bin/externalcontact/get?access_token=&external_userid=   (name externalcontact/get)
//	     "wm-sim-<user>" (ExternalUserID(user)) → external_contact with
//	     unionid "sim-unionid-<user>", the unionid jscode2session gives that
//	     user; "wm-sim-nounion-<user>" (ExternalUserIDWithoutUnionID) → the
//	     contact without unionid (a company not linked to the open
//	     platform); anything else is 84061.
//	POST /cgi-bin/externalcontact/add_msg_template?access_token=
//	     chat_type single, 1–10000 external_userid and text.content →
//	     {"errcode":0,"msgid","fail_list"} (ids not "wm-sim-…" are in
//	     fail_list); otherwise 40058. Calls are in the record.
//
//	POST /cgi-bin/message/subscribe/send?access_token=   (name subscribe_send)
//	     the mini-program subscribe message {touser, template_id, page,
//	     data{key:{value}}} → {"errcode":0,"errmsg":"ok","msgid"}. touser not
//	     "sim-openid-…" is 40003; template_id empty or "bad…" 40037. Every
//	     data key must name a keyword type and number (thing1, date2,
//	     character_string3) and its value keep that type's rule (thing ≤ 20
//	     characters, number ≤ 32 digits, character_string ≤ 32 letters,
//	     digits or symbols, phrase ≤ 5 Chinese characters, name ≤ 10 Chinese
//	     or 20 other characters, amount a currency symbol and ≤ 10 digits,
//	     car_number ≤ 8 letters and digits, the first and last maybe
//	     Chinese, date 2026年12月5日, 12月5日, 2026-12-05 or 12-05, time
//	     15:01, ranges joined by "~", no control characters in any value;
//	     keywords.go), else 47003 "argument invalid!
//	     data.<key>.value invalid". Each send spends one subscription
//	     (GrantSubscription); none left is 43101. Refused sends spend none.
//	POST /cgi-bin/message/template/send?access_token=   (name template_send)
//	     the official account's template message {touser, template_id, url,
//	     miniprogram{appid,pagepath}, data{key:{value,color}}} →
//	     {"errcode":0,"errmsg":"ok","msgid"}. touser not "sim-oa-openid-…" is
//	     40003; template_id empty or starting with "bad" 40037 (as for
//	     subscribe messages); data without string values 47003; a user who
//	     does not follow the account 43004.
//	GET  /wxaapi/newtmpl/gettemplate?access_token=   (name gettemplate)
//	     the mini-program's subscribe templates: {"errcode":0,"errmsg":"ok",
//	     "data":[{"priTmplId","title","content","example","type":2}]}, the
//	     content naming each keyword as {{thing1.DATA}}.
//	GET  /cgi-bin/template/get_all_private_template?access_token=
//	     the official account's templates: {"template_list":[{"template_id",
//	     "title","primary_industry","deputy_industry","content","example"}]}.
//	     Both lists start with the templates of Jifen's default
//	     configuration (sim-tmpl-expiry, sim-oa-tmpl-expiry: thing1, date2);
//	     AddTemplate and POST /_sim/templates add more.
//	GET  /cgi-bin/user/get?access_token=&next_openid=   (name user/get)
//	     followers in follow order: {"total","count","data":{"openid":[…]},
//	     "next_openid"}; a page names its last openid as next_openid and the
//	     call after the last page answers count 0, next_openid "". Pages
//	     hold 10000 openids (SetFollowerPageSize changes it for tests).
//	GET  /cgi-bin/user/info?access_token=&openid=   (name user/info)
//	     a follower: {"subscribe":1,"openid","unionid":"sim-unionid-<u>",…};
//	     anyone else: {"subscribe":0,"openid","unionid"}. The unionid is
//	     left out when the account is not bound to the open platform
//	     (SetOpenPlatform, POST /_sim/open_platform); an openid not
//	     "sim-oa-openid-…" is 40003.
//	POST /cgi-bin/message/send?access_token=   (qyapi.weixin.qq.com, name message_send)
//	     WeCom app message {touser:"a|b", msgtype:"text", agentid,
//	     text:{content}} → {"errcode":0,"errmsg":"ok","invaliduser","msgid"}.
//	     Every userid is a corp member except those starting with "bad": as
//	     WeCom does, those are listed in invaliduser while the others get the
//	     message; when no recipient is left the answer is 81013 with
//	     invaliduser filled. A missing agentid is 40056.
//
// WeCom callbacks: CallbackApp.Callback(plainXML, now) returns the query
// (msg_signature, timestamp, nonce) and encrypted body WeCom POSTs to an
// app's callback URL; ExternalContactAdded.XML is the add_external_contact
// event; CallbackApp.VerifyURL builds the GET URL check.
//
// Access tokens are random, valid for 7200 s by the server's clock, and
// remembered per host. On an API that needs one, a missing token is 41001,
// an unknown one 40001 (WeCom: 40014) and an expired one 42001. Fetching a
// new token does not invalidate the old one.
//
// # Control endpoints
//
//	POST   /_sim/faults   {"api":"jscode2session","errcode":-1,"times":2}
//	                      {"api":"token","http_status":502}
//	                      {"api":"getuserphonenumber","delay_ms":200,"errcode":45011}
//	       The next `times` calls (default 1) of that API fail that way: after
//	       waiting delay_ms, they answer http_status (with no useful body), or
//	       else errcode (with errmsg, or WeChat's message for the code); a
//	       delay alone then serves the call normally. Faults queue: several for
//	       one API apply in the order they were added. A faulted call never
//	       reaches the API, so it does not use up a login code.
//	GET    /_sim/faults   the faults still pending.
//	DELETE /_sim/faults   clears them.
//	GET    /_sim/calls?api=   the recorded calls, oldest first, all APIs when
//	       api is empty: {api, host, params, errcode, status, time}. params
//	       holds the query and the top-level fields of a JSON body, with
//	       secret and corpsecret masked as "***". The record keeps the last
//	       10,000 calls; a call whose client hung up during an injected delay
//	       is not recorded.
//	DELETE /_sim/calls    clears the record.
//	POST   /_sim/followers   {"openid":"sim-oa-openid-<u>","subscribe":true}
//	       ("user":"<u>" may replace openid) makes the user follow the
//	       official account, or unfollow it with false.
//	GET    /_sim/followers   the following openids, oldest first.
//	GET    /_sim/delivered?to=   the messages accepted (subscribe, template,
//	       WeCom app and robot), all when to is empty:
//	       {api, to, template_id, page, data, text, time}.
//	GET    /_sim/templates   every template of the list APIs.
//	POST   /_sim/templates   {"kind":"subscribe"|"official","template_id",
//	       "title","content":"…{{thing1.DATA}}…"} adds or replaces one.
//	POST   /_sim/open_platform   {"appid","bound":false} unbinds an official
//	       account from the open platform (user/info names no unionid).
//	POST   /_sim/pages   {"appid","pages":["pages/x/y"]} releases pages in
//	       that app's mini-program (PublishPages) for wxacode's check.
//	POST   /_sim/phone_codes   {"phone":"<11 digits>","issued_at":RFC 3339,
//	       optional, now by default} → 201 {"code"}: a getPhoneNumber code.
//	POST   /_sim/subscriptions   {"openid","template_id","count"} grants
//	       subscribe-message quota.
//	POST   /_sim/tokens/expire   forgets every issued access token, so
//	       clients' cached tokens answer 40001 (WeCom 40014). With a body
//	       {"appid","host","grace_ms"} it rotates that app's token instead
//	       (RotateToken), as another system fetching a token would.
//	POST   /_sim/pay   {"out_trade_no","result":"SUCCESS"|"FAIL","resend","silent"}
//	       pays (or fails) a WeChat Pay order and POSTs the signed pay
//	       notification to its notify_url (not with "silent": a lost
//	       notification); a closed order is 409; POST /_sim/merchants
//	       {"mch_id","key"} adds a merchant (pay.go).
//
// WeChat Pay (API v2) is the exception to the JSON conventions: XML in and
// out on api.mch.weixin.qq.com (pay/unifiedorder, pay/closeorder,
// pay/orderquery), signed with the merchant key (pay.go).
//
// The same controls exist as methods (AddFault, ClearFaults, Calls, Pay,
// ClearCalls, ExpireTokens, Follow, GrantSubscription, Delivered) for tests
// in Go.
//
// # Adding an API
//
// Write one method per API in the file of its product (miniprogram.go,
// token.go, …) with the signature of handler, and add a line to the table in
// routes.go naming its host, path, method and whether it needs a token.
package sim
