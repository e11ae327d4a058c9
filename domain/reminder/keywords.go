package reminder

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Keyword values. A subscribe message's data key names its keyword type
// and its place in the template (thing1, date2, character_string3), and
// WeChat refuses the whole message with 47003 when one value breaks its
// type's rule. The rules, from WeChat's "subscribeMessage.send" reference:
//
//	thing             at most 20 characters
//	name              at most 10 characters with Chinese, 20 without
//	character_string  at most 32 letters, digits and symbols (no Chinese)
//	letter            at most 32 letters
//	symbol            at most 5 symbols
//	number            at most 32 digits, maybe a decimal part
//	amount            a currency symbol, at most 10 digits, maybe decimals and 元
//	phrase            at most 5 Chinese characters
//	phone_number      at most 17 digits and symbols
//	car_number        at most 8 letters and digits, the first and the last
//	                  maybe Chinese (粤A8Z888挂)
//	date              2026年12月5日 or 2026-12-05, maybe with a 24-hour time; a
//	                  range joins two with "~" (WeChat also takes 12月5日
//	                  and 12-05; Jifen always sends the year, its choice:
//	                  a reminder about points must not be read as next
//	                  year's)
//	time              15:01, maybe after a date; a range joins two with "~"
//
// No value may hold a control character (a tab, a line break): FitKeywords
// turns each into a space.
//
// FitKeywords makes a message's values fit before the member's subscription
// is spent: text is cut (thing, name, character_string, letter, phrase),
// thousands separators are dropped from numbers and amounts, and what
// cannot be made to fit (a date without a year, letters in a number) is an
// error naming the key, so the send is refused here and never spends a
// subscription.

// KeywordKinds lists the keyword types WeChat's subscribe messages have.
var KeywordKinds = []string{"thing", "name", "character_string", "letter", "symbol", "number", "amount",
	"phrase", "phone_number", "car_number", "date", "time"}

var keywordKey = regexp.MustCompile(`^([a-z_]+?)([0-9]+)$`)

// KeywordKind returns the keyword type a data key names (thing1 → thing);
// false for a key that is not a typed keyword (first, keyword1, remark).
func KeywordKind(key string) (string, bool) {
	m := keywordKey.FindStringSubmatch(key)
	if m == nil {
		return "", false
	}
	for _, k := range KeywordKinds {
		if m[1] == k {
			return k, true
		}
	}
	return "", false
}

var (
	dateOnly  = `(?:\d{4}年\d{1,2}月\d{1,2}日|\d{4}-\d{1,2}-\d{1,2}|\d{4}/\d{1,2}/\d{1,2})`
	clock     = `(?:[01]?\d|2[0-3]):[0-5]\d(?::[0-5]\d)?`
	datePoint = regexp.MustCompile(`^` + dateOnly + `(?:\s*` + clock + `)?$`)
	timePoint = regexp.MustCompile(`^(?:` + dateOnly + `\s*)?` + clock + `$`)
	numberRe  = regexp.MustCompile(`^-?(\d+)(?:\.(\d+))?$`)
	amountRe  = regexp.MustCompile(`^[¥￥$€£]?\d{1,10}(?:\.\d{1,2})?元?$`)
	phoneRe   = regexp.MustCompile(`^[0-9+\-() ]{1,17}$`)
)

// FitKeywords returns data with every value fitted to its key's keyword
// type (see above), or an error naming the first key whose value cannot
// fit. Keys that are not typed keywords are an error too: WeChat knows the
// message by its keywords only.
func FitKeywords(data map[string]string) (map[string]string, error) {
	return fit(data, false)
}

// FitTemplateKeywords fits the typed keywords of an official-account
// template message as FitKeywords does and leaves other keys (the old
// first, keyword1, remark) alone.
func FitTemplateKeywords(data map[string]string) (map[string]string, error) {
	return fit(data, true)
}

