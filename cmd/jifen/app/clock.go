package app

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/jifen/jifen/bff/web"
	"github.com/jifen/jifen/domain"
)

// clockControl answers /_sim/clock and hands every other /_sim/ path to the
// simulator. GET shows the service's time; POST {"advance":"24h"} moves it
// forward, so a demo can preview a streak, a return window's end or an
// expiry reminder without waiting: the jobs read the same clock.
type clockControl struct {
	clock *domain.OffsetClock
	next  http.Handler
	// advanced moves what keeps time besides the clock (the in-process
	// Redis's key expiry) by as much.
	advanced func(time.Duration)
}

// clockState is the answer of /_sim/clock.
type clockState struct {
	Now           string `json:"now"`
	Offset        string `json:"offset"`
	OffsetSeconds int64  `json:"offset_seconds"`
}

func (h clockControl) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/_sim/clock" {
		h.next.ServeHTTP(w, r)
		return
	}
	switch r.Method {
	case http.MethodGet:
	case http.MethodPost:
		var req struct {
			Advance string `json:"advance"`
		}
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1024))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			clockError(w, http.StatusBadRequest, `body must be {"advance": "<duration>"}, e.g. {"advance": "24h"}`)
			return
		}
		d, err := time.ParseDuration(req.Advance)
		if err != nil || d <= 0 {
			clockError(w, http.StatusBadRequest, `advance must be a positive duration such as "90m" or "72h": the clock only moves forward`)
			return
		}
		if _, err := h.clock.Advance(d); err != nil {
			clockError(w, http.StatusBadRequest, err.Error())
			return
		}
		if h.advanced != nil {
			h.advanced(d)
		}
	default:
		w.Header().Set("Allow", "GET, POST")
		clockError(w, http.StatusMethodNotAllowed, "GET or POST")
		return
	}
	off := h.clock.Offset()
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(clockState{Now: h.clock.Now().In(domain.Shanghai).Format(time.RFC3339),
		Offset: off.String(), OffsetSeconds: int64(off / time.Second)})
}

// clockError answers in the API's error shape.
func clockError(w http.ResponseWriter, status int, msg string) {
	code := domain.Invalid
	if status == http.StatusMethodNotAllowed {
		code = web.CodeMethodNotAllowed
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": string(code), "message": msg}})
}
