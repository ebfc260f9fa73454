package storetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/broadsheet/broadsheet/feeds"
	"github.com/broadsheet/broadsheet/store"
)

// testRetain checks Retain: which articles, topics and deliveries it
// deletes and which it keeps, that what it deleted is not stored again by
// a later poll of a feed that still lists it, and that a digest period sent
// before it ran is not planned again after.
func (s *suite) testRetain(t *testing.T) {
	t.Run("Articles", s.testRetainArticles)
	t.Run("Deliveries", s.testRetainDeliveries)
	t.Run("NotStoredAgain", s.testRetainNotStoredAgain)
	t.Run("Batches", s.testRetainBatches)
}

func retainer(t *testing.T, st store.Store) store.Retainer {
	t.Helper()
	r, ok := st.(store.Retainer)
	if !ok {
		t.Fatalf("store %T does not implement store.Retainer", st)
	}
	return r
}

func (e *env) retain(cutoff time.Time) store.RetainStats {
	e.t.Helper()
	st, err := retainer(e.t, e.s).Retain(e.ctx, cutoff)
	if err != nil {
		e.t.Fatalf("Retain(%v): %v", cutoff, err)
	}
	return st
}

// exists reports whether article id is stored.
func (e *env) exists(id string) bool {
	e.t.Helper()
	_, err := e.s.Article(e.ctx, id)
	if err != nil && !errors.Is(err, feeds.ErrNotFound) {
		e.t.Fatalf("Article(%s): %v", id, err)
	}
	return err == nil
}

func (s *suite) testRetainArticles(t *testing.T) {
	e := s.setup(t)
	e.sync(src("Alpha"), src("Beta"))
	ts := topicStore(t, e.s)
	ds := digestStore(t, e.s)
	old := base.Add(-100 * 24 * time.Hour)
	cutoff := base.Add(-90 * 24 * time.Hour)

	gone := e.put("Alpha", 1, old, old)                         // old: deleted
	soloOld := e.put("Alpha", 2, old, old)                      // old, a story alone: deleted with it
	fresh := e.put("Alpha", 3, base, base)                      // new: kept
	futureDated := e.put("Beta", 1, base, old)                  // first seen long ago, dated now: kept
	heldPending := e.put("Beta", 2, old, old)                   // old, listed by a pending delivery: kept
	heldRetry := e.put("Beta", 3, old, old)                     // old, listed by a delivery to retry: kept
	sentOnly := e.put("Beta", 4, old.Add(time.Hour), old)       // old, listed by a sent delivery only: deleted
	configuredOld := e.put("Beta", 5, old.Add(-time.Hour), old) // old, in a configured topic: deleted, the topic stays

	e.saveTopics(ts, store.TopicBatch{
		Topics: []store.TopicRecord{
			story("sMixed", "mixed", "Mixed"), story("sSolo", "solo", "Solo"),
			story("sHeld", "held", "Held"), configured("korea", "Korea"),
		},
		Members: []store.TopicMember{
			member(gone, "mixed"), member(fresh, "mixed"),
			member(soloOld, "solo"),
			member(heldPending, "held"),
			member(configuredOld, "korea"), member(gone, "korea"),
		},
	})

	// Deliveries of three recipients: a's sent, b's pending (a later
	// period, so claimed last and left alone), c's to be retried.
	p1 := old.Add(24 * time.Hour)
	sent := delivery("a@example.com", p1)
	sent.Articles = []string{sentOnly.ID, gone.ID}
	pending := delivery("b@example.com", p1.Add(time.Hour))
	pending.Articles = []string{heldPending.ID}
	retry := delivery("c@example.com", p1)
	retry.Articles = []string{heldRetry.ID}
	for _, d := range []store.Delivery{sent, pending, retry} {
		if !plan(t, ds, d) {
			t.Fatalf("plan %s not recorded", d.Recipient)
		}
	}
	for _, o := range []store.DeliveryOutcome{
		{State: store.DeliverySent, At: p1},
		{State: store.DeliveryRetry, At: p1, Error: "421 try later", NextAttempt: base.Add(time.Hour)},
	} {
		d, ok := claim(t, ds, "me", p1)
		if !ok || d.Recipient == "b@example.com" {
			t.Fatalf("claimed %q (%v), want a's then c's delivery", d.Recipient, ok)
		}
		finish(t, ds, d, "me", o)
	}
	v0 := dataVersion(e)

	st := e.retain(cutoff)
	if st.Articles != 4 || st.Held != 2 {
		t.Errorf("Retain deleted %d articles and held %d, want 4 and 2 (%+v)", st.Articles, st.Held, st)
	}
	for _, a := range []feeds.Article{gone, soloOld, sentOnly, configuredOld} {
		if e.exists(a.ID) {
			t.Errorf("article %s (published %v, first seen %v) kept, want deleted", a.Identity, a.Published, a.FirstSeen)
		}
	}
	for _, a := range []feeds.Article{fresh, futureDated, heldPending, heldRetry} {
		if !e.exists(a.ID) {
			t.Errorf("article %s (published %v, first seen %v) deleted, want kept", a.Identity, a.Published, a.FirstSeen)
		}
	}
	// The mixed story keeps its newer member; the held one its article;
	// the configured topic is left with none, so is not listed, but stays.
	got := layout(e.topics(ts, store.TopicFilter{}))
	want := expect("held", arts(heldPending), "mixed", arts(fresh))
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("topics after Retain: %v, want %v", got, want)
	}
	if st.Topics != 1 {
		t.Errorf("Retain deleted %d story topics, want 1 (solo)", st.Topics)
	}
	// The solo story's row is gone: a merge into it fails, while one into
	// a story that kept a member works.
	if _, err := ts.SaveTopics(e.ctx, store.TopicBatch{At: base, Merged: []store.StoryMerge{{Into: "sSolo", From: "sHeld"}}}); err == nil {
		t.Error("merge into the emptied story sSolo: nil error, want one (its row should be deleted)")
	}
	e.saveTopics(ts, store.TopicBatch{Topics: []store.TopicRecord{configured("korea", "Korea")}, Members: []store.TopicMember{member(fresh, "korea")}})
	if g := e.topics(ts, store.TopicFilter{Slugs: []string{"korea"}}); len(g) != 1 || !slices.Equal(g[0].ArticleIDs, []string{fresh.ID}) {
		t.Errorf("configured topic after Retain: %v, want korea with %s", layout(g), fresh.ID)
	}
	// The outputs notice the change.
	if v1 := dataVersion(e); v0 != "" && v1 == v0 {
		t.Errorf("DataVersion %q before and after Retain, want a change after deleting", v0)
	}
	// The unfinished deliveries can still be sent, with their articles.
	as := e.articles(store.ArticleFilter{IDs: []string{heldPending.ID, heldRetry.ID}})
	if len(as) != 2 {
		t.Errorf("articles of unfinished deliveries: %v, want both", ids(as))
	}
	// Again: nothing more to do.
	if again := e.retain(cutoff); again.Articles != 0 || again.Topics != 0 || again.Deliveries != 0 {
		t.Errorf("second Retain = %+v, want nothing deleted", again)
	}
}