func fit(data map[string]string, untypedOK bool) (map[string]string, error) {
	keys := make([]string, 0, len(data))
	for k := range data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make(map[string]string, len(data))
	for _, k := range keys {
		kind, ok := KeywordKind(k)
		if !ok {
			if !untypedOK {
				return nil, fmt.Errorf("%s: not a keyword (thing1, date2, …)", k)
			}
			out[k] = data[k]
			continue
		}
		v, err := fitValue(kind, data[k])
		if err != nil {
			return nil, fmt.Errorf("%s: %s", k, err)
		}
		out[k] = v
	}
	return out, nil
}

type fitError string

func (e fitError) Error() string { return string(e) }

func fitValue(kind, v string) (string, error) {
	v = strings.TrimSpace(strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, v))
	if v == "" {
		return "", fitError("empty")
	}
	switch kind {
	case "thing":
		return cut(v, 20), nil
	case "name":
		if hasHan(v) {
			return cut(v, 10), nil
		}
		return cut(v, 20), nil
	case "character_string":
		if !printableASCII(v) {
			return "", fitError("only letters, digits and symbols")
		}
		return cut(v, 32), nil
	case "letter":
		for _, r := range v {
			if r > unicode.MaxASCII || !unicode.IsLetter(r) {
				return "", fitError("only letters")
			}
		}
		return cut(v, 32), nil
	case "symbol":
		for _, r := range v {
			if r > unicode.MaxASCII || unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsSpace(r) {
				return "", fitError("only symbols")
			}
		}
		if utf8.RuneCountInString(v) > 5 {
			return "", fitError("at most 5 symbols")
		}
		return v, nil
	case "number":
		v = strings.ReplaceAll(v, ",", "")
		m := numberRe.FindStringSubmatch(v)
		if m == nil || len(m[1])+len(m[2]) > 32 {
			return "", fitError("at most 32 digits, maybe with a decimal part")
		}
		return v, nil
	case "amount":
		v = strings.ReplaceAll(v, ",", "")
		if !amountRe.MatchString(v) {
			return "", fitError("a currency symbol, at most 10 digits, maybe decimals and 元")
		}
		return v, nil
	case "phrase":
		for _, r := range v {
			if !unicode.Is(unicode.Han, r) {
				return "", fitError("only Chinese characters")
			}
		}
		return cut(v, 5), nil
	case "phone_number":
		if !phoneRe.MatchString(v) {
			return "", fitError("at most 17 digits and symbols")
		}
		return v, nil
	case "car_number":
		if !carNumber(v) {
			return "", fitError("at most 8 letters and digits, the first and the last maybe Chinese")
		}
		return v, nil
	case "date":
		return v, points(v, datePoint, "a date with its year (2026年12月5日 or 2026-12-05), maybe a time")
	case "time":
		return v, points(v, timePoint, "a 24-hour time (15:01), maybe after a date")
	}
	return "", fitError("unknown keyword type")
}

// points checks a value that is one point or a range "a~b" of two.
func points(v string, re *regexp.Regexp, want string) error {
	parts := strings.Split(v, "~")
	if len(parts) > 2 {
		return fitError(want)
	}
	for _, p := range parts {
		if !re.MatchString(strings.TrimSpace(p)) {
			return fitError(want)
		}
	}
	return nil
}

// cut keeps at most n characters, ending a cut value with "…".
func cut(v string, n int) string {
	r := []rune(v)
	if len(r) <= n {
		return v
	}
	return string(r[:n-1]) + "…"
}

// carNumber reports whether v is a plate as WeChat takes it: at most 8
// characters, letters and digits, the first and the last maybe Chinese.
func carNumber(v string) bool {
	r := []rune(v)
	if len(r) > 8 {
		return false
	}
	for i, c := range r {
		asciiAlnum := c <= unicode.MaxASCII && (unicode.IsLetter(c) || unicode.IsDigit(c))
		han := unicode.Is(unicode.Han, c) && (i == 0 || i == len(r)-1)
		if !asciiAlnum && !han {
			return false
		}
	}
	return true
}

func hasHan(v string) bool {
	for _, r := range v {
		if unicode.Is(unicode.Han, r) {
			return true
		}
	}
	return false
}

func printableASCII(v string) bool {
	for _, r := range v {
		if r < 0x21 || r > 0x7e {
			return false
		}
	}
	return true
}
