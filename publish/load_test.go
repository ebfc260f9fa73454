package publish

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/broadsheet/broadsheet/feeds"
	"github.com/broadsheet/broadsheet/store"
	"github.com/broadsheet/broadsheet/store/sqlite"
	"github.com/broadsheet/broadsheet/topics"
)

// countingStore is the real SQLite store, counting what a Refresh asks of
// it: the sources whose articles it read one by one, and SourceStates calls.
type countingStore struct {
	*sqlite.DB
	mu      sync.Mutex
	sources []string // per-source Articles queries, in order
	states  int
	// after, if set, runs after each Articles query, as a write by
	// another replica would while a Refresh reads.
	after func(f store.ArticleFilter)
}

func (c *countingStore) Articles(ctx context.Context, f store.ArticleFilter) ([]feeds.Article, error) {
	c.mu.Lock()
	if f.Sources != nil {
		c.sources = append(c.sources, f.Sources...)
	}
	after := c.after
	c.mu.Unlock()
	arts, err := c.DB.Articles(ctx, f)
	if after != nil {
		after(f)
	}
	return arts, err
}

func (c *countingStore) SourceStates(ctx context.Context) ([]feeds.SourceState, error) {
	c.mu.Lock()
	c.states++
	c.mu.Unlock()
	return c.DB.SourceStates(ctx)
}

// take returns the sources read and the SourceStates calls since the last
// take, and resets them.
func (c *countingStore) take() (sources []string, states int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	sources, states = c.sources, c.states
	c.sources, c.states = nil, 0
	slices.Sort(sources)
	return sources, states
}

