// Package metrics owns broadsheet's Prometheus collectors and serves them
// at /metrics in the text exposition format. It is the one package that
// imports prometheus/client_golang: the other packages report through
// callbacks that cmd wires to the methods here, with plain values.
//
// Each Metrics has its own registry (never the global default), so tests
// and several daemons in one process do not share counts.
package metrics

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Poll outcomes, the values of broadsheet_polls_total's outcome label.
const (
	PollOK          = "ok"           // fetched and stored
	PollNotModified = "not_modified" // the server answered 304
	PollError       = "error"        // the fetch failed; the source backs off
)

// Digest delivery outcomes, the values of
// broadsheet_digest_deliveries_total's outcome label.
const (
	DigestSent     = "sent"
	DigestFailed   = "failed"   // given up on (a permanent error, or too many attempts)
	DigestDeferred = "deferred" // a temporary failure: retried by a later run
)

// Poll is what one finished poll of a source tells the metrics.
type Poll struct {
	Outcome  string // PollOK, PollNotModified or PollError
	Duration time.Duration
	New      int // articles stored for the first time
	Updated  int // stored articles edited in place
}

// State is what the store says at scrape time.
type State struct {
	Sources        int // active sources
	SourcesFailing int // active sources whose last poll failed
	TopicBacklog   int // stored articles not yet assigned to topics
}

// Options configure New.
type Options struct {
	// State, if set, is called at each scrape (with a deadline) for the
	// gauges read from the store. An error fails those gauges only; the
	// rest of the scrape is served.
	State func(ctx context.Context) (State, error)
	// StateTimeout bounds State; default 5s.
	StateTimeout time.Duration
	// Logger receives errors met while serving a scrape.
	Logger *slog.Logger
}

// Metrics holds the collectors. Its methods are safe for concurrent use.
type Metrics struct {
	reg *prometheus.Registry
	log *slog.Logger

	polls         *prometheus.CounterVec
	fetchDuration prometheus.Histogram
	items         *prometheus.CounterVec
	assignRuns    *prometheus.CounterVec
	assignDur     prometheus.Histogram
	assigned      prometheus.Counter
	deliveries    *prometheus.CounterVec
	httpRequests  *prometheus.CounterVec
	httpDuration  *prometheus.HistogramVec
	retained      *prometheus.CounterVec
}

// New returns Metrics registered on a registry of their own, with the Go
// runtime and process collectors.
func New(opts Options) *Metrics {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.StateTimeout <= 0 {
		opts.StateTimeout = 5 * time.Second
	}
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		log: opts.Logger,
		polls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "broadsheet_polls_total",
			Help: "Polls of sources, by outcome (ok, not_modified, error).",
		}, []string{"outcome"}),
		fetchDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "broadsheet_fetch_duration_seconds",
			Help: "How long fetching one source took, failed fetches included.",
			// Feeds answer in tens of milliseconds to the fetch timeout.
			Buckets: []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60},
		}),
		items: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "broadsheet_items_stored_total",
			Help: "Articles stored by polls, by change (new, updated).",
		}, []string{"change"}),
		assignRuns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "broadsheet_topic_assignment_runs_total",
			Help: "Topic assignment passes that held the lease, by outcome (ok, error).",
		}, []string{"outcome"}),
		assignDur: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "broadsheet_topic_assignment_duration_seconds",
			Help:    "How long one topic assignment pass took.",
			Buckets: []float64{0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60},
		}),
		assigned: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "broadsheet_topic_assigned_articles_total",
			Help: "Articles assigned to topics and stories.",
		}),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "broadsheet_digest_deliveries_total",
			Help: "Digest deliveries attempted, by digest and outcome (sent, failed, deferred).",
		}, []string{"digest", "outcome"}),
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "broadsheet_http_requests_total",
			Help: "HTTP requests served, by route, method and status code.",
		}, []string{"route", "method", "code"}),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "broadsheet_http_request_duration_seconds",
			Help:    "How long answering an HTTP request took, by route.",
			Buckets: []float64{0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5},
		}, []string{"route"}),
		retained: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "broadsheet_retention_deleted_total",
			Help: "What retention deleted, by kind (articles, deliveries, topics).",
		}, []string{"kind"}),
	}
	// Start at zero, so that a rate over the first poll or digest is not
	// lost to a series that appears only then.
	for _, o := range []string{PollOK, PollNotModified, PollError} {
		m.polls.WithLabelValues(o)
	}
	for _, c := range []string{"new", "updated"} {
		m.items.WithLabelValues(c)
	}
	for _, o := range []string{"ok", "error"} {
		m.assignRuns.WithLabelValues(o)
	}
	for _, k := range []string{"articles", "deliveries", "topics"} {
		m.retained.WithLabelValues(k)
	}
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.polls, m.fetchDuration, m.items,
		m.assignRuns, m.assignDur, m.assigned,
		m.deliveries, m.httpRequests, m.httpDuration, m.retained,
	)
	if opts.State != nil {
		m.reg.MustRegister(&stateCollector{get: opts.State, timeout: opts.StateTimeout})
	}
	return m
}

