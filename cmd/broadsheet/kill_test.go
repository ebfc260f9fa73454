package main

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/broadsheet/broadsheet/digest/smtp/smtptest"
	"github.com/broadsheet/broadsheet/store"
	"github.com/broadsheet/broadsheet/store/sqlite"
)

// The kill tests run the real binary and SIGKILL it at random moments,
// many times, then let it finish, and compare the outcome with a clean
// run. The delays come from a seeded generator whose seed is logged; set
// BROADSHEET_KILL_SEED to replay a sequence of delays.

// killSeed returns the seed for this run's delays, and logs it.
func killSeed(t *testing.T) *rand.Rand {
	t.Helper()
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("BROADSHEET_KILL_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("BROADSHEET_KILL_SEED=%q: %v", s, err)
		}
		seed = v
	}
	t.Logf("kill delays from seed %d (BROADSHEET_KILL_SEED=%d repeats them)", seed, seed)
	return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}

// buildBinary builds broadsheet into a temporary folder.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "broadsheet")
	if out, err := testCommand(t, "", "go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// cmdTimeout bounds each command a test runs: a hang is killed and fails
// the test, rather than running into the test binary's timeout.
const cmdTimeout = 5 * time.Minute

// testCommand is name with args in dir, killed if it runs longer than
// cmdTimeout; the error it then returns says so.
func testCommand(t *testing.T, dir, name string, args ...string) *exec.Cmd {
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	t.Cleanup(cancel)
	c := exec.CommandContext(ctx, name, args...)
	c.Dir = dir
	c.Cancel = func() error {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			fmt.Fprintf(os.Stderr, "%s %s: still running after %v: killed\n", name, strings.Join(args, " "), cmdTimeout)
		}
		return c.Process.Kill()
	}
	c.WaitDelay = 10 * time.Second
	return c
}

