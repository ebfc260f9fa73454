package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/broadsheet/broadsheet/feeds"
	"github.com/broadsheet/broadsheet/store"
	"github.com/broadsheet/broadsheet/topics"
)

// RunTopics checks a backend's store.TopicStore: pending articles in
// order, batches saved atomically (upserts, rematching, merges, fencing by
// a lease), the epoch, story members for restoring the clusterer, and the
// filters and ordering of Topics. open is as for Run.
func RunTopics(t *testing.T, open func(t *testing.T) store.Store) {
	s := &suite{open: open}
	t.Run("Pending", s.testPendingTopics)
	t.Run("EditMakesPending", s.testEditMakesPending)
	t.Run("Save", s.testSaveTopics)
	t.Run("Upsert", s.testUpsertTopics)
	t.Run("Rematch", s.testRematch)
	t.Run("Merge", s.testMergeStories)
	t.Run("MergeUnknownRollsBack", s.testMergeUnknown)
	t.Run("Epoch", s.testTopicEpoch)
	t.Run("Lease", s.testTopicLease)
	t.Run("Invalid", s.testInvalidTopics)
	t.Run("StoryMembers", s.testStoryMembers)
	t.Run("Order", s.testTopicOrder)
	t.Run("Filters", s.testTopicFilters)
	t.Run("Reset", s.testResetTopics)
}

// RunLocks checks a backend's store.Locks: leases granted when free,
// expired or already the owner's, exactly one winner among concurrent
// acquirers on separate handles, and release by the owner only. open is as
// for Run.
func RunLocks(t *testing.T, open func(t *testing.T) store.Store) {
	s := &suite{open: open}
	t.Run("Acquire", s.testAcquireLock)
	t.Run("Expiry", s.testLockExpiry)
	t.Run("Release", s.testReleaseLock)
	t.Run("TwoHandles", s.testLockTwoHandles)
	t.Run("Concurrent", s.testConcurrentLocks)
	t.Run("Invalid", s.testInvalidLock)
}

func topicStore(t *testing.T, st store.Store) store.TopicStore {
	t.Helper()
	ts, ok := st.(store.TopicStore)
	if !ok {
		t.Fatalf("store %T does not implement store.TopicStore", st)
	}
	return ts
}

func locks(t *testing.T, st store.Store) store.Locks {
	t.Helper()
	l, ok := st.(store.Locks)
	if !ok {
		t.Fatalf("store %T does not implement store.Locks", st)
	}
	return l
}

// put stores article n of source, published at pub and first seen at
// seen, and returns it as stored.
func (e *env) put(source string, n int, pub, seen time.Time) feeds.Article {
	e.t.Helper()
	e.clk.Set(seen)
	a := art(source, n, pub)
	st := e.save(feeds.Poll{State: stateOf(source, seen), Articles: []feeds.Article{a}})
	if st.New != 1 {
		e.t.Fatalf("put %s %d: stored %d new, want 1", source, n, st.New)
	}
	return e.article(a.ID)
}

func (e *env) saveTopics(ts store.TopicStore, b store.TopicBatch) int64 {
	e.t.Helper()
	if b.At.IsZero() {
		b.At = e.clk.Now()
	}
	epoch, err := ts.SaveTopics(e.ctx, b)
	if err != nil {
		e.t.Fatalf("SaveTopics: %v", err)
	}
	return epoch
}

func (e *env) topics(ts store.TopicStore, f store.TopicFilter) []store.TopicGroup {
	e.t.Helper()
	gs, err := ts.Topics(e.ctx, f)
	if err != nil {
		e.t.Fatalf("Topics(%+v): %v", f, err)
	}
	return gs
}

func (e *env) pending(ts store.TopicStore, limit int) []string {
	e.t.Helper()
	as, err := ts.PendingTopicArticles(e.ctx, limit)
	if err != nil {
		e.t.Fatalf("PendingTopicArticles: %v", err)
	}
	// The count the backlog metric reads agrees with the list, where the
	// backend has it.
	if pc, ok := ts.(interface {
		PendingTopicCount(context.Context) (int, error)
	}); ok && limit <= 0 {
		if n, err := pc.PendingTopicCount(e.ctx); err != nil || n != len(as) {
			e.t.Errorf("PendingTopicCount = %d, %v; want %d, the pending articles listed", n, err, len(as))
		}
	}
	return ids(as)
}

func story(id, slug, label string) store.TopicRecord {
	return store.TopicRecord{Topic: topics.Topic{Slug: slug, Label: label, Kind: topics.KindStory}, StoryID: id}
}

