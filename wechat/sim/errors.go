package sim

// WeChat error codes the simulator answers.
const (
	codeSystemBusy     = -1
	codeInvalidCredent = 40001 // WeChat: invalid access_token; WeCom: invalid corpsecret
	codeInvalidGrant   = 40002
	codeInvalidToken   = 40014 // WeCom: invalid access_token
	codeInvalidAppID   = 40013
	codeInvalidCode    = 40029
	codeInvalidURL     = 40066
	codeInvalidSecret  = 40125
	codeCodeUsed       = 40163
	codeTokenMissing   = 41001
	codeAppIDMissing   = 41002
	codeSecretMissing  = 41004
	codeCodeMissing    = 41008
	codeTokenExpired   = 42001
	codeRequireGET     = 43001
	codeRequirePOST    = 43002
	codeRateLimited    = 45011
	codeDataFormat     = 47001
)

// messages are WeChat's errmsg texts, as close as the documentation gives
// them.
var messages = map[int]string{
	codeSystemBusy:     "system error",
	codeInvalidCredent: "invalid credential, access_token is invalid or not latest",
	codeInvalidGrant:   "invalid grant_type",
	codeInvalidToken:   "invalid access_token",
	codeInvalidAppID:   "invalid appid",
	codeInvalidCode:    "invalid code",
	codeInvalidURL:     "invalid url",
	codeInvalidSecret:  "invalid appsecret",
	codeCodeUsed:       "code been used",
	codeTokenMissing:   "access_token missing",
	codeAppIDMissing:   "appid missing",
	codeSecretMissing:  "appsecret missing",
	codeCodeMissing:    "missing code",
	codeTokenExpired:   "access_token expired",
	codeRequireGET:     "require GET method",
	codeRequirePOST:    "require POST method",
	codeRateLimited:    "api minute-quota reach limit  mustslower  retry next minute",
	codeDataFormat:     "data format error",
}

func errMsg(code int) string {
	if m, ok := messages[code]; ok {
		return m
	}
	return "sim: injected error"
}

// errReply is WeChat's error body. An empty msg takes WeChat's text for the
// code.
func errReply(code int, msg string) map[string]any {
	if msg == "" {
		msg = errMsg(code)
	}
	return map[string]any{"errcode": code, "errmsg": msg}
}
