package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// feedServer serves n RSS feeds at /feed/{i}.xml with ETags, counting plain
// and conditional requests.
type feedServer struct {
	*httptest.Server
	mu          sync.Mutex
	requests    map[string]int
	conditional map[string]int
	items       int
}

func newFeedServer(t *testing.T, items int) *feedServer {
	fs := &feedServer{requests: map[string]int{}, conditional: map[string]int{}, items: items}
	fs.Server = httptest.NewServer(http.HandlerFunc(fs.serve))
	t.Cleanup(fs.Close)
	return fs
}

func (fs *feedServer) serve(w http.ResponseWriter, r *http.Request) {
	fs.mu.Lock()
	fs.requests[r.URL.Path]++
	if r.Header.Get("If-None-Match") != "" {
		fs.conditional[r.URL.Path]++
	}
	fs.mu.Unlock()
	var n int
	if _, err := fmt.Sscanf(r.URL.Path, "/feed/%d.xml", &n); err != nil {
		http.NotFound(w, r)
		return
	}
	etag := fmt.Sprintf(`"feed-%d-v1"`, n)
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("ETag", etag)
	w.Header().Set("Content-Type", "application/rss+xml")
	fmt.Fprintf(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>Feed %d</title><link>http://example.com/%d/</link>`, n, n)
	for i := range fs.items {
		fmt.Fprintf(w, `<item><title>Story %d of feed %d</title><link>http://example.com/%d/story-%d</link><guid>feed-%d-item-%d</guid><pubDate>Fri, 14 Aug 2026 %02d:00:00 GMT</pubDate><description>Text &lt;b&gt;%d&lt;/b&gt;</description></item>`, i, n, n, i, n, i, i%24, i)
	}
	fmt.Fprint(w, `</channel></rss>`)
}

func (fs *feedServer) hits(path string) int {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return fs.requests[path]
}

func (fs *feedServer) counts() (total, conditional int) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for _, n := range fs.requests {
		total += n
	}
	for _, n := range fs.conditional {
		conditional += n
	}
	return total, conditional
}

// writeConfig writes a config.yaml polling the first n feeds of fs into a
// fresh SQLite file, and returns its path.
func writeConfig(t *testing.T, dir string, fs *feedServer, n int, extra string) string {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "storage:\n  driver: sqlite\n  path: %s\n", filepath.Join(dir, "bs.db"))
	fmt.Fprintf(&b, "schedule: \"@every 1h\"\nserver:\n  listen: 127.0.0.1:0\nfetch:\n  workers: 16\n  per_host: 0\n  timeout: 10s\n  allow_private_networks: true\nlog:\n  level: warn\n%s\nsources:\n", extra)
	for i := range n {
		fmt.Fprintf(&b, "  - name: Feed %d\n    url: %s/feed/%d.xml\n", i, fs.URL, i)
	}
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

type result struct {
	code           int
	stdout, stderr string
}

func runMain(t *testing.T, ctx context.Context, m *Main, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	if m == nil {
		m = testMain()
	}
	m.Stdout, m.Stderr = &out, &errb
	code := m.Run(ctx, args)
	return result{code, out.String(), errb.String()}
}

func testMain() *Main {
	m := NewMain()
	m.Terminal = false
	m.Getenv = func(string) string { return "" }
	return m
}

