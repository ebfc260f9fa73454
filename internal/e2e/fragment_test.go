package e2e

import (
	"html"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/broadsheet/broadsheet/feeds"
	"github.com/broadsheet/broadsheet/feeds/fetch"
	"github.com/broadsheet/broadsheet/publish"
	"github.com/broadsheet/broadsheet/store"
)

// TestFragmentLinks polls the RSS 2.0 specification's sample feed, whose
// nine posts are one page of a weblog told apart by the fragment of their
// permalinks, and checks that all nine are stored with their fragment and
// republished as nine in every combined feed and on the page.
func TestFragmentLinks(t *testing.T) {
	body, err := os.ReadFile("testdata/rss2-sample.xml")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		w.Write(body)
	}))
	defer srv.Close()
	db := openStore(t)
	srcs := []feeds.Source{{Name: "Scripting News", URL: srv.URL + "/rss.xml", Kind: feeds.KindNews}}
	client := fetch.New(fetch.Options{Timeout: 5 * time.Second, AllowPrivateNetworks: true})
	reps := pollAll(t, client, db, srcs, 1, 10*time.Second, 30*time.Second)
	if len(reps) != 1 || reps[0].Err != nil || reps[0].New != 9 {
		t.Fatalf("poll reports %+v, want one with 9 new", reps)
	}
	arts, err := db.Articles(t.Context(), store.ArticleFilter{})
	if err != nil {
		t.Fatal(err)
	}
	links := map[string]bool{}
	for _, a := range arts {
		if !strings.Contains(a.Link, "#When:") {
			t.Errorf("stored link %q lost its fragment (guid %q)", a.Link, a.Identity)
		}
		links[a.Link] = true
	}
	if len(arts) != 9 || len(links) != 9 {
		t.Fatalf("stored %d articles with %d distinct links, want 9 and 9", len(arts), len(links))
	}

	// The posts are of 2002: the page must reach back that far.
	h := publish.New(db, publish.Options{Title: "e2e", BaseURL: "https://news.example.org/", FeedItems: 50,
		Sources: srcs, Logger: quiet, Window: time.Since(time.Date(2002, 9, 1, 0, 0, 0, 0, time.UTC))})
	if err := h.Refresh(t.Context()); err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	for _, path := range []string{"/feed.atom", "/feed.rss", "/feed.json", "/"} {
		out := string(handlerGet(t, h, path))
		if path == "/" || path == "/feed.atom" || path == "/feed.rss" {
			out = html.UnescapeString(out)
		}
		n := 0
		for l := range links {
			if strings.Contains(out, l) {
				n++
			}
		}
		if n != 9 {
			t.Errorf("%s carries %d of the 9 posts' links, want all 9", path, n)
		}
	}
}