func configured(slug, label string) store.TopicRecord {
	return store.TopicRecord{Topic: topics.Topic{Slug: slug, Label: label, Kind: topics.KindConfigured}}
}

func member(a feeds.Article, slug string) store.TopicMember {
	return store.TopicMember{ArticleID: a.ID, Slug: slug}
}

func version(as ...feeds.Article) []store.ArticleVersion {
	out := make([]store.ArticleVersion, len(as))
	for i, a := range as {
		out[i] = store.ArticleVersion{ID: a.ID, Hash: a.Hash}
	}
	return out
}

// layout is groups as "slug:id,id" strings, for comparing whole results.
func layout(gs []store.TopicGroup) []string {
	out := make([]string, len(gs))
	for i, g := range gs {
		out[i] = fmt.Sprintf("%s:%v", g.Slug, g.ArticleIDs)
	}
	return out
}

func expect(groups ...any) []string {
	var out []string
	for i := 0; i < len(groups); i += 2 {
		out = append(out, fmt.Sprintf("%s:%v", groups[i], ids(groups[i+1].([]feeds.Article))))
	}
	return out
}

func arts(as ...feeds.Article) []feeds.Article { return as }

func (s *suite) testPendingTopics(t *testing.T) {
	e := s.setup(t)
	ts := topicStore(t, e.s)
	if got := e.pending(ts, 10); len(got) != 0 {
		t.Fatalf("pending in an empty store = %v, want none", got)
	}
	// First seen out of id order, two at the same instant.
	a3 := e.put("Alpha", 3, base, base.Add(time.Minute))
	a1 := e.put("Beta", 1, base, base.Add(2*time.Minute))
	a2 := e.put("Alpha", 2, base, base.Add(2*time.Minute))
	a4 := e.put("Alpha", 4, base.Add(-time.Hour), base.Add(3*time.Minute))
	mid := []feeds.Article{a1, a2}
	slices.SortFunc(mid, func(x, y feeds.Article) int {
		if x.ID < y.ID {
			return -1
		}
		return 1
	})
	order := ids(arts(a3, mid[0], mid[1], a4))
	if got := e.pending(ts, 0); !slices.Equal(got, order) {
		t.Errorf("pending = %v, want by (first seen, id) %v", got, order)
	}
	if got := e.pending(ts, 2); !slices.Equal(got, order[:2]) {
		t.Errorf("pending limit 2 = %v, want %v", got, order[:2])
	}
	got, err := ts.PendingTopicArticles(e.ctx, 1)
	if err != nil || len(got) != 1 {
		t.Fatalf("PendingTopicArticles(1) = %d, %v", len(got), err)
	}
	if d := diff(got[0], a3); d != "" {
		t.Errorf("pending article: %s", d)
	}
	e.saveTopics(ts, store.TopicBatch{Assigned: version(a3, mid[0])})
	if got := e.pending(ts, 0); !slices.Equal(got, order[2:]) {
		t.Errorf("pending after assigning two = %v, want %v", got, order[2:])
	}
	// A stale hash (the article was edited since it was read) leaves it
	// pending; an empty one marks it whatever.
	stale := store.ArticleVersion{ID: mid[1].ID, Hash: "stale"}
	e.saveTopics(ts, store.TopicBatch{Assigned: []store.ArticleVersion{stale, {ID: a4.ID}}})
	if got := e.pending(ts, 0); !slices.Equal(got, ids(arts(mid[1]))) {
		t.Errorf("pending after a stale and an unconditional mark = %v, want %v", got, ids(arts(mid[1])))
	}
}

func (s *suite) testEditMakesPending(t *testing.T) {
	e := s.setup(t)
	ts := topicStore(t, e.s)
	a := e.put("Alpha", 1, base, base)
	b := e.put("Alpha", 2, base, base)
	e.saveTopics(ts, store.TopicBatch{Assigned: version(a, b)})
	if got := e.pending(ts, 0); len(got) != 0 {
		t.Fatalf("pending after assigning = %v, want none", got)
	}
	// Polled again: a unchanged, b edited.
	e.clk.Set(base.Add(time.Hour))
	edited := art("Alpha", 2, base)
	edited.Title = "Corrected"
	edited = withIDs(edited)
	st := e.save(feeds.Poll{State: stateOf("Alpha", base.Add(time.Hour)), Articles: []feeds.Article{art("Alpha", 1, base), edited}})
	if st.Updated != 1 || st.Unchanged != 1 {
		t.Fatalf("re-poll: %d updated, %d unchanged; want 1, 1", st.Updated, st.Unchanged)
	}
	if got := e.pending(ts, 0); !slices.Equal(got, ids(arts(b))) {
		t.Errorf("pending after an edit = %v, want the edited %v", got, ids(arts(b)))
	}
}

