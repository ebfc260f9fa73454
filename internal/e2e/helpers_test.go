package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/broadsheet/broadsheet/digest"
	"github.com/broadsheet/broadsheet/digest/outbox"
	"github.com/broadsheet/broadsheet/digest/smtp"
	"github.com/broadsheet/broadsheet/feeds"
	"github.com/broadsheet/broadsheet/feeds/fetch"
	"github.com/broadsheet/broadsheet/publish"
	"github.com/broadsheet/broadsheet/store"
	"github.com/broadsheet/broadsheet/store/sqlite"
)

// quiet discards the log lines of pollers, handlers and digests: a corpus
// run would print thousands.
var quiet = slog.New(slog.DiscardHandler)

// openStore opens a SQLite file store in a temporary folder, closed with t.
func openStore(t *testing.T) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "broadsheet.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// deadlineFetcher runs each fetch under its own deadline, as a per-source
// bound, and records every fetch that took longer than the bound allows:
// a fetch must stop at its deadline, not merely report it afterwards.
type deadlineFetcher struct {
	f     feeds.Fetcher
	limit time.Duration

	mu       sync.Mutex
	overruns []string
	running  map[string]time.Time
}

func newDeadlineFetcher(f feeds.Fetcher, limit time.Duration) *deadlineFetcher {
	return &deadlineFetcher{f: f, limit: limit, running: map[string]time.Time{}}
}

func (d *deadlineFetcher) Fetch(ctx context.Context, src feeds.Source, prev feeds.SourceState) (*feeds.FetchResult, error) {
	ctx, cancel := context.WithTimeout(ctx, d.limit)
	defer cancel()
	start := time.Now()
	d.mu.Lock()
	d.running[src.Name] = start
	d.mu.Unlock()
	res, err := d.f.Fetch(ctx, src, prev)
	took := time.Since(start)
	d.mu.Lock()
	delete(d.running, src.Name)
	// A second of grace for the goroutines of a loaded machine.
	if took > d.limit+time.Second {
		d.overruns = append(d.overruns, fmt.Sprintf("%s took %v", src.Name, took.Round(time.Millisecond)))
	}
	d.mu.Unlock()
	return res, err
}

// inFlight lists the fetches under way, longest first.
func (d *deadlineFetcher) inFlight() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []string
	for name, start := range d.running {
		out = append(out, fmt.Sprintf("%s (%v)", name, time.Since(start).Round(time.Millisecond)))
	}
	slices.Sort(out)
	return out
}

// pollAll polls srcs once through a Poller with workers into db, fetching
// with c under a per-source deadline of limit. It fails the test if the
// batch does not finish within total (naming the fetches still running) or
// if any fetch outlived its deadline.
func pollAll(t *testing.T, c *fetch.Client, db *sqlite.DB, srcs []feeds.Source, workers int, limit, total time.Duration) []feeds.Report {
	t.Helper()
	ctx := t.Context()
	if err := db.SyncSources(ctx, srcs); err != nil {
		t.Fatal(err)
	}
	df := newDeadlineFetcher(c, limit)
	p := feeds.NewPoller(df, db, feeds.PollerOptions{
		Workers: workers,
		Next:    func(feeds.Source, time.Time) time.Time { return time.Now().Add(time.Hour) },
		Logger:  quiet,
	})
	done := make(chan []feeds.Report, 1)
	go func() { done <- p.PollNow(ctx, srcs, nil) }()
	var reports []feeds.Report
	select {
	case reports = <-done:
	case <-time.After(total):
		t.Fatalf("polling %d sources did not finish within %v; still fetching: %v", len(srcs), total, df.inFlight())
	}
	for _, o := range df.overruns {
		t.Errorf("fetch outlived its %v deadline: %s", limit, o)
	}
	return reports
}

// checkFetchError fails unless err is a *feeds.FetchError with a reason a
// user can act on.
func checkFetchError(t *testing.T, source string, err error) {
	t.Helper()
	var fe *feeds.FetchError
	if !errors.As(err, &fe) {
		t.Errorf("%s: error %v (%T) is not a *feeds.FetchError", source, err, err)
		return
	}
	if strings.TrimSpace(fe.Reason) == "" {
		t.Errorf("%s: FetchError without a reason: %v", source, err)
	}
}

// handlerGet serves path from h and returns the body, failing unless the
// status is 200.
func handlerGet(t *testing.T, h http.Handler, path string) []byte {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET %s: status %d: %s", path, rec.Code, rec.Body.String())
	}
	return rec.Body.Bytes()
}

// newPublisher renders everything db holds (up to items entries per feed)
// and returns the handler.
func newPublisher(t *testing.T, db *sqlite.DB, srcs []feeds.Source, items int) *publish.Handler {
	t.Helper()
	h := publish.New(db, publish.Options{
		Title:     "e2e",
		BaseURL:   "https://news.example.org/",
		FeedItems: items,
		Sources:   srcs,
		Logger:    quiet,
	})
	if err := h.Refresh(t.Context()); err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	return h
}

// email is a digest message read back from the outbox: its headers and
// the decoded text and HTML parts.
type email struct {
	Header     mail.Header
	Text, HTML string
}

// sendDigest sends d from db to the outbox in a temporary folder and reads
// back the message each recipient got.
func sendDigest(t *testing.T, db *sqlite.DB, d digest.Digest) map[string]email {
	t.Helper()
	dir := t.TempDir()
	svc, err := digest.New(db, outbox.New(dir, smtp.WriteMessage), nil, nil, digest.Options{
		BaseURL: "https://news.example.org/",
		Title:   "e2e",
		Secret:  []byte("e2e secret"),
		Lease:   time.Minute,
		Logger:  quiet,
	})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := svc.Send(t.Context(), d, time.Now())
	if err != nil {
		t.Fatalf("digest send: %v", err)
	}
	if got, want := rep.Count(store.DeliverySent), len(d.To); got != want {
		t.Fatalf("digest sent %d messages, want %d: %+v", got, want, rep)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.eml"))
	out := map[string]email{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		m := readEmail(t, b)
		to, err := mail.ParseAddress(m.Header.Get("To"))
		if err != nil {
			t.Fatalf("%s: To: %v", f, err)
		}
		out[to.Address] = m
	}
	return out
}

// readEmail parses a multipart/alternative message into its two parts,
// decoding their transfer encodings.
func readEmail(t *testing.T, raw []byte) email {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("message does not parse: %v", err)
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("Content-Type %q (%v), want multipart/alternative", msg.Header.Get("Content-Type"), err)
	}
	e := email{Header: msg.Header}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		// NextPart undoes quoted-printable itself; base64 is left to us.
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("multipart: %v", err)
		}
		var body io.Reader = p
		if strings.EqualFold(p.Header.Get("Content-Transfer-Encoding"), "base64") {
			body = base64Reader(p)
		}
		b, err := io.ReadAll(body)
		if err != nil {
			t.Fatalf("part %s: %v", p.Header.Get("Content-Type"), err)
		}
		pt, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		switch pt {
		case "text/plain":
			e.Text = string(b)
		case "text/html":
			e.HTML = string(b)
		default:
			t.Errorf("unexpected part %s", pt)
		}
	}
	if e.Text == "" || e.HTML == "" {
		t.Fatalf("message lacks a part: text %d bytes, html %d bytes", len(e.Text), len(e.HTML))
	}
	return e
}

func base64Reader(r io.Reader) io.Reader { return base64.NewDecoder(base64.StdEncoding, r) }
