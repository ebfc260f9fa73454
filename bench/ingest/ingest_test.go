// Package ingest benchmarks broadsheet's ingest path — parse, normalize,
// sanitize, store — against gofeed parsing alone on the same bytes, measured
// in the same run:
//
//	go test -run '^$' -bench . ./bench/ingest/
//
// Two cases: "new", a feed never seen before (every item sanitized and
// inserted), and "repoll", a changed feed polled again (its items already
// stored and their sanitized HTML cached), the steady state of a daemon.
// Goal: the whole path costs at most twice gofeed alone.
package ingest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"

	"github.com/broadsheet/broadsheet/feeds"
	"github.com/broadsheet/broadsheet/feeds/fetch"
	"github.com/broadsheet/broadsheet/store/sqlite"
)

func BenchmarkIngest(b *testing.B) {
	data, err := os.ReadFile(filepath.Join("..", "..", "feeds", "fetch", "testdata", "bench", "news-100.xml"))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()

	parser := gofeed.NewParser()
	gofeedOnly := func(int) {
		f, err := parser.Parse(bytes.NewReader(data))
		if err != nil || len(f.Items) != 100 {
			b.Fatalf("gofeed: %v, %d items", err, len(f.Items))
		}
	}
	warm := fetch.New(fetch.Options{})
	ingest := func(c *fetch.Client, src feeds.Source, wantNew int) {
		arts, _, err := c.Parse(src, bytes.NewReader(data), "application/rss+xml; charset=utf-8")
		if err != nil {
			b.Fatal(err)
		}
		st, err := db.SavePoll(ctx, feeds.Poll{State: feeds.SourceState{Source: src.Name, URL: src.URL, Active: true}, Articles: arts})
		if err != nil {
			b.Fatal(err)
		}
		if st.New != wantNew {
			b.Fatalf("%d new articles, want %d", st.New, wantNew)
		}
	}
	// A new feed: a fresh client (nothing cached) and a source name never
	// stored, so every item is new.
	newFeed := func(i int) {
		ingest(fetch.New(fetch.Options{}), feeds.Source{Name: fmt.Sprintf("new-%d", i), URL: "https://news.example/rss"}, 100)
	}
	// A feed polled again: the same source, its items stored and cached.
	repollSrc := feeds.Source{Name: "repoll", URL: "https://news.example/rss"}
	ingest(warm, repollSrc, 100)
	repoll := func(int) { ingest(warm, repollSrc, 0) }

	cases := []struct {
		name string
		f    func(int)
	}{{"gofeed", gofeedOnly}, {"new", newFeed}, {"repoll", repoll}}
	var took [3]time.Duration
	n := 0
	for b.Loop() {
		// Interleaved, so that a busy machine slows every case alike.
		for i, c := range cases {
			t0 := time.Now()
			c.f(n)
			took[i] += time.Since(t0)
		}
		n++
	}
	for i, c := range cases {
		b.ReportMetric(float64(took[i].Microseconds())/float64(n), c.name+"-µs/op")
	}
	b.ReportMetric(float64(took[1])/float64(took[0]), "new/gofeed")
	b.ReportMetric(float64(took[2])/float64(took[0]), "repoll/gofeed")
	b.Logf("%d rounds of 100 items (%d KiB): gofeed %v, new feed %v (%.2f×), repoll %v (%.2f×); goal ≤ 2×",
		n, len(data)/1024, took[0]/time.Duration(n), took[1]/time.Duration(n), float64(took[1])/float64(took[0]),
		took[2]/time.Duration(n), float64(took[2])/float64(took[0]))
}