func TestMain_Fetch(t *testing.T) {
	ctx := context.Background()
	fs := newFeedServer(t, 5)
	dir := t.TempDir()
	const feedsN = 200
	cfg := writeConfig(t, dir, fs, feedsN, "")

	r := runMain(t, ctx, nil, "fetch", "--config", cfg)
	if r.code != 0 {
		t.Fatalf("first fetch: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if want := fmt.Sprintf("%d sources: %d ok (0 not modified), 0 failed; %d new items", feedsN, feedsN, feedsN*5); !strings.Contains(r.stdout, want) {
		t.Fatalf("first fetch summary: want %q in\n%s", want, r.stdout)
	}

	r = runMain(t, ctx, nil, "fetch", "--config", cfg)
	if r.code != 0 {
		t.Fatalf("second fetch: exit %d\n%s", r.code, r.stderr)
	}
	if want := fmt.Sprintf("%d sources: %d ok (%d not modified), 0 failed; 0 new items, 0 updated", feedsN, feedsN, feedsN); !strings.Contains(r.stdout, want) {
		t.Fatalf("second fetch summary: want %q in\n%s", want, r.stdout)
	}
	total, conditional := fs.counts()
	if total != 2*feedsN || conditional != feedsN {
		t.Fatalf("server saw %d requests, %d conditional; want %d and %d", total, conditional, 2*feedsN, feedsN)
	}

	r = runMain(t, ctx, nil, "items", "--config", cfg, "--json")
	if r.code != 0 {
		t.Fatalf("items: exit %d\n%s", r.code, r.stderr)
	}
	seen := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(r.stdout))
	for sc.Scan() {
		var it item
		if err := json.Unmarshal(sc.Bytes(), &it); err != nil {
			t.Fatalf("items --json line %q: %v", sc.Text(), err)
		}
		if it.ID == "" || it.Source == "" || it.Title == "" || it.Link == "" || it.Published.IsZero() {
			t.Fatalf("items --json line lacks a field: %q", sc.Text())
		}
		if seen[it.ID] {
			t.Fatalf("item %s listed twice", it.ID)
		}
		seen[it.ID] = true
	}
	if got, want := len(seen), feedsN*5; got != want {
		t.Fatalf("items --json listed %d items, want %d", got, want)
	}

	r = runMain(t, ctx, nil, "sources", "--config", cfg)
	if r.code != 0 || !strings.Contains(r.stdout, "Feed 199") {
		t.Fatalf("sources: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

func TestMain_FetchFailure(t *testing.T) {
	fs := newFeedServer(t, 1)
	dir := t.TempDir()
	cfg := writeConfig(t, dir, fs, 1, "")
	// A second source that answers 404.
	b, _ := os.ReadFile(cfg)
	b = append(b, fmt.Sprintf("  - name: Broken\n    url: %s/missing.xml\n", fs.URL)...)
	os.WriteFile(cfg, b, 0o644)
	r := runMain(t, context.Background(), nil, "fetch", "--config", cfg)
	if r.code != 1 {
		t.Fatalf("exit %d, want 1 when a source fails\n%s", r.code, r.stdout)
	}
	if !strings.Contains(r.stdout, "Broken") || !strings.Contains(r.stdout, "404") || !strings.Contains(r.stdout, "1 failed") {
		t.Fatalf("table does not report the failing source:\n%s", r.stdout)
	}
	// The failed row shows the HTTP status the server answered.
	if !regexp.MustCompile(`(?m)^Broken\s+404\s+0\s+0\s+0\s+failed: the server answered 404`).MatchString(r.stdout) {
		t.Errorf("the failed row lacks its HTTP status:\n%s", r.stdout)
	}
	if !strings.Contains(r.stdout, "Feed 0") || !strings.Contains(r.stdout, "; 1 new item, 0 updated.") {
		t.Fatalf("the failing source held back the other:\n%s", r.stdout)
	}
}

func TestMain_Check(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("sources:\n  - name: A\n    url: htp://x\n    colour: red\n"), 0o644)
	r := runMain(t, context.Background(), nil, "check", "--config", bad)
	if r.code != 2 {
		t.Fatalf("check on a bad config: exit %d, want 2", r.code)
	}
	for _, want := range []string{"bad.yaml:3:", "bad.yaml:4:", "colour", "url"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("check output lacks %q:\n%s", want, r.stderr)
		}
	}
	r = runMain(t, context.Background(), nil, "check", "--config", "../../config.yaml")
	if r.code != 0 {
		t.Fatalf("check on the shipped config.yaml: exit %d\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stdout, ", 1 recipient)") {
		t.Errorf("check says the shipped digest's one recipient in the plural:\n%s", r.stdout)
	}
}

func TestMain_RunReload(t *testing.T) {
	fs := newFeedServer(t, 2)
	dir := t.TempDir()
	cfg := writeConfig(t, dir, fs, 1, "")
	d := startRun(t, cfg)

	waitFor(t, "the first source to be polled", func() bool { return fs.hits("/feed/0.xml") > 0 })
	waitFor(t, "the polled items in the combined feed", func() bool {
		resp, err := testHTTP.Get("http://" + d.addr + "/feed.atom")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		b.ReadFrom(resp.Body)
		return resp.StatusCode == 200 && strings.Contains(b.String(), "Story 1 of feed 0")
	})

	// An invalid edit is refused and the daemon keeps going.
	os.WriteFile(cfg, []byte("sources: [oops\n"), 0o644)
	if err := recv(t, d.reloaded, "the reload of an invalid edit"); err == nil {
		t.Fatalf("an invalid edit was accepted")
	}
	// Adding a source takes effect without a restart.
	writeConfig(t, dir, fs, 2, "")
	d.waitReloaded(t, "the reload that adds a source")
	waitFor(t, "the added source to be polled", func() bool { return fs.hits("/feed/1.xml") > 0 })
	if r := d.stop(t); r.code != 0 {
		t.Fatalf("run: exit %d\n%s", r.code, r.stderr)
	}
	if n := fs.hits("/feed/0.xml"); n != 1 {
		t.Errorf("first source polled %d times within its hour, want 1", n)
	}
}

// An edit saved the moment the daemon says it is ready is not missed: the
// configuration is watched before then.
func TestMain_RunReloadRightAfterStart(t *testing.T) {
	fs := newFeedServer(t, 1)
	dir := t.TempDir()
	cfg := writeConfig(t, dir, fs, 1, "")
	d := startRun(t, cfg)
	writeConfig(t, dir, fs, 2, "")
	d.waitReloaded(t, "the reload of an edit saved right after start-up")
	waitFor(t, "the added source to be polled", func() bool { return fs.hits("/feed/1.xml") > 0 })
	if r := d.stop(t); r.code != 0 {
		t.Fatalf("run: exit %d\n%s", r.code, r.stderr)
	}
}

// daemon is a `broadsheet run` started by startRun.
type daemon struct {
	addr           string
	reloaded       chan error
	cancel         context.CancelFunc
	done           chan result
	stdout, stderr *syncBuffer
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startRun starts `run --config cfg` and waits until it serves; the
// daemon is stopped when t ends, if the test did not stop it.
func startRun(t *testing.T, cfg string) *daemon {
	t.Helper()
	d := &daemon{reloaded: make(chan error, 10), done: make(chan result, 1), stdout: &syncBuffer{}, stderr: &syncBuffer{}}
	m := testMain()
	m.Reloaded = d.reloaded
	ready := make(chan string, 1)
	m.Ready = ready
	m.Stdout, m.Stderr = d.stdout, d.stderr
	ctx, cancel := context.WithCancel(context.Background())
	d.cancel = cancel
	go func() {
		code := m.Run(ctx, []string{"run", "--config", cfg})
		d.done <- result{code, d.stdout.String(), d.stderr.String()}
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-d.done:
		case <-time.After(waitTimeout):
			t.Errorf("run did not stop within %v of its context's end", waitTimeout)
		}
	})
	select {
	case d.addr = <-ready:
	case r := <-d.done:
		t.Fatalf("run ended before serving: exit %d\n%s", r.code, r.stderr)
	case <-time.After(waitTimeout):
		t.Fatalf("run did not serve within %v", waitTimeout)
	}
	return d
}

