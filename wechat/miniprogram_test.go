package wechat

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/silenceper/wechat/v2/credential"

	"github.com/jifen/jifen/domain"
)

func TestCode2Session(t *testing.T) {
	tests := []struct {
		name      string
		faults    []string
		before    []string // codes used first, successfully
		code      string
		opts      []Option
		wantErr   domain.Code
		wantCalls int // jscode2session calls made by the call under test
	}{
		{name: "login", code: "sim:alice:1", wantCalls: 1},
		{name: "code used", before: []string{"sim:bob:1"}, code: "sim:bob:1", wantErr: domain.CodeUsed, wantCalls: 1},
		{name: "bad code", code: "bad-code", wantErr: domain.InvalidCode, wantCalls: 1},
		{name: "unknown shape", code: "071abcDEF", wantErr: domain.InvalidCode, wantCalls: 1},
		{name: "busy once", faults: []string{`{"api":"jscode2session","errcode":-1}`}, code: "sim:carol:1", wantCalls: 2},
		{name: "busy twice", faults: []string{`{"api":"jscode2session","errcode":-1,"times":2}`}, code: "sim:dan:1", wantErr: domain.Unavailable, wantCalls: 2},
		{name: "rate limited", faults: []string{`{"api":"jscode2session","errcode":45011}`}, code: "sim:erin:1", wantErr: domain.RateLimited, wantCalls: 1},
		{name: "HTTP 502", faults: []string{`{"api":"jscode2session","http_status":502}`}, code: "sim:fay:1", wantErr: domain.Unavailable, wantCalls: 1},
		{name: "other errcode", faults: []string{`{"api":"jscode2session","errcode":40099}`}, code: "sim:gus:1", wantErr: domain.Unavailable, wantCalls: 1},
		// WeChat refuses a high-risk user's login: a verdict, not an outage.
		{name: "code blocked", faults: []string{`{"api":"jscode2session","errcode":40226}`}, code: "sim:ivy:1", wantErr: domain.Forbidden, wantCalls: 1},
		{name: "timeout", faults: []string{`{"api":"jscode2session","delay_ms":500}`}, opts: []Option{WithCallTimeout(100 * time.Millisecond)},
			code: "sim:hal:1", wantErr: domain.Unavailable, wantCalls: 0}, // the client hangs up before the simulator records
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mp, appID := newMini(t, tt.opts...)
			ctx := context.Background()
			// Codes are once-only in the one simulator of the process: make
			// them unique to this run (go test -count=N).
			unique := func(code string) string { return code + "-" + appID }
			for _, code := range tt.before {
				if _, err := mp.Code2Session(ctx, unique(code)); err != nil {
					t.Fatalf("first use of %s: %v", code, err)
				}
			}
			for _, f := range tt.faults {
				fault(t, f)
			}

			sess, err := mp.Code2Session(ctx, unique(tt.code))

			if got := domain.ErrorCode(err); got != tt.wantErr {
				t.Fatalf("error %v (code %q), want code %q", err, got, tt.wantErr)
			}
			if tt.wantErr == "" {
				user := strings.Split(tt.code, ":")[1]
				if sess.OpenID != "sim-openid-"+user || sess.UnionID != "sim-unionid-"+user {
					t.Errorf("session %+v", sess)
				}
			} else if err != nil && strings.Contains(err.Error(), "the-app-secret") {
				t.Errorf("error leaks the app secret: %v", err)
			}
			if got := len(calls("jscode2session", "appid", appID)) - len(tt.before); got != tt.wantCalls {
				t.Errorf("%d jscode2session calls, want %d", got, tt.wantCalls)
			}
		})
	}
}

func TestCode2SessionWrapsCause(t *testing.T) {
	mp, _ := newMini(t, WithCallTimeout(50*time.Millisecond))
	fault(t, `{"api":"jscode2session","delay_ms":300}`)
	_, err := mp.Code2Session(context.Background(), "sim:ivy:"+mp.appID)
	var de *domain.Error
	if !errors.As(err, &de) || de.Code != domain.Unavailable {
		t.Fatalf("error %v is not a domain Unavailable", err)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error %v does not wrap the deadline", err)
	}
	if strings.Contains(err.Error(), "the-app-secret") || !strings.Contains(err.Error(), "secret=***") {
		t.Fatalf("secret not blanked out: %v", err)
	}
	if strings.Contains(domain.ErrorMessage(err), "jscode2session") {
		t.Fatalf("client message carries details: %q", domain.ErrorMessage(err))
	}
}

