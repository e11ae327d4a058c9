package sim

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"net/http"
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

// DefaultPages are the pages every app's published mini-program has in
// the simulator: the page of Jifen's default referral.qrcode_page.
var DefaultPages = []string{"pages/index/index"}

// PublishPages adds pages to appID's published mini-program, as a release
// would.
func (s *Server) PublishPages(appID string, pages ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pages == nil {
		s.pages = map[string]bool{}
	}
	for _, p := range pages {
		s.pages[appID+"|"+p] = true
	}
}

func (s *Server) published(appID, page string) bool {
	for _, p := range DefaultPages {
		if p == page {
			return true
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pages[appID+"|"+page]
}

// getWXACodeUnlimit is POST /wxa/getwxacodeunlimit: a real JPEG whose
// pattern depends on scene and page. Errors are JSON, like WeChat's. A page
// must look like a mini-program path ("pages/x/y", no leading slash) and,
// unless check_path is false, be published (DefaultPages, PublishPages):
// 41030 otherwise, as WeChat answers a page its released package lacks.
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
	if check, ok := req.Params["check_path"].(bool); page != "" && (!ok || check) && !s.published(req.AppID, page) {
		return errReply(codeInvalidPage, "invalid page rid: sim")
	}
	img, err := wxacodeJPEG(scene + "|" + page)
	if err != nil {
		return errReply(codeSystemBusy, "sim: encoding jpeg")
	}
	return rawReply{ContentType: "image/jpeg", Body: img}
}

// servePages is POST /_sim/pages {"appid","pages":[…]}: PublishPages.
func (s *Server) servePages(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "method not allowed"})
		return
	}
	var in struct {
		AppID string   `json:"appid"`
		Pages []string `json:"pages"`
	}
	dec := json.NewDecoder(io.LimitReader(r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil || in.AppID == "" || len(in.Pages) == 0 {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": `pages: want {"appid", "pages": [paths]}`})
		return
	}
	s.PublishPages(in.AppID, in.Pages...)
	w.WriteHeader(http.StatusNoContent)
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