func (s *suite) testSaveTopics(t *testing.T) {
	e := s.setup(t)
	ts := topicStore(t, e.s)
	a1 := e.put("Alpha", 1, base.Add(-2*time.Hour), base)
	b1 := e.put("Beta", 1, base.Add(-time.Hour), base)
	b2 := e.put("Beta", 2, base.Add(-3*time.Hour), base)
	at := base.Add(time.Minute)
	e.clk.Set(at)
	e.saveTopics(ts, store.TopicBatch{
		Topics: []store.TopicRecord{
			configured("korea", "Korean Peninsula"),
			story("s1", "talks-s1", "Talks resume"),
			story("s2", "storm-s2", "A storm"),
			configured("empty", "No members"),
		},
		Members: []store.TopicMember{
			member(a1, "talks-s1"), member(b1, "talks-s1"), member(b2, "storm-s2"),
			member(a1, "korea"), member(b2, "korea"),
			member(a1, "korea"), // repeated: left alone
		},
		Assigned: version(a1, b1, b2),
	})
	gs := e.topics(ts, store.TopicFilter{})
	// talks-s1 and korea have two outlets and two items each; talks-s1's
	// newest is newer.
	if got, want := layout(gs), expect("talks-s1", arts(b1, a1), "korea", arts(a1, b2), "storm-s2", arts(b2)); !slices.Equal(got, want) {
		t.Fatalf("Topics = %v, want %v (empty topics omitted, members newest first)", got, want)
	}
	wantGroups := []store.TopicGroup{
		{Topic: topics.Topic{Slug: "talks-s1", Label: "Talks resume", Kind: topics.KindStory}, StoryID: "s1", ArticleIDs: ids(arts(b1, a1)), Sources: 2, Updated: at},
		{Topic: topics.Topic{Slug: "korea", Label: "Korean Peninsula", Kind: topics.KindConfigured}, ArticleIDs: ids(arts(a1, b2)), Sources: 2, Updated: at},
		{Topic: topics.Topic{Slug: "storm-s2", Label: "A storm", Kind: topics.KindStory}, StoryID: "s2", ArticleIDs: ids(arts(b2)), Sources: 1, Updated: at},
	}
	for i, g := range gs {
		if d := diff(g, wantGroups[i]); d != "" {
			t.Errorf("group %s: %s", g.Slug, d)
		}
	}
	// Through another handle, as another replica reads it.
	other := topicStore(t, s.handle(t, e.clk))
	if got, want := layout(e.topics(other, store.TopicFilter{})), layout(gs); !slices.Equal(got, want) {
		t.Errorf("Topics through a second handle = %v, want %v", got, want)
	}
}

func (s *suite) testUpsertTopics(t *testing.T) {
	e := s.setup(t)
	ts := topicStore(t, e.s)
	a := e.put("Alpha", 1, base, base)
	e.saveTopics(ts, store.TopicBatch{At: base, Topics: []store.TopicRecord{story("s1", "talks-s1", "First label")}, Members: []store.TopicMember{member(a, "talks-s1")}})
	later := base.Add(time.Hour)
	e.saveTopics(ts, store.TopicBatch{At: later, Topics: []store.TopicRecord{
		story("s1", "talks-s1", "Older label in the batch"),
		story("s1", "talks-s1", "Newest label"),
	}})
	gs := e.topics(ts, store.TopicFilter{})
	if len(gs) != 1 {
		t.Fatalf("Topics = %v, want one group", layout(gs))
	}
	if gs[0].Label != "Newest label" || !gs[0].Updated.Equal(later) {
		t.Errorf("after upsert: label %q, updated %v; want %q, %v", gs[0].Label, gs[0].Updated, "Newest label", later)
	}
}

