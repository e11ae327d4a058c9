package sim

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// keywordRules are WeChat's rules for subscribe-message values by keyword
// type (the data key without its number: thing1 → thing), as its
// subscribeMessage.send reference lists them. A value that breaks its
// rule, or a key of no known type, makes WeChat refuse the message with
// 47003 "argument invalid! data.<key>.value invalid". No value may hold a
// control character (a tab, a line break).
var keywordRules = map[string]func(v string) bool{
	"thing": func(v string) bool { return runes(v) <= 20 },
	"name": func(v string) bool {
		if strings.IndexFunc(v, isHan) >= 0 {
			return runes(v) <= 10
		}
		return runes(v) <= 20
	},
	"character_string": func(v string) bool { return runes(v) <= 32 && all(v, func(r rune) bool { return r > ' ' && r < 0x7f }) },
	"letter":           func(v string) bool { return runes(v) <= 32 && all(v, isASCIILetter) },
	"symbol": func(v string) bool {
		return runes(v) <= 5 && all(v, func(r rune) bool { return r > ' ' && r < 0x7f && !isASCIILetter(r) && !unicode.IsDigit(r) })
	},
	"number":       regexp.MustCompile(`^-?\d{1,32}(\.\d+)?$`).MatchString,
	"amount":       regexp.MustCompile(`^[¥￥$€£]?\d{1,10}(\.\d{1,2})?元?$`).MatchString,
	"phrase":       func(v string) bool { return runes(v) <= 5 && all(v, isHan) },
	"phone_number": regexp.MustCompile(`^[0-9+\-() ]{1,17}$`).MatchString,
	"car_number":   carNumber,
	"date":         rangeOf(regexp.MustCompile(`^` + simDate + `( ?` + simClock + `)?$`)),
	"time":         rangeOf(regexp.MustCompile(`^(` + simDate + ` ?)?` + simClock + `$`)),
}

// simDate is a date as WeChat's notes on value limits list them: with or
// without the year (2026年12月5日, 12月5日, 2026-12-05, 12-05).
const (
	simDate  = `(\d{4}年\d{1,2}月\d{1,2}日|\d{1,2}月\d{1,2}日|\d{4}-\d{1,2}-\d{1,2}|\d{1,2}-\d{1,2}|\d{4}/\d{1,2}/\d{1,2})`
	simClock = `([01]?\d|2[0-3]):[0-5]\d(:[0-5]\d)?`
)

var keywordKey = regexp.MustCompile(`^([a-z_]+?)\d+$`)

// keywordOK reports whether WeChat takes value for the data key.
func keywordOK(key, value string) bool {
	m := keywordKey.FindStringSubmatch(key)
	if m == nil {
		return false
	}
	rule, ok := keywordRules[m[1]]
	return ok && value != "" && !strings.ContainsFunc(value, unicode.IsControl) && rule(value)
}

// carNumber is a plate: at most 8 letters and digits, the first and the
// last maybe Chinese (粤A8Z888挂).
func carNumber(v string) bool {
	r := []rune(v)
	if len(r) > 8 {
		return false
	}
	for i, c := range r {
		if !(c < 0x80 && (unicode.IsLetter(c) || unicode.IsDigit(c))) && !(isHan(c) && (i == 0 || i == len(r)-1)) {
			return false
		}
	}
	return true
}

// rangeOf accepts one point or two joined by "~".
func rangeOf(point *regexp.Regexp) func(string) bool {
	return func(v string) bool {
		parts := strings.Split(v, "~")
		if len(parts) > 2 {
			return false
		}
		for _, p := range parts {
			if !point.MatchString(strings.TrimSpace(p)) {
				return false
			}
		}
		return true
	}
}

func runes(v string) int { return utf8.RuneCountInString(v) }

func all(v string, ok func(rune) bool) bool {
	for _, r := range v {
		if !ok(r) {
			return false
		}
	}
	return true
}

func isHan(r rune) bool { return unicode.Is(unicode.Han, r) }

func isASCIILetter(r rune) bool { return r < 0x80 && unicode.IsLetter(r) }