// dataVersion is the store's DataVersion, or "" where it has none.
func dataVersion(e *env) string {
	e.t.Helper()
	dv, ok := e.s.(DataVersioner)
	if !ok {
		return ""
	}
	v, err := dv.DataVersion(e.ctx)
	if err != nil {
		e.t.Fatalf("DataVersion: %v", err)
	}
	return v
}

func (s *suite) testRetainDeliveries(t *testing.T) {
	e := s.setup(t)
	ds := digestStore(t, e.s)
	cutoff := base.Add(-90 * 24 * time.Hour)
	day := func(n int) time.Time { return cutoff.Add(-30*24*time.Hour + time.Duration(n)*48*time.Hour) }
	// Each recipient's deliveries, oldest first, all before the cutoff
	// but f's last; "pending" stays unfinished.
	plans := map[string][]store.DeliveryState{
		"a@example.com": {store.DeliverySent, store.DeliverySent, store.DeliveryEmpty},
		"b@example.com": {store.DeliverySent, store.DeliveryFailed},
		"d@example.com": {store.DeliverySent, store.DeliveryPending},
		"e@example.com": {store.DeliverySent, store.DeliverySent, store.DeliverySent},
		"f@example.com": {store.DeliverySent, store.DeliverySent},
	}
	// Finished ones first, so that claiming (earliest period first) takes
	// only those.
	var unfinished []store.Delivery
	for i := range 3 {
		for rcpt, states := range plans {
			if i >= len(states) {
				continue
			}
			d := delivery(rcpt, day(i))
			if rcpt == "f@example.com" && i == 1 {
				d = delivery(rcpt, base)
			}
			switch states[i] {
			case store.DeliveryEmpty:
				d.State, d.Articles, d.Layout = store.DeliveryEmpty, nil, ""
			case store.DeliveryPending:
				unfinished = append(unfinished, d)
				continue
			}
			if !plan(t, ds, d) {
				t.Fatalf("plan %s %v not recorded", rcpt, d.Period)
			}
		}
		for {
			d, ok := claim(t, ds, "me", base)
			if !ok {
				break
			}
			o := store.DeliveryOutcome{State: plans[d.Recipient][i], At: d.Period.Add(time.Minute), Error: "550 no such user"}
			if o.State == store.DeliverySent {
				o.Error = ""
			}
			finish(t, ds, d, "me", o)
		}
	}
	for _, d := range unfinished {
		if !plan(t, ds, d) {
			t.Fatalf("plan %s %v not recorded", d.Recipient, d.Period)
		}
	}
	cursors := map[string]store.DigestCursor{}
	for rcpt := range plans {
		c, err := ds.DigestCursor(e.ctx, "daily", rcpt)
		if err != nil {
			t.Fatal(err)
		}
		cursors[rcpt] = c
	}

	st := e.retain(cutoff)
	// a: the first sent goes; the second sent (the latest covered) and the
	// empty one (the latest) stay. b: both stay. d: both stay (the latest
	// is pending). e: the first two go. f: the first goes.
	if st.Deliveries != 4 {
		t.Errorf("Retain deleted %d deliveries, want 4", st.Deliveries)
	}
	left := map[string]int{}
	all, err := ds.Deliveries(e.ctx, store.DeliveryFilter{Digest: "daily"})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range all {
		left[d.Recipient]++
	}
	wantLeft := map[string]int{"a@example.com": 2, "b@example.com": 2, "d@example.com": 2, "e@example.com": 1, "f@example.com": 1}
	for rcpt, n := range wantLeft {
		if left[rcpt] != n {
			t.Errorf("%s has %d deliveries left, want %d", rcpt, left[rcpt], n)
		}
	}
	for rcpt, before := range cursors {
		after, err := ds.DigestCursor(e.ctx, "daily", rcpt)
		if err != nil {
			t.Fatal(err)
		}
		if !after.LastPeriod.Equal(before.LastPeriod) || !after.CoveredUntil.Equal(before.CoveredUntil) {
			t.Errorf("%s: cursor %+v after Retain, want %+v as before", rcpt, after, before)
		}
	}
	// No period sent before Retain is planned again after it: not the
	// latest, not one whose record went.
	for rcpt, states := range plans {
		for i := range states {
			d := delivery(rcpt, day(i))
			if plan(t, ds, d) {
				t.Errorf("%s: period %d (%s) planned again after Retain", rcpt, i, states[i])
			}
		}
	}
	// The next period still plans, from the cursor.
	next := delivery("e@example.com", day(3))
	next.SeenSince = cursors["e@example.com"].CoveredUntil
	if !plan(t, ds, next) {
		t.Error("e's next period not planned after Retain")
	}
	// d's pending delivery is still due.
	if d, ok := claim(t, ds, "me", base); !ok || d.Recipient != "d@example.com" {
		t.Errorf("claim after Retain = %s, %v; want d's pending delivery", d.Recipient, ok)
	}
}

