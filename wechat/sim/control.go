package sim

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// Fault makes the next Times calls of API fail: after DelayMS, with
// HTTPStatus when set, else with ErrCode when set; a delay alone serves the
// call normally afterwards.
type Fault struct {
	API        string `json:"api"`
	ErrCode    int    `json:"errcode,omitempty"`
	ErrMsg     string `json:"errmsg,omitempty"`
	HTTPStatus int    `json:"http_status,omitempty"`
	DelayMS    int    `json:"delay_ms,omitempty"`
	Times      int    `json:"times,omitempty"` // 0 means 1
}

// Call is one recorded API call.
type Call struct {
	API     string         `json:"api"`
	Host    string         `json:"host"`
	Params  map[string]any `json:"params"` // query + JSON body fields, secrets masked
	ErrCode int            `json:"errcode"`
	Status  int            `json:"status"` // the HTTP status answered
	Time    time.Time      `json:"time"`
}

// AddFault queues f behind the faults already pending for its API.
func (s *Server) AddFault(f Fault) error {
	if _, ok := s.byName[f.API]; !ok && f.API != payAPI {
		return fmt.Errorf("unknown api %q", f.API)
	}
	switch {
	case f.Times < 0:
		return errors.New("times must not be negative")
	case f.DelayMS < 0:
		return errors.New("delay_ms must not be negative")
	case f.HTTPStatus != 0 && (f.HTTPStatus < 300 || f.HTTPStatus > 599):
		return errors.New("http_status must be between 300 and 599")
	case f.ErrCode == 0 && f.HTTPStatus == 0 && f.DelayMS == 0:
		return errors.New("a fault needs errcode, http_status or delay_ms")
	}
	if f.Times == 0 {
		f.Times = 1
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, f)
	return nil
}

// Faults returns the faults still pending, in the order they will apply.
func (s *Server) Faults() []Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Fault{}, s.faults...)
}

// ClearFaults drops every pending fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// takeFault consumes one use of the first fault pending for api.
func (s *Server) takeFault(api string) (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.faults {
		if f.API != api {
			continue
		}
		if s.faults[i].Times--; s.faults[i].Times == 0 {
			s.faults = append(s.faults[:i], s.faults[i+1:]...)
		}
		return f, true
	}
	return Fault{}, false
}

func (s *Server) record(c Call) {
	s.mu.Lock()
	defer s.mu.Unlock()
	// A ring of the last maxCalls: once full, each call takes the place of
	// the oldest (shifting the record down cost every call a copy of it).
	if len(s.calls) < maxCalls {
		s.calls = append(s.calls, c)
		return
	}
	s.calls[s.oldest] = c
	s.oldest = (s.oldest + 1) % maxCalls
}

// Calls returns the recorded calls of api, oldest first; all calls when api
// is "".
func (s *Server) Calls(api string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []Call{}
	for i := range s.calls {
		c := s.calls[(s.oldest+i)%len(s.calls)]
		if api == "" || c.API == api {
			out = append(out, c)
		}
	}
	return out
}

// ClearCalls empties the call record.
func (s *Server) ClearCalls() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls, s.oldest = nil, 0
}

// secretParams are masked in the call record.
var secretParams = []string{"secret", "corpsecret"}

func masked(params map[string]any) map[string]any {
	for _, k := range secretParams {
		if _, ok := params[k]; ok {
			params[k] = "***"
		}
	}
	return params
}

func (s *Server) serveFaults(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		writeJSON(w, http.StatusOK, s.Faults())
	case http.MethodDelete:
		s.ClearFaults()
		w.WriteHeader(http.StatusNoContent)
	case http.MethodPost:
		dec := json.NewDecoder(io.LimitReader(r.Body, maxBody))
		dec.DisallowUnknownFields()
		var f Fault
		if err := dec.Decode(&f); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "fault: " + err.Error()})
			return
		}
		if err := s.AddFault(f); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "fault: " + err.Error()})
			return
		}
		writeJSON(w, http.StatusCreated, s.Faults())
	default:
		w.Header().Set("Allow", "GET, POST, DELETE")
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "method not allowed"})
	}
}

func (s *Server) serveCalls(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		writeJSON(w, http.StatusOK, s.Calls(r.URL.Query().Get("api")))
	case http.MethodDelete:
		s.ClearCalls()
		w.WriteHeader(http.StatusNoContent)
	default:
		w.Header().Set("Allow", "GET, DELETE")
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "method not allowed"})
	}
}

func (s *Server) serveExpireTokens(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "method not allowed"})
		return
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, maxBody))
	var rot rotateRequest
	if rot.parse(body) {
		if rot.Host == "" {
			rot.Host = HostWeChat
		}
		s.RotateToken(rot.Host, rot.AppID, time.Duration(rot.GraceMS)*time.Millisecond)
	} else {
		s.ExpireTokens()
	}
	w.WriteHeader(http.StatusNoContent)
}