func (s *suite) testRematch(t *testing.T) {
	e := s.setup(t)
	ts := topicStore(t, e.s)
	a := e.put("Alpha", 1, base, base)
	b := e.put("Beta", 1, base.Add(-time.Hour), base)
	e.saveTopics(ts, store.TopicBatch{
		Topics:  []store.TopicRecord{configured("korea", "Korea"), configured("japan", "Japan"), story("s1", "talks-s1", "Talks")},
		Members: []store.TopicMember{member(a, "korea"), member(a, "japan"), member(a, "talks-s1"), member(b, "korea"), member(b, "talks-s1")},
	})
	// a was edited and now matches only japan; b is not rematched.
	e.saveTopics(ts, store.TopicBatch{Rematched: []string{a.ID}, Members: []store.TopicMember{member(a, "japan")}})
	got := layout(e.topics(ts, store.TopicFilter{}))
	want := expect("talks-s1", arts(a, b), "japan", arts(a), "korea", arts(b))
	if !slices.Equal(got, want) {
		t.Errorf("after rematch: %v, want %v (story membership kept)", got, want)
	}
	// Rematching with nothing to add drops every configured membership.
	e.saveTopics(ts, store.TopicBatch{Rematched: []string{a.ID, b.ID}})
	if got, want := layout(e.topics(ts, store.TopicFilter{})), expect("talks-s1", arts(a, b)); !slices.Equal(got, want) {
		t.Errorf("after rematching to nothing: %v, want %v", got, want)
	}
}

func (s *suite) testMergeStories(t *testing.T) {
	e := s.setup(t)
	ts := topicStore(t, e.s)
	var as []feeds.Article
	for i := range 6 {
		as = append(as, e.put("Alpha", i, base.Add(time.Duration(i)*time.Minute), base))
	}
	e.saveTopics(ts, store.TopicBatch{
		Topics: []store.TopicRecord{story("sX", "x", "X"), story("sY", "y", "Y"), story("sZ", "z", "Z"), configured("korea", "Korea")},
		Members: []store.TopicMember{
			member(as[0], "x"), member(as[1], "x"),
			member(as[2], "y"),
			member(as[3], "z"),
			member(as[2], "korea"),
		},
	})
	// In one batch: a new story W founded and absorbed into X, then X
	// (with what it absorbed) into Z, and an article joining W before W
	// went.
	e.saveTopics(ts, store.TopicBatch{
		Topics:  []store.TopicRecord{story("sW", "w", "W"), story("sZ", "z", "Z grown")},
		Members: []store.TopicMember{member(as[4], "w"), member(as[5], "z")},
		Merged:  []store.StoryMerge{{Into: "sX", From: "sW"}, {Into: "sZ", From: "sX"}, {Into: "sZ", From: "sNever"}},
	})
	got := layout(e.topics(ts, store.TopicFilter{}))
	want := expect("z", arts(as[5], as[4], as[3], as[1], as[0]), "korea", arts(as[2]), "y", arts(as[2]))
	if !slices.Equal(got, want) {
		t.Errorf("after merges: %v, want %v", got, want)
	}
	for _, slug := range []string{"x", "w"} {
		if gs := e.topics(ts, store.TopicFilter{Slugs: []string{slug}}); len(gs) != 0 {
			t.Errorf("absorbed story %s still listed: %v", slug, layout(gs))
		}
	}
	ms, err := ts.StoryMembers(e.ctx, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.StoryID == "sX" || m.StoryID == "sW" {
			t.Errorf("StoryMembers still names absorbed story %s (%s)", m.StoryID, m.Slug)
		}
	}
	if len(ms) != 6 {
		t.Errorf("StoryMembers = %d, want 6 (one story each)", len(ms))
	}
	if g := e.topics(ts, store.TopicFilter{Slugs: []string{"z"}}); len(g) != 1 || g[0].Label != "Z grown" {
		t.Errorf("survivor = %+v, want label %q", g, "Z grown")
	}
}

func (s *suite) testMergeUnknown(t *testing.T) {
	e := s.setup(t)
	ts := topicStore(t, e.s)
	a := e.put("Alpha", 1, base, base)
	b := e.put("Alpha", 2, base, base)
	e.saveTopics(ts, store.TopicBatch{Topics: []store.TopicRecord{story("sX", "x", "X")}, Members: []store.TopicMember{member(a, "x")}})
	epoch, _ := ts.TopicEpoch(e.ctx)
	_, err := ts.SaveTopics(e.ctx, store.TopicBatch{
		At:       base,
		Topics:   []store.TopicRecord{story("sY", "y", "Y")},
		Members:  []store.TopicMember{member(b, "y")},
		Merged:   []store.StoryMerge{{Into: "sNever", From: "sX"}},
		Assigned: version(a, b),
	})
	if err == nil {
		t.Fatal("SaveTopics merging into an unknown story: nil error, want one")
	}
	if got, want := layout(e.topics(ts, store.TopicFilter{})), expect("x", arts(a)); !slices.Equal(got, want) {
		t.Errorf("after a failed batch: %v, want %v (nothing of it saved)", got, want)
	}
	if got := e.pending(ts, 0); len(got) != 2 {
		t.Errorf("pending after a failed batch = %v, want both", got)
	}
	if now, _ := ts.TopicEpoch(e.ctx); now != epoch {
		t.Errorf("epoch after a failed batch = %d, want %d", now, epoch)
	}
}

