package main

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/broadsheet/broadsheet/metrics/metricstest"
)

// `run` serves /metrics in the Prometheus text format (read here by
// Prometheus's own parser), and its counters move as the daemon polls,
// assigns topics and sends a digest.
func TestMain_RunMetrics(t *testing.T) {
	fs := newFeedServer(t, 3)
	dir := t.TempDir()
	extra := fmt.Sprintf(`outbox: %s
digests:
  - name: daily
    schedule: "@every 1s"
    to: [reader@example.com]
    send_empty: true
`, filepath.Join(dir, "outbox"))
	cfg := writeConfig(t, dir, fs, 2, extra)
	b, _ := os.ReadFile(cfg)
	os.WriteFile(cfg, append(b, fmt.Sprintf("  - name: Broken\n    url: %s/missing.xml\n", fs.URL)...), 0o644)

	d := startRun(t, cfg)
	url := "http://" + d.addr + "/metrics"
	var f metricstest.Families
	value := func(name string, labels ...string) float64 {
		v, _ := f.Value(name, labels...)
		return v
	}
	scrape := func() {
		t.Helper()
		var err error
		if f, err = metricstest.Scrape(url); err != nil {
			t.Fatal(err)
		}
	}
	scrape()
	if _, ok := f.Value("broadsheet_polls_total", "outcome", "ok"); !ok {
		t.Fatalf("broadsheet_polls_total{outcome=\"ok\"} missing from the first scrape: %v", f)
	}
	for _, name := range []string{"go_goroutines", "process_resident_memory_bytes", "broadsheet_sources"} {
		if _, ok := f.Value(name); !ok {
			t.Errorf("%s missing from /metrics", name)
		}
	}

	waitFor(t, "the three polls and a digest on /metrics", func() bool {
		scrape()
		return value("broadsheet_polls_total", "outcome", "ok") >= 2 &&
			value("broadsheet_polls_total", "outcome", "error") >= 1 &&
			value("broadsheet_digest_deliveries_total", "digest", "daily", "outcome", "sent") >= 1 &&
			value("broadsheet_topic_assigned_articles_total") >= 6
	})
	if got := value("broadsheet_items_stored_total", "change", "new"); got != 6 {
		t.Errorf("items stored (new) = %v, want the 6 the feeds hold", got)
	}
	if got := value("broadsheet_fetch_duration_seconds"); got < 3 {
		t.Errorf("fetch duration samples = %v, want one per poll (3)", got)
	}
	if got := value("broadsheet_sources"); got != 3 {
		t.Errorf("broadsheet_sources = %v, want 3", got)
	}
	if got := value("broadsheet_sources_failing"); got != 1 {
		t.Errorf("broadsheet_sources_failing = %v, want 1 (Broken)", got)
	}
	if got := value("broadsheet_topic_backlog"); got != 0 {
		t.Errorf("broadsheet_topic_backlog = %v after every article was assigned, want 0", got)
	}
	if got := value("broadsheet_http_requests_total", "route", "/metrics", "code", "200"); got < 2 {
		t.Errorf("requests to /metrics counted %v times, want every scrape before this one", got)
	}

	res, err := testHTTP.Get("http://" + d.addr + "/no/such/page")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	scrape()
	if got := value("broadsheet_http_requests_total", "route", "other", "code", "404"); got != 1 {
		t.Errorf("a 404 under route other counted %v times, want 1", got)
	}
	if r := d.stop(t); r.code != 0 {
		t.Fatalf("run: exit %d\n%s", r.code, r.stderr)
	}
}
