package publish

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/broadsheet/broadsheet/feeds"
	"github.com/broadsheet/broadsheet/sanitize"
	"github.com/broadsheet/broadsheet/store"
	"github.com/broadsheet/broadsheet/topics"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// memStore is an in-memory Store for unit tests; the end-to-end tests use
// the real SQLite store.
type memStore struct {
	mu      sync.Mutex
	arts    []feeds.Article
	states  []feeds.SourceState
	pingErr error
	queries int
}

func (m *memStore) Articles(ctx context.Context, f store.ArticleFilter) ([]feeds.Article, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.queries++
	var out []feeds.Article
	for _, a := range m.arts {
		if f.IDs != nil && !slices.Contains(f.IDs, a.ID) ||
			f.Sources != nil && !slices.Contains(f.Sources, a.Source) ||
			f.Kinds != nil && !slices.Contains(f.Kinds, a.Kind) ||
			!f.PublishedSince.IsZero() && a.Published.Before(f.PublishedSince) ||
			!f.SeenSince.IsZero() && a.FirstSeen.Before(f.SeenSince) ||
			!f.SeenBefore.IsZero() && !a.FirstSeen.Before(f.SeenBefore) {
			continue
		}
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Published.Equal(out[j].Published) {
			return out[i].Published.After(out[j].Published)
		}
		return out[i].ID > out[j].ID
	})
	if f.Limit > 0 && len(out) > f.Limit {
		out = out[:f.Limit]
	}
	return out, nil
}

// SourceStates returns the states the test set, with each one's article
// count and an ArticlesVersion that changes whenever any of the source's
// articles does, as a real store's does: a hash of them, since tests edit
// m.arts in place.
func (m *memStore) SourceStates(ctx context.Context) ([]feeds.SourceState, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.pingErr != nil {
		return nil, m.pingErr
	}
	out := slices.Clone(m.states)
	for i := range out {
		h := fnv.New64a()
		n := 0
		for _, a := range m.arts {
			if a.Source == out[i].Source {
				fmt.Fprintf(h, "%#v\n", a)
				n++
			}
		}
		out[i].Articles, out[i].ArticlesVersion = n, int64(h.Sum64()>>1)
	}
	return out, nil
}

func (m *memStore) Ping(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.pingErr
}

func (m *memStore) Query() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.queries
}

// versionedStore adds a Version to memStore.
type versionedStore struct {
	*memStore
	version string
}

func (v *versionedStore) DataVersion(ctx context.Context) (string, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.version, nil
}

// articleLister is the part of a store storeGroups reads.
type articleLister interface {
	Articles(ctx context.Context, f store.ArticleFilter) ([]feeds.Article, error)
}

// storeGroups answers the groups query as assign.Assigner does: the
// store's articles, grouped by stored memberships, whose configured topics
// are the configured ones, in order. set replaces the memberships, as
// assigning topics again would.
type storeGroups struct {
	st      articleLister
	mu      sync.Mutex
	members []topics.Members
}

func newGroups(st articleLister, ms ...topics.Members) *storeGroups {
	return &storeGroups{st: st, members: ms}
}

func (g *storeGroups) set(ms ...topics.Members) {
	g.mu.Lock()
	g.members = ms
	g.mu.Unlock()
}

func (g *storeGroups) Groups(ctx context.Context, q topics.Query) ([]topics.Group, error) {
	arts, err := g.st.Articles(ctx, store.ArticleFilter{PublishedSince: q.PublishedSince})
	if err != nil {
		return nil, err
	}
	g.mu.Lock()
	ms := slices.Clone(g.members)
	g.mu.Unlock()
	var conf []topics.Topic
	for _, m := range ms {
		if m.Kind == topics.KindConfigured {
			conf = append(conf, m.Topic)
		}
	}
	return topics.Build(arts, ms, conf, q), nil
}

// members is a stored topic and its articles' ids.
func members(slug, label string, kind topics.Kind, ids ...string) topics.Members {
	return topics.Members{Topic: topics.Topic{Slug: slug, Label: label, Kind: kind}, ArticleIDs: ids}
}

var errGroups = errors.New("groups unavailable")

// now is the fixtures' clock.
var now = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

func at(h, m int) time.Time { return time.Date(2026, 3, 10, h, m, 0, 0, time.UTC) }

var fixtureSources = []feeds.Source{
	{Name: "Daily Planet", URL: "https://dailyplanet.example/rss", Kind: feeds.KindNews, Tags: []string{"metro"}},
	{Name: "The Bugle", URL: "https://bugle.example/feed.atom", Kind: feeds.KindNews},
	{Name: "Opinion Weekly", URL: "https://opinion.example/feed", Kind: feeds.KindEditorial, Tags: []string{"opinion"}},
	{Name: "Quiet Source", URL: "https://quiet.example/rss.xml", Kind: feeds.KindNews},
}

// article builds a stored article with its id derived as the store does.
func article(source, identity, title, link string, published time.Time) feeds.Article {
	return feeds.Article{
		ID:        feeds.ArticleID(source, identity),
		Source:    source,
		Identity:  identity,
		Link:      link,
		LinkKey:   link,
		Title:     title,
		Kind:      feeds.KindNews,
		Published: published,
		FirstSeen: published.Add(5 * time.Minute),
	}
}