func TestPhoneNumber(t *testing.T) {
	tests := []struct {
		name    string
		faults  []string
		code    string
		want    string
		wantErr domain.Code
	}{
		{name: "number", code: "sim-phone:13800001111", want: "13800001111"},
		{name: "bad code", code: "sim-phone:123", wantErr: domain.InvalidCode},
		{name: "busy once", faults: []string{`{"api":"getuserphonenumber","errcode":-1}`}, code: "sim-phone:13800002222", want: "13800002222"},
		{name: "rate limited", faults: []string{`{"api":"getuserphonenumber","errcode":45011}`}, code: "sim-phone:13800003333", wantErr: domain.RateLimited},
		{name: "HTTP 502", faults: []string{`{"api":"getuserphonenumber","http_status":502}`}, code: "sim-phone:13800004444", wantErr: domain.Unavailable},
		{name: "token fetch fails", faults: []string{`{"api":"stable_token","http_status":502}`}, code: "sim-phone:13800005555", wantErr: domain.Unavailable},
		{name: "stale token twice", faults: []string{`{"api":"getuserphonenumber","errcode":40001,"times":2}`}, code: "sim-phone:13800006666", wantErr: domain.Unavailable},
		{name: "token stale once", faults: []string{`{"api":"getuserphonenumber","errcode":42001}`}, code: "sim-phone:13800007777", want: "13800007777"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mp, appID := newMini(t)
			for _, f := range tt.faults {
				fault(t, f)
			}
			// Phone codes are once-only in the one simulator of the process.
			got, err := mp.PhoneNumber(context.Background(), tt.code+":"+appID)
			if code := domain.ErrorCode(err); code != tt.wantErr || got != tt.want {
				t.Fatalf("got %q, %v; want %q, code %q", got, err, tt.want, tt.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), "the-app-secret") {
				t.Errorf("error leaks the app secret: %v", err)
			}
		})
	}
}

// A phone code works once and for five minutes; WeChat answers 40029 for a
// used or expired one, which is InvalidCode.
func TestPhoneNumberCodeOnceAndFiveMinutes(t *testing.T) {
	mp, _ := newMini(t)
	ctx := context.Background()
	code := simServer.PhoneCode("13800008888", time.Time{})
	if got, err := mp.PhoneNumber(ctx, code); err != nil || got != "13800008888" {
		t.Fatalf("first use: %q, %v", got, err)
	}
	if _, err := mp.PhoneNumber(ctx, code); domain.ErrorCode(err) != domain.InvalidCode {
		t.Fatalf("second use: %v, want InvalidCode", err)
	}
	old := simServer.PhoneCode("13800008888", time.Now().Add(-5*time.Minute))
	if _, err := mp.PhoneNumber(ctx, old); domain.ErrorCode(err) != domain.InvalidCode {
		t.Fatalf("expired code: %v, want InvalidCode", err)
	}
}