// runBinary runs bin to its end and returns its combined output, failing
// the test unless it exits with status 0.
func runBinary(t *testing.T, bin, dir string, args ...string) string {
	t.Helper()
	out, err := testCommand(t, dir, bin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// killAfter starts bin and SIGKILLs it after d, unless it ended first. It
// reports whether the kill happened, and the output so far.
func killAfter(t *testing.T, bin, dir string, d time.Duration, args ...string) (killed bool, out string) {
	t.Helper()
	c := testCommand(t, dir, bin, args...)
	var b bytes.Buffer
	c.Stdout, c.Stderr = &b, &b
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- c.Wait() }()
	select {
	case <-done:
		return false, b.String()
	case <-time.After(d):
	}
	if err := c.Process.Kill(); err != nil { // SIGKILL
		if errors.Is(err, os.ErrProcessDone) {
			// It ended as the timer fired (seen under load): not killed.
			<-done
			return false, b.String()
		}
		t.Fatal(err)
	}
	<-done // a killed process ends; Wait returns within WaitDelay
	return true, b.String()
}

// killFeeds serves n RSS feeds of items each at /feed/{i}.xml, the same
// bytes on every request. Even feeds send an ETag (and answer 304 to it);
// every fifth is slow: it waits, then sends half, waits again and sends
// the rest. Items mix guids, links only, and neither (identified by a
// hash of title and date).
func killFeeds(t *testing.T, n, items int) *httptest.Server {
	bodies := make([][]byte, n)
	for f := range n {
		var b strings.Builder
		fmt.Fprintf(&b, `<?xml version="1.0"?><rss version="2.0"><channel><title>Feed %d</title><link>http://feeds.test/%d/</link><description>d</description>`, f, f)
		for i := range items {
			b.WriteString("<item>")
			fmt.Fprintf(&b, "<title>Story %d of feed %d</title><pubDate>Fri, 14 Aug 2026 %02d:%02d:00 GMT</pubDate><description>Text of story %d.</description>", i, f, i%24, f%60, i)
			switch i % 5 {
			case 1: // a link, no guid
				fmt.Fprintf(&b, "<link>http://feeds.test/%d/story-%d</link>", f, i)
			case 2: // neither
			default:
				fmt.Fprintf(&b, "<link>http://feeds.test/%d/story-%d</link><guid isPermaLink=\"false\">feed-%d-item-%d</guid>", f, i, f, i)
			}
			b.WriteString("</item>")
		}
		b.WriteString("</channel></rss>")
		bodies[f] = []byte(b.String())
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var f int
		if _, err := fmt.Sscanf(r.URL.Path, "/feed/%d.xml", &f); err != nil || f < 0 || f >= n {
			http.NotFound(w, r)
			return
		}
		wait := func(d time.Duration) bool {
			select {
			case <-time.After(d):
				return true
			case <-r.Context().Done():
				return false
			}
		}
		slow := f%5 == 0
		if slow && !wait(time.Duration(50+3*f)*time.Millisecond) {
			return
		}
		if f%2 == 0 {
			etag := fmt.Sprintf(`"feed-%d"`, f)
			if r.Header.Get("If-None-Match") == etag {
				w.WriteHeader(http.StatusNotModified)
				return
			}
			w.Header().Set("ETag", etag)
		}
		w.Header().Set("Content-Type", "application/rss+xml")
		body := bodies[f]
		if !slow {
			w.Write(body)
			return
		}
		w.Write(body[:len(body)/2])
		w.(http.Flusher).Flush()
		if wait(50 * time.Millisecond) {
			w.Write(body[len(body)/2:])
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// killFetchConfig writes a configuration polling every feed of srv into
// the SQLite file db.
func killFetchConfig(t *testing.T, dir, db string, srv *httptest.Server, n int) string {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "storage:\n  driver: sqlite\n  path: %s\n", filepath.Join(dir, db))
	b.WriteString("schedule: \"@every 1h\"\nserver:\n  listen: 127.0.0.1:0\nfetch:\n  workers: 8\n  per_host: 0\n  timeout: 10s\n  allow_private_networks: true\nlog:\n  level: warn\nsources:\n")
	for i := range n {
		fmt.Fprintf(&b, "  - name: Feed %d\n    url: %s/feed/%d.xml\n", i, srv.URL, i)
	}
	path := filepath.Join(dir, strings.TrimSuffix(db, ".db")+".yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// storedArticle is what must be the same after any number of kills as
// after a clean run: everything but the time each was first seen.
type storedArticle struct {
	ID, Source, Identity, Title, Link, Hash string
	Published                               time.Time
}

// openStored opens a SQLite store file as broadsheet would, checks it,
// and returns its articles by id.
func openStored(t *testing.T, path string) map[string]storedArticle {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatalf("the store does not open: %v", err)
	}
	defer db.Close()
	arts, err := db.Articles(ctx, store.ArticleFilter{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]storedArticle{}
	for _, a := range arts {
		if _, dup := out[a.ID]; dup {
			t.Errorf("article %s listed twice", a.ID)
		}
		out[a.ID] = storedArticle{a.ID, a.Source, a.Identity, a.Title, a.Link, a.Hash, a.Published.UTC()}
	}
	states, err := db.SourceStates(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range states {
		if s.LastError != "" || s.LastSuccess.IsZero() {
			t.Errorf("source %s: last error %q, last success %v", s.Source, s.LastError, s.LastSuccess)
		}
	}

	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var check string
	if err := raw.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		t.Errorf("integrity_check: %q, %v", check, err)
	}
	rows, err := raw.QueryContext(ctx, "SELECT source, identity, COUNT(*) FROM articles GROUP BY source, identity HAVING COUNT(*) > 1")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var src, id string
		var n int
		if err := rows.Scan(&src, &id, &n); err != nil {
			t.Fatal(err)
		}
		t.Errorf("(%s, %s) stored %d times", src, id, n)
	}
	return out
}

// TestKill_Fetch kills `broadsheet fetch` at random moments many times
// (40 feeds of 25 items, some slow), then runs it to the end: the store
// must open and hold every item of a clean run exactly once, the same.
func TestKill_Fetch(t *testing.T) {
	const nFeeds, nItems, kills = 40, 25, 12
	bin := buildBinary(t)
	rng := killSeed(t)
	srv := killFeeds(t, nFeeds, nItems)
	dir := t.TempDir()

	start := time.Now()
	runBinary(t, bin, dir, "fetch", "--config", killFetchConfig(t, dir, "clean.db", srv, nFeeds))
	full := time.Since(start)
	want := openStored(t, filepath.Join(dir, "clean.db"))
	if len(want) != nFeeds*nItems {
		t.Fatalf("the clean run stored %d articles, want %d", len(want), nFeeds*nItems)
	}

	cfg := killFetchConfig(t, dir, "killed.db", srv, nFeeds)
	always := func() bool { return true } // a fetch always has work
	killLoop(t, rng, kills, full, always, func(d time.Duration) (bool, string) {
		// Anywhere from before the store is open to after the last poll.
		killed, _ := killAfter(t, bin, dir, d, "fetch", "--config", cfg)
		return killed, ""
	})
	runBinary(t, bin, dir, "fetch", "--config", cfg)

	got := openStored(t, filepath.Join(dir, "killed.db"))
	if len(got) != len(want) {
		t.Errorf("%d articles after the kills, want %d as in a clean run", len(got), len(want))
	}
	var missing, differ []string
	for id, w := range want {
		g, ok := got[id]
		switch {
		case !ok:
			missing = append(missing, w.Source+"/"+w.Identity)
		case g != w:
			differ = append(differ, fmt.Sprintf("%+v, want %+v", g, w))
		}
	}
	for id, g := range got {
		if _, ok := want[id]; !ok {
			t.Errorf("article not in a clean run: %+v", g)
		}
	}
	slices.Sort(missing)
	if len(missing) > 0 {
		t.Errorf("%d articles lost: %s", len(missing), strings.Join(missing, ", "))
	}
	for _, d := range differ {
		t.Errorf("article differs: %s", d)
	}
}

// TestKill_DigestSend kills `broadsheet digest send --tick` at random
// moments many times while it mails thirty recipients through a real SMTP
// server, then runs it to the end: each recipient must have exactly one
// message for the period, counted by Message-ID at the server, and none
// skipped. A kill between the server's acceptance of a message and the
// record of it may send that message again, with the same Message-ID (the
// window the digest package documents); each kill can cause at most one.
func TestKill_DigestSend(t *testing.T) {
	const nRcpts, kills = 30, 12
	bin := buildBinary(t)
	rng := killSeed(t)
	dir := t.TempDir()

	// The server holds each message a while after DATA, before reading
	// it: a kill then lands after the client sent the whole message, and
	// the server accepts it without the client hearing so (the window the
	// digest package documents). Kills land before that too, and after.
	var mu sync.Mutex
	n := 0
	srv := smtptest.Start(t, smtptest.Options{TLS: smtptest.None, Hook: func(ev smtptest.Event) error {
		if ev.Stage == "data" {
			mu.Lock()
			n++
			d := time.Duration(100+(n*37)%50) * time.Millisecond
			mu.Unlock()
			time.Sleep(d)
		}
		return nil
	}})
	var rcpts []string
	for i := range nRcpts {
		rcpts = append(rcpts, fmt.Sprintf("r%d@example.com", i))
	}
	feed := editorialServer(t, 4)
	cfg := killDigestConfig(t, dir, feed.URL+"/feed.xml", rcpts, srv.Port)
	runBinary(t, bin, dir, "fetch", "--config", cfg)

	// A run sends to a few recipients at most within the time allowed it
	// (each message takes 100–150 ms), so that kills land in runs with
	// work left.
	unsent := func() bool { return len(recipientsReached(srv)) < nRcpts }
	killedN := killLoop(t, rng, kills, 500*time.Millisecond, unsent, func(d time.Duration) (bool, string) {
		killed, _ := killAfter(t, bin, dir, d, "digest", "send", "daily", "--tick", "--config", cfg)
		return killed, fmt.Sprintf("%d reached", len(recipientsReached(srv)))
	})
	out := runBinary(t, bin, dir, "digest", "send", "daily", "--tick", "--config", cfg)

	ids := map[string]map[string]int{} // recipient → Message-ID → copies
	for _, m := range srv.Messages() {
		msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
		if err != nil {
			t.Fatalf("a message does not parse: %v", err)
		}
		id := msg.Header.Get("Message-ID")
		for _, to := range m.To {
			if ids[to] == nil {
				ids[to] = map[string]int{}
			}
			ids[to][id]++
		}
	}
	repeats := 0
	for _, r := range rcpts {
		switch {
		case len(ids[r]) == 0:
			t.Errorf("%s got no digest: skipped", r)
		case len(ids[r]) > 1:
			t.Errorf("%s got %d different digests for one period: %v", r, len(ids[r]), ids[r])
		}
		for _, copies := range ids[r] {
			repeats += copies - 1
		}
	}
	if repeats > killedN {
		t.Errorf("%d messages were sent again, more than the %d kills can explain", repeats, killedN)
	}
	t.Logf("%d recipients, %d messages at the server, %d sent again in the window between acceptance and record", nRcpts, len(srv.Messages()), repeats)

	db, err := sqlite.Open(context.Background(), filepath.Join(dir, "data", "bs.db"))
	if err != nil {
		t.Fatalf("the store does not open: %v", err)
	}
	defer db.Close()
	dels, err := db.Deliveries(context.Background(), store.DeliveryFilter{Digest: "daily"})
	if err != nil {
		t.Fatal(err)
	}
	periods := map[time.Time]bool{}
	for _, d := range dels {
		periods[d.Period] = true
		if d.State != store.DeliverySent {
			t.Errorf("delivery to %s is %s, want sent (%s)", d.Recipient, d.State, d.LastError)
		}
	}
	if len(dels) != nRcpts || len(periods) != 1 {
		t.Errorf("%d deliveries over %d periods, want %d in one period\nlast run:\n%s", len(dels), len(periods), nRcpts, out)
	}

	// Nothing is left to send.
	before := len(srv.Messages())
	if out := runBinary(t, bin, dir, "digest", "send", "daily", "--tick", "--config", cfg); !strings.Contains(out, "0 sent") {
		t.Errorf("another run after the end:\n%s", out)
	}
	if after := len(srv.Messages()); after != before {
		t.Errorf("another run sent %d more messages", after-before)
	}
}

// killLoop runs run with random delays in [0, span) while more reports
// work left, until it has killed kills processes in the middle of their
// work, or made three times as many attempts. It logs the delays and
// returns how many processes it killed with work left. It fails the test
// if that is fewer than half of kills.
func killLoop(t *testing.T, rng *rand.Rand, kills int, span time.Duration, more func() bool, run func(d time.Duration) (killed bool, note string)) int {
	t.Helper()
	var log []string
	killed := 0
	for try := 0; killed < kills && try < 3*kills && more(); try++ {
		d := time.Duration(rng.Int64N(int64(span)))
		k, note := run(d)
		entry := d.Round(time.Millisecond).String()
		if k {
			killed++
		} else {
			entry += " ended first"
		}
		if note != "" {
			entry += " (" + note + ")"
		}
		log = append(log, entry)
	}
	t.Logf("killed %d runs; delays: %s", killed, strings.Join(log, ", "))
	if killed < kills/2 {
		t.Errorf("only %d runs were killed before they ended, want at least %d", killed, kills/2)
	}
	return killed
}

// recipientsReached returns the recipients the server has a message for.
func recipientsReached(srv *smtptest.Server) map[string]bool {
	got := map[string]bool{}
	for _, m := range srv.Messages() {
		for _, to := range m.To {
			got[to] = true
		}
	}
	return got
}

// killDigestConfig is digestConfig with a yearly schedule, so that every
// run belongs to the same period, and an SMTP timeout of a second, so
// that the lease a killed run leaves (three timeouts) lapses soon, yet a
// loaded machine does not time out a message held 150 ms.
func killDigestConfig(t *testing.T, dir, feedURL string, rcpts []string, port int) string {
	t.Helper()
	cfg := fmt.Sprintf(`storage:
  driver: sqlite
  path: %s
server:
  listen: 127.0.0.1:0
  base_url: https://news.example.org/
fetch:
  allow_private_networks: true # the test feed is on loopback
log:
  level: warn
sources:
  - name: Local Opinion
    url: %s
    kind: editorial
smtp:
  host: 127.0.0.1
  port: %d
  tls: none
  from: "Broadsheet <digest@news.example.org>"
  timeout: 1s
digests:
  - name: daily
    schedule: "0 0 1 1 *"
    to: ["%s"]
    kinds: [editorial]
`, filepath.Join(dir, "data", "bs.db"), feedURL, port, strings.Join(rcpts, `", "`))
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
