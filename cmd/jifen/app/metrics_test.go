package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jifen/jifen/cmd/jifen/app/apptest"
)

// TestMetricsServeWhatTheDashboardDraws: after a login, a console credit,
// a run of the analytics and a scheduler tick, /metrics carries every
// metric docs/grafana-dashboard.json draws, and the business figures are
// the ones the activity made.
func TestMetricsServeWhatTheDashboardDraws(t *testing.T) {
	h := apptest.New(t)
	_, _, memberID := h.Login(apptest.UniqueUser("metrics"))
	admin := h.ConsoleLogin("admin")
	if r := h.Do("POST", fmt.Sprintf("/api/v1/console/members/%d/adjustments", memberID), map[string]any{"delta": 321, "reason": "metrics"},
		append(apptest.Auth(admin), "Idempotency-Key", "metrics-credit")...); r.Status != http.StatusCreated {
		t.Fatalf("credit: %d %s", r.Status, r.Body)
	}
	ctx := context.Background()
	h.Clock.Advance(h.Config.Analytics.Lag + time.Minute)
	if _, err := h.App.Analytics.Run(ctx); err != nil {
		t.Fatal(err)
	}
	h.App.Reminder.Scheduler.Tick(ctx)

	rec := httptest.NewRecorder()
	h.App.Admin.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("/metrics: %d", rec.Code)
	}
	body := rec.Body.String()
	served := map[string]bool{}
	for _, line := range strings.Split(body, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name := line[:strings.IndexAny(line, "{ ")]
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			name = strings.TrimSuffix(name, suffix)
		}
		served[name] = true
	}

	raw, err := os.ReadFile("../../../docs/grafana-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("docs/grafana-dashboard.json: %v", err)
	}
	metric := regexp.MustCompile(`\b(jifen_[a-z_]+|go_sql_[a-z_]+)\b`)
	used := 0
	for _, p := range dash.Panels {
		for _, target := range p.Targets {
			for _, name := range metric.FindAllString(target.Expr, -1) {
				used++
				base := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(name, "_bucket"), "_sum"), "_count")
				if !served[base] {
					t.Errorf("panel %q draws %s, which /metrics does not serve", p.Title, name)
				}
			}
		}
	}
	if used < 10 {
		t.Fatalf("the dashboard draws %d metrics; it should draw the service's", used)
	}

	for _, want := range []string{
		`jifen_points_total{kind="issued",source="console"} 321`,
		`jifen_outbox_backlog{channel="subscribe",status="pending"} 0`,
		`jifen_wechat_calls_total{api="code2session",errcode="0"} 1`,
		`jifen_job_failures_total{job="analytics"} 0`,
	} {
		if !strings.Contains(body, want+"\n") {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	// The requests above sent their Redis pipelines through the merger.
	pipelines := regexp.MustCompile(`(?m)^jifen_group_commit_requests_total\{path="redis_pipelines"\} (\d+)$`).FindStringSubmatch(body)
	if pipelines == nil || pipelines[1] == "0" {
		t.Errorf("/metrics counts no Redis pipelines merged: %v", pipelines)
	}
}
