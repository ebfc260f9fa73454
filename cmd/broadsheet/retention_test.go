package main

import (
	"bytes"
	"log/slog"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/broadsheet/broadsheet/metrics/metricstest"
	"github.com/broadsheet/broadsheet/schedule"
	"github.com/broadsheet/broadsheet/store"
)

// TestApp_Retain drives the daily retention job as `run` schedules it: it
// deletes what is older than retention, logs it and counts it, takes the
// store lock so that one replica does it, and does nothing for "forever".
func TestApp_Retain(t *testing.T) {
	ctx := t.Context()
	fs := newFeedServer(t, 5)
	dir := t.TempDir()
	cfgPath := writeConfig(t, dir, fs, 2, "retention: 30d\n")
	b, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	// The run is logged at info.
	if err := os.WriteFile(cfgPath, bytes.Replace(b, []byte("level: warn"), []byte("level: info"), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := runMain(t, ctx, nil, "fetch", "--config", cfgPath); r.code != 0 {
		t.Fatalf("fetch: exit %d\n%s", r.code, r.stderr)
	}

	// Sixty days on, what was fetched today is past 30 days.
	later := time.Now().AddDate(0, 0, 60)
	open := func() (*app, *bytes.Buffer) {
		t.Helper()
		m := testMain()
		var logs bytes.Buffer
		m.Stderr = &logs
		m.Now = func() time.Time { return later }
		cfg, err := m.loadConfig(cfgPath)
		if err != nil {
			t.Fatal(err)
		}
		a, err := m.openApp(ctx, cfgPath, cfg, slog.LevelInfo, readWrite)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { a.Close() })
		return a, &logs
	}
	a, logs := open()
	mx := a.newMetrics()

	job := a.retentionJob()
	if job.Name != "retention" || job.Schedule == nil {
		t.Fatalf("job = %+v", job)
	}
	if next := job.Schedule.Next(later); next.Sub(later) > 24*time.Hour {
		t.Errorf("next run %v, more than a day after %v: want daily", next, later)
	}
	if _, err := schedule.Parse(retentionSpec); err != nil {
		t.Fatal(err)
	}

	// Another replica holds the lock: this one leaves it to that one.
	other, _ := open()
	if ok, err := other.store.AcquireLock(ctx, retentionLock, "other-replica", later, time.Minute); err != nil || !ok {
		t.Fatalf("AcquireLock: %v, %v", ok, err)
	}
	if err := job.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(articles(t, a)); n != 10 {
		t.Fatalf("%d articles after a run while another replica held the lock, want all 10", n)
	}
	if !strings.Contains(logs.String(), "another replica is running it") {
		t.Errorf("log does not say another replica runs retention:\n%s", logs.String())
	}
	if err := other.store.ReleaseLock(ctx, retentionLock, "other-replica"); err != nil {
		t.Fatal(err)
	}

	if err := job.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(articles(t, a)); n != 0 {
		t.Errorf("%d articles after retention, want 0", n)
	}
	if !strings.Contains(logs.String(), "msg=retention") || !strings.Contains(logs.String(), "deleted_articles=10") {
		t.Errorf("log does not report the run:\n%s", logs.String())
	}
	srv := httptest.NewServer(mx.Handler())
	defer srv.Close()
	f, err := metricstest.Scrape(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := f.Value("broadsheet_retention_deleted_total", "kind", "articles"); v != 10 {
		t.Errorf("broadsheet_retention_deleted_total{kind=articles} = %v, want 10", v)
	}
	// The lock is free again for tomorrow's run, by any replica.
	if ok, err := other.store.AcquireLock(ctx, retentionLock, "other-replica", later, time.Minute); err != nil || !ok {
		t.Errorf("retention lock still held after the run: %v, %v", ok, err)
	}
}

// TestApp_RetainForever checks that retention 0 or "forever" deletes
// nothing, however old.
func TestApp_RetainForever(t *testing.T) {
	ctx := t.Context()
	fs := newFeedServer(t, 3)
	dir := t.TempDir()
	cfgPath := writeConfig(t, dir, fs, 1, "retention: forever\n")
	if r := runMain(t, ctx, nil, "fetch", "--config", cfgPath); r.code != 0 {
		t.Fatalf("fetch: exit %d\n%s", r.code, r.stderr)
	}
	m := testMain()
	m.Now = func() time.Time { return time.Now().AddDate(10, 0, 0) }
	cfg, err := m.loadConfig(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	a, err := m.openApp(ctx, cfgPath, cfg, slog.LevelInfo, readWrite)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if err := a.retentionJob().Run(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(articles(t, a)); n != 3 {
		t.Errorf("%d articles after retention: forever, want all 3", n)
	}
}

func articles(t *testing.T, a *app) []string {
	t.Helper()
	as, err := a.store.Articles(t.Context(), store.ArticleFilter{})
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, len(as))
	for i, x := range as {
		out[i] = x.ID
	}
	return out
}