func (s *suite) testTopicEpoch(t *testing.T) {
	e := s.setup(t)
	ts := topicStore(t, e.s)
	other := topicStore(t, s.handle(t, e.clk))
	for i := range int64(3) {
		got, err := other.TopicEpoch(e.ctx)
		if err != nil || got != i {
			t.Fatalf("TopicEpoch before save %d = %d, %v; want %d", i+1, got, err, i)
		}
		if got := e.saveTopics(ts, store.TopicBatch{}); got != i+1 {
			t.Errorf("SaveTopics %d returned epoch %d, want %d", i+1, got, i+1)
		}
	}
	// Concurrent savers each get their own epoch.
	const n = 8
	got := make([]int64, n)
	var wg sync.WaitGroup
	for i := range n {
		h := ts
		if i%2 == 1 {
			h = other
		}
		wg.Go(func() {
			var err error
			if got[i], err = h.SaveTopics(e.ctx, store.TopicBatch{At: base}); err != nil {
				t.Errorf("concurrent SaveTopics: %v", err)
			}
		})
	}
	wg.Wait()
	slices.Sort(got)
	for i, g := range got {
		if g != int64(4+i) {
			t.Errorf("concurrent epochs %v, want 4..%d each once", got, 3+n)
			break
		}
	}
}

func (s *suite) testTopicLease(t *testing.T) {
	e := s.setup(t)
	ts := topicStore(t, e.s)
	l := locks(t, e.s)
	a := e.put("Alpha", 1, base, base)
	lease := &store.Lease{Name: "topics", Owner: "r1", Now: base}
	batch := store.TopicBatch{At: base, Lease: lease, Topics: []store.TopicRecord{story("sX", "x", "X")}, Members: []store.TopicMember{member(a, "x")}}
	if _, err := ts.SaveTopics(e.ctx, batch); !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("SaveTopics without the lock: %v, want ErrLeaseLost", err)
	}
	if ok, err := l.AcquireLock(e.ctx, "topics", "r1", base, time.Minute); !ok || err != nil {
		t.Fatalf("AcquireLock = %v, %v", ok, err)
	}
	if _, err := ts.SaveTopics(e.ctx, batch); err != nil {
		t.Errorf("SaveTopics holding the lock: %v", err)
	}
	// The lease lapses and another takes it: r1 saves nothing more.
	later := base.Add(2 * time.Minute)
	if ok, err := l.AcquireLock(e.ctx, "topics", "r2", later, time.Minute); !ok || err != nil {
		t.Fatalf("AcquireLock after expiry = %v, %v", ok, err)
	}
	lease.Now = later
	batch.Members, batch.Topics = nil, []store.TopicRecord{story("sX", "x", "Renamed by r1")}
	if _, err := ts.SaveTopics(e.ctx, batch); !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("SaveTopics after losing the lease: %v, want ErrLeaseLost", err)
	}
	if gs := e.topics(ts, store.TopicFilter{}); len(gs) != 1 || gs[0].Label != "X" {
		t.Errorf("Topics = %+v, want the one saved while leased", gs)
	}
	// Expired but not yet taken over still counts as lost.
	if ok, _ := l.AcquireLock(e.ctx, "other", "r1", base, time.Minute); !ok {
		t.Fatal("AcquireLock(other): not granted")
	}
	batch.Lease = &store.Lease{Name: "other", Owner: "r1", Now: base.Add(time.Hour)}
	if _, err := ts.SaveTopics(e.ctx, batch); !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("SaveTopics with an expired lease: %v, want ErrLeaseLost", err)
	}
}

func (s *suite) testInvalidTopics(t *testing.T) {
	e := s.setup(t)
	ts := topicStore(t, e.s)
	for name, r := range map[string]store.TopicRecord{
		"NoSlug":              story("s1", "", "X"),
		"BadKind":             {Topic: topics.Topic{Slug: "x", Kind: "other"}},
		"StoryWithoutID":      story("", "x", "X"),
		"ConfiguredWithStory": {Topic: topics.Topic{Slug: "x", Kind: topics.KindConfigured}, StoryID: "s1"},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := ts.SaveTopics(e.ctx, store.TopicBatch{At: base, Topics: []store.TopicRecord{r}}); err == nil {
				t.Errorf("SaveTopics(%+v): nil error, want one", r)
			}
		})
	}
	if n, _ := ts.TopicEpoch(e.ctx); n != 0 {
		t.Errorf("epoch after invalid batches = %d, want 0", n)
	}
}