// Retained records what one retention run deleted.
func (m *Metrics) Retained(articles, deliveries, topics int) {
	m.retained.WithLabelValues("articles").Add(float64(articles))
	m.retained.WithLabelValues("deliveries").Add(float64(deliveries))
	m.retained.WithLabelValues("topics").Add(float64(topics))
}

// Polled records one finished poll.
func (m *Metrics) Polled(p Poll) {
	m.polls.WithLabelValues(p.Outcome).Inc()
	m.fetchDuration.Observe(p.Duration.Seconds())
	m.items.WithLabelValues("new").Add(float64(p.New))
	m.items.WithLabelValues("updated").Add(float64(p.Updated))
}

// Assigned records one topic assignment pass that held the lease: how
// many articles it assigned, how long it took, and whether it failed.
func (m *Metrics) Assigned(n int, took time.Duration, err error) {
	outcome := "ok"
	if err != nil {
		outcome = "error"
	}
	m.assignRuns.WithLabelValues(outcome).Inc()
	m.assignDur.Observe(took.Seconds())
	m.assigned.Add(float64(n))
}

// Delivered records the deliveries of one digest run: how many were sent,
// failed for good, and deferred to a later run.
func (m *Metrics) Delivered(digest string, sent, failed, deferred int) {
	m.deliveries.WithLabelValues(digest, DigestSent).Add(float64(sent))
	m.deliveries.WithLabelValues(digest, DigestFailed).Add(float64(failed))
	m.deliveries.WithLabelValues(digest, DigestDeferred).Add(float64(deferred))
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorLog:      slog.NewLogLogger(m.log.Handler(), slog.LevelWarn),
		ErrorHandling: promhttp.ContinueOnError,
		Registry:      m.reg, // counts its own scrapes and errors
	})
}

type routeKey struct{}

// Instrument counts and times the requests next answers. route names a
// request's route with few distinct values (a pattern such as
// "/topics/{slug}", never the raw path), so that scanners probing random
// paths cannot grow the series without bound.
func (m *Metrics) Instrument(next http.Handler, route func(*http.Request) string) http.Handler {
	fromCtx := promhttp.WithLabelFromCtx("route", func(ctx context.Context) string {
		s, _ := ctx.Value(routeKey{}).(string)
		return s
	})
	h := promhttp.InstrumentHandlerDuration(m.httpDuration, next, fromCtx)
	h = promhttp.InstrumentHandlerCounter(m.httpRequests, h, fromCtx)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), routeKey{}, route(r))))
	})
}

// stateCollector reads the store's gauges at scrape time, so that every
// replica reports the same, current figures.
type stateCollector struct {
	get     func(ctx context.Context) (State, error)
	timeout time.Duration
}

var (
	descSources = prometheus.NewDesc("broadsheet_sources",
		"Active (configured) sources.", nil, nil)
	descFailing = prometheus.NewDesc("broadsheet_sources_failing",
		"Active sources whose last poll failed.", nil, nil)
	descBacklog = prometheus.NewDesc("broadsheet_topic_backlog",
		"Stored articles waiting to be assigned to topics.", nil, nil)
)

func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descSources
	ch <- descFailing
	ch <- descBacklog
}

func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	s, err := c.get(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(descFailing, err)
		return
	}
	ch <- prometheus.MustNewConstMetric(descSources, prometheus.GaugeValue, float64(s.Sources))
	ch <- prometheus.MustNewConstMetric(descFailing, prometheus.GaugeValue, float64(s.SourcesFailing))
	ch <- prometheus.MustNewConstMetric(descBacklog, prometheus.GaugeValue, float64(s.TopicBacklog))
}
