package wechat

import (
	"context"
	"errors"
	"regexp"
	"strconv"

	"github.com/silenceper/wechat/v2/miniprogram/qrcode"

	"github.com/jifen/jifen/domain/referral"
)

var _ referral.CodeMaker = (*MiniProgram)(nil)

// fetchCodeErr is how the SDK's qrcode package reports an errcode: a plain
// string, "fetchCode error : errcode=40169 , errmsg=…".
var fetchCodeErr = regexp.MustCompile(`errcode=(-?\d+)`)

// WXACodeUnlimit makes a mini-program code (wxacode.getUnlimited) that
// opens page with scene, and returns the JPEG.
func (m *MiniProgram) WXACodeUnlimit(ctx context.Context, scene, page string) ([]byte, error) {
	var img []byte
	err := m.do(ctx, "getwxacodeunlimit", true, func(ctx context.Context) (int64, error) {
		res, err := m.sdk.GetQRCode().GetWXACodeUnlimit(qrcode.QRCoder{Scene: scene, Page: page, Width: 430})
		if err != nil {
			if sm := fetchCodeErr.FindStringSubmatch(err.Error()); sm != nil {
				code, _ := strconv.ParseInt(sm[1], 10, 64)
				return code, err
			}
			return 0, err
		}
		img = res
		return 0, nil
	})
	if err != nil {
		return nil, err
	}
	if len(img) == 0 {
		return nil, unavailable("getwxacodeunlimit", errors.New("empty image"))
	}
	return img, nil
}
