package publish

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/broadsheet/broadsheet/feeds"
	"github.com/broadsheet/broadsheet/store/sqlite"
	"github.com/broadsheet/broadsheet/topics"
)

// BenchmarkHandler_Refresh renders a large installation: 50 sources of 100
// items each and 20 topics, every output in three formats, gzipped.
func BenchmarkHandler_Refresh(b *testing.B) {
	var srcs []feeds.Source
	var arts []feeds.Article
	base := benchArticles(100)
	for s := range 50 {
		name := fmt.Sprintf("Outlet %d", s)
		srcs = append(srcs, feeds.Source{Name: name, URL: fmt.Sprintf("https://outlet%d.example/feed", s)})
		for i, a := range base {
			a.Source = name
			a.ID = feeds.ArticleID(name, fmt.Sprint(i))
			a.Link = fmt.Sprintf("https://outlet%d.example/story-%d", s, i)
			a.LinkKey = a.Link
			a.Hash = feeds.ContentHash(a)
			arts = append(arts, a)
		}
	}
	var ms []topics.Members
	for g := range 20 {
		var ids []string
		for s := range 10 {
			ids = append(ids, arts[(g*10+s)*37%len(arts)].ID)
		}
		ms = append(ms, members(fmt.Sprintf("topic-%d", g), fmt.Sprintf("Topic %d", g), topics.KindStory, ids...))
	}
	st := &memStore{arts: arts}
	opts := fixtureOptions()
	opts.Sources, opts.Groups = srcs, newGroups(st, ms...)
	h := New(st, opts)
	b.ResetTimer()
	for b.Loop() {
		if err := h.Refresh(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	var bytes, gz int
	for _, o := range h.snap.Load().files {
		bytes += len(o.body)
		gz += len(o.gz)
	}
	b.ReportMetric(float64(len(h.snap.Load().files)), "outputs")
	b.ReportMetric(float64(bytes)/1e6, "MB")
	b.ReportMetric(float64(gz)/1e6, "MB-gzipped")
}

// BenchmarkHandler_RefreshAfterPoll measures what a replica pays to
// refresh after a poll stored one new article, on the real SQLite store:
// 400 sources of 20 articles, every output in three formats. The baseline,
// in the same iteration, is a Handler forgetting the articles it kept
// before each Refresh, so that it reads and renders every source again, as
// every Refresh did before per-source stamps; the figures are ms and source
// queries per Refresh for each, and the ratio of times.
func BenchmarkHandler_RefreshAfterPoll(b *testing.B) {
	ctx := context.Background()
	const nSources, perSource = 400, 20
	db, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "broadsheet.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	var srcs []feeds.Source
	for s := range nSources {
		srcs = append(srcs, feeds.Source{Name: fmt.Sprintf("Outlet %d", s), URL: fmt.Sprintf("https://outlet%d.example/feed", s)})
	}
	if err := db.SyncSources(ctx, srcs); err != nil {
		b.Fatal(err)
	}
	tmpl := benchArticles(perSource)
	polled := 0
	poll := func(s int, arts []feeds.Article) {
		for i := range arts {
			arts[i].Source, arts[i].ID, arts[i].Hash, arts[i].FirstSeen = srcs[s].Name, "", "", time.Time{}
		}
		st := feeds.SourceState{Source: srcs[s].Name, Active: true, LastStatus: 200}
		if _, err := db.SavePoll(ctx, feeds.Poll{State: st, Articles: arts}); err != nil {
			b.Fatal(err)
		}
	}
	for s := range nSources {
		poll(s, slices.Clone(tmpl))
	}
	newItem := func() {
		polled++
		a := tmpl[0]
		a.Identity = fmt.Sprintf("new-%d", polled)
		a.Published = now.Add(time.Duration(polled) * time.Second)
		poll(polled%nSources, []feeds.Article{a})
	}

	cs := &countingStore{DB: db}
	opts := fixtureOptions()
	opts.Sources, opts.FeedItems = srcs, perSource
	incr, full := New(cs, opts), New(cs, opts)
	for _, h := range []*Handler{incr, full} {
		if err := h.Refresh(ctx); err != nil {
			b.Fatal(err)
		}
	}
	cs.take()
	var incrDur, fullDur time.Duration
	var incrReads, fullReads int
	for b.Loop() {
		newItem()
		start := time.Now()
		if err := incr.Refresh(ctx); err != nil {
			b.Fatal(err)
		}
		incrDur += time.Since(start)
		read, _ := cs.take()
		incrReads += len(read)

		full.mu.Lock()
		full.cache.sources = nil
		full.mu.Unlock()
		start = time.Now()
		if err := full.Refresh(ctx); err != nil {
			b.Fatal(err)
		}
		fullDur += time.Since(start)
		read, _ = cs.take()
		fullReads += len(read)
	}
	n := float64(b.N)
	b.ReportMetric(float64(incrDur)/1e6/n, "ms/refresh")
	b.ReportMetric(float64(fullDur)/1e6/n, "baseline-ms/refresh")
	b.ReportMetric(incrDur.Seconds()/fullDur.Seconds(), "ratio")
	b.ReportMetric(float64(incrReads)/n, "source-queries/refresh")
	b.ReportMetric(float64(fullReads)/n, "baseline-source-queries/refresh")
	b.ReportMetric(0, "ns/op")
}