// TestHandler_RefreshIncremental checks that a Refresh reads again only the
// sources whose articles changed since the last one, renders again only the
// source feeds whose articles or topics changed, and that what it serves is
// byte for byte what a new Handler renders from the same store:
// after a poll with a new article, a 304, an edit that keeps the date, a
// change of topics, a removed, a re-added and a moved source.
func TestHandler_RefreshIncremental(t *testing.T) {
	ctx := context.Background()
	const nSources, perSource = 24, 4
	db := openSQLite(t, filepath.Join(t.TempDir(), "broadsheet.db"))
	var clockMu sync.Mutex
	clock := now.Add(-time.Hour)
	db.SetNow(func() time.Time { clockMu.Lock(); defer clockMu.Unlock(); return clock })
	tick := func() time.Time {
		clockMu.Lock()
		defer clockMu.Unlock()
		clock = clock.Add(time.Minute)
		return clock
	}

	srcs := make([]feeds.Source, nSources)
	for i := range srcs {
		srcs[i] = feeds.Source{Name: fmt.Sprintf("Outlet %02d", i), URL: fmt.Sprintf("https://outlet%02d.example/feed", i), Kind: feeds.KindNews}
	}
	if err := db.SyncSources(ctx, srcs); err != nil {
		t.Fatal(err)
	}
	item := func(src, n int) feeds.Article {
		name := srcs[src].Name
		a := article(name, fmt.Sprintf("item-%d", n), fmt.Sprintf("%s, item %d", name, n),
			fmt.Sprintf("https://outlet%02d.example/%d", src, n), now.Add(-time.Duration(100*src+n)*time.Minute))
		a.FirstSeen = time.Time{}
		a.Summary = fmt.Sprintf("<p>Item %d of %s.</p>", n, name)
		a.Hash = feeds.ContentHash(a)
		return a
	}
	poll := func(src int, arts ...feeds.Article) {
		t.Helper()
		at := tick()
		st := feeds.SourceState{Source: srcs[src].Name, Active: true, LastAttempt: at, LastSuccess: at, LastStatus: 200}
		if len(arts) == 0 {
			st.LastStatus = 304
		}
		if _, err := db.SavePoll(ctx, feeds.Poll{State: st, Articles: arts}); err != nil {
			t.Fatalf("SavePoll(%s): %v", srcs[src].Name, err)
		}
	}
	for s := range nSources {
		var arts []feeds.Article
		for n := range perSource {
			arts = append(arts, item(s, n))
		}
		poll(s, arts...)
	}

	cs := &countingStore{DB: db}
	groups := newGroups(db, members("budget", "Budget", topics.KindConfigured, item(0, 1).ID, item(3, 2).ID))
	opts := fixtureOptions()
	opts.Sources, opts.Groups = srcs, groups
	opts.FeedItems = perSource - 1 // each source has more than a feed shows
	h := New(cs, opts)

	// sameAsFresh compares every output of h with a new Handler's on the
	// same store, sources and topics.
	sameAsFresh := func(t *testing.T) {
		t.Helper()
		fo := opts
		fo.Sources = h.opts.Sources
		fresh := New(db, fo)
		if err := fresh.Refresh(ctx); err != nil {
			t.Fatalf("fresh Refresh: %v", err)
		}
		got, want := allPaths(h), allPaths(fresh)
		if !slices.Equal(got, want) {
			t.Fatalf("paths differ from a fresh Handler's:\n got %v\nwant %v", got, want)
		}
		for _, p := range got {
			g, w := body(t, get(t, h, "GET", p, nil)), body(t, get(t, fresh, "GET", p, nil))
			if string(g) != string(w) {
				t.Errorf("%s differs from a fresh Handler's:\n%s", p, diff(string(w), string(g)))
			}
		}
	}
	// refresh refreshes h, which must read the articles of wantRead one
	// by one and render the feeds of rendered sources, besides the combined
	// and topic feeds, which are rendered every time.
	refresh := func(t *testing.T, rendered int, wantRead ...string) {
		t.Helper()
		cs.take()
		if err := h.Refresh(ctx); err != nil {
			t.Fatalf("Refresh: %v", err)
		}
		read, states := cs.take()
		if states != 1 {
			t.Errorf("SourceStates called %d times, want 1", states)
		}
		slices.Sort(wantRead)
		if !slices.Equal(read, wantRead) {
			t.Errorf("read the articles of %v, want %v", read, wantRead)
		}
		snap := h.snap.Load()
		others := 2 // feed, editorials
		for p := range snap.paths {
			if strings.HasPrefix(p, "/topics/") && strings.HasSuffix(p, ".atom") {
				others++
			}
		}
		if got := snap.rendered - others; got != rendered {
			t.Errorf("rendered %d source feeds, want %d", got, rendered)
		}
	}
	feedOf := func(t *testing.T, src feeds.Source) string {
		t.Helper()
		res := get(t, h, "GET", "/sources/"+src.Slug()+".json", nil)
		if res.StatusCode != 200 {
			t.Fatalf("/sources/%s.json: status %d", src.Slug(), res.StatusCode)
		}
		return string(body(t, res))
	}
	names := func(is ...int) []string {
		var out []string
		for _, i := range is {
			out = append(out, srcs[i].Name)
		}
		return out
	}
	all := make([]int, nSources)
	for i := range all {
		all[i] = i
	}

	t.Run("First", func(t *testing.T) {
		refresh(t, nSources, names(all...)...)
		sameAsFresh(t)
	})
	t.Run("Unchanged", func(t *testing.T) {
		refresh(t, 0)
		sameAsFresh(t)
	})
	t.Run("OnePolled", func(t *testing.T) {
		dropped := item(7, 2).Title // the oldest in the window
		if !strings.Contains(feedOf(t, srcs[7]), dropped) {
			t.Fatalf("before the poll, the feed lacks %q", dropped)
		}
		fresh := item(7, 99)
		fresh.Published = now // newest: pushes the oldest out of the window
		fresh.Hash = feeds.ContentHash(fresh)
		poll(7, item(7, 0), item(7, 1), fresh)
		refresh(t, 1, names(7)...)
		sameAsFresh(t)
		got := feedOf(t, srcs[7])
		if !strings.Contains(got, fresh.Title) {
			t.Errorf("the polled source's feed lacks its new item %q", fresh.Title)
		}
		if strings.Contains(got, dropped) {
			t.Errorf("the polled source's feed still has %q, out of its window now", dropped)
		}
	})
	t.Run("NotModified", func(t *testing.T) {
		poll(3)
		poll(4, item(4, 0), item(4, 1)) // all unchanged
		refresh(t, 0)
		sameAsFresh(t)
	})
	t.Run("EditKeepingDate", func(t *testing.T) {
		edited := item(2, 1)
		edited.Title = "A corrected headline"
		edited.Hash = feeds.ContentHash(edited)
		poll(2, edited)
		refresh(t, 1, names(2)...)
		sameAsFresh(t)
		if got := feedOf(t, srcs[2]); !strings.Contains(got, edited.Title) || strings.Contains(got, item(2, 1).Title) {
			t.Errorf("the edited source's feed does not show the edit:\n%s", got)
		}
	})
	t.Run("TopicChange", func(t *testing.T) {
		groups.set(
			members("budget", "Budget", topics.KindConfigured, item(0, 1).ID),
			members("harbour-strike", "Harbour strike", topics.KindStory, item(5, 0).ID, item(6, 0).ID),
		)
		refresh(t, 3) // 3 left the budget, 5 and 6 joined the strike
		sameAsFresh(t)
		if got := feedOf(t, srcs[5]); !strings.Contains(got, `"slug": "harbour-strike"`) {
			t.Errorf("a source's feed lacks the new topic of its item:\n%s", got)
		}
		if got := feedOf(t, srcs[3]); strings.Contains(got, `"slug": "budget"`) {
			t.Errorf("a source's feed keeps a topic its item left:\n%s", got)
		}
	})
	t.Run("EditDuringRefresh", func(t *testing.T) {
		// An item of the combined feed is edited right after the combined
		// feed read it, with its source's stamp not yet moved when this
		// Refresh read it: this Refresh may show the old text, the next
		// must show the new one everywhere.
		edited := item(0, 1)
		edited.Title = "Edited while a replica was reading"
		edited.Hash = feeds.ContentHash(edited)
		var once sync.Once
		cs.mu.Lock()
		cs.after = func(f store.ArticleFilter) {
			if f.Sources == nil && f.IDs == nil && f.Kinds == nil {
				once.Do(func() { poll(0, edited) })
			}
		}
		cs.mu.Unlock()
		if err := h.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		cs.mu.Lock()
		cs.after = nil
		cs.mu.Unlock()
		refresh(t, 1, names(0)...)
		sameAsFresh(t)
		if got := feedOf(t, srcs[0]); !strings.Contains(got, edited.Title) {
			t.Errorf("the edited source's feed lacks the edit:\n%s", got)
		}
	})
	t.Run("Removed", func(t *testing.T) {
		h.SetSources(slices.Delete(slices.Clone(srcs), 4, 5))
		refresh(t, 0)
		sameAsFresh(t)
		if res := get(t, h, "GET", "/sources/"+srcs[4].Slug()+".atom", nil); res.StatusCode != 404 {
			t.Errorf("removed source's feed: status %d, want 404", res.StatusCode)
		}
		if _, ok := h.cache.sources[srcs[4].Name]; ok {
			t.Error("the removed source's articles are still kept")
		}
	})
	t.Run("ReAdded", func(t *testing.T) {
		h.SetSources(srcs)
		refresh(t, 1, names(4)...)
		sameAsFresh(t)
	})
	t.Run("Moved", func(t *testing.T) {
		moved := slices.Clone(srcs)
		moved[9].URL = "https://moved.example/outlet09.xml"
		h.SetSources(moved)
		// Its entries name the outlet: prepared again, from its articles
		// read again, since between Refreshes only their ids are kept.
		refresh(t, 1, moved[9].Name)
		sameAsFresh(t)
		if got := feedOf(t, moved[9]); !strings.Contains(got, moved[9].URL) {
			t.Errorf("a moved source's feed does not name its new address:\n%s", got)
		}
	})
	t.Run("KeptWithoutText", func(t *testing.T) {
		// The entries hold each feed's text; a second copy in kept would
		// grow the daemon by every source's articles (#17).
		for name, sa := range h.cache.sources {
			for _, a := range sa.articles {
				if a.Title != "" || a.Content != "" || a.Summary != "" || a.Link != "" {
					t.Fatalf("kept[%q] holds article %s with its text", name, a.ID)
				}
			}
		}
	})
}