func (s *suite) testRetainNotStoredAgain(t *testing.T) {
	e := s.setup(t)
	e.sync(src("Alpha"))
	old := base.Add(-100 * 24 * time.Hour)
	cutoff := base.Add(-90 * 24 * time.Hour)
	dated := e.put("Alpha", 1, old.Add(-time.Hour), old)
	undatedIn := art("Alpha", 2, time.Time{})
	undated := e.put("Alpha", 2, time.Time{}, old)
	if !undated.Published.Equal(old) {
		t.Fatalf("undated article published %v, want its first seen %v", undated.Published, old)
	}
	st := e.retain(cutoff)
	if st.Articles != 2 || st.Retired != 1 {
		t.Fatalf("Retain = %+v, want 2 articles deleted and 1 undated remembered", st)
	}
	// The feed still lists both, and has two new items, one undated.
	e.clk.Set(base)
	newDated := art("Alpha", 3, base.Add(-time.Hour))
	newUndated := art("Alpha", 4, time.Time{})
	datedIn := art("Alpha", 1, old.Add(-time.Hour))
	got := e.save(feeds.Poll{State: stateOf("Alpha", base), Articles: []feeds.Article{datedIn, undatedIn, newDated, newUndated}})
	if got.New != 2 || got.Unchanged != 2 {
		t.Errorf("poll after Retain: %d new, %d unchanged; want 2 and 2 (the deleted ones are not new)", got.New, got.Unchanged)
	}
	for _, a := range []feeds.Article{dated, undated} {
		if e.exists(a.ID) {
			t.Errorf("deleted article %s stored again", a.Identity)
		}
	}
	for _, a := range []feeds.Article{newDated, newUndated} {
		if !e.exists(a.ID) {
			t.Errorf("new article %s not stored", a.Identity)
		}
	}
}

func (s *suite) testRetainBatches(t *testing.T) {
	e := s.setup(t)
	e.sync(src("Alpha"))
	old := base.Add(-100 * 24 * time.Hour)
	const n = 1234 // more than two of Retain's batches
	as := make([]feeds.Article, n)
	for i := range as {
		as[i] = art("Alpha", i, old.Add(time.Duration(i)*time.Second))
	}
	e.clk.Set(old)
	if st := e.save(feeds.Poll{State: stateOf("Alpha", old), Articles: as}); st.New != n {
		t.Fatalf("stored %d, want %d", st.New, n)
	}
	// One in the middle is held by a pending delivery.
	d := delivery("a@example.com", base)
	d.Articles = []string{as[n/2].ID}
	plan(t, digestStore(t, e.s), d)
	st := e.retain(base.Add(-90 * 24 * time.Hour))
	if st.Articles != n-1 || st.Held != 1 {
		t.Errorf("Retain = %+v, want %d deleted and 1 held", st, n-1)
	}
	if left := ids(e.articles(store.ArticleFilter{Sources: []string{"Alpha"}})); !slices.Equal(left, []string{as[n/2].ID}) {
		t.Errorf("left %d articles (%.3v), want only the held one", len(left), left)
	}
}
