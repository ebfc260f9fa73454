package main

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/broadsheet/broadsheet/digest/smtp/smtptest"
	"github.com/broadsheet/broadsheet/store"
)

// editorialServer serves one RSS feed of n editorials published in the
// last hours, so that they are within a digest's max_age.
func editorialServer(t *testing.T, n int) *httptest.Server {
	now := time.Now()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		fmt.Fprint(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>Opinion</title><link>http://news.test/</link><description>d</description>`)
		for i := range n {
			fmt.Fprintf(w, `<item><title>Editorial %d: the case for patience</title><link>http://news.test/%d</link><guid>ed-%d</guid><pubDate>%s</pubDate><description>Why %d matters, briefly.</description></item>`,
				i, i, i, now.Add(-time.Duration(i+1)*time.Hour).UTC().Format(time.RFC1123Z), i)
		}
		fmt.Fprint(w, `</channel></rss>`)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// digestConfig writes a configuration with one source and one digest to
// rcpts, sending through smtpBlock (YAML, may be empty for the outbox).
func digestConfig(t *testing.T, dir, feedURL string, rcpts []string, smtpBlock string) string {
	t.Helper()
	var to []string
	for _, r := range rcpts {
		to = append(to, fmt.Sprintf("%q", r))
	}
	cfg := fmt.Sprintf(`storage:
  driver: sqlite
  path: %s
server:
  listen: 127.0.0.1:0
  base_url: https://news.example.org/bs/
fetch:
  allow_private_networks: true # the test feed is on loopback
sources:
  - name: Local Opinion
    url: %s
    kind: editorial
outbox: %s
%s
digests:
  - name: daily
    schedule: "CRON_TZ=Asia/Seoul 0 7 * * *"
    to: [%s]
    kinds: [editorial]
    subject: "Editorials for {{.Date}}: {{.StoryCount}} stories"
`, filepath.Join(dir, "data", "bs.db"), feedURL, filepath.Join(dir, "outbox"), smtpBlock, strings.Join(to, ", "))
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func emls(t *testing.T, dir string) []string {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(dir, "outbox", "*.eml"))
	return m
}

func TestMain_DigestOutbox(t *testing.T) {
	dir := t.TempDir()
	feed := editorialServer(t, 5)
	cfg := digestConfig(t, dir, feed.URL+"/feed.xml", []string{"reader@example.com", "Second <second@example.com>"}, "")
	ctx := t.Context()
	if r := runMain(t, ctx, nil, "fetch", "--config", cfg); r.code != 0 {
		t.Fatalf("fetch: %d %s", r.code, r.stderr)
	}

	t.Run("Preview", func(t *testing.T) {
		r := runMain(t, ctx, nil, "digest", "preview", "daily", "--text", "--config", cfg)
		if r.code != 0 || !strings.Contains(r.stdout, "Editorial 0: the case for patience") || !strings.Contains(r.stdout, "5 stories from 1 outlet") {
			t.Errorf("preview: %d\n%s\n%s", r.code, r.stdout, r.stderr)
		}
		out := filepath.Join(dir, "preview.html")
		if r := runMain(t, ctx, nil, "digest", "preview", "--config", cfg, "daily", "--out", out); r.code != 0 {
			t.Fatalf("preview --out: %d %s", r.code, r.stderr)
		}
		if b, _ := os.ReadFile(out); !strings.HasPrefix(string(b), "<!DOCTYPE html>") {
			t.Errorf("--out x.html wrote %.60q, want the HTML part", b)
		}
		if len(emls(t, dir)) != 0 {
			t.Error("preview sent something")
		}
	})
	t.Run("Send", func(t *testing.T) {
		r := runMain(t, ctx, nil, "digest", "send", "daily", "--config", cfg)
		if r.code != 0 || !strings.Contains(r.stdout, "daily: 2 sent, 0 to retry, 0 failed") {
			t.Fatalf("send: %d\n%s\n%s", r.code, r.stdout, r.stderr)
		}
		files := emls(t, dir)
		if len(files) != 2 {
			t.Fatalf("%d .eml files, want 2", len(files))
		}
		f, _ := os.Open(files[0])
		defer f.Close()
		m, err := mail.ReadMessage(f)
		if err != nil {
			t.Fatalf("the .eml does not parse: %v", err)
		}
		if !strings.HasPrefix(m.Header.Get("Content-Type"), "multipart/alternative") ||
			!strings.HasPrefix(m.Header.Get("List-Unsubscribe"), "<https://news.example.org/bs/unsubscribe/") ||
			m.Header.Get("Message-ID") == "" || m.Header.Get("Subject") != "Editorials for "+time.Now().In(seoulZone(t)).Format("Monday 2 January 2006")+": 5 stories" {
			t.Errorf("headers: %v", m.Header)
		}
	})
	t.Run("SendAgainSendsNothing", func(t *testing.T) {
		r := runMain(t, ctx, nil, "digest", "send", "daily", "--config", cfg)
		if r.code != 0 || !strings.Contains(r.stdout, "0 sent") || !strings.Contains(r.stdout, "2 not sent, as there was nothing to send: no item was first seen since ") {
			t.Errorf("second send: %d\n%s", r.code, r.stdout)
		}
		if n := len(emls(t, dir)); n != 2 {
			t.Errorf("%d .eml files, want still 2", n)
		}
	})
	t.Run("SendTickTwice", func(t *testing.T) {
		r1 := runMain(t, ctx, nil, "digest", "send", "daily", "--tick", "--config", cfg)
		r2 := runMain(t, ctx, nil, "digest", "send", "daily", "--tick", "--config", cfg)
		if r1.code != 0 || r2.code != 0 || !strings.Contains(r2.stdout, "2 already had this period") && !strings.Contains(r2.stdout, "0 sent") {
			t.Errorf("--tick twice: %d %d\n%s\n%s", r1.code, r2.code, r1.stdout, r2.stdout)
		}
	})
	t.Run("List", func(t *testing.T) {
		r := runMain(t, ctx, nil, "digest", "list", "--config", cfg)
		if r.code != 0 || !strings.Contains(r.stdout, "daily") || !strings.Contains(r.stdout, "KST") || strings.Contains(r.stdout, "never") {
			t.Errorf("list: %d\n%s", r.code, r.stdout)
		}
	})
	t.Run("UnsubscribeResubscribe", func(t *testing.T) {
		r := runMain(t, ctx, nil, "digest", "unsubscribe", "daily", "Second@Example.com", "--config", cfg)
		if r.code != 0 || !strings.Contains(r.stdout, "second@example.com gets no more") {
			t.Errorf("unsubscribe: %d %s %s", r.code, r.stdout, r.stderr)
		}
		r = runMain(t, ctx, nil, "digest", "list", "--config", cfg)
		if !strings.Contains(r.stdout, "(1 unsubscribed)") {
			t.Errorf("list after unsubscribing:\n%s", r.stdout)
		}
		r = runMain(t, ctx, nil, "digest", "resubscribe", "daily", "second@example.com", "--config", cfg)
		if r.code != 0 || !strings.Contains(r.stdout, "gets \"daily\" again") {
			t.Errorf("resubscribe: %d %s", r.code, r.stdout)
		}
		r = runMain(t, ctx, nil, "digest", "resubscribe", "daily", "second@example.com", "--config", cfg)
		if r.code != 0 || !strings.Contains(r.stdout, "was not unsubscribed") {
			t.Errorf("second resubscribe: %d %s", r.code, r.stdout)
		}
	})
	t.Run("Usage", func(t *testing.T) {
		for _, args := range [][]string{
			{"digest", "send", "nightly", "--config", cfg},
			{"digest", "send", "--config", cfg},
			{"digest", "frobnicate"},
			{"digest", "preview", "daily", "--html", "--text", "--config", cfg},
		} {
			if r := runMain(t, ctx, nil, args...); r.code != exitUsage {
				t.Errorf("%v: exit %d, want %d\n%s", args, r.code, exitUsage, r.stderr)
			}
		}
	})
}

func seoulZone(t *testing.T) *time.Location {
	l, err := time.LoadLocation("Asia/Seoul")
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// TestDigests_RunWiring drives what `run` uses: the scheduled job, the
// catch-up, the retry job and the unsubscribe handler.
func TestDigests_RunWiring(t *testing.T) {
	dir := t.TempDir()
	feed := editorialServer(t, 3)
	cfgPath := digestConfig(t, dir, feed.URL+"/feed.xml", []string{"a@example.com", "b@example.com"}, "")
	ctx := t.Context()
	if r := runMain(t, ctx, nil, "fetch", "--config", cfgPath); r.code != 0 {
		t.Fatalf("fetch: %s", r.stderr)
	}
	m := testMain()
	cfg, err := m.loadConfig(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	a, err := m.openApp(ctx, cfgPath, cfg, slog.LevelDebug, readWrite)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	d, err := newDigests(cfg, a.store, nil, a.owner, time.Now, a.log)
	if err != nil {
		t.Fatal(err)
	}
	jobs := d.jobs()
	if len(jobs) != 2 || jobs[0].Name != "digest:daily" || jobs[1].Name != "digest-retry" {
		t.Fatalf("jobs %v", jobs)
	}
	// Unsubscribe b@ through the handler, as a mail provider's one-click
	// POST would.
	mux := http.NewServeMux()
	mux.Handle(unsubscribePattern(cfg), d.unsubscribeHandler())
	if got := unsubscribePattern(cfg); got != "/bs/unsubscribe/{token}" {
		t.Errorf("pattern %q", got)
	}
	msg, err := d.svc.Preview(ctx, d.list[0], "b@example.com")
	if err != nil {
		t.Fatal(err)
	}
	link, _ := url.Parse(strings.Trim(msg.ListUnsubscribe, "<>"))
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest("POST", link.Path, strings.NewReader("List-Unsubscribe=One-Click")))
	if rec.Code != 200 {
		t.Fatalf("one-click POST %s: %d", link.Path, rec.Code)
	}
	// The scheduled run sends to a@ only; a catch-up afterwards and the
	// retry job send nothing more.
	if err := jobs[0].Run(ctx); err != nil {
		t.Fatal(err)
	}
	if err := d.catchUp(ctx); err != nil {
		t.Fatal(err)
	}
	if err := jobs[1].Run(ctx); err != nil {
		t.Fatal(err)
	}
	files := emls(t, dir)
	if len(files) != 1 || !strings.Contains(files[0], "a@example.com") {
		t.Errorf("outbox %v, want a@'s digest only", files)
	}
	sent, _ := a.store.(store.DigestStore).Deliveries(ctx, store.DeliveryFilter{Digest: "daily"})
	if len(sent) != 1 || sent[0].State != store.DeliverySent {
		t.Errorf("deliveries %+v, want one sent", sent)
	}
}

func TestCheckDigests(t *testing.T) {
	dir := t.TempDir()
	feed := editorialServer(t, 1)
	cfgPath := digestConfig(t, dir, feed.URL, []string{"a@example.com"}, "")
	m := testMain()
	cfg, err := m.loadConfig(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := checkDigests(cfg); err != nil {
		t.Errorf("checkDigests with the defaults: %v", err)
	}
	tdir := filepath.Join(dir, "templates")
	os.MkdirAll(tdir, 0o755)
	os.WriteFile(filepath.Join(tdir, "digest.txt"), []byte("line one\n{{.Storys}}\n"), 0o644)
	cfg.Templates = tdir
	err = checkDigests(cfg)
	if err == nil || !strings.Contains(err.Error(), filepath.Join(tdir, "digest.txt")+":2:") {
		t.Errorf("checkDigests: %v, want the file and line 2", err)
	}
}

// TestDigestSend_CrashNoDuplicate runs the real binary: it is killed while
// the SMTP server holds its fourth message, then run again. Every recipient
// must end with exactly one message.
func TestDigestSend_CrashNoDuplicate(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dir := t.TempDir()
	bin := buildBinary(t)
	const accept = 3
	var mu sync.Mutex
	accepted, blocking := 0, false
	held := make(chan struct{})    // closed when the server holds a message
	release := make(chan struct{}) // closed to let it go
	srv := smtptest.Start(t, smtptest.Options{TLS: smtptest.None, Hook: func(ev smtptest.Event) error {
		if ev.Stage != "data" {
			return nil
		}
		mu.Lock()
		if accepted < accept || blocking {
			accepted++
			mu.Unlock()
			return nil
		}
		blocking = true
		mu.Unlock()
		close(held)
		<-release
		// The client is dead by now; refuse the message for good measure.
		return smtptest.Reply(451, "4.3.0 try again")
	}})
	var rcpts []string
	for i := range 8 {
		rcpts = append(rcpts, fmt.Sprintf("r%d@example.com", i))
	}
	feed := editorialServer(t, 4)
	cfg := digestConfig(t, dir, feed.URL+"/feed.xml", rcpts, fmt.Sprintf(`smtp:
  host: 127.0.0.1
  port: %d
  tls: none
  from: "Broadsheet <digest@news.example.org>"
  timeout: 1s`, srv.Port))
	run := func(args ...string) *exec.Cmd {
		return testCommand(t, dir, bin, append(args, "--config", cfg)...)
	}
	if out, err := run("fetch").CombinedOutput(); err != nil {
		t.Fatalf("fetch: %v\n%s", err, out)
	}

	first := run("digest", "send", "daily")
	var firstOut strings.Builder
	first.Stdout, first.Stderr = &firstOut, &firstOut
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-held:
	case <-time.After(30 * time.Second):
		first.Process.Kill()
		t.Fatalf("the server never held a message:\n%s", firstOut.String())
	}
	if err := first.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	first.Wait()
	close(release)
	if n := len(srv.Messages()); n != accept {
		t.Fatalf("before the crash the server accepted %d messages, want %d", n, accept)
	}

	second := run("digest", "send", "daily")
	out, err := second.CombinedOutput()
	if err != nil {
		t.Fatalf("second run: %v\n%s", err, out)
	}
	got := map[string]int{}
	for _, m := range srv.Messages() {
		for _, to := range m.To {
			got[to]++
		}
	}
	for _, r := range rcpts {
		if got[r] != 1 {
			t.Errorf("%s got %d messages, want exactly 1", r, got[r])
		}
	}
	if t.Failed() {
		t.Logf("first run:\n%s\nsecond run:\n%s", firstOut.String(), out)
	}
	// And a third run has nothing to send.
	if out, err := run("digest", "send", "daily").CombinedOutput(); err != nil || !strings.Contains(string(out), "0 sent") {
		t.Errorf("third run: %v\n%s", err, out)
	}
	if n := len(srv.Messages()); n != len(rcpts) {
		t.Errorf("server has %d messages after the third run, want %d", n, len(rcpts))
	}
}

// `digest send` that sends nothing says why: each filter a digest applies
// is named when it is the one that left nothing.
func TestMain_DigestSendEmptyReason(t *testing.T) {
	now := time.Now()
	recent := now.Add(-2 * time.Hour).UTC().Format(time.RFC1123Z)
	old := now.Add(-30 * 24 * time.Hour).UTC().Format(time.RFC1123Z)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pub := recent
		switch r.URL.Path {
		case "/new.xml":
		case "/old.xml":
			pub = old
		default:
			http.NotFound(w, r)
			return
		}
		fmt.Fprint(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><link>http://news.test/</link>`)
		for i := range 3 {
			fmt.Fprintf(w, `<item><title>Harbour works %d resume</title><link>http://news.test%s/%d</link><guid>%s-%d</guid><pubDate>%s</pubDate></item>`, i, r.URL.Path, i, r.URL.Path, i, pub)
		}
		fmt.Fprint(w, `</channel></rss>`)
	}))
	t.Cleanup(srv.Close)
	tests := []struct {
		name, feed, digest string
		fetch              bool
		want               string
	}{
		{"NothingStored", "/new.xml", "", false, "1 not sent, as there was nothing to send: no items are stored yet (`broadsheet fetch` polls the sources); send_empty: true"},
		{"TooOld", "/old.xml", "    max_age: 7d\n", true, "were all published more than max_age (7d) ago; send_empty: true"},
		{"Kinds", "/new.xml", "    kinds: [editorial]\n", true, "none is of its kinds (editorial); send_empty"},
		{"Sources", "/new.xml", "    sources: [Elsewhere]\n", true, "none is from its sources (Elsewhere)"},
		{"Topics", "/new.xml", "    topics: [climate]\n", true, "is in its topics (climate); send_empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := filepath.Join(dir, "config.yaml")
			os.WriteFile(cfg, []byte(fmt.Sprintf(`storage:
  path: %s
outbox: %s
fetch:
  allow_private_networks: true
log:
  level: warn
sources:
  - name: Harbour News
    url: %s%s
  - name: Elsewhere
    url: %s/elsewhere-missing.xml
topics:
  - name: Climate
    match:
      any: [climate]
digests:
  - name: daily
    schedule: "0 7 * * *"
    to: [reader@example.com]
%s`, filepath.Join(dir, "bs.db"), filepath.Join(dir, "outbox"), srv.URL, tt.feed, srv.URL, tt.digest)), 0o644)
			if tt.fetch {
				runMain(t, t.Context(), nil, "fetch", "--config", cfg)
			}
			r := runMain(t, t.Context(), nil, "digest", "send", "daily", "--config", cfg)
			if r.code != 0 || !strings.Contains(r.stdout, tt.want) || !strings.Contains(r.stdout, "; 1 not sent, as there was nothing to send: ") {
				t.Errorf("exit %d, want %q in\n%s%s", r.code, tt.want, r.stdout, r.stderr)
			}
			if strings.Contains(r.stdout, "nothing new") && tt.fetch {
				t.Errorf("says nothing new while new items are stored:\n%s", r.stdout)
			}
		})
	}
}

