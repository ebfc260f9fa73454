package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/mail"
	"net/url"
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

		res, err := testHTTP.Get(base + "/feed.atom")
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
		res, err = testHTTP.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusNotModified {
			t.Errorf("conditional GET: status %d, want 304", res.StatusCode)
		}
		for _, p := range []string{"/healthz", "/", "/opml", "/sources/feed-0.rss"} {
			res, err := testHTTP.Get(base + p)
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

// startServe starts `serve` with m (nil: a test Main) and returns its
// address; it stops when the test ends.
func startServe(t *testing.T, m *Main, args ...string) string {
	t.Helper()
	if m == nil {
		m = testMain()
	}
	ready := make(chan string, 1)
	m.Ready = ready
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan result, 1)
	go func() { done <- runMain(t, ctx, m, append([]string{"serve"}, args...)...) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(waitTimeout):
			t.Errorf("serve did not stop within %v of its context's end", waitTimeout)
		}
	})
	select {
	case addr := <-ready:
		return addr
	case r := <-done:
		t.Fatalf("serve exited early: %d\n%s", r.code, r.stderr)
	case <-time.After(waitTimeout):
		t.Fatal("serve did not listen")
	}
	return ""
}

// TestMain_ServeUnsubscribe follows a digest's unsubscribe link, and its
// RFC 8058 one-click POST, to a replica that only serves.
func TestMain_ServeUnsubscribe(t *testing.T) {
	dir := t.TempDir()
	feed := editorialServer(t, 2)
	cfg := digestConfig(t, dir, feed.URL+"/feed.xml", []string{"a@example.com", "b@example.com"}, "")
	ctx := t.Context()
	links := map[string]string{}
	for _, to := range []string{"a@example.com", "b@example.com"} {
		r := runMain(t, ctx, nil, "digest", "preview", "daily", "--to", to, "--config", cfg)
		msg, err := mail.ReadMessage(strings.NewReader(r.stdout))
		if r.code != 0 || err != nil {
			t.Fatalf("preview: %d %v\n%s", r.code, err, r.stderr)
		}
		u, err := url.Parse(strings.Trim(msg.Header.Get("List-Unsubscribe"), "<>"))
		if err != nil || !strings.HasPrefix(u.Path, "/bs/unsubscribe/") {
			t.Fatalf("List-Unsubscribe %q", msg.Header.Get("List-Unsubscribe"))
		}
		links[to] = u.Path
	}
	base := "http://" + startServe(t, nil, "--config", cfg)

	res, err := http.Get(base + links["a@example.com"])
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(b), "a@example.com") {
		t.Errorf("GET the unsubscribe link: %d\n%.300s", res.StatusCode, b)
	}
	res, err = http.Post(base+links["b@example.com"], "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Errorf("one-click POST: %d, want 200", res.StatusCode)
	}
	if r := runMain(t, ctx, nil, "digest", "list", "--config", cfg); !strings.Contains(r.stdout, "(1 unsubscribed)") {
		t.Errorf("digest list after the one-click POST:\n%s%s", r.stdout, r.stderr)
	}
	res, err = http.Get(base + "/bs/unsubscribe/forged.token")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 404 {
		t.Errorf("forged token: %d, want 404", res.StatusCode)
	}
}

// TestServeHTTP_MaxConnections holds server.max_connections connections
// open: the next waits to be accepted instead of taking a file descriptor,
// and is served once one of them closes.
func TestServeHTTP_MaxConnections(t *testing.T) {
	const limit = 4
	cfg := &config.Config{Server: config.Server{Listen: "127.0.0.1:0", MaxConnections: limit}}
	m := testMain()
	ready := make(chan string, 1)
	m.Ready = ready
	m.Stdout = io.Discard
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- m.serveHTTP(ctx, cfg, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }), quietLog(), nil)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(waitTimeout):
			t.Error("serveHTTP did not stop")
		}
	})
	addr := <-ready
	// Each held connection is served once, so it is surely accepted, then
	// kept open and idle.
	var held []net.Conn
	for range limit {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		res, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		held = append(held, c)
	}
	got := make(chan error, 1)
	go func() {
		res, err := http.Get("http://" + addr + "/")
		if err == nil {
			res.Body.Close()
		}
		got <- err
	}()
	select {
	case err := <-got:
		t.Fatalf("a request past %d held connections was served at once (%v): the limit does not hold", limit, err)
	case <-time.After(300 * time.Millisecond):
	}
	held[0].Close()
	select {
	case err := <-got:
		if err != nil {
			t.Fatalf("the waiting request, once a connection closed: %v", err)
		}
	case <-time.After(waitTimeout):
		t.Fatalf("the waiting request was not served within %v of a held connection closing", waitTimeout)
	}
}

func TestConnLimit(t *testing.T) {
	cfg := &config.Config{Server: config.Server{MaxConnections: 512}, Fetch: config.Fetch{Workers: 8}}
	for _, tc := range []struct {
		fds, want int
	}{{0, 512}, {1 << 20, 512}, {1024, 512}, {256, 176}, {40, 8}} {
		if got := connLimit(cfg, tc.fds, quietLog()); got != tc.want {
			t.Errorf("connLimit with %d open files = %d, want %d", tc.fds, got, tc.want)
		}
	}
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
