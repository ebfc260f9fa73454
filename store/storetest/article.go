package storetest

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/broadsheet/broadsheet/feeds"
	"github.com/broadsheet/broadsheet/store"
)

func (s *suite) testSavePoll(t *testing.T) {
	t.Run("New", func(t *testing.T) {
		e := s.setup(t)
		e.sync(src("Alpha"))
		now := base.Add(5 * time.Second)
		e.clk.Set(now)
		in := []feeds.Article{art("Alpha", 1, base.Add(-time.Hour)), art("Alpha", 2, base.Add(-2*time.Hour)), art("Alpha", 3, base)}
		in[2].Updated = time.Time{}
		in[2].Categories = nil
		st := stateOf("Alpha", now)
		stats := e.save(feeds.Poll{State: st, Articles: in})
		if stats.New != 3 || stats.Updated != 0 || stats.Unchanged != 0 {
			t.Errorf("stats (new, updated, unchanged) = (%d, %d, %d), want (3, 0, 0)", stats.New, stats.Updated, stats.Unchanged)
		}
		for _, a := range in {
			want := a
			want.FirstSeen = now
			if d := diff(e.article(a.ID), want); d != "" {
				t.Errorf("Article(%s): %s", a.ID, d)
			}
		}
		got := e.state("Alpha")
		if got.ArticlesVersion <= 0 {
			t.Errorf("ArticlesVersion = %d after storing articles, want > 0", got.ArticlesVersion)
		}
		want := st
		want.ArticlesVersion = got.ArticlesVersion
		if d := diff(got, want); d != "" {
			t.Errorf("state: %s", d)
		}
	})
	t.Run("Unchanged", func(t *testing.T) {
		e := s.setup(t)
		e.sync(src("Alpha"))
		in := []feeds.Article{art("Alpha", 1, base), art("Alpha", 2, base)}
		e.save(feeds.Poll{State: stateOf("Alpha", base), Articles: in})
		e.clk.Set(base.Add(time.Hour))
		stats := e.save(feeds.Poll{State: stateOf("Alpha", base.Add(time.Hour)), Articles: in})
		if stats.New != 0 || stats.Updated != 0 || stats.Unchanged != 2 {
			t.Errorf("stats = %+v, want 2 unchanged and nothing stored", stats)
		}
		if got := e.article(in[0].ID).FirstSeen; !got.Equal(base) {
			t.Errorf("FirstSeen = %v, want %v", got, base)
		}
	})
	t.Run("EditedUpdatedInPlace", func(t *testing.T) {
		e := s.setup(t)
		e.sync(src("Alpha"))
		orig := art("Alpha", 1, base.Add(-time.Hour))
		other := art("Alpha", 2, base.Add(-time.Hour))
		e.save(feeds.Poll{State: stateOf("Alpha", base), Articles: []feeds.Article{orig, other}})

		later := base.Add(3 * time.Hour)
		e.clk.Set(later)
		edited := orig
		edited.Title = "Corrected title"
		edited.Content = "<p>Corrected.</p>"
		edited.Categories = []string{"corrections"}
		edited.LinkKey = "story-corrected"
		edited.Kind = feeds.KindEditorial
		edited.Published = later // a feed that re-dates edits must not move it
		edited.Updated = later
		edited = withIDs(edited)
		stats := e.save(feeds.Poll{State: stateOf("Alpha", later), Articles: []feeds.Article{edited, other}})
		if stats.New != 0 || stats.Updated != 1 || stats.Unchanged != 1 {
			t.Errorf("stats (new, updated, unchanged) = (%d, %d, %d), want (0, 1, 1)", stats.New, stats.Updated, stats.Unchanged)
		}
		want := edited
		want.Published, want.FirstSeen = orig.Published, base
		if d := diff(e.article(orig.ID), want); d != "" {
			t.Errorf("Article: %s", d)
		}
		if n := len(e.articles(store.ArticleFilter{})); n != 2 {
			t.Errorf("%d articles stored, want 2", n)
		}
	})
	t.Run("DuplicateIdentityKeepsFirst", func(t *testing.T) {
		e := s.setup(t)
		e.sync(src("Alpha"))
		first := art("Alpha", 1, base)
		second := first
		second.Title = "Second copy"
		second = withIDs(second)
		stats := e.save(feeds.Poll{State: stateOf("Alpha", base), Articles: []feeds.Article{first, second, art("Alpha", 2, base)}})
		if stats.New != 2 || stats.Unchanged != 0 || stats.Updated != 0 {
			t.Errorf("stats (new, updated, unchanged) = (%d, %d, %d), want (2, 0, 0)", stats.New, stats.Updated, stats.Unchanged)
		}
		if got := e.article(first.ID).Title; got != first.Title {
			t.Errorf("title %q, want the first copy's %q", got, first.Title)
		}
	})
	t.Run("SameStoryTwoSources", func(t *testing.T) {
		e := s.setup(t)
		e.sync(src("Alpha"), src("Beta"))
		a := art("Alpha", 7, base)
		b := art("Beta", 7, base.Add(time.Minute))
		b.Identity, b.Link = a.Identity, a.Link // syndicated: same guid and link
		b = withIDs(b)
		e.save(feeds.Poll{State: stateOf("Alpha", base), Articles: []feeds.Article{a}})
		stats := e.save(feeds.Poll{State: stateOf("Beta", base), Articles: []feeds.Article{b}})
		if stats.New != 1 {
			t.Errorf("second source: New = %d, want 1", stats.New)
		}
		got := e.articles(store.ArticleFilter{})
		if len(got) != 2 {
			t.Fatalf("got %d articles, want 2", len(got))
		}
		if got[0].LinkKey != got[1].LinkKey || got[0].ID == got[1].ID || got[0].Source == got[1].Source {
			t.Errorf("got (%s, %s, %s) and (%s, %s, %s); want equal story keys, distinct ids and sources",
				got[0].Source, got[0].ID, got[0].LinkKey, got[1].Source, got[1].ID, got[1].LinkKey)
		}
	})
	t.Run("ClashAlone", func(t *testing.T) {
		e := s.setup(t)
		e.sync(src("Alpha"))
		a1 := art("Alpha", 1, base)
		e.save(feeds.Poll{State: stateOf("Alpha", base), Articles: []feeds.Article{a1}})

		edited := a1
		edited.Title = "Edited"
		edited = withIDs(edited)
		a2 := art("Alpha", 2, base)
		clash := art("Alpha", 3, base)
		clash.ID = a1.ID // a different identity under an existing id: refused alone
		next := stateOf("Alpha", base.Add(time.Hour))
		next.ETag = `"v2"`
		stats := e.save(feeds.Poll{State: next, Articles: []feeds.Article{edited, a2, clash}})
		if stats.New != 1 || stats.Updated != 1 || len(stats.Rejected) != 1 || stats.Rejected[0].Identity != clash.Identity {
			t.Fatalf("stats %+v, want 1 new, 1 updated and %q rejected", stats, clash.Identity)
		}
		e.article(a2.ID)
		if got := e.article(a1.ID).Title; got != "Edited" {
			t.Errorf("title after the poll %q, want %q", got, "Edited")
		}
		if got := e.state("Alpha").ETag; got != next.ETag {
			t.Errorf("ETag after the poll %q, want %q", got, next.ETag)
		}
		if got, err := e.s.Article(e.ctx, clash.ID); err == nil && got.Identity == clash.Identity {
			t.Errorf("the rejected %q is stored", clash.Identity)
		}
	})
	t.Run("Invalid", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			poll feeds.Poll
		}{
			{"NoSource", feeds.Poll{State: feeds.SourceState{}, Articles: []feeds.Article{art("Alpha", 1, base)}}},
			{"OtherSource", feeds.Poll{State: stateOf("Alpha", base), Articles: []feeds.Article{art("Beta", 1, base)}}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				e := s.setup(t)
				if _, err := e.s.SavePoll(e.ctx, tc.poll); err == nil {
					t.Fatal("got nil error, want one")
				}
				if got := e.articles(store.ArticleFilter{}); len(got) != 0 {
					t.Errorf("stored %v, want nothing", ids(got))
				}
				if _, err := e.s.SourceState(e.ctx, "Alpha"); !errors.Is(err, feeds.ErrNotFound) {
					t.Errorf("state: got %v, want ErrNotFound", err)
				}
			})
		}
	})
	t.Run("CancelledContext", func(t *testing.T) {
		e := s.setup(t)
		ctx, cancel := context.WithCancel(e.ctx)
		cancel()
		a := art("Alpha", 1, base)
		if _, err := e.s.SavePoll(ctx, feeds.Poll{State: stateOf("Alpha", base), Articles: []feeds.Article{a}}); err == nil {
			t.Fatal("got nil error, want one")
		}
		if _, err := e.s.Article(e.ctx, a.ID); !errors.Is(err, feeds.ErrNotFound) {
			t.Errorf("article: got %v, want ErrNotFound", err)
		}
	})
	t.Run("Defaults", func(t *testing.T) {
		e := s.setup(t)
		now := base.Add(time.Second)
		e.clk.Set(now)
		bare := feeds.Article{Identity: "urn:x:1", Title: "Bare", Published: time.Time{}}
		if stats := e.save(feeds.Poll{State: stateOf("Alpha", now), Articles: []feeds.Article{bare}}); stats.New != 1 {
			t.Fatalf("stored %d new, want 1", stats.New)
		}
		want := bare
		want.Source = "Alpha"
		want.ID = feeds.ArticleID("Alpha", bare.Identity)
		want.Hash = feeds.ContentHash(bare)
		want.Kind = feeds.KindNews
		want.Published, want.FirstSeen = now, now
		if d := diff(e.article(want.ID), want); d != "" {
			t.Errorf("Article: %s", d)
		}
	})
	t.Run("MillisecondTimes", func(t *testing.T) {
		e := s.setup(t)
		e.clk.Set(base.Add(1234567 * time.Nanosecond))
		a := art("Alpha", 1, base.Add(987654321*time.Nanosecond).In(time.FixedZone("CET", 3600)))
		e.save(feeds.Poll{State: stateOf("Alpha", base), Articles: []feeds.Article{a}})
		got := e.article(a.ID)
		if want := base.Add(987 * time.Millisecond); !got.Published.Equal(want) || got.Published.Location() != time.UTC {
			t.Errorf("Published = %v, want %v in UTC", got.Published, want)
		}
		if want := base.Add(time.Millisecond); !got.FirstSeen.Equal(want) {
			t.Errorf("FirstSeen = %v, want %v", got.FirstSeen, want)
		}
	})
	t.Run("UnknownSource", func(t *testing.T) {
		e := s.setup(t)
		st := stateOf("Adhoc", base)
		stats := e.save(feeds.Poll{State: st, Articles: []feeds.Article{art("Adhoc", 1, base)}})
		if stats.New != 1 {
			t.Errorf("New = %d, want 1", stats.New)
		}
		got := e.state("Adhoc")
		if got.ArticlesVersion <= 0 {
			t.Errorf("ArticlesVersion = %d after storing an article, want > 0", got.ArticlesVersion)
		}
		st.ArticlesVersion = got.ArticlesVersion
		if d := diff(got, st); d != "" {
			t.Errorf("state: %s", d)
		}
	})
	t.Run("KeepsConfiguredURLAndActive", func(t *testing.T) {
		// SyncSources owns url and active: a poll that raced a
		// configuration change must not undo it.
		e := s.setup(t)
		e.sync(src("Alpha"), src("Beta"))
		e.sync(src("Alpha"))
		st := stateOf("Beta", base)
		st.URL = "https://stale.example/"
		e.save(feeds.Poll{State: st})
		got := e.state("Beta")
		if got.Active || got.URL != src("Beta").URL {
			t.Errorf("got active %v, url %q; want false, %q", got.Active, got.URL, src("Beta").URL)
		}
		if got.ETag != st.ETag || !got.NextDue.Equal(st.NextDue) {
			t.Errorf("got etag %q, next due %v; want %q, %v", got.ETag, got.NextDue, st.ETag, st.NextDue)
		}
	})
	t.Run("Large", func(t *testing.T) {
		e := s.setup(t)
		var in []feeds.Article
		for i := range 1234 {
			in = append(in, art("Alpha", i, base.Add(-time.Duration(i)*time.Minute)))
		}
		if stats := e.save(feeds.Poll{State: stateOf("Alpha", base), Articles: in}); stats.New != len(in) {
			t.Errorf("first save: New %d, want %d", stats.New, len(in))
		}
		// Edits in several chunks, each article differently.
		edits := 0
		for i := 0; i < len(in); i += 5 {
			in[i].Title = fmt.Sprintf("Edited %d", i)
			in[i].Updated = time.Time{}
			in[i].Categories = []string{fmt.Sprint(i)}
			in[i] = withIDs(in[i])
			edits++
		}
		stats := e.save(feeds.Poll{State: stateOf("Alpha", base), Articles: in})
		if stats.New != 0 || stats.Updated != edits || stats.Unchanged != len(in)-edits {
			t.Errorf("second save: (new, updated, unchanged) = (%d, %d, %d), want (0, %d, %d)", stats.New, stats.Updated, stats.Unchanged, edits, len(in)-edits)
		}
		for _, i := range []int{0, 5, 500, 1230, 1} {
			want := in[i]
			want.FirstSeen = base
			if d := diff(e.article(in[i].ID), want); d != "" {
				t.Errorf("article %d: %s", i, d)
			}
		}
	})
	t.Run("Concurrent", func(t *testing.T) {
		// Overlapping polls of one source, stored at once through two
		// handles, store each article exactly once.
		const workers, per, step = 6, 10, 4
		e := s.setup(t)
		e.sync(src("Alpha"))
		handles := []store.Store{e.s, s.handle(t, e.clk)}
		var (
			wg    sync.WaitGroup
			mu    sync.Mutex
			total int
		)
		errs := make(chan error, workers)
		for w := range workers {
			var in []feeds.Article
			for i := w * step; i < w*step+per; i++ {
				in = append(in, art("Alpha", i, base))
			}
			wg.Go(func() {
				stats, err := handles[w%2].SavePoll(e.ctx, feeds.Poll{State: stateOf("Alpha", base), Articles: in})
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				total += stats.New
				mu.Unlock()
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("SavePoll: %v", err)
		}
		want := (workers-1)*step + per
		if total != want {
			t.Errorf("sum of New = %d, want %d", total, want)
		}
		if got := len(e.articles(store.ArticleFilter{})); got != want {
			t.Errorf("stored %d articles, want %d", got, want)
		}
	})
}

func (s *suite) testArticle(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		e := s.setup(t)
		a := art("Alpha", 1, base)
		e.save(feeds.Poll{State: stateOf("Alpha", base), Articles: []feeds.Article{a}})
		want := a
		want.FirstSeen = base
		if d := diff(e.article(a.ID), want); d != "" {
			t.Error(d)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		e := s.setup(t)
		e.save(feeds.Poll{State: stateOf("Alpha", base), Articles: []feeds.Article{art("Alpha", 1, base)}})
		_, err := e.s.Article(e.ctx, "0123456789abcdef0123")
		if !errors.Is(err, feeds.ErrNotFound) {
			t.Errorf("got %v, want an error wrapping feeds.ErrNotFound", err)
		}
	})
}