// fixtureArticles are the fixed data of the golden files: a story several
// outlets cover, an editorial, one wire story carried by two sources,
// text that needs escaping and an item without a link.
func fixtureArticles() []feeds.Article {
	a1 := article("Daily Planet", "dp-1", "Leaders meet at climate summit", "https://dailyplanet.example/2026/03/10/summit", at(10, 0))
	a1.Summary = "<p>Leaders <b>met</b> today in Geneva.</p>"
	a1.Content = "<p>Leaders <b>met</b> today in Geneva.</p><p>Talks went on <a href=\"/live\">into the night</a>.</p>"
	a1.Excerpt = "Leaders met today in Geneva."
	a1.Author = "Lois Lane"
	a1.Categories = []string{"World"}

	a2 := article("The Bugle", "bugle-1", "Summit ends without a deal", "https://bugle.example/world/summit", at(11, 0))
	a2.Summary = "Delegates left without agreement."
	a2.Excerpt = "Delegates left without agreement."
	a2.Updated = at(11, 30)

	a3 := article("Opinion Weekly", "ow-1", "[Editorial] The summit failed us", "https://opinion.example/editorial/summit", at(9, 0))
	a3.Kind = feeds.KindEditorial
	a3.Summary = "<p>Another summit, another <em>shrug</em>.</p>"
	a3.Excerpt = "Another summit, another shrug."
	a3.Author = "The Editorial Board"

	a4 := article("Daily Planet", "dp-2", "Storm hits the coast", "https://wire.example/storm", at(8, 0))
	a4.Summary = "A storm made landfall."
	a5 := article("The Bugle", "bugle-2", "Storm hits the coast", "https://wire.example/storm", at(8, 30))
	a5.Summary = "A storm made landfall, the wire reports."

	a6 := article("The Bugle", "bugle-3", `Markets rally & bonds fall: "Señor" says 5% < 6% & AT&T`, "https://bugle.example/markets?id=1&src=rss", at(7, 0).Add(-24*time.Hour))
	a6.Excerpt = "Stocks rose; bonds fell & yields climbed."
	a6.Summary = "<p>Stocks rose; bonds fell &amp; yields climbed.</p>"

	a7 := article("Daily Planet", "dp-3", "Notice without a link", "", at(6, 0))
	a7.LinkKey = ""
	a7.Summary = "<p>Office closed on Friday.</p>"
	arts := []feeds.Article{a1, a2, a3, a4, a5, a6, a7}
	for i := range arts {
		arts[i] = stored(arts[i])
	}
	return arts
}

// stored returns a with its HTML as ingest stores it (sanitized, links
// resolved against the item's link), which publish republishes as it is.
func stored(a feeds.Article) feeds.Article {
	base, _ := url.Parse(a.Link)
	if a.Link == "" {
		base = nil
	}
	a.Summary, a.Content = sanitize.HTML(a.Summary, base), sanitize.HTML(a.Content, base)
	return a
}

// fixtureMembers are the topics of fixtureArticles: a configured topic
// matching two of the summit story's three items, the story, and a
// configured topic matching nothing.
func fixtureMembers() []topics.Members {
	arts := fixtureArticles()
	return []topics.Members{
		members("climate", "Climate", topics.KindConfigured, arts[0].ID, arts[2].ID),
		members("summit-talks", "Summit ends without a deal", topics.KindStory, arts[0].ID, arts[1].ID, arts[2].ID),
		members("korean-peninsula", "Korean Peninsula", topics.KindConfigured),
	}
}

func fixtureGroups(st articleLister) *storeGroups { return newGroups(st, fixtureMembers()...) }

func fixtureStates() []feeds.SourceState {
	return []feeds.SourceState{
		{Source: "Daily Planet", Active: true, LastAttempt: at(11, 55), LastSuccess: at(11, 55)},
		{Source: "The Bugle", Active: true, LastAttempt: at(11, 50), LastSuccess: at(11, 20), Failures: 2},
		{Source: "Old Source", Active: false, LastAttempt: at(11, 59)},
	}
}

func fixtureOptions() Options {
	return Options{
		Title:   "broadsheet",
		BaseURL: "https://news.example.org/",
		Sources: fixtureSources,
		Now:     func() time.Time { return now },
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
}

// newFixture returns a refreshed handler over the fixtures.
func newFixture(t *testing.T) (*Handler, *memStore) {
	t.Helper()
	arts := fixtureArticles()
	st := &memStore{arts: arts, states: fixtureStates()}
	opts := fixtureOptions()
	opts.Groups = fixtureGroups(st)
	h := New(st, opts)
	if err := h.Refresh(context.Background()); err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	return h, st
}

// get performs one request against h and returns the recorded response.
func get(t *testing.T, h http.Handler, method, path string, header map[string]string) *http.Response {
	t.Helper()
	r := httptest.NewRequest(method, path, nil)
	for k, v := range header {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Result()
}

func body(t *testing.T, res *http.Response) []byte {
	t.Helper()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it):\n%s", name, diff(string(want), string(got)))
	}
}

// diff shows the first differing line, enough to find a change.
func diff(want, got string) string {
	wl, gl := splitLines(want), splitLines(got)
	for i := 0; i < max(len(wl), len(gl)); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return fmt.Sprintf("line %d:\n  want %q\n  got  %q", i+1, w, g)
		}
	}
	return "(no line differs)"
}

func splitLines(s string) []string {
	var out []string
	for len(s) > 0 {
		i := 0
		for i < len(s) && s[i] != '\n' {
			i++
		}
		out = append(out, s[:i])
		if i < len(s) {
			i++
		}
		s = s[i:]
	}
	return out
}
