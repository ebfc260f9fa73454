package publish

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/broadsheet/broadsheet/feeds"
	"github.com/broadsheet/broadsheet/topics"
)

// TestHandler_OutletName checks that every output shows a source's name
// cleaned as the digests show it (no bidi or control characters), while
// the name as stored still finds the source's items, slug and feed.
func TestHandler_OutletName(t *testing.T) {
	// Names as an older config or another writer may have stored them.
	planet, wire := "Daily \u202eTenalp\a Planet", "Wire\u2066 Service\u2069"
	srcs := []feeds.Source{
		{Name: planet, URL: "https://planet.example/rss", Kind: feeds.KindNews},
		{Name: wire, URL: "https://wire.example/rss", Kind: feeds.KindNews},
	}
	const link = "https://wire.example/2026/03/10/story"
	a1 := article(planet, "p-1", "Shared story", link, at(10, 0))
	a2 := article(wire, "w-1", "Shared story", link, at(10, 5))
	a1.Summary, a2.Summary = "<p>Text.</p>", "<p>Text.</p>"
	st := &memStore{arts: []feeds.Article{a1, a2}}
	opts := fixtureOptions()
	opts.Sources = srcs
	opts.Groups = newGroups(st, members("shared-story", "Shared story", topics.KindStory, a1.ID, a2.ID))
	h := New(st, opts)
	if err := h.Refresh(context.Background()); err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	slug := feeds.Slugify(planet)
	if slug == "" {
		t.Fatalf("Slugify(%q) is empty", planet)
	}
	shown := "Daily Tenalp Planet"
	for _, o := range []struct {
		path string
		want []string
	}{
		{"/", []string{shown, "Wire Service"}},
		{"/opml", []string{shown, "Wire Service"}},
		{"/feed.atom", []string{shown}},
		{"/feed.rss", []string{shown}},
		{"/feed.json", []string{shown, `"also_in": [`, `"Wire Service"`}},
		// The slug and the source's items are found by the name as stored.
		{"/sources/" + slug + ".atom", []string{"broadsheet: " + shown, "Items from " + shown, "Shared story"}},
		{"/sources/" + slug + ".json", []string{shown, "Shared story"}},
	} {
		t.Run(o.path, func(t *testing.T) {
			res := get(t, h, http.MethodGet, o.path, nil)
			b := string(body(t, res))
			if res.StatusCode != http.StatusOK {
				t.Fatalf("GET %s: status %d", o.path, res.StatusCode)
			}
			for _, w := range o.want {
				if !strings.Contains(b, w) {
					t.Errorf("GET %s does not contain %q", o.path, w)
				}
			}
			for _, bad := range []string{"\u202e", "\u2066", "\u2069", "\a", `\u202e`, `\u2066`, `\u0007`, "&#x7;", "&#7;"} {
				if strings.Contains(b, bad) {
					t.Errorf("GET %s shows a source name with %q in it", o.path, bad)
				}
			}
		})
	}
}

// TestHandler_OutletNameFailing checks the page's list of failing sources,
// shown while there is no item yet.
func TestHandler_OutletNameFailing(t *testing.T) {
	name := "Broken\u202e Feed"
	st := &memStore{states: []feeds.SourceState{{Source: name, Active: true, LastAttempt: at(11, 0), Failures: 1, LastError: "the server answered 500"}}}
	opts := fixtureOptions()
	opts.Sources = []feeds.Source{{Name: name, URL: "https://broken.example/rss"}}
	opts.Groups = newGroups(st)
	h := New(st, opts)
	if err := h.Refresh(context.Background()); err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	b := string(body(t, get(t, h, http.MethodGet, "/", nil)))
	if !strings.Contains(b, "Broken Feed") || strings.Contains(b, "\u202e") {
		t.Errorf("the failing source is not listed as %q, or with its bidi control:\n%s", "Broken Feed", b)
	}
}
