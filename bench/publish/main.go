// Command benchserver serves the load benchmark's two targets side by side:
// /feed.atom from the real publish handler over a real SQLite store holding
// 100 items, and a static file of the same bytes from a plain
// http.FileServer. run.sh starts it and points wrk at both.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/broadsheet/broadsheet/feeds"
	"github.com/broadsheet/broadsheet/publish"
	"github.com/broadsheet/broadsheet/store/sqlite"
)

func main() {
	items := flag.Int("items", 100, "items in the feed")
	dir := flag.String("dir", "", "working folder (default: a temporary one)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *items, *dir); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, items int, dir string) error {
	if dir == "" {
		d, err := os.MkdirTemp("", "broadsheet-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	db, err := sqlite.Open(ctx, filepath.Join(dir, "bench.db"))
	if err != nil {
		return err
	}
	defer db.Close()
	srcs, err := seed(ctx, db, items)
	if err != nil {
		return err
	}
	h := publish.New(db, publish.Options{
		BaseURL:   "http://127.0.0.1:8080/",
		FeedItems: items,
		Sources:   srcs,
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err := h.Refresh(ctx); err != nil {
		return err
	}

	// The static twin: the same bytes, served by http.FileServer.
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/feed.atom", nil))
	if rec.Code != http.StatusOK {
		return fmt.Errorf("GET /feed.atom: status %d", rec.Code)
	}
	static := filepath.Join(dir, "static")
	if err := os.MkdirAll(static, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(static, "feed.atom"), rec.Body.Bytes(), 0o644); err != nil {
		return err
	}
	mtime := time.Now().Add(-time.Hour).Truncate(time.Second)
	if err := os.Chtimes(filepath.Join(static, "feed.atom"), mtime, mtime); err != nil {
		return err
	}

	pubLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	staticLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	go (&http.Server{Handler: h}).Serve(pubLn)
	go (&http.Server{Handler: http.FileServer(http.Dir(static))}).Serve(staticLn)
	fmt.Printf("publish=%s static=%s bytes=%d etag=%s static_lastmod=%q\n",
		pubLn.Addr(), staticLn.Addr(), rec.Body.Len(), rec.Header().Get("ETag"), mtime.UTC().Format(http.TimeFormat))
	<-ctx.Done()
	return nil
}

// seed stores items articles from five sources, with summaries and contents
// of a typical news feed's size.
func seed(ctx context.Context, db *sqlite.DB, items int) ([]feeds.Source, error) {
	var srcs []feeds.Source
	for i := range 5 {
		srcs = append(srcs, feeds.Source{Name: fmt.Sprintf("Outlet %d", i), URL: fmt.Sprintf("https://outlet%d.example/feed.xml", i), Kind: feeds.KindNews})
	}
	if err := db.SyncSources(ctx, srcs); err != nil {
		return nil, err
	}
	base := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	para := "<p>" + strings.Repeat("The committee met again on Tuesday to weigh the proposal, which critics say goes too far. ", 4) + "</p>"
	byStream := map[string][]feeds.Article{}
	for i := range items {
		src := srcs[i%len(srcs)].Name
		link := fmt.Sprintf("https://outlet%d.example/2026/03/10/story-%d", i%len(srcs), i)
		byStream[src] = append(byStream[src], feeds.Article{
			Source:    src,
			Identity:  link,
			Link:      link,
			LinkKey:   link,
			Title:     fmt.Sprintf("Story %d: lawmakers weigh a proposal on the budget", i),
			Summary:   para,
			Content:   para + para + para,
			Excerpt:   "The committee met again on Tuesday to weigh the proposal.",
			Author:    "A. Reporter",
			Kind:      feeds.KindNews,
			Published: base.Add(-time.Duration(i) * 7 * time.Minute),
		})
	}
	for _, s := range srcs {
		st := feeds.SourceState{Source: s.Name, URL: s.URL, Active: true, LastAttempt: base, LastSuccess: base, LastStatus: 200}
		if _, err := db.SavePoll(ctx, feeds.Poll{State: st, Articles: byStream[s.Name]}); err != nil {
			return nil, err
		}
	}
	return srcs, nil
}