// TestDigests_CatchUpEvery restarts a daemon with an @every 24h digest once
// a day, as a host rebooted nightly would: each period that went by while
// it was down is sent once when it comes back, and never twice.
func TestDigests_CatchUpEvery(t *testing.T) {
	for _, tc := range []struct {
		spec string
		tick time.Duration // after midnight UTC
	}{{"CRON_TZ=UTC @every 24h", 0}, {"CRON_TZ=UTC 0 6 * * *", 6 * time.Hour}} {
		spec := tc.spec
		t.Run(spec, func(t *testing.T) {
			dir := t.TempDir()
			feed := editorialServer(t, 2)
			cfgPath := digestConfig(t, dir, feed.URL+"/feed.xml", []string{"a@example.com"}, "")
			b, _ := os.ReadFile(cfgPath)
			b = []byte(strings.Replace(string(b), `schedule: "CRON_TZ=Asia/Seoul 0 7 * * *"`, fmt.Sprintf("schedule: %q\n    send_empty: true", spec), 1))
			if err := os.WriteFile(cfgPath, b, 0o644); err != nil {
				t.Fatal(err)
			}
			ctx := t.Context()
			if r := runMain(t, ctx, nil, "fetch", "--config", cfgPath); r.code != 0 {
				t.Fatalf("fetch: %s", r.stderr)
			}
			m := testMain()
			cfg, err := m.loadConfig(cfgPath)
			if err != nil {
				t.Fatal(err)
			}
			a, err := m.openApp(ctx, cfgPath, cfg, slog.LevelWarn, readWrite)
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			ds := a.store.(store.DigestStore)
			// Each start builds the digests afresh, with the clock of that
			// morning, and catches up.
			start := func(at time.Time) {
				t.Helper()
				d, err := newDigests(cfg, a.store, nil, a.owner, func() time.Time { return at }, a.log)
				if err != nil {
					t.Fatal(err)
				}
				if err := d.catchUp(ctx); err != nil {
					t.Fatalf("catch up at %s: %v", at, err)
				}
			}
			periods := func() []time.Time {
				t.Helper()
				dels, err := ds.Deliveries(ctx, store.DeliveryFilter{Digest: "daily"})
				if err != nil {
					t.Fatal(err)
				}
				var out []time.Time
				for _, x := range dels {
					if x.State != store.DeliverySent {
						t.Errorf("delivery of %s is %s (%s), want sent", x.Period, x.State, x.LastError)
					}
					out = append(out, x.Period)
				}
				return out
			}
			day0 := time.Now().UTC().Truncate(24 * time.Hour).Add(tc.tick)
			// The first digest, sent by hand for that day's tick.
			m.Now = func() time.Time { return day0.Add(time.Hour) }
			if r := runMain(t, ctx, m, "digest", "send", "daily", "--tick", "--config", cfgPath); r.code != 0 {
				t.Fatalf("send --tick: %d %s %s", r.code, r.stdout, r.stderr)
			}
			if got := periods(); len(got) != 1 {
				t.Fatalf("periods after the first send: %v, want one", got)
			}
			for i := 1; i <= 3; i++ {
				// Down over each day's tick; up again three hours
				// after it, then restarted an hour later.
				morning := day0.AddDate(0, 0, i).Add(3 * time.Hour)
				start(morning)
				start(morning.Add(time.Hour))
				got := periods()
				if len(got) != i+1 {
					t.Fatalf("day %d: periods %v, want %d, one a day", i, got, i+1)
				}
				if want := day0.AddDate(0, 0, i); !got[0].Equal(want) {
					t.Errorf("day %d: latest period %s, want %s", i, got[0], want)
				}
			}
		})
	}
}
