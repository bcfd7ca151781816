// Package telemetry holds the service's Prometheus metrics: every metric's name
// is here, in one place, with what it counts. A process makes one Metrics, feeds
// it from the API (requests), the activities (evaluations, mail given up on) and
// the database (read at scrape time), and serves it at /metrics; the Temporal
// SDK's own metrics are registered in the same registry through tally.
package telemetry

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/uber-go/tally/v4"
	tallyprom "github.com/uber-go/tally/v4/prometheus"
	"go.temporal.io/sdk/client"
	sdktally "go.temporal.io/sdk/contrib/tally"
)

// Metric names. Every name starts with "accounthealth_"; the Temporal SDK's
// own start with "temporal_".
const (
	HTTPRequests           = "accounthealth_http_requests_total"           // by route (Echo's path pattern), method, code
	HTTPDuration           = "accounthealth_http_request_duration_seconds" // histogram, by route and method
	Evaluations            = "accounthealth_evaluations_total"             // finished evaluations, by trigger and status
	EvaluationDuration     = "accounthealth_evaluation_duration_seconds"   // histogram, by trigger
	EvaluationSellers      = "accounthealth_evaluation_sellers_total"      // sellers evaluated
	EvaluationBreaches     = "accounthealth_evaluation_breaches_total"     // breaches found
	MailFailed             = "accounthealth_mail_failed_total"             // mails given up on by this process
	Cases                  = "accounthealth_cases"                         // gauge from the database, by state
	Outbox                 = "accounthealth_outbox_mail"                   // gauge from the database, by status
	OutboxOldestPending    = "accounthealth_outbox_oldest_pending_age_seconds"
	DatabaseScrapeFailures = "accounthealth_database_scrape_errors_total" // reads of the gauges above that failed
	temporalPrefix         = "temporal"
)

// Metrics is one process's metrics.
type Metrics struct {
	reg          *prometheus.Registry
	httpRequests *prometheus.CounterVec
	httpDuration *prometheus.HistogramVec
	evaluations  *prometheus.CounterVec
	evalDuration *prometheus.HistogramVec
	evalSellers  prometheus.Counter
	evalBreaches prometheus.Counter
	mailFailed   prometheus.Counter
	closers      []io.Closer
}