func TestPhoneNumberCachesToken(t *testing.T) {
	c, mr := newCache(t)
	appID := fmt.Sprintf("wxtest%d", appSeq.Add(1))
	mp := NewMiniProgram(appID, "s", c)
	for i := range 3 {
		if _, err := mp.PhoneNumber(context.Background(), fmt.Sprintf("sim-phone:13800001111:%s-%d", appID, i)); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(calls("stable_token", "appid", appID)); n != 1 {
		t.Fatalf("%d token calls for 3 phone calls, want 1", n)
	}
	key := "jifen:wechat:" + credential.CacheKeyMiniProgramPrefix + "_access_token_" + appID
	if !mr.Exists(key) {
		t.Fatalf("no token under %q; keys: %v", key, mr.Keys())
	}
	if ttl := mr.TTL(key); ttl != (7200-300)*time.Second {
		t.Fatalf("token TTL %v, want 6900s (five minutes before WeChat's expiry)", ttl)
	}
}

func TestPhoneNumberAfterTokensExpire(t *testing.T) {
	mp, appID := newMini(t)
	ctx := context.Background()
	if _, err := mp.PhoneNumber(ctx, "sim-phone:13800001111:"+appID); err != nil {
		t.Fatal(err)
	}
	phoneCalls := len(simServer.Calls("getuserphonenumber"))

	control(t, "POST", "/_sim/tokens/expire", "")
	got, err := mp.PhoneNumber(ctx, "sim-phone:13900002222:"+appID)

	if err != nil || got != "13900002222" {
		t.Fatalf("after expiry: %q, %v", got, err)
	}
	if n := len(calls("stable_token", "appid", appID)); n != 2 {
		t.Fatalf("%d token calls, want 2", n)
	}
	recent := simServer.Calls("getuserphonenumber")[phoneCalls:]
	if len(recent) != 2 || recent[0].ErrCode != 40001 || recent[1].ErrCode != 0 {
		t.Fatalf("phone calls after expiry: %+v", recent)
	}
}

func TestRefreshKeepsATokenAnotherInstanceFetched(t *testing.T) {
	c, _ := newCache(t)
	mp := NewMiniProgram(fmt.Sprintf("wxfresh%d", appSeq.Add(1)), "s", c)
	ctx := context.Background()
	if err := c.Set(mp.tokens.key, "fresh", time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := mp.tokens.refresh(ctx, "stale", time.Second); err != nil {
		t.Fatal(err)
	}
	if got := c.Get(mp.tokens.key); got != "fresh" {
		t.Fatalf("a fresh token was replaced: %v", got)
	}
	if err := mp.tokens.refresh(ctx, "fresh", time.Second); err != nil {
		t.Fatal(err)
	}
	if got, _ := c.Get(mp.tokens.key).(string); got == "fresh" || got == "" {
		t.Fatalf("the stale token was kept: %v", got)
	}
}

// The code goes into the jscode2session query escaped: one that carries
// "&appid=…" or a '%' reaches WeChat as one js_code, adding nothing.
func TestCode2SessionEscapesTheCode(t *testing.T) {
	mp, appID := newMini(t)
	for _, code := range []string{"sim:eve:1&appid=evil&js_code=x-" + appID, "sim:eve:%41 #\"-" + appID} {
		_, _ = mp.Code2Session(context.Background(), code)
		got := calls("jscode2session", "js_code", code)
		if len(got) != 1 {
			t.Fatalf("code %q: %d calls carry it whole as js_code", code, len(got))
		}
		if got[0].Params["appid"] != appID || got[0].Params["grant_type"] != "authorization_code" {
			t.Errorf("code %q changed other parameters: %v", code, got[0].Params)
		}
	}
}

// WeChat's answers to a wrong appid or secret are settings to fix, not
// outages: Misconfigured, from the login itself and from a token fetch,
// with no retry.
func TestWrongCredentialsAreMisconfigured(t *testing.T) {
	c, _ := newCache(t)
	appID := fmt.Sprintf("wxcred%d", appSeq.Add(1))
	simServer.RegisterApp(appID, "the-right-secret")
	wrong := NewMiniProgram(appID, "the-app-secret", c)
	ctx := context.Background()

	_, err := wrong.Code2Session(ctx, "sim:cred:"+appID)
	if domain.ErrorCode(err) != domain.Misconfigured {
		t.Fatalf("login with a wrong secret: %v, want Misconfigured", err)
	}
	if n := len(calls("jscode2session", "appid", appID)); n != 1 {
		t.Fatalf("%d jscode2session calls, want 1 (no retry)", n)
	}
	_, err = wrong.PhoneNumber(ctx, "sim-phone:13800001212")
	if domain.ErrorCode(err) != domain.Misconfigured {
		t.Fatalf("token fetch with a wrong secret: %v, want Misconfigured", err)
	}
	if strings.Contains(err.Error(), "the-app-secret") {
		t.Fatalf("error leaks the secret: %v", err)
	}
	_, err = NewMiniProgram("not-an-appid", "s", c).Code2Session(ctx, "sim:cred2:"+appID)
	if domain.ErrorCode(err) != domain.Misconfigured {
		t.Fatalf("login with a wrong appid: %v, want Misconfigured", err)
	}
}
