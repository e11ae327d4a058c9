package app

import (
	"context"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/jifen/jifen/domain/reminder"
	"github.com/jifen/jifen/repo"
	"github.com/jifen/jifen/repo/analyticsstore"
	"github.com/jifen/jifen/repo/reminderstore"
	"github.com/jifen/jifen/wechat"
)

// registerMetrics adds the business and job metrics to reg, beside the
// HTTP ones bff registers: points by kind and source (from the daily facts),
// group commit sizes, the outbox backlog, the scheduler's jobs, WeChat calls
// by API and errcode, and the database and Redis pools. The Grafana
// dashboard in docs/grafana-dashboard.json draws them.
func registerMetrics(reg *prometheus.Registry, a *App, st *Stores) {
	reg.MustRegister(collectors.NewDBStatsCollector(st.DB.Pool(), "jifen"))

	jobTook := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "jifen_job_duration_seconds",
		Help: "How long each run of a scheduled job took.", Buckets: []float64{.01, .05, .1, .5, 1, 5, 15, 60, 300}}, []string{"job"})
	jobOK := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "jifen_job_last_success_timestamp_seconds",
		Help: "Unix time of each scheduled job's last successful run (0: none yet on this instance)."}, []string{"job"})
	jobFailed := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "jifen_job_failures_total",
		Help: "Failed runs of each scheduled job."}, []string{"job"})
	for _, j := range a.Reminder.Scheduler.Jobs {
		jobTook.WithLabelValues(j.Name)
		jobOK.WithLabelValues(j.Name)
		jobFailed.WithLabelValues(j.Name)
	}
	a.Reminder.Scheduler.Observe = func(job string, took time.Duration, err error) {
		jobTook.WithLabelValues(job).Observe(took.Seconds())
		if err != nil {
			jobFailed.WithLabelValues(job).Inc()
			return
		}
		jobOK.WithLabelValues(job).Set(float64(time.Now().Unix()))
	}

	calls := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "jifen_wechat_calls_total",
		Help: `WeChat and WeCom call attempts by API and errcode ("0": success, "no_answer": WeChat did not answer).`}, []string{"api", "errcode"})
	wechat.ObserveCalls(func(api string, code int64, err error) {
		label := strconv.FormatInt(code, 10)
		if code == 0 && err != nil {
			label = "no_answer"
		}
		calls.WithLabelValues(api, label).Inc()
	})

	reg.MustRegister(jobTook, jobOK, jobFailed, calls,
		&storeCollector{points: &analyticsstore.Store{DB: st.DB}, outbox: &reminderstore.Outbox{DB: st.DB}},
		groupCollector{"logins": a.Members.GroupStats, "ledger": a.Ledger.GroupStats, "signin": a.Signin.GroupStats, "lottery": a.Lottery.GroupStats, "orders": a.Orders.GroupStats, "mall": a.Mall.GroupStats, "adjustments": a.Adjust.GroupStats,
			"redis_pipelines": st.RedisMerges.Stats},
		redisCollector{st.Redis})
}

var (
	pointsDesc = prometheus.NewDesc("jifen_points_total",
		"Points by kind (issued, spent, expired, clawed_back, returned) and source or sink, from the daily facts (they trail the journal by analytics.lag).",
		[]string{"kind", "source"}, nil)
	backlogDesc = prometheus.NewDesc("jifen_outbox_backlog",
		"Reminder outbox rows not yet delivered, by channel and status (pending, claimed, sending).", []string{"channel", "status"}, nil)
	groupsDesc = prometheus.NewDesc("jifen_group_commits_total",
		"Groups committed by group commit, by path; requests/groups is the mean group size (path redis_pipelines: merged Redis writes).", []string{"path"}, nil)
	groupedDesc = prometheus.NewDesc("jifen_group_commit_requests_total",
		"Requests committed in groups, by path (redis_pipelines: the pipelines the merged writes carried).", []string{"path"}, nil)
	redisDesc = map[string]*prometheus.Desc{
		"hits":     prometheus.NewDesc("jifen_redis_pool_hits_total", "Redis connections reused from the pool.", nil, nil),
		"misses":   prometheus.NewDesc("jifen_redis_pool_misses_total", "Redis connections the pool had to open.", nil, nil),
		"timeouts": prometheus.NewDesc("jifen_redis_pool_timeouts_total", "Waits for a pooled Redis connection that timed out.", nil, nil),
		"total":    prometheus.NewDesc("jifen_redis_pool_connections", "Redis connections in the pool.", nil, nil),
		"idle":     prometheus.NewDesc("jifen_redis_pool_idle_connections", "Idle Redis connections in the pool.", nil, nil),
	}
)

// storeCollector reads the figures kept in the database on each scrape,
// within a short deadline: a slow database costs a scrape its figures, not
// the scrape.
type storeCollector struct {
	points interface {
		Totals(ctx context.Context) (map[[2]string]int64, error)
	}
	outbox interface {
		Backlog(ctx context.Context) (map[[2]string]int64, error)
	}
}

func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) { ch <- pointsDesc; ch <- backlogDesc }

func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if totals, err := c.points.Totals(ctx); err == nil {
		for k, v := range totals {
			ch <- prometheus.MustNewConstMetric(pointsDesc, prometheus.CounterValue, float64(v), k[0], k[1])
		}
	}
	if backlog, err := c.outbox.Backlog(ctx); err == nil {
		// Every channel and status is reported, 0 included, so that an
		// alert on the backlog sees an empty outbox rather than no data.
		for _, channel := range []reminder.Channel{reminder.Subscribe, reminder.Template, reminder.WeCom, reminder.Robot} {
			for _, status := range []reminder.Status{reminder.Pending, reminder.Claimed, reminder.Sending} {
				k := [2]string{string(channel), string(status)}
				if _, ok := backlog[k]; !ok {
					backlog[k] = 0
				}
			}
		}
		for k, v := range backlog {
			ch <- prometheus.MustNewConstMetric(backlogDesc, prometheus.GaugeValue, float64(v), k[0], k[1])
		}
	}
}

// groupCollector reports each group commit path's counters.
type groupCollector map[string]func() (groups, grouped int64)

func (c groupCollector) Describe(ch chan<- *prometheus.Desc) { ch <- groupsDesc; ch <- groupedDesc }

func (c groupCollector) Collect(ch chan<- prometheus.Metric) {
	for path, stats := range c {
		groups, grouped := stats()
		ch <- prometheus.MustNewConstMetric(groupsDesc, prometheus.CounterValue, float64(groups), path)
		ch <- prometheus.MustNewConstMetric(groupedDesc, prometheus.CounterValue, float64(grouped), path)
	}
}

// redisCollector reports go-redis's pool statistics.
type redisCollector struct{ r *repo.Redis }

func (c redisCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range redisDesc {
		ch <- d
	}
}

func (c redisCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.r.C.PoolStats()
	ch <- prometheus.MustNewConstMetric(redisDesc["hits"], prometheus.CounterValue, float64(s.Hits))
	ch <- prometheus.MustNewConstMetric(redisDesc["misses"], prometheus.CounterValue, float64(s.Misses))
	ch <- prometheus.MustNewConstMetric(redisDesc["timeouts"], prometheus.CounterValue, float64(s.Timeouts))
	ch <- prometheus.MustNewConstMetric(redisDesc["total"], prometheus.GaugeValue, float64(s.TotalConns))
	ch <- prometheus.MustNewConstMetric(redisDesc["idle"], prometheus.GaugeValue, float64(s.IdleConns))
}
