package wechat

import (
	"context"
	"errors"

	"github.com/silenceper/wechat/v2/miniprogram/qrcode"

	"github.com/jifen/jifen/domain/referral"
)

var _ referral.CodeMaker = (*MiniProgram)(nil)

// WXACodeUnlimit makes a mini-program code (wxacode.getUnlimited) that
// opens page with scene, and returns the JPEG. checkPath is WeChat's
// check_path: the page must be in the released mini-program (41030).
func (m *MiniProgram) WXACodeUnlimit(ctx context.Context, scene, page string, checkPath bool) ([]byte, error) {
	var img []byte
	err := m.do(ctx, "getwxacodeunlimit", true, func(ctx context.Context, token string) (int64, error) {
		var err error
		img, err = postForBytes(ctx, "getwxacodeunlimit", endpoint(hostWeChat, "/wxa/getwxacodeunlimit", withToken(token)),
			qrcode.QRCoder{Scene: scene, Page: page, Width: 430, CheckPath: &checkPath})
		return errcode(err), err
	})
	if err != nil {
		return nil, err
	}
	if len(img) == 0 {
		return nil, unavailable("getwxacodeunlimit", errors.New("empty image"))
	}
	return img, nil
}
