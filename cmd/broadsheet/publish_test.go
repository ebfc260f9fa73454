package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/broadsheet/broadsheet/config"
	"github.com/broadsheet/broadsheet/schedule"
)

func TestMain_ServeAndPublish(t *testing.T) {
	fs := newFeedServer(t, 3)
	dir := t.TempDir()
	cfg := writeConfig(t, dir, fs, 2, "")
	if r := runMain(t, context.Background(), nil, "fetch", "--config", cfg); r.code != 0 {
		t.Fatalf("fetch: exit %d\n%s", r.code, r.stderr)
	}

	t.Run("Serve", func(t *testing.T) {
		ready := make(chan string, 1)
		m := testMain()
		m.Ready = ready
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan result, 1)
		go func() { done <- runMain(t, ctx, m, "serve", "--config", cfg) }()
		var addr string
		select {
		case addr = <-ready:
		case r := <-done:
			t.Fatalf("serve exited early: %d\n%s", r.code, r.stderr)
		case <-time.After(20 * time.Second):
			t.Fatal("serve did not listen")
		}
		base := "http://" + addr

		res, err := http.Get(base + "/feed.atom")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || !strings.Contains(string(b), "Story 2 of feed 1") {
			t.Fatalf("GET /feed.atom: status %d, body lacks the stored items:\n%.500s", res.StatusCode, b)
		}
		if got := res.Header.Get("Cache-Control"); got != "public, max-age=3600" {
			t.Errorf("Cache-Control = %q, want max-age from the hourly schedule", got)
		}
		req, _ := http.NewRequest("GET", base+"/feed.atom", nil)
		req.Header.Set("If-None-Match", res.Header.Get("ETag"))
		res, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusNotModified {
			t.Errorf("conditional GET: status %d, want 304", res.StatusCode)
		}
		for _, p := range []string{"/healthz", "/", "/opml", "/sources/feed-0.rss"} {
			res, err := http.Get(base + p)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != 200 {
				t.Errorf("GET %s: status %d, want 200", p, res.StatusCode)
			}
		}
		cancel()
		if r := recv(t, done, "serve to stop"); r.code != 0 {
			t.Fatalf("serve: exit %d\n%s", r.code, r.stderr)
		}
	})

	t.Run("Publish", func(t *testing.T) {
		out := filepath.Join(dir, "site")
		r := runMain(t, context.Background(), nil, "publish", "--config", cfg, "--out", out)
		if r.code != 0 {
			t.Fatalf("publish: exit %d\n%s", r.code, r.stderr)
		}
		for _, f := range []string{"feed.atom", "feed.rss", "feed.json", "editorials.atom", "opml.xml", "index.html", "sources/feed-1.json"} {
			b, err := os.ReadFile(filepath.Join(out, f))
			if err != nil {
				t.Errorf("%s: %v", f, err)
				continue
			}
			if len(b) == 0 {
				t.Errorf("%s is empty", f)
			}
		}
	})

	t.Run("PublishWithoutOut", func(t *testing.T) {
		r := runMain(t, context.Background(), nil, "publish", "--config", cfg)
		if r.code != exitUsage || !strings.Contains(r.stderr, "--out") {
			t.Errorf("publish without --out: exit %d, stderr %q; want 2 naming --out", r.code, r.stderr)
		}
	})
}

func TestFeedMaxAge(t *testing.T) {
	tests := []struct {
		name     string
		schedule string
		sources  []string
		want     time.Duration
	}{
		{"Every30m", "@every 30m", nil, 30 * time.Minute},
		{"Daily", "@daily", nil, time.Hour},
		{"EverySecond", "@every 10s", nil, time.Minute},
		{"SourceFaster", "@hourly", []string{"", "*/15 * * * *"}, 15 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var scheds []*schedule.Schedule
			for _, spec := range append([]string{tt.schedule}, tt.sources...) {
				if spec == "" {
					continue
				}
				s, err := schedule.Parse(spec)
				if err != nil {
					t.Fatal(err)
				}
				scheds = append(scheds, s)
			}
			if got := feedMaxAge(scheds); got != tt.want {
				t.Errorf("feedMaxAge = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestPublishBaseURL(t *testing.T) {
	tests := []struct {
		name, base, listen, want string
	}{
		{"Configured", "https://news.example.org/", "127.0.0.1:8080", "https://news.example.org/"},
		{"FromListen", "", "127.0.0.1:8080", "http://127.0.0.1:8080/"},
		{"AllInterfaces", "", ":9000", "http://localhost:9000/"},
		{"Ephemeral", "", "127.0.0.1:0", "http://localhost:8080/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := &config.Config{Server: config.Server{BaseURL: tt.base, Listen: tt.listen}}
			if got := publishBaseURL(cfg); got != tt.want {
				t.Errorf("publishBaseURL = %q, want %q", got, tt.want)
			}
		})
	}
}