// waitOutput waits for want on the daemon's standard output.
func (d *daemon) waitOutput(t *testing.T, want string) {
	t.Helper()
	waitFor(t, fmt.Sprintf("%q on standard output", want), func() bool { return strings.Contains(d.stdout.String(), want) })
}

// waitReloaded waits for a successful reload, skipping failed ones.
func (d *daemon) waitReloaded(t *testing.T, what string) {
	t.Helper()
	deadline := time.After(waitTimeout)
	for {
		select {
		case err := <-d.reloaded:
			if err == nil {
				return
			}
		case <-deadline:
			t.Fatalf("timed out after %v waiting for %s", waitTimeout, what)
		}
	}
}

// stop cancels the daemon's context and returns its result.
func (d *daemon) stop(t *testing.T) result {
	t.Helper()
	d.cancel()
	r := recv(t, d.done, "run to stop")
	d.done <- r // for the cleanup
	return r
}

// waitTimeout bounds every wait in these tests: generous, since the
// machine may be loaded, but a hang fails with a message rather than at
// the test binary's timeout.
const waitTimeout = time.Minute

// testHTTP is the tests' HTTP client: a request to a server that stops
// answering fails after waitTimeout instead of hanging the test.
var testHTTP = &http.Client{Timeout: waitTimeout}

// recv returns the next value from ch, failing t if none comes within
// waitTimeout.
func recv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(waitTimeout):
		t.Fatalf("timed out after %v waiting for %s", waitTimeout, what)
		panic("unreachable")
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", waitTimeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// `run` says where to point a browser, then, once the sources due at
// start-up were polled, how that went; a restart with every source
// backing off says so rather than nothing.
func TestMain_RunFirstPoll(t *testing.T) {
	fs := newFeedServer(t, 2)
	dir := t.TempDir()
	cfg := writeConfig(t, dir, fs, 2, "")
	b, _ := os.ReadFile(cfg)
	os.WriteFile(cfg, append(b, fmt.Sprintf("  - name: Broken\n    url: %s/missing.xml\n", fs.URL)...), 0o644)

	d := startRun(t, cfg)
	d.waitOutput(t, "broadsheet is serving http://"+d.addr+"/: open it in a browser")
	d.waitOutput(t, "3 sources: 2 ok, 1 failed — `broadsheet sources` says why; 4 items stored")
	if r := d.stop(t); r.code != 0 {
		t.Fatalf("run: exit %d\n%s", r.code, r.stderr)
	}
	if i, j := strings.Index(d.stdout.String(), "is serving"), strings.Index(d.stdout.String(), "3 sources"); i > j {
		t.Errorf("the summary came before the address:\n%s", d.stdout)
	}

	// Restarted at once: nothing is due, one source backs off.
	d = startRun(t, cfg)
	d.waitOutput(t, "3 sources, none due now (1 failing and backing off — `broadsheet sources` says why); the next poll is in ")
	d.stop(t)

	// Every source failing, then restarted: it says so.
	cfg = writeConfig(t, t.TempDir(), fs, 0, "")
	b, _ = os.ReadFile(cfg)
	os.WriteFile(cfg, append(b, fmt.Sprintf("  - name: Broken\n    url: %s/missing.xml\n  - name: Gone\n    url: %s/gone.xml\n", fs.URL, fs.URL)...), 0o644)
	d = startRun(t, cfg)
	d.waitOutput(t, "2 sources: 0 ok, 2 failed — `broadsheet sources` says why; 0 items stored")
	d.stop(t)
	d = startRun(t, cfg)
	d.waitOutput(t, "2 sources, none due now: both are failing and backing off; the next poll is in ")
	d.stop(t)
}
