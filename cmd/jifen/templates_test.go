package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestServeStopsWhenATemplateMessageDoesNotMatchItsKeywords starts serve
// with an official-account template whose fields miss one of the
// template's keywords at WeChat (the simulator lists sim-oa-tmpl-expiry
// with thing1 and date2): serve stops with exit 1 and names the template
// and the keyword. The default configuration's templates match (every
// other serve test starts with them).
func TestServeStopsWhenATemplateMessageDoesNotMatchItsKeywords(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "jifen.yaml")
	err := os.WriteFile(cfg, []byte(`reminder:
  templates:
    expiry_template:
      channel: template
      wechat_id: sim-oa-tmpl-expiry
      fields: {thing1: "{{points}} 积分即将过期", keyword2: "{{expire_date}}"}
`), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "serve", "--config", cfg)
	cmd.Env = jifenEnv("JIFEN_DATA_DIR="+dir, "JIFEN_SERVER_ADDR="+freeAddr(t), "JIFEN_SERVER_METRICS_ADDR="+freeAddr(t))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("serve kept running with a mismatched template:\n%s", out.String())
	}
	if code := cmd.ProcessState.ExitCode(); code != 1 || err == nil {
		t.Fatalf("exit %d (%v), want 1:\n%s", code, err, out.String())
	}
	for _, want := range []string{"reminder.templates.expiry_template", "missing [date2]", "not in the template [keyword2]"} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("output does not name %q:\n%s", want, out.String())
		}
	}
}