// New makes the metrics of one process, with the Go runtime's and the process's.
func New() *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		reg: reg,
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: HTTPRequests,
			Help: "HTTP requests answered, by route pattern, method and status code."}, []string{"route", "method", "code"}),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: HTTPDuration,
			Help:    "Time to answer an HTTP request, by route pattern and method.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}}, []string{"route", "method"}),
		evaluations: prometheus.NewCounterVec(prometheus.CounterOpts{Name: Evaluations,
			Help: "Evaluations finished, by trigger (api, sweep) and status (completed, failed)."}, []string{"trigger", "status"}),
		evalDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: EvaluationDuration,
			Help:    "Time from an evaluation's start to its end, by trigger.",
			Buckets: prometheus.ExponentialBuckets(0.1, 2.5, 12)}, []string{"trigger"}),
		evalSellers:  prometheus.NewCounter(prometheus.CounterOpts{Name: EvaluationSellers, Help: "Sellers evaluated by finished evaluations."}),
		evalBreaches: prometheus.NewCounter(prometheus.CounterOpts{Name: EvaluationBreaches, Help: "Breaches found by finished evaluations."}),
		mailFailed: prometheus.NewCounter(prometheus.CounterOpts{Name: MailFailed,
			Help: "Mails given up on (relay refusal, or not delivered within mail.give_up_after); each waits in the outbox as failed."}),
	}
	reg.MustRegister(m.httpRequests, m.httpDuration, m.evaluations, m.evalDuration, m.evalSellers, m.evalBreaches, m.mailFailed,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the metrics in Prometheus's text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Registry is the registry, for tests and further collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// ObserveHTTP counts one answered request.
func (m *Metrics) ObserveHTTP(route, method string, code int, took time.Duration) {
	if m == nil {
		return
	}
	m.httpRequests.WithLabelValues(route, method, statusText(code)).Inc()
	m.httpDuration.WithLabelValues(route, method).Observe(took.Seconds())
}

// EvaluationFinished counts a finished evaluation.
func (m *Metrics) EvaluationFinished(trigger, status string, took time.Duration, sellers, breaches int) {
	if m == nil {
		return
	}
	m.evaluations.WithLabelValues(trigger, status).Inc()
	m.evalDuration.WithLabelValues(trigger).Observe(took.Seconds())
	m.evalSellers.Add(float64(sellers))
	m.evalBreaches.Add(float64(breaches))
}

// MailGivenUp counts a mail given up on.
func (m *Metrics) MailGivenUp() {
	if m != nil {
		m.mailFailed.Inc()
	}
}

// TemporalHandler is the Temporal SDK's metrics handler (client.Options.MetricsHandler),
// reporting into this registry under "temporal_".
func (m *Metrics) TemporalHandler(log *slog.Logger) client.MetricsHandler {
	reporter := tallyprom.NewReporter(tallyprom.Options{Registerer: m.reg,
		OnRegisterError: func(err error) { log.Warn("temporal metric not registered", "err", err) }})
	scope, closer := tally.NewRootScope(tally.ScopeOptions{CachedReporter: reporter, Separator: tallyprom.DefaultSeparator,
		SanitizeOptions: &sdktally.PrometheusSanitizeOptions, Prefix: temporalPrefix}, time.Second)
	m.closers = append(m.closers, closer)
	return sdktally.NewMetricsHandler(sdktally.NewPrometheusNamingScope(scope))
}

// Close stops the reporting of the Temporal SDK's metrics.
func (m *Metrics) Close() {
	for _, c := range m.closers {
		_ = c.Close()
	}
}

func statusText(code int) string {
	const digits = "0123456789"
	if code < 100 || code > 999 {
		return "other"
	}
	return string([]byte{digits[code/100], digits[code/10%10], digits[code%10]})
}

// Source reads what the database gauges show.
type Source interface {
	CaseCounts(ctx context.Context) (map[string]int64, error)
	OutboxCounts(ctx context.Context) (byStatus map[string]int64, oldestPending *time.Time, err error)
}

// dbTTL is how long a read of the database gauges is reused: scrapes come every
// few seconds from each Prometheus, and counting cases and mail is a scan.
const dbTTL = 15 * time.Second

// WatchDatabase adds the gauges read from the database at scrape time (cases by
// state, outbox by status and its oldest pending mail), read at most once per
// dbTTL and within a few seconds.
func (m *Metrics) WatchDatabase(src Source, log *slog.Logger) {
	c := &dbCollector{src: src, log: log,
		cases:  prometheus.NewDesc(Cases, "Cases by state, read from the database.", []string{"state"}, nil),
		outbox: prometheus.NewDesc(Outbox, "Mails in the outbox by status (pending, sent, failed), read from the database.", []string{"status"}, nil),
		oldest: prometheus.NewDesc(OutboxOldestPending, "Age of the oldest mail still being tried (0 when none), read from the database.", nil, nil),
		errs:   prometheus.NewCounter(prometheus.CounterOpts{Name: DatabaseScrapeFailures, Help: "Reads of the database gauges that failed."}),
	}
	if err := m.reg.Register(c); err != nil { // a second store of one process: the first one's gauges stand
		log.Warn("metrics: database gauges not registered", "err", err)
	}
}

type dbCollector struct {
	src                   Source
	log                   *slog.Logger
	cases, outbox, oldest *prometheus.Desc
	errs                  prometheus.Counter

	mu     sync.Mutex
	at     time.Time
	cached []prometheus.Metric
}

func (c *dbCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.cases
	ch <- c.outbox
	ch <- c.oldest
	c.errs.Describe(ch)
}

func (c *dbCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.at.IsZero() || time.Since(c.at) >= dbTTL {
		c.cached = c.read()
		c.at = time.Now()
	}
	for _, m := range c.cached {
		ch <- m
	}
	c.errs.Collect(ch)
}

func (c *dbCollector) read() []prometheus.Metric {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var out []prometheus.Metric
	cases, err := c.src.CaseCounts(ctx)
	if err != nil {
		c.errs.Inc()
		c.log.Warn("metrics: count cases", "err", err)
	}
	for state, n := range cases {
		out = append(out, prometheus.MustNewConstMetric(c.cases, prometheus.GaugeValue, float64(n), state))
	}
	byStatus, oldest, err := c.src.OutboxCounts(ctx)
	if err != nil {
		c.errs.Inc()
		c.log.Warn("metrics: count the outbox", "err", err)
		return out
	}
	for status, n := range byStatus {
		out = append(out, prometheus.MustNewConstMetric(c.outbox, prometheus.GaugeValue, float64(n), status))
	}
	age := 0.0
	if oldest != nil {
		age = time.Since(*oldest).Seconds()
	}
	out = append(out, prometheus.MustNewConstMetric(c.oldest, prometheus.GaugeValue, age))
	return out
}
