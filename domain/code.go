package domain

import "regexp"

// loginCodePattern is what a code from WeChat or WeCom looks like: wx.login
// and getPhoneNumber codes and WeCom OAuth codes are letters and digits (the
// simulator's add ':', '-', '_', '.' and '~'). A code is the one value a
// client puts into an outgoing WeChat or WeCom call.
var loginCodePattern = regexp.MustCompile(`^[A-Za-z0-9._~:-]{1,128}$`)

// CheckLoginCode is the one check of a login, phone or OAuth code a client
// hands over, made before anything is sent to WeChat or WeCom: a missing
// code is Invalid naming the field, one of another shape (a space, quote,
// '%', '&', NUL, more than 128 characters…) is InvalidCode, as WeChat's
// 40029 would be.
func CheckLoginCode(code string) error {
	if code == "" {
		return FieldError("code", "required")
	}
	if !loginCodePattern.MatchString(code) {
		return &Error{Code: InvalidCode, Message: "the code must be 1 to 128 letters, digits or . _ ~ : -",
			Fields: map[string]string{"code": "not a WeChat code"}}
	}
	return nil
}
