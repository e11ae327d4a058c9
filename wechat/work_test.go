package wechat

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/jifen/jifen/domain"
	"github.com/jifen/jifen/wechat/sim"
)

func TestWorkAccessToken(t *testing.T) {
	c, mr := newCache(t)
	corpID := fmt.Sprintf("wwtest%d", appSeq.Add(1))
	w := NewWork(corpID, "corp-secret", "1000002", c)
	ctx := context.Background()

	tok, err := w.AccessToken(ctx)
	if err != nil || tok == "" {
		t.Fatalf("token %q, %v", tok, err)
	}
	again, err := w.AccessToken(ctx)
	if err != nil || again != tok {
		t.Fatalf("second token %q, %v; want the cached %q", again, err, tok)
	}
	got := calls("gettoken", "corpid", corpID)
	if len(got) != 1 || got[0].Host != sim.HostWeCom || got[0].Params["corpsecret"] != "***" {
		t.Fatalf("gettoken calls: %+v", got)
	}
	if !mr.Exists("jifen:wechat:" + w.tokens.key) {
		t.Fatalf("no token under %q; keys %v", w.tokens.key, mr.Keys())
	}
}

func TestWorkAccessTokenFails(t *testing.T) {
	tests := []struct {
		name   string
		secret string
		fault  string
	}{
		{name: "bad secret", secret: "bad"},
		{name: "HTTP 502", secret: "corp-secret", fault: `{"api":"gettoken","http_status":502}`},
		{name: "busy", secret: "corp-secret", fault: `{"api":"gettoken","errcode":-1}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := newCache(t)
			if tt.fault != "" {
				fault(t, tt.fault)
			}
			_, err := NewWork("wwcorp2", tt.secret, "", c).AccessToken(context.Background())
			if domain.ErrorCode(err) != domain.Unavailable {
				t.Fatalf("error %v, want Unavailable", err)
			}
			if strings.Contains(err.Error(), "corp-secret") {
				t.Fatalf("error leaks the secret: %v", err)
			}
		})
	}
}
