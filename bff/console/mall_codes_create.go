package console

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/jifen/jifen/bff/web"
	"github.com/jifen/jifen/domain"
)

// ImportMallCodes handles POST /api/v1/console/mall/items/{id}/codes
// (admin, marketer) with a text/csv body: the first column of each row is
// a code; a first row "code" is a header; a byte-order mark at the start
// is ignored. Codes the pool already has are skipped, so a retried import
// adds nothing twice; a refused code is named by its line in the file.
func (h *Handlers) ImportMallCodes(c *gin.Context) {
	id, err := web.PathID(c, "id")
	if err != nil {
		web.Fail(c, err)
		return
	}
	if ct := c.ContentType(); ct != "text/csv" && ct != "text/plain" {
		web.Fail(c, domain.Errorf(domain.Invalid, "send the codes as text/csv, one code a row"))
		return
	}
	body, err := io.ReadAll(c.Request.Body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			web.Fail(c, domain.Errorf(web.CodeTooLarge, "request body larger than %d bytes", tooBig.Limit))
			return
		}
		web.Fail(c, domain.Errorf(domain.Invalid, "cannot read request body"))
		return
	}
	// Excel's "CSV UTF-8" starts the file with a byte-order mark: it is not
	// part of the header or of the first code.
	rd := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(body, utf8BOM)))
	rd.FieldsPerRecord = -1
	// codes[i] is line i+1 of the file ("" for the header and blank lines),
	// so that a refused code is named by the line it is on.
	var codes []string
	for first := true; ; first = false {
		row, err := rd.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			web.Fail(c, domain.FieldError("codes", "malformed CSV: "+err.Error()))
			return
		}
		if len(row) == 0 || (first && strings.EqualFold(strings.TrimSpace(row[0]), "code")) {
			continue
		}
		line, _ := rd.FieldPos(0)
		for len(codes) < line-1 {
			codes = append(codes, "")
		}
		codes = append(codes, row[0])
	}
	added, skipped, err := h.Mall.ImportCodes(c.Request.Context(), mallActor(c), id, codes)
	if err != nil {
		web.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"added": added, "skipped": skipped})
}

var utf8BOM = []byte("\ufeff")