func (s *suite) testArticles(t *testing.T) {
	e := s.setup(t)
	// Three polls an hour apart (FirstSeen t1, t2, t3), with a tie on
	// Published between a2 and b2.
	t1, t2, t3 := base, base.Add(time.Hour), base.Add(2*time.Hour)
	named := map[string]feeds.Article{}
	poll := func(at time.Time, source string, items ...feeds.Article) {
		e.clk.Set(at)
		e.save(feeds.Poll{State: stateOf(source, at), Articles: items})
	}
	mk := func(name, source string, n int, pub time.Duration, kind feeds.Kind) feeds.Article {
		a := art(source, n, base.Add(pub))
		a.Kind = kind
		a = withIDs(a)
		named[name] = a
		return a
	}
	poll(t1, "Alpha", mk("a1", "Alpha", 1, -3*time.Hour, feeds.KindNews), mk("a2", "Alpha", 2, -time.Hour, feeds.KindNews))
	poll(t2, "Beta", mk("b1", "Beta", 1, -2*time.Hour, feeds.KindEditorial), mk("b2", "Beta", 2, -time.Hour, feeds.KindEditorial))
	poll(t3, "Gamma", mk("g1", "Gamma", 1, -30*time.Minute, feeds.KindNews), mk("g2", "Gamma", 2, -5*time.Hour, feeds.KindEditorial))
	// a2 and b2 tie on Published: the larger id comes first.
	tie := []string{"a2", "b2"}
	if named["a2"].ID < named["b2"].ID {
		tie = []string{"b2", "a2"}
	}
	all := append(append([]string{"g1"}, tie...), "b1", "a1", "g2")

	for _, tc := range []struct {
		name string
		f    store.ArticleFilter
		want []string
	}{
		{"All", store.ArticleFilter{}, all},
		{"Limit", store.ArticleFilter{Limit: 2}, all[:2]},
		{"NegativeLimit", store.ArticleFilter{Limit: -1}, all},
		{"Sources", store.ArticleFilter{Sources: []string{"Alpha", "Gamma"}}, []string{"g1", "a2", "a1", "g2"}},
		{"UnknownSource", store.ArticleFilter{Sources: []string{"Nope"}}, nil},
		{"EmptySources", store.ArticleFilter{Sources: []string{}}, nil},
		{"Kinds", store.ArticleFilter{Kinds: []feeds.Kind{feeds.KindEditorial}}, []string{"b2", "b1", "g2"}},
		{"PublishedSince", store.ArticleFilter{PublishedSince: base.Add(-time.Hour)}, all[:3]},
		{"SeenSince", store.ArticleFilter{SeenSince: t2}, []string{"g1", "b2", "b1", "g2"}},
		{"SeenBefore", store.ArticleFilter{SeenBefore: t2}, []string{"a2", "a1"}},
		{"SeenWindow", store.ArticleFilter{SeenSince: t2, SeenBefore: t3}, []string{"b2", "b1"}},
		{"IDs", store.ArticleFilter{IDs: []string{named["a1"].ID, "missing", named["g1"].ID}}, []string{"g1", "a1"}},
		{"EmptyIDs", store.ArticleFilter{IDs: []string{}}, nil},
		{"Combined", store.ArticleFilter{Sources: []string{"Gamma", "Beta"}, Kinds: []feeds.Kind{feeds.KindNews, feeds.KindEditorial}, PublishedSince: base.Add(-4 * time.Hour), Limit: 2}, []string{"g1", "b2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var want []string
			for _, n := range tc.want {
				want = append(want, named[n].ID)
			}
			got := ids(e.articles(tc.f))
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("got %v, want %v (%v)", got, want, tc.want)
			}
		})
	}
	t.Run("Fields", func(t *testing.T) {
		got := e.articles(store.ArticleFilter{IDs: []string{named["b1"].ID}})
		want := named["b1"]
		want.FirstSeen = t2
		if len(got) != 1 {
			t.Fatalf("got %d articles, want 1", len(got))
		}
		if d := diff(got[0], want); d != "" {
			t.Error(d)
		}
	})
	t.Run("ManyIDs", func(t *testing.T) {
		// More ids than one query takes: chunks must merge into one order
		// and one limit.
		e := s.setup(t)
		var in []feeds.Article
		for i := range 1500 {
			// Published times interleave across chunks.
			in = append(in, art("Alpha", i, base.Add(time.Duration((i*7919)%1500)*time.Minute)))
		}
		e.save(feeds.Poll{State: stateOf("Alpha", base), Articles: in})
		var req []string
		var want []feeds.Article
		for i, a := range in {
			if i%3 != 0 {
				req = append(req, a.ID)
				want = append(want, a)
			}
			if i%100 == 0 {
				req = append(req, fmt.Sprintf("missing-%d", i))
			}
		}
		sort.Slice(want, func(i, j int) bool { return want[i].Published.After(want[j].Published) })
		for _, limit := range []int{0, 7} {
			got := ids(e.articles(store.ArticleFilter{IDs: req, Limit: limit}))
			w := ids(want)
			if limit > 0 {
				w = w[:limit]
			}
			if fmt.Sprint(got) != fmt.Sprint(w) {
				t.Errorf("limit %d: got %d ids %.80v…, want %d ids %.80v…", limit, len(got), got, len(w), w)
			}
		}
	})
}
