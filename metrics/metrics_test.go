package metrics_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/broadsheet/broadsheet/metrics"
	"github.com/broadsheet/broadsheet/metrics/metricstest"
)

func scrape(t *testing.T, m *metrics.Metrics) metricstest.Families {
	t.Helper()
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	f, err := metricstest.Scrape(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func want(t *testing.T, f metricstest.Families, v float64, name string, labels ...string) {
	t.Helper()
	got, ok := f.Value(name, labels...)
	if !ok {
		t.Errorf("%s%v: no such series", name, labels)
		return
	}
	if got != v {
		t.Errorf("%s%v = %v, want %v", name, labels, got, v)
	}
}

func TestMetrics_Handler(t *testing.T) {
	state := metrics.State{Sources: 3, SourcesFailing: 1, TopicBacklog: 7}
	m := metrics.New(metrics.Options{
		State:  func(ctx context.Context) (metrics.State, error) { return state, nil },
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})

	t.Run("Zero", func(t *testing.T) {
		f := scrape(t, m)
		want(t, f, 0, "broadsheet_polls_total", "outcome", "ok")
		want(t, f, 0, "broadsheet_polls_total", "outcome", "error")
		want(t, f, 0, "broadsheet_items_stored_total", "change", "new")
		want(t, f, 3, "broadsheet_sources")
		want(t, f, 1, "broadsheet_sources_failing")
		want(t, f, 7, "broadsheet_topic_backlog")
		want(t, f, 0, "broadsheet_retention_deleted_total", "kind", "articles")
		for _, name := range []string{"go_goroutines", "process_cpu_seconds_total", "go_memstats_heap_alloc_bytes"} {
			if _, ok := f.Value(name); !ok {
				t.Errorf("%s: missing; the Go and process collectors are not registered", name)
			}
		}
	})

	t.Run("Moves", func(t *testing.T) {
		m.Polled(metrics.Poll{Outcome: metrics.PollOK, Duration: 300 * time.Millisecond, New: 4, Updated: 1})
		m.Polled(metrics.Poll{Outcome: metrics.PollOK, Duration: 20 * time.Millisecond, New: 2})
		m.Polled(metrics.Poll{Outcome: metrics.PollError, Duration: 2 * time.Second})
		m.Assigned(6, 40*time.Millisecond, nil)
		m.Assigned(0, time.Millisecond, errors.New("store down"))
		m.Delivered("daily", 2, 1, 3)
		m.Retained(120, 4, 30)
		m.Retained(5, 0, 1)
		state.TopicBacklog = 0
		f := scrape(t, m)
		want(t, f, 2, "broadsheet_polls_total", "outcome", "ok")
		want(t, f, 1, "broadsheet_polls_total", "outcome", "error")
		want(t, f, 0, "broadsheet_polls_total", "outcome", "not_modified")
		want(t, f, 3, "broadsheet_fetch_duration_seconds")
		want(t, f, 6, "broadsheet_items_stored_total", "change", "new")
		want(t, f, 1, "broadsheet_items_stored_total", "change", "updated")
		want(t, f, 1, "broadsheet_topic_assignment_runs_total", "outcome", "ok")
		want(t, f, 1, "broadsheet_topic_assignment_runs_total", "outcome", "error")
		want(t, f, 2, "broadsheet_topic_assignment_duration_seconds")
		want(t, f, 6, "broadsheet_topic_assigned_articles_total")
		want(t, f, 2, "broadsheet_digest_deliveries_total", "digest", "daily", "outcome", "sent")
		want(t, f, 1, "broadsheet_digest_deliveries_total", "digest", "daily", "outcome", "failed")
		want(t, f, 3, "broadsheet_digest_deliveries_total", "digest", "daily", "outcome", "deferred")
		want(t, f, 0, "broadsheet_topic_backlog")
		want(t, f, 125, "broadsheet_retention_deleted_total", "kind", "articles")
		want(t, f, 4, "broadsheet_retention_deleted_total", "kind", "deliveries")
		want(t, f, 31, "broadsheet_retention_deleted_total", "kind", "topics")
		// The 2s fetch is past the 1s bucket: a histogram, not a counter.
		h := f["broadsheet_fetch_duration_seconds"].GetMetric()[0].GetHistogram()
		for _, b := range h.GetBucket() {
			if b.GetUpperBound() == 1 && b.GetCumulativeCount() != 2 {
				t.Errorf("fetch duration bucket le=1: %d, want 2", b.GetCumulativeCount())
			}
		}
	})

	t.Run("StateError", func(t *testing.T) {
		m := metrics.New(metrics.Options{
			State: func(ctx context.Context) (metrics.State, error) {
				return metrics.State{}, errors.New("database is locked")
			},
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		})
		m.Polled(metrics.Poll{Outcome: metrics.PollNotModified})
		f := scrape(t, m)
		want(t, f, 1, "broadsheet_polls_total", "outcome", "not_modified")
		if _, ok := f.Value("broadsheet_sources_failing"); ok {
			t.Error("broadsheet_sources_failing shown though the store failed")
		}
	})
}

func TestMetrics_Instrument(t *testing.T) {
	m := metrics.New(metrics.Options{})
	mux := http.NewServeMux()
	mux.HandleFunc("/feed.atom", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	route := func(r *http.Request) string {
		if r.URL.Path == "/feed.atom" {
			return r.URL.Path
		}
		return "other"
	}
	srv := httptest.NewServer(m.Instrument(mux, route))
	defer srv.Close()
	c := &http.Client{Timeout: 10 * time.Second}
	for _, p := range []string{"/feed.atom", "/feed.atom", "/wp-login.php", "/.env"} {
		res, err := c.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
	}
	f := scrape(t, m)
	want(t, f, 2, "broadsheet_http_requests_total", "route", "/feed.atom", "code", "200", "method", "get")
	want(t, f, 2, "broadsheet_http_requests_total", "route", "other", "code", "404")
	want(t, f, 2, "broadsheet_http_request_duration_seconds", "route", "other")
	if n := len(f["broadsheet_http_requests_total"].GetMetric()); n != 2 {
		t.Errorf("%d request series, want 2 (one per route and code)", n)
	}
}
