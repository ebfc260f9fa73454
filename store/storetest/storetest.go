// Package storetest is the conformance suite that every store.Store backend
// runs: Run checks each method's contract, edge cases and concurrency, and
// BenchmarkSavePoll measures the hot path of storing polls.
package storetest

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/broadsheet/broadsheet/feeds"
	"github.com/broadsheet/broadsheet/store"
)

// Clocked is a store whose clock, the one that stamps FirstSeen, can be
// set. The suite needs it for deterministic times; *sqldb.DB and the
// backends that embed it implement it.
type Clocked interface {
	SetNow(now func() time.Time)
}

// Run runs the suite against stores made by open. Each call of open must
// return a new, migrated store on a database private to the test t it is
// given; calling it again with the same t must return another handle on that
// same database, as a second process or replica would open it (the suite
// uses this for reopening and for concurrent claimers). open registers the
// closing of what it opens with t.Cleanup.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	s := &suite{open: open}
	t.Run("Ping", s.testPing)
	t.Run("SyncSources", s.testSyncSources)
	t.Run("SourceState", s.testSourceState)
	t.Run("SourceStates", s.testSourceStates)
	t.Run("SourceCounts", s.testSourceCounts)
	t.Run("ArticlesVersion", s.testArticlesVersion)
	t.Run("SavePoll", s.testSavePoll)
	t.Run("HostileItems", s.testHostileItems)
	t.Run("Enclosures", s.testEnclosures)
	t.Run("ClaimDue", s.testClaimDue)
	t.Run("Article", s.testArticle)
	t.Run("Articles", s.testArticles)
	t.Run("Reopen", s.testReopen)
	t.Run("Digest", s.testDigest)
	t.Run("Retain", s.testRetain)
	t.Run("Topics", func(t *testing.T) { RunTopics(t, open) })
	t.Run("Locks", func(t *testing.T) { RunLocks(t, open) })
	t.Run("DataVersion", func(t *testing.T) { RunDataVersion(t, open) })
	t.Run("SeenHorizon", func(t *testing.T) { RunSeenHorizon(t, open) })
}

type suite struct {
	open func(t *testing.T) store.Store
}

// base is the suite's "now" before any clock moves.
var base = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// clock is a settable time source.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

// env is one test's store and clock.
type env struct {
	t   *testing.T
	s   store.Store
	clk *clock
	ctx context.Context
}

// setup opens a store for t with its clock at base. Tests that have their
// own store run in parallel with each other.
func (s *suite) setup(t *testing.T) *env {
	t.Helper()
	t.Parallel()
	e := &env{t: t, clk: &clock{now: base}, ctx: t.Context()}
	e.s = s.handle(t, e.clk)
	return e
}

// handle opens a (further) handle on t's database, on clk.
func (s *suite) handle(t *testing.T, clk *clock) store.Store {
	t.Helper()
	st := s.open(t)
	c, ok := st.(Clocked)
	if !ok {
		t.Fatalf("store %T does not implement storetest.Clocked (SetNow)", st)
	}
	c.SetNow(clk.Now)
	return st
}

// sync records srcs as the configuration, failing the test on error.
func (e *env) sync(srcs ...feeds.Source) {
	e.t.Helper()
	if err := e.s.SyncSources(e.ctx, srcs); err != nil {
		e.t.Fatalf("SyncSources: %v", err)
	}
}

// save stores a poll of src's articles, with state st (Source filled in).
func (e *env) save(p feeds.Poll) feeds.SaveStats {
	e.t.Helper()
	stats, err := e.s.SavePoll(e.ctx, p)
	if err != nil {
		e.t.Fatalf("SavePoll(%s): %v", p.State.Source, err)
	}
	return stats
}

func (e *env) state(name string) feeds.SourceState {
	e.t.Helper()
	st, err := e.s.SourceState(e.ctx, name)
	if err != nil {
		e.t.Fatalf("SourceState(%q): %v", name, err)
	}
	return st
}

func (e *env) article(id string) feeds.Article {
	e.t.Helper()
	a, err := e.s.Article(e.ctx, id)
	if err != nil {
		e.t.Fatalf("Article(%q): %v", id, err)
	}
	return a
}

func (e *env) articles(f store.ArticleFilter) []feeds.Article {
	e.t.Helper()
	as, err := e.s.Articles(e.ctx, f)
	if err != nil {
		e.t.Fatalf("Articles(%+v): %v", f, err)
	}
	return as
}