func (s *suite) testStoryMembers(t *testing.T) {
	e := s.setup(t)
	ts := topicStore(t, e.s)
	old := e.put("Alpha", 1, base, base)
	mid := e.put("Beta", 1, base.Add(-time.Hour), base.Add(time.Hour))
	late := e.put("Alpha", 2, base, base.Add(2*time.Hour))
	none := e.put("Gamma", 1, base, base.Add(2*time.Hour))
	e.saveTopics(ts, store.TopicBatch{
		Topics:  []store.TopicRecord{story("s1", "one-s1", "One"), story("s2", "two-s2", "Two"), configured("korea", "Korea")},
		Members: []store.TopicMember{member(late, "one-s1"), member(old, "one-s1"), member(mid, "two-s2"), member(mid, "korea"), member(none, "korea")},
	})
	ms, err := ts.StoryMembers(e.ctx, base.Add(time.Hour))
	if err != nil {
		t.Fatalf("StoryMembers: %v", err)
	}
	var got []string
	for _, m := range ms {
		got = append(got, m.Article.ID+"/"+m.StoryID+"/"+m.Slug)
	}
	want := []string{mid.ID + "/s2/two-s2", late.ID + "/s1/one-s1"}
	if !slices.Equal(got, want) {
		t.Fatalf("StoryMembers(since +1h) = %v, want %v (first seen order, stories only)", got, want)
	}
	// Every field but Summary and Content.
	w := mid
	w.Summary, w.Content = "", ""
	if d := diff(ms[0].Article, w); d != "" {
		t.Errorf("member article: %s", d)
	}
	if all, _ := ts.StoryMembers(e.ctx, time.Time{}); len(all) != 3 || all[0].Article.ID != old.ID {
		t.Errorf("StoryMembers(zero) = %d members, want 3 starting with the oldest", len(all))
	}
}

func (s *suite) testTopicOrder(t *testing.T) {
	e := s.setup(t)
	ts := topicStore(t, e.s)
	// wide: 3 outlets, 3 items. deep: 2 outlets, 4 items. pair-new and
	// pair-old: 2 outlets, 2 items, the first newer. a-tie and b-tie: equal
	// in everything but the slug.
	h := func(n int) time.Time { return base.Add(time.Duration(n) * time.Hour) }
	var ms []store.TopicMember
	add := func(slug, source string, n int, pub time.Time) {
		ms = append(ms, member(e.put(source, n, pub, base), slug))
	}
	add("wide", "A", 1, h(-5))
	add("wide", "B", 1, h(-5))
	add("wide", "C", 1, h(-5))
	for i := range 3 {
		add("deep", "A", 10+i, h(-6))
	}
	add("deep", "B", 10, h(-6))
	add("pair-old", "A", 20, h(-4))
	add("pair-old", "B", 20, h(-4))
	add("pair-new", "A", 30, h(-3))
	add("pair-new", "B", 30, h(-4))
	add("b-tie", "A", 40, h(-1))
	add("a-tie", "B", 40, h(-1))
	var recs []store.TopicRecord
	for _, slug := range []string{"wide", "deep", "pair-old", "pair-new", "b-tie", "a-tie"} {
		recs = append(recs, story("s-"+slug, slug, slug))
	}
	e.saveTopics(ts, store.TopicBatch{Topics: recs, Members: ms})
	var got []string
	for _, g := range e.topics(ts, store.TopicFilter{}) {
		got = append(got, fmt.Sprintf("%s/%d/%d", g.Slug, g.Sources, len(g.ArticleIDs)))
	}
	want := []string{"wide/3/3", "deep/2/4", "pair-new/2/2", "pair-old/2/2", "a-tie/1/1", "b-tie/1/1"}
	if !slices.Equal(got, want) {
		t.Errorf("order = %v, want %v", got, want)
	}
}

