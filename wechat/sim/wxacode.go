package sim

import (
	"bytes"
	"crypto/sha256"
	"image"
	"image/color"
	"image/jpeg"
	"regexp"
	"strings"
)

// rawReply is an answer sent as is, with its own Content-Type.
type rawReply struct {
	ContentType string
	Body        []byte
}

// WeChat's documented limits of wxacode.getUnlimited.
var (
	sceneChars = regexp.MustCompile(`^[0-9A-Za-z!#$&'()*+,/:;=?@\-._~]{1,32}$`)
	pageChars  = regexp.MustCompile(`^[0-9A-Za-z_\-/]{1,128}$`)
)

// The wxacode errors.
const (
	codeInvalidScene = 40169
	codeInvalidPage  = 41030
)

// getWXACodeUnlimit is POST /wxa/getwxacodeunlimit: a real JPEG whose
// pattern depends on scene and page. Errors are JSON, like WeChat's. A page
// is valid when it looks like a mini-program path ("pages/x/y", no leading
// slash) — the simulator has no published package to check against.
func (s *Server) getWXACodeUnlimit(req *Request) any {
	if !req.JSON {
		return errReply(codeDataFormat, "")
	}
	scene, page := req.Param("scene"), req.Param("page")
	if !sceneChars.MatchString(scene) {
		return errReply(codeInvalidScene, "invalid scene")
	}
	if page != "" && (strings.HasPrefix(page, "/") || !pageChars.MatchString(page)) {
		return errReply(codeInvalidPage, "invalid page")
	}
	img, err := wxacodeJPEG(scene + "|" + page)
	if err != nil {
		return errReply(codeSystemBusy, "sim: encoding jpeg")
	}
	return rawReply{ContentType: "image/jpeg", Body: img}
}

// wxacodeJPEG draws a 21×21 grid of cells (10 px each) from a hash of seed.
func wxacodeJPEG(seed string) ([]byte, error) {
	const cells, px = 21, 10
	img := image.NewGray(image.Rect(0, 0, cells*px, cells*px))
	sum := sha256.Sum256([]byte(seed))
	for y := 0; y < cells; y++ {
		for x := 0; x < cells; x++ {
			bit := (y*cells + x) % 256
			c := color.Gray{Y: 255}
			if sum[bit/8]>>(bit%8)&1 == 1 {
				c = color.Gray{Y: 0}
			}
			for dy := 0; dy < px; dy++ {
				for dx := 0; dx < px; dx++ {
					img.SetGray(x*px+dx, y*px+dy, c)
				}
			}
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 80}); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
