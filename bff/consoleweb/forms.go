package consoleweb

import (
	"context"
	"errors"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/web"
	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/domain/formkey"
)

// once runs a form's write the first time its rendering is sent, and
// answers every copy of it (a double click, a POST sent again) with where
// the first one went, without writing again (formkey.Service.Once; the
// key is the rendering's Page.FormKey, per user and per path posted to).
// write returns the page the browser goes to next.
func (h *Handlers) once(c *gin.Context, write func(ctx context.Context) (string, error)) (string, error) {
	k := formkey.Key{Actor: web.Claims(c).Subject, Form: c.Request.URL.Path, Key: c.PostForm("form_key")}
	next, _, err := h.FormKeys.Once(c.Request.Context(), k, write)
	switch {
	case errors.Is(err, formkey.ErrNoKey):
		err = domain.FieldError("form_key", "problem.no_key")
	case errors.Is(err, formkey.ErrPending):
		err = domain.Errorf(domain.Conflict, "problem.pending")
	}
	return next, err
}

// formErrors collects a form's problems by field, named as the JSON API
// names them ("effect.points"), so the domain's own field errors and the
// form's parse errors read the same. The problems are message keys
// ("problem.whole"), which the page words in its language (problems).
type formErrors map[string]string

func (e formErrors) add(field, problem string) {
	if _, ok := e[field]; !ok {
		e[field] = problem
	}
}

// err is the collected problems as one Invalid error, or nil.
func (e formErrors) err() error {
	if len(e) == 0 {
		return nil
	}
	return &domain.Error{Code: domain.Invalid, Message: "problem.form", Fields: e}
}

var yuanRe = regexp.MustCompile(`^\d{1,12}(\.\d{1,2})?$`)

// fen reads yuan as a marketer types them ("1,280.5") into fen; "" is 0.
func (e formErrors) fen(field, s string) int64 {
	s = strings.ReplaceAll(strings.TrimSpace(s), ",", "")
	if s == "" {
		return 0
	}
	if !yuanRe.MatchString(s) {
		e.add(field, "problem.yuan")
		return 0
	}
	whole, frac, _ := strings.Cut(s, ".")
	y, _ := strconv.ParseInt(whole, 10, 64)
	f, _ := strconv.ParseInt((frac + "00")[:2], 10, 64)
	return y*100 + f
}

// int reads a whole number; "" is 0.
func (e formErrors) int(field, s string) int64 {
	s = strings.ReplaceAll(strings.TrimSpace(s), ",", "")
	if s == "" {
		return 0
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		e.add(field, "problem.whole")
	}
	return n
}

// localTime reads an <input type="datetime-local"> value as Asia/Shanghai;
// "" is nil. A time no store can hold (web.TimeFits: the first hours of
// 0001-01-01 in Shanghai are year 0 in UTC) is a problem too.
func (e formErrors) localTime(field, s string) *time.Time {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02 15:04"} {
		if t, err := time.ParseInLocation(layout, s, domain.Shanghai); err == nil {
			if !web.TimeFits(t) {
				e.add(field, "problem.time_span")
				return nil
			}
			return &t
		}
	}
	e.add(field, "problem.datetime")
	return nil
}

// list splits a comma (or 、 or newline) separated list, dropping blanks.
func list(s string) []string {
	f := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '，' || r == '、' || r == '\n' || r == '\r' })
	out := make([]string, 0, len(f))
	for _, v := range f {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// yuanText writes fen back into a yuan field ("" for 0).
func yuanText(fen int64) string {
	if fen == 0 {
		return ""
	}
	if fen%100 == 0 {
		return strconv.FormatInt(fen/100, 10)
	}
	return strconv.FormatInt(fen/100, 10) + "." + strconv.FormatInt(fen%100+100, 10)[1:]
}

func intText(n int64) string {
	if n == 0 {
		return ""
	}
	return strconv.FormatInt(n, 10)
}

func localText(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.In(domain.Shanghai).Format("2006-01-02T15:04")
}
