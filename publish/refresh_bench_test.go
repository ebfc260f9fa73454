package publish

import (
	"context"
	"fmt"
	"testing"

	"github.com/broadsheet/broadsheet/feeds"
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
			a.StoryKey = a.Link
			a.Hash = feeds.ContentHash(a)
			arts = append(arts, a)
		}
	}
	var groups fixedGroups
	for g := range 20 {
		var ids []string
		for s := range 10 {
			ids = append(ids, arts[(g*10+s)*37%len(arts)].ID)
		}
		groups = append(groups, Group{Slug: fmt.Sprintf("topic-%d", g), Label: fmt.Sprintf("Topic %d", g), Kind: GroupStory, ArticleIDs: ids})
	}
	opts := fixtureOptions()
	opts.Sources, opts.Groups = srcs, groups
	h := New(&memStore{arts: arts}, opts)
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
