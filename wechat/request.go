package wechat

import (
	"bytes"
	"context"
	"errors"
	"net/url"

	"github.com/silenceper/wechat/v2/util"
)

// The SDK's calls of these APIs take no context, so a slow WeChat would hold
// a request (and its goroutine) past its deadline. This package builds those
// requests itself and sends them with the SDK's context-aware util
// functions, through the process's one client (Configure).
const (
	hostWeChat = "https://api.weixin.qq.com"
	hostWeCom  = "https://qyapi.weixin.qq.com"
)

// endpoint is host+path with the query q (values escaped).
func endpoint(host, path string, q url.Values) string {
	return host + path + "?" + q.Encode()
}

// withToken is q with the access token.
func withToken(token string, kv ...string) url.Values {
	q := url.Values{"access_token": {token}}
	for i := 0; i+1 < len(kv); i += 2 {
		q.Set(kv[i], kv[i+1])
	}
	return q
}

// getJSON GETs uri within ctx and decodes the answer into out, a struct
// embedding util.CommonError; a non-zero errcode is a *util.CommonError.
func getJSON(ctx context.Context, api, uri string, out any) error {
	b, err := util.HTTPGetContext(ctx, uri)
	if err != nil {
		return err
	}
	return util.DecodeWithError(b, out, api)
}

// postJSON POSTs body as JSON to uri within ctx and decodes the answer as
// getJSON does.
func postJSON(ctx context.Context, api, uri string, body, out any) error {
	b, err := util.PostJSONContext(ctx, uri, body)
	if err != nil {
		return err
	}
	return util.DecodeWithError(b, out, api)
}

// postForBytes POSTs body as JSON and returns the answer's bytes, unless
// it is a JSON error (APIs answering a file or an errcode).
func postForBytes(ctx context.Context, api, uri string, body any) ([]byte, error) {
	b, err := util.PostJSONContext(ctx, uri, body)
	if err != nil {
		return nil, err
	}
	if t := bytes.TrimSpace(b); len(t) > 0 && t[0] == '{' {
		var p plain
		if err := util.DecodeWithError(t, &p, api); err != nil {
			return nil, err
		}
		return nil, errors.New(api + ": JSON answer without errcode instead of the file")
	}
	return b, nil
}

// plain is the answer of APIs that return nothing but errcode and errmsg.
type plain struct{ util.CommonError }