func (s *suite) testTopicFilters(t *testing.T) {
	e := s.setup(t)
	ts := topicStore(t, e.s)
	h := func(n int) time.Time { return base.Add(time.Duration(n) * time.Hour) }
	a1 := e.put("A", 1, h(-10), base)
	b1 := e.put("B", 1, h(-2), base)
	c1 := e.put("C", 1, h(-1), base)
	a2 := e.put("A", 2, h(-3), base)
	e.saveTopics(ts, store.TopicBatch{
		Topics: []store.TopicRecord{story("s1", "talks", "Talks"), story("s2", "storm", "Storm"), configured("korea", "Korea")},
		Members: []store.TopicMember{
			member(a1, "talks"), member(b1, "talks"), member(c1, "talks"),
			member(a2, "storm"),
			member(a1, "korea"), member(a2, "korea"),
		},
	})
	many := []string{"unknown-1", b1.ID, "unknown-2", b1.ID} // repeats read once
	for i := range 1200 {
		many = append(many, fmt.Sprintf("missing-%d", i))
	}
	many = append(many, a2.ID)
	for _, tc := range []struct {
		name string
		f    store.TopicFilter
		want []string
	}{
		{"All", store.TopicFilter{}, expect("talks", arts(c1, b1, a1), "korea", arts(a2, a1), "storm", arts(a2))},
		{"ArticleIDs", store.TopicFilter{ArticleIDs: []string{a1.ID, c1.ID}}, expect("talks", arts(c1, a1), "korea", arts(a1))},
		{"ManyArticleIDs", store.TopicFilter{ArticleIDs: many}, expect("talks", arts(b1), "korea", arts(a2), "storm", arts(a2))},
		{"PublishedSince", store.TopicFilter{PublishedSince: h(-3)}, expect("talks", arts(c1, b1), "korea", arts(a2), "storm", arts(a2))},
		{"KindStory", store.TopicFilter{Kinds: []topics.Kind{topics.KindStory}}, expect("talks", arts(c1, b1, a1), "storm", arts(a2))},
		{"KindConfigured", store.TopicFilter{Kinds: []topics.Kind{topics.KindConfigured}}, expect("korea", arts(a2, a1))},
		{"Slugs", store.TopicFilter{Slugs: []string{"storm", "korea", "nope"}}, expect("korea", arts(a2, a1), "storm", arts(a2))},
		{"MinSources", store.TopicFilter{MinSources: 2}, expect("talks", arts(c1, b1, a1))},
		{"MinSourcesAfterFilter", store.TopicFilter{MinSources: 2, PublishedSince: h(-1)}, nil},
		{"Limit", store.TopicFilter{Limit: 2}, expect("talks", arts(c1, b1, a1), "korea", arts(a2, a1))},
		{"Combined", store.TopicFilter{ArticleIDs: []string{a1.ID, a2.ID, b1.ID}, Kinds: []topics.Kind{topics.KindStory}, PublishedSince: h(-5)}, expect("talks", arts(b1), "storm", arts(a2))},
		{"EmptyArticleIDs", store.TopicFilter{ArticleIDs: []string{}}, nil},
		{"EmptyKinds", store.TopicFilter{Kinds: []topics.Kind{}}, nil},
		{"EmptySlugs", store.TopicFilter{Slugs: []string{}}, nil},
		{"NothingLeft", store.TopicFilter{PublishedSince: h(1)}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			gs, err := ts.Topics(e.ctx, tc.f)
			if err != nil {
				t.Fatalf("Topics: %v", err)
			}
			if got := layout(gs); !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func (s *suite) testResetTopics(t *testing.T) {
	e := s.setup(t)
	ts := topicStore(t, e.s)
	old := e.put("Alpha", 1, base, base)
	recent := e.put("Alpha", 2, base, base.Add(time.Hour))
	fresh := e.put("Alpha", 3, base, base.Add(2*time.Hour))
	e.saveTopics(ts, store.TopicBatch{Assigned: version(old, recent)})
	n, err := ts.ResetTopics(e.ctx, base.Add(time.Hour))
	if err != nil || n != 1 {
		t.Errorf("ResetTopics = %d, %v; want 1 (the pending one not counted)", n, err)
	}
	if got, want := e.pending(ts, 0), ids(arts(recent, fresh)); !slices.Equal(got, want) {
		t.Errorf("pending after reset = %v, want %v", got, want)
	}
}

func (s *suite) testAcquireLock(t *testing.T) {
	e := s.setup(t)
	l := locks(t, e.s)
	for _, step := range []struct {
		owner string
		at    time.Duration
		want  bool
	}{
		{"r1", 0, true},                 // free
		{"r2", 30 * time.Second, false}, // held until 1m
		{"r1", 50 * time.Second, true},  // the owner extends to 1m50s
		{"r2", 90 * time.Second, false}, // still held thanks to the extension
		{"r2", 111 * time.Second, true}, // expired
		{"r1", 112 * time.Second, false},
	} {
		ok, err := l.AcquireLock(e.ctx, "topics", step.owner, base.Add(step.at), time.Minute)
		if err != nil {
			t.Fatalf("AcquireLock(%s, +%v): %v", step.owner, step.at, err)
		}
		if ok != step.want {
			t.Errorf("AcquireLock(%s, +%v) = %v, want %v", step.owner, step.at, ok, step.want)
		}
	}
	// Names are independent.
	if ok, _ := l.AcquireLock(e.ctx, "digest", "r1", base.Add(112*time.Second), time.Minute); !ok {
		t.Error("AcquireLock of another name: not granted")
	}
}

func (s *suite) testLockExpiry(t *testing.T) {
	e := s.setup(t)
	l := locks(t, e.s)
	if ok, _ := l.AcquireLock(e.ctx, "topics", "r1", base, time.Minute); !ok {
		t.Fatal("first AcquireLock not granted")
	}
	if ok, _ := l.AcquireLock(e.ctx, "topics", "r2", base.Add(time.Minute), time.Minute); ok {
		t.Error("AcquireLock at the expiry instant: granted, want held until after it")
	}
	if ok, _ := l.AcquireLock(e.ctx, "topics", "r2", base.Add(time.Minute+time.Millisecond), time.Minute); !ok {
		t.Error("AcquireLock just after expiry: not granted")
	}
}

func (s *suite) testReleaseLock(t *testing.T) {
	e := s.setup(t)
	l := locks(t, e.s)
	if ok, _ := l.AcquireLock(e.ctx, "topics", "r1", base, time.Hour); !ok {
		t.Fatal("AcquireLock not granted")
	}
	if err := l.ReleaseLock(e.ctx, "topics", "r2"); err != nil {
		t.Fatalf("ReleaseLock by another: %v", err)
	}
	if ok, _ := l.AcquireLock(e.ctx, "topics", "r2", base, time.Hour); ok {
		t.Error("lock released by a non-owner: want it still held")
	}
	if err := l.ReleaseLock(e.ctx, "topics", "r1"); err != nil {
		t.Fatalf("ReleaseLock: %v", err)
	}
	if ok, _ := l.AcquireLock(e.ctx, "topics", "r2", base, time.Hour); !ok {
		t.Error("AcquireLock after release: not granted")
	}
	if err := l.ReleaseLock(e.ctx, "never-taken", "r1"); err != nil {
		t.Errorf("ReleaseLock of a lock never taken: %v", err)
	}
}

func (s *suite) testLockTwoHandles(t *testing.T) {
	e := s.setup(t)
	l1, l2 := locks(t, e.s), locks(t, s.handle(t, e.clk))
	if ok, _ := l1.AcquireLock(e.ctx, "topics", "r1", base, time.Minute); !ok {
		t.Fatal("AcquireLock on the first handle not granted")
	}
	if ok, _ := l2.AcquireLock(e.ctx, "topics", "r2", base.Add(time.Second), time.Minute); ok {
		t.Error("AcquireLock on the second handle: granted while held")
	}
	if err := l1.ReleaseLock(e.ctx, "topics", "r1"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := l2.AcquireLock(e.ctx, "topics", "r2", base.Add(time.Second), time.Minute); !ok {
		t.Error("AcquireLock on the second handle after release: not granted")
	}
}

func (s *suite) testConcurrentLocks(t *testing.T) {
	e := s.setup(t)
	const n = 8
	handles := make([]store.Locks, n)
	for i := range handles {
		if i%2 == 0 {
			handles[i] = locks(t, e.s)
		} else {
			handles[i] = locks(t, s.handle(t, e.clk))
		}
	}
	for round := range 5 {
		name := fmt.Sprintf("lock-%d", round)
		won := make([]bool, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-start
				ok, err := handles[i].AcquireLock(e.ctx, name, fmt.Sprintf("r%d", i), base, time.Minute)
				if err != nil {
					t.Errorf("AcquireLock(r%d): %v", i, err)
				}
				won[i] = ok
			})
		}
		close(start)
		wg.Wait()
		winners := 0
		for _, w := range won {
			if w {
				winners++
			}
		}
		if winners != 1 {
			t.Errorf("round %d: %d acquirers won, want exactly 1", round, winners)
		}
	}
}

func (s *suite) testInvalidLock(t *testing.T) {
	e := s.setup(t)
	l := locks(t, e.s)
	for _, tc := range []struct {
		name, lock, owner string
		ttl               time.Duration
	}{
		{"EmptyOwner", "topics", "", time.Minute},
		{"EmptyName", "", "r1", time.Minute},
		{"ZeroTTL", "topics", "r1", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := l.AcquireLock(e.ctx, tc.lock, tc.owner, base, tc.ttl); err == nil {
				t.Error("AcquireLock: nil error, want one")
			}
		})
	}
}
