package wechat

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/jifen/jifen/wechat/sim"
)

func TestSimTransport(t *testing.T) {
	type seen struct{ method, path, rawQuery, host, body string }
	var got seen
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = seen{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Get(sim.HostHeader), string(b)}
	}))
	defer srv.Close()

	tests := []struct {
		base, url string
		want      seen
	}{
		{srv.URL, "https://api.weixin.qq.com/sns/jscode2session?appid=a&js_code=c",
			seen{"GET", "/_sim/sns/jscode2session", "appid=a&js_code=c", "api.weixin.qq.com", ""}},
		{srv.URL + "/", "https://qyapi.weixin.qq.com/cgi-bin/gettoken?corpid=w",
			seen{"GET", "/_sim/cgi-bin/gettoken", "corpid=w", "qyapi.weixin.qq.com", ""}},
		{srv.URL + "/mounted/", "https://api.weixin.qq.com/cgi-bin/token",
			seen{"POST", "/mounted/_sim/cgi-bin/token", "", "api.weixin.qq.com", `{"x":1}`}},
	}
	for _, tt := range tests {
		t.Run(tt.base+" "+tt.url, func(t *testing.T) {
			tr, err := newSimTransport(tt.base, http.DefaultTransport)
			if err != nil {
				t.Fatal(err)
			}
			req, _ := http.NewRequest(tt.want.method, tt.url, strings.NewReader(tt.want.body))
			resp, err := (&http.Client{Transport: tr}).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if got != tt.want {
				t.Fatalf("server saw %+v, want %+v", got, tt.want)
			}
			if req.URL.String() != tt.url || req.Header.Get(sim.HostHeader) != "" {
				t.Fatalf("the caller's request was changed: %s %v", req.URL, req.Header)
			}
		})
	}

	for _, bad := range []string{"", "localhost:8080", "ftp://x", "http://"} {
		if _, err := newSimTransport(bad, http.DefaultTransport); err == nil {
			t.Errorf("base URL %q accepted", bad)
		}
	}
}
