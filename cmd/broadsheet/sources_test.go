package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// siteServer serves a web page at / that advertises its feed at
// /news/feed.xml, and counts the feed's requests.
type siteServer struct {
	*httptest.Server
	mu    sync.Mutex
	polls int
}

func newSiteServer(t *testing.T) *siteServer {
	s := &siteServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprint(w, `<!DOCTYPE html><html><head><title>The Loopback Herald</title>
<link rel="alternate" type="application/rss+xml" title="RSS" href="/news/feed.xml"></head><body><h1>Front page</h1></body></html>`)
		case "/news/feed.xml":
			s.mu.Lock()
			s.polls++
			s.mu.Unlock()
			w.Header().Set("Content-Type", "application/rss+xml")
			fmt.Fprint(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>The Loopback Herald</title><link>http://example.com/</link>
<item><title>Loopback story one</title><link>http://example.com/one</link><guid>one</guid><pubDate>Fri, 14 Aug 2026 09:00:00 GMT</pubDate></item>
<item><title>Loopback story two</title><link>http://example.com/two</link><guid>two</guid><pubDate>Sat, 15 Aug 2026 09:00:00 GMT</pubDate></item>
</channel></rss>`)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *siteServer) feedPolls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.polls
}

// commentedConfig writes a commented config.yaml with one source of fs,
// allowing loopback sources.
func commentedConfig(t *testing.T, dir string, fs *feedServer) string {
	t.Helper()
	text := fmt.Sprintf(`# broadsheet configuration for a test.
# Comments here must survive every edit.

storage:
  driver: sqlite
  path: %s   # aligned trailing comment

schedule: "@every 1h"

server:
  listen: 127.0.0.1:0

fetch:
  timeout: 10s
  # The test servers are on loopback.
  allow_private_networks: true

log:
  level: warn

# Feeds to poll.
sources:
  # The first feed.
  - name: Feed 0
    url: %s/feed/0.xml

# Topics, after the sources.
topics: []
`, filepath.Join(dir, "bs.db"), fs.URL)
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, []byte(text), 0o640); err != nil {
		t.Fatal(err)
	}
	return path
}

// commentLines returns the comment lines of a file.
func commentLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if i := strings.Index(l, "#"); i >= 0 && !strings.Contains(l, "://") {
			out = append(out, l)
		}
	}
	return out
}

// `sources add` of a web page finds the feed it advertises and adds it to
// config.yaml while `run` is running; the daemon reloads and polls it
// within seconds. `sources remove` takes it out again. Comments survive.
func TestMain_SourcesAddWhileRunning(t *testing.T) {
	fs := newFeedServer(t, 1)
	site := newSiteServer(t)
	dir := t.TempDir()
	cfg := commentedConfig(t, dir, fs)
	comments := commentLines(t, cfg)
	d := startRun(t, cfg)
	waitFor(t, "the first source to be polled", func() bool { return fs.hits("/feed/0.xml") > 0 })

	r := runMain(t, context.Background(), nil, "sources", "add", site.URL+"/", "--config", cfg, "--tags", "loop,back", "--kind", "editorial")
	if r.code != 0 {
		t.Fatalf("sources add: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	added := time.Now()
	for _, want := range []string{
		`Found the feed "The Loopback Herald" at ` + site.URL + "/news/feed.xml (the page advertises it), with 2 items; the latest:",
		"  2026-08-15  Loopback story two\n  2026-08-14  Loopback story one\n",
		`Added source "The Loopback Herald" to ` + cfg,
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("sources add output lacks %q:\n%s", want, r.stdout)
		}
	}
	discovered := site.feedPolls()
	d.waitReloaded(t, "the reload after sources add")
	waitFor(t, "the daemon to poll the added source", func() bool { return site.feedPolls() > discovered })
	took := time.Since(added)
	t.Logf("the daemon polled the added source %v after sources add returned", took.Round(time.Millisecond))
	if took > 30*time.Second {
		t.Errorf("the added source was polled %v after it was added, want within seconds", took)
	}
	waitFor(t, "the added source's items in its feed", func() bool {
		resp, err := testHTTP.Get("http://" + d.addr + "/sources/the-loopback-herald.atom")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode == 200 && strings.Contains(string(b), "Loopback story two")
	})
	b, _ := os.ReadFile(cfg)
	if want := "    url: " + fs.URL + "/feed/0.xml\n  - name: The Loopback Herald\n    url: " + site.URL + "/news/feed.xml\n    kind: editorial\n    tags: [loop, back]\n\n# Topics, after the sources."; !strings.Contains(string(b), want) {
		t.Errorf("config.yaml after sources add lacks\n%s\nin\n%s", want, b)
	}
	if got := commentLines(t, cfg); strings.Join(got, "\n") != strings.Join(comments, "\n") {
		t.Errorf("comments after sources add:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(comments, "\n"))
	}
	if fi, err := os.Stat(cfg); err != nil || fi.Mode().Perm() != 0o640 {
		t.Errorf("config.yaml's mode after the edit: %v (%v), want 0640", fi.Mode().Perm(), err)
	}

	// The same page again, or the feed under another name, is refused.
	for _, args := range [][]string{{site.URL + "/"}, {site.URL + "/news/feed.xml", "--name", "Other"}, {fs.URL + "/feed/0.xml"}} {
		r = runMain(t, context.Background(), nil, append([]string{"sources", "add", "--config", cfg}, args...)...)
		if r.code != exitFailed || !strings.Contains(r.stderr, "not added:") || !strings.Contains(r.stderr, "is already the url of source") {
			t.Errorf("sources add %q again: exit %d\n%s%s", args, r.code, r.stdout, r.stderr)
		}
	}
	r = runMain(t, context.Background(), nil, "sources", "remove", "the loopback herald", "--config", cfg)
	if r.code != 0 || !strings.Contains(r.stdout, `Removed source "The Loopback Herald"`) {
		t.Fatalf("sources remove: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	d.waitReloaded(t, "the reload after sources remove")
	if got := commentLines(t, cfg); strings.Join(got, "\n") != strings.Join(comments, "\n") {
		t.Errorf("comments after sources remove:\n%s", strings.Join(got, "\n"))
	}
	if r := d.stop(t); r.code != 0 {
		t.Fatalf("run: exit %d\n%s", r.code, r.stderr)
	}
}

func TestMain_SourcesAddErrors(t *testing.T) {
	fs := newFeedServer(t, 1)
	site := newSiteServer(t)
	dir := t.TempDir()
	cfg := commentedConfig(t, dir, fs)
	before, _ := os.ReadFile(cfg)
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"sources", "add"}, exitUsage, "sources add takes 1 argument, URL; got none"},
		{[]string{"sources", "add", "a", "b"}, exitUsage, `got 2 (["a" "b"])`},
		{[]string{"sources", "add", site.URL + "/", "--kind", "opinion"}, exitUsage, `--kind "opinion": use news or editorial`},
		{[]string{"sources", "add", site.URL + "/", "--name", "feed-0"}, exitFailed, `"feed-0" is the same name as source "Feed 0" (line 24) once case and punctuation are ignored in ` + cfg + ": give this one another name with --name"},
		{[]string{"sources", "add", site.URL + "/missing"}, exitFailed, "404 Not Found"},
		{[]string{"sources", "add", site.URL + "/", "--schedule", "@every 5s"}, exitFailed, "sources[1].schedule"},
		{[]string{"sources", "remove"}, exitUsage, "sources remove takes 1 argument, NAME"},
		{[]string{"sources", "remove", "Feed 9"}, exitFailed, `not removed: no source named "Feed 9"; did you mean "Feed 0"?`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args[1:], " "), func(t *testing.T) {
			r := runMain(t, context.Background(), nil, append(tt.args, "--config", cfg)...)
			if r.code != tt.code || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("exit %d, want %d with %q\n%s%s", r.code, tt.code, tt.want, r.stdout, r.stderr)
			}
		})
	}
	if after, _ := os.ReadFile(cfg); string(after) != string(before) {
		t.Errorf("a refused command changed config.yaml:\n%s", after)
	}
	// An invalid configuration is not edited.
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("sources:\n  - name: A\n    colour: red\n"), 0o644)
	r := runMain(t, context.Background(), nil, "sources", "add", site.URL+"/", "--config", bad)
	if r.code != exitUsage || !strings.Contains(r.stderr, "bad.yaml:3:5") {
		t.Errorf("sources add on an invalid file: exit %d\n%s", r.code, r.stderr)
	}
}
