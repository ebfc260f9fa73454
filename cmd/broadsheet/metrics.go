package main

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/broadsheet/broadsheet/digest"
	"github.com/broadsheet/broadsheet/feeds"
	"github.com/broadsheet/broadsheet/metrics"
	"github.com/broadsheet/broadsheet/store"
)

// newMetrics builds the daemon's metrics and connects them to the poller,
// the topic assigner and the digests through a's hooks; set it up before
// any of them runs.
func (a *app) newMetrics() *metrics.Metrics {
	mx := metrics.New(metrics.Options{State: a.metricsState, Logger: a.log})
	a.metrics = mx
	a.onPoll = append(a.onPoll, func(r feeds.Report) { mx.Polled(pollMetric(r)) })
	return mx
}

// pollMetric is what one poll report tells the metrics.
func pollMetric(r feeds.Report) metrics.Poll {
	p := metrics.Poll{Outcome: metrics.PollOK, Duration: r.Duration, New: r.New, Updated: r.Updated}
	switch {
	case r.Err != nil:
		p.Outcome = metrics.PollError
	case r.NotModified:
		p.Outcome = metrics.PollNotModified
	}
	return p
}

// assigned is the topic assigner's OnPass.
func (a *app) assigned(n int, took time.Duration, err error) {
	if a.metrics != nil {
		a.metrics.Assigned(n, took, err)
	}
}

// digestRan tells the metrics of one digest run's deliveries.
func (a *app) digestRan(rep *digest.Report) {
	if a.metrics == nil || rep == nil {
		return
	}
	a.metrics.Delivered(rep.Digest, rep.Count(store.DeliverySent), rep.Count(store.DeliveryFailed), rep.Count(store.DeliveryRetry))
}

// metricsState reads the gauges the store answers at scrape time.
func (a *app) metricsState(ctx context.Context) (metrics.State, error) {
	c, err := a.store.SourceCounts(ctx)
	if err != nil {
		return metrics.State{}, err
	}
	s := metrics.State{Sources: c.Sources, SourcesFailing: c.Failing}
	if pc, ok := a.store.(interface {
		PendingTopicCount(context.Context) (int, error)
	}); ok {
		if s.TopicBacklog, err = pc.PendingTopicCount(ctx); err != nil {
			return metrics.State{}, err
		}
	}
	return s, nil
}

// httpRoute names a request's route for the HTTP metrics: the outputs'
// fixed paths as they are, the families of paths by pattern, and anything
// else as "other", so that probes of random paths add no series.
func httpRoute(r *http.Request) string {
	p := r.URL.Path
	switch {
	case strings.Contains(p, "/unsubscribe/"):
		return "/unsubscribe/{token}"
	case strings.HasPrefix(p, "/topics/"):
		return "/topics/{slug}"
	case strings.HasPrefix(p, "/sources/"):
		return "/sources/{name}"
	}
	switch p {
	case "/", "/index.html", "/healthz", "/metrics", "/opml.xml",
		"/feed.atom", "/feed.rss", "/feed.json",
		"/editorials.atom", "/editorials.rss", "/editorials.json":
		return p
	}
	return "other"
}

// withMetrics serves mx at /metrics beside h, and counts every request.
func withMetrics(mx *metrics.Metrics, h http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", mx.Handler())
	mux.Handle("/", h)
	return mx.Instrument(mux, httpRoute)
}
