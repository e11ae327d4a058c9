package console

import (
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
// a code; a first row "code" is a header. Codes the pool already has are
// skipped, so a retried import adds nothing twice.
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
	rd := csv.NewReader(strings.NewReader(string(body)))
	rd.FieldsPerRecord = -1
	rows, err := rd.ReadAll()
	if err != nil {
		web.Fail(c, domain.FieldError("codes", "malformed CSV: "+err.Error()))
		return
	}
	codes := make([]string, 0, len(rows))
	for i, row := range rows {
		if len(row) == 0 || (i == 0 && strings.EqualFold(strings.TrimSpace(row[0]), "code")) {
			continue
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