func (e *env) claim(owner string, now time.Time, limit int, lease time.Duration) []string {
	e.t.Helper()
	names, err := e.s.ClaimDue(e.ctx, owner, now, limit, lease)
	if err != nil {
		e.t.Fatalf("ClaimDue(%s, %v): %v", owner, now, err)
	}
	return names
}

func src(name string) feeds.Source {
	return feeds.Source{
		Name: name,
		URL:  "https://" + feeds.Slugify(name) + ".example/feed.xml",
		Kind: feeds.KindNews,
		Tags: []string{"world", name},
	}
}

// art is article n of source, published at pub, with every field set.
func art(source string, n int, pub time.Time) feeds.Article {
	a := feeds.Article{
		Source:     source,
		Identity:   fmt.Sprintf("https://%s.example/%d", feeds.Slugify(source), n),
		Link:       fmt.Sprintf("https://%s.example/%d", feeds.Slugify(source), n),
		LinkKey:    fmt.Sprintf("story-%d", n),
		Title:      fmt.Sprintf("Title %d of %s — “quoted” & <b>not</b> HTML", n, source),
		Summary:    fmt.Sprintf("<p>Summary %d</p>", n),
		Content:    fmt.Sprintf("<p>Content %d, ünïcödé, 中文.</p>", n),
		Excerpt:    fmt.Sprintf("Excerpt %d", n),
		Author:     "A. Writer",
		Categories: []string{"politics", "europe"},
		Language:   "en",
		Kind:       feeds.KindNews,
		Published:  pub,
		Updated:    pub.Add(time.Minute),
	}
	return withIDs(a)
}

// withIDs sets the article's ID and Hash as the fetcher would.
func withIDs(a feeds.Article) feeds.Article {
	a.ID = feeds.ArticleID(a.Source, a.Identity)
	a.Hash = feeds.ContentHash(a)
	return a
}

// stateOf is a successful poll's state for source at now.
func stateOf(source string, now time.Time) feeds.SourceState {
	return feeds.SourceState{
		Source:      source,
		Active:      true,
		URL:         src(source).URL,
		ETag:        `"v1"`,
		LastAttempt: now,
		LastSuccess: now,
		LastStatus:  200,
		NextDue:     now.Add(time.Hour),
	}
}

// diff describes how got differs from want, field by field, comparing times
// by instant and treating nil and empty slices alike; "" means equal.
func diff(got, want any) string {
	gv, wv := reflect.ValueOf(got), reflect.ValueOf(want)
	if gv.Type() != wv.Type() || gv.Kind() != reflect.Struct {
		if !reflect.DeepEqual(got, want) {
			return fmt.Sprintf("got %#v, want %#v", got, want)
		}
		return ""
	}
	var out []string
	for i := range gv.NumField() {
		name := gv.Type().Field(i).Name
		g, w := gv.Field(i).Interface(), wv.Field(i).Interface()
		switch g := g.(type) {
		case time.Time:
			if !g.Equal(w.(time.Time)) {
				out = append(out, fmt.Sprintf("%s: got %v, want %v", name, g, w))
			}
			continue
		case []string:
			if len(g) == 0 && len(w.([]string)) == 0 {
				continue
			}
		case []feeds.Enclosure:
			if len(g) == 0 && len(w.([]feeds.Enclosure)) == 0 {
				continue
			}
		}
		if !reflect.DeepEqual(g, w) {
			out = append(out, fmt.Sprintf("%s: got %#v, want %#v", name, g, w))
		}
	}
	return strings.Join(out, "; ")
}

func ids(as []feeds.Article) []string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.ID
	}
	return out
}

func (s *suite) testPing(t *testing.T) {
	e := s.setup(t)
	if err := e.s.Ping(e.ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

// testReopen opens a second handle on a database holding data, which runs
// the migrations again, and reads the data through it.
func (s *suite) testReopen(t *testing.T) {
	e := s.setup(t)
	e.sync(src("Alpha"))
	a := art("Alpha", 1, base.Add(-time.Hour))
	e.save(feeds.Poll{State: stateOf("Alpha", base), Articles: []feeds.Article{a}})

	for i := range 2 {
		other := s.handle(t, e.clk)
		got, err := other.Article(e.ctx, a.ID)
		if err != nil {
			t.Fatalf("reopen %d: Article: %v", i, err)
		}
		if got.Title != a.Title {
			t.Errorf("reopen %d: title %q, want %q", i, got.Title, a.Title)
		}
		if v, ok := other.(interface {
			Version(context.Context) (int, error)
		}); ok {
			n, err := v.Version(e.ctx)
			if err != nil || n < 1 {
				t.Errorf("reopen %d: Version() = %d, %v; want >= 1, nil", i, n, err)
			}
		}
	}
}
