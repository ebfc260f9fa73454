package storetest

import (
	"errors"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/broadsheet/broadsheet/feeds"
	"github.com/broadsheet/broadsheet/store"
)

func (s *suite) testSyncSources(t *testing.T) {
	t.Run("NewAreDueAtOnce", func(t *testing.T) {
		e := s.setup(t)
		e.sync(src("Beta"), src("Alpha"))
		for _, name := range []string{"Alpha", "Beta"} {
			st := e.state(name)
			want := feeds.SourceState{Source: name, Active: true, URL: src(name).URL}
			if d := diff(st, want); d != "" {
				t.Errorf("SourceState(%s): %s", name, d)
			}
		}
		// Due at once, whatever the time.
		got := e.claim("r1", time.Unix(1, 0), 10, time.Minute)
		if want := []string{"Alpha", "Beta"}; fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("claimed %v, want %v", got, want)
		}
	})
	t.Run("Idempotent", func(t *testing.T) {
		e := s.setup(t)
		cfg := []feeds.Source{src("Alpha"), src("Beta")}
		e.sync(cfg...)
		e.save(feeds.Poll{State: stateOf("Alpha", base)})
		before, err := e.s.SourceStates(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		e.sync(cfg...)
		e.sync(cfg...)
		after, err := e.s.SourceStates(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(after) != len(before) {
			t.Fatalf("got %d states after resync, want %d", len(after), len(before))
		}
		for i := range after {
			if d := diff(after[i], before[i]); d != "" {
				t.Errorf("state %s changed by resync: %s", before[i].Source, d)
			}
		}
	})
	t.Run("RemovedBecomeInactive", func(t *testing.T) {
		e := s.setup(t)
		e.sync(src("Alpha"), src("Beta"))
		a := art("Beta", 1, base)
		e.save(feeds.Poll{State: stateOf("Beta", base), Articles: []feeds.Article{a}})
		e.sync(src("Alpha"))
		if st := e.state("Beta"); st.Active {
			t.Errorf("Beta active after removal, want inactive")
		}
		if st := e.state("Alpha"); !st.Active {
			t.Errorf("Alpha inactive, want active")
		}
		if got := e.article(a.ID); got.ID != a.ID {
			t.Errorf("article of removed source: got %q, want %q", got.ID, a.ID)
		}
		// Removed sources are never claimed.
		got := e.claim("r1", base.Add(24*time.Hour), 10, time.Minute)
		if fmt.Sprint(got) != "[Alpha]" {
			t.Errorf("claimed %v, want [Alpha]", got)
		}
		// Configured again: active again, with its state.
		e.sync(src("Alpha"), src("Beta"))
		st := e.state("Beta")
		if !st.Active || st.ETag != `"v1"` {
			t.Errorf("Beta after re-adding: active %v, etag %q; want true, %q", st.Active, st.ETag, `"v1"`)
		}
	})
	t.Run("EmptyConfigDeactivatesAll", func(t *testing.T) {
		e := s.setup(t)
		e.sync(src("Alpha"), src("Beta"))
		e.sync()
		states, err := e.s.SourceStates(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(states) != 2 {
			t.Fatalf("got %d states, want 2", len(states))
		}
		for _, st := range states {
			if st.Active {
				t.Errorf("%s active, want inactive", st.Source)
			}
		}
	})
	t.Run("URLChange", func(t *testing.T) {
		e := s.setup(t)
		e.sync(src("Alpha"))
		st := stateOf("Alpha", base)
		st.LastModified = "Sun, 01 Mar 2026 11:00:00 GMT"
		e.save(feeds.Poll{State: st})
		moved := src("Alpha")
		moved.URL = "https://alpha.example/new.xml"
		e.sync(moved)
		got := e.state("Alpha")
		want := st
		want.URL, want.ETag, want.LastModified, want.NextDue = moved.URL, "", "", time.Time{}
		if d := diff(got, want); d != "" {
			t.Errorf("after URL change: %s", d)
		}
	})
	t.Run("UnchangedURLKeepsState", func(t *testing.T) {
		e := s.setup(t)
		e.sync(src("Alpha"))
		st := stateOf("Alpha", base)
		e.save(feeds.Poll{State: st})
		retagged := src("Alpha")
		retagged.Tags, retagged.Kind, retagged.Schedule = []string{"other"}, feeds.KindEditorial, "@daily"
		e.sync(retagged)
		if d := diff(e.state("Alpha"), st); d != "" {
			t.Errorf("state after resync with new tags: %s", d)
		}
	})
	t.Run("EmptyName", func(t *testing.T) {
		e := s.setup(t)
		if err := e.s.SyncSources(e.ctx, []feeds.Source{{URL: "https://x.example/"}}); err == nil {
			t.Errorf("SyncSources with an unnamed source: got nil error, want one")
		}
	})
}

func (s *suite) testSourceState(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		e := s.setup(t)
		e.sync(src("Alpha"))
		st := feeds.SourceState{
			Source:       "Alpha",
			Active:       true,
			URL:          src("Alpha").URL,
			ETag:         `W/"abc"`,
			LastModified: "Sun, 01 Mar 2026 11:00:00 GMT",
			LastAttempt:  base.Add(3 * time.Millisecond),
			LastSuccess:  base.Add(-time.Hour),
			LastStatus:   503,
			LastError:    "server busy: try later",
			Failures:     3,
			NextDue:      base.Add(40 * time.Minute),
		}
		e.save(feeds.Poll{State: st})
		if d := diff(e.state("Alpha"), st); d != "" {
			t.Errorf("round trip: %s", d)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		e := s.setup(t)
		e.sync(src("Alpha"))
		_, err := e.s.SourceState(e.ctx, "Nope")
		if !errors.Is(err, feeds.ErrNotFound) {
			t.Errorf("got %v, want an error wrapping feeds.ErrNotFound", err)
		}
	})
	t.Run("UTC", func(t *testing.T) {
		e := s.setup(t)
		st := stateOf("Alpha", base.In(time.FixedZone("X", 5*3600)))
		e.save(feeds.Poll{State: st})
		got := e.state("Alpha")
		if got.LastAttempt.Location() != time.UTC || !got.LastAttempt.Equal(base) {
			t.Errorf("LastAttempt = %v, want %v in UTC", got.LastAttempt, base)
		}
	})
}

func (s *suite) testSourceStates(t *testing.T) {
	e := s.setup(t)
	got, err := e.s.SourceStates(e.ctx)
	if err != nil || len(got) != 0 {
		t.Fatalf("empty store: got %v, %v; want none", got, err)
	}
	e.sync(src("Gamma"), src("Alpha"), src("Beta"))
	var as []feeds.Article
	for i := range 3 {
		as = append(as, art("Gamma", i, base))
	}
	e.save(feeds.Poll{State: stateOf("Gamma", base), Articles: as})
	e.save(feeds.Poll{State: stateOf("Alpha", base), Articles: []feeds.Article{art("Alpha", 1, base)}})
	e.sync(src("Alpha"), src("Gamma"))

	got, err = e.s.SourceStates(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		name     string
		active   bool
		articles int
	}{{"Alpha", true, 1}, {"Beta", false, 0}, {"Gamma", true, 3}}
	if len(got) != len(want) {
		t.Fatalf("got %d states, want %d", len(got), len(want))
	}
	for i, w := range want {
		g := got[i]
		if g.Source != w.name || g.Active != w.active || g.Articles != w.articles {
			t.Errorf("state %d: got (%s, active %v, %d articles), want (%s, %v, %d)",
				i, g.Source, g.Active, g.Articles, w.name, w.active, w.articles)
		}
	}
	if got[2].ETag != `"v1"` {
		t.Errorf("Gamma etag %q, want %q", got[2].ETag, `"v1"`)
	}
}

func (s *suite) testSourceCounts(t *testing.T) {
	e := s.setup(t)
	got, err := e.s.SourceCounts(e.ctx)
	if err != nil || got != (store.SourceCounts{}) {
		t.Fatalf("empty store: got %+v, %v; want zero counts", got, err)
	}
	e.sync(src("Alpha"), src("Beta"), src("Gamma"), src("Delta"), src("Gone"))
	got, err = e.s.SourceCounts(e.ctx)
	if err != nil || got != (store.SourceCounts{Sources: 5}) {
		t.Fatalf("never polled: got %+v, %v; want 5 sources and nothing else", got, err)
	}
	// Alpha fine; Beta failing after a success; Gamma failing from the
	// start; Delta never polled; Gone failing but removed, so not counted.
	e.save(feeds.Poll{State: stateOf("Alpha", base.Add(3*time.Minute)), Articles: []feeds.Article{art("Alpha", 1, base)}})
	beta := stateOf("Beta", base.Add(5*time.Minute))
	beta.LastSuccess, beta.Failures, beta.LastError, beta.LastStatus = base.Add(4*time.Minute), 2, "the server answered 503", 503
	e.save(feeds.Poll{State: beta})
	gamma := stateOf("Gamma", base.Add(time.Minute))
	gamma.LastSuccess, gamma.Failures, gamma.LastError, gamma.LastStatus = time.Time{}, 1, "the host name was not found", 0
	e.save(feeds.Poll{State: gamma})
	gone := stateOf("Gone", base.Add(time.Hour))
	gone.Failures = 4
	e.save(feeds.Poll{State: gone})
	e.sync(src("Alpha"), src("Beta"), src("Gamma"), src("Delta"))

	got, err = e.s.SourceCounts(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := store.SourceCounts{Sources: 4, Polled: 3, Failing: 2, LastAttempt: base.Add(5 * time.Minute), LastSuccess: base.Add(4 * time.Minute)}
	if !got.LastAttempt.Equal(want.LastAttempt) || !got.LastSuccess.Equal(want.LastSuccess) ||
		got.Sources != want.Sources || got.Polled != want.Polled || got.Failing != want.Failing {
		t.Errorf("got %+v, want %+v", got, want)
	}
	// The counts agree with the states they sum up.
	states, err := e.s.SourceStates(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	var fromStates store.SourceCounts
	for _, st := range states {
		if !st.Active {
			continue
		}
		fromStates.Sources++
		if !st.LastAttempt.IsZero() {
			fromStates.Polled++
		}
		if st.Failures > 0 {
			fromStates.Failing++
		}
	}
	if fromStates.Sources != got.Sources || fromStates.Polled != got.Polled || fromStates.Failing != got.Failing {
		t.Errorf("counts %+v disagree with the states: %+v", got, fromStates)
	}
}

func (s *suite) testClaimDue(t *testing.T) {
	const lease = 10 * time.Minute
	// dueAt sets each source's next due time through a poll.
	dueAt := func(e *env, due map[string]time.Time) {
		for name, at := range due {
			st := stateOf(name, base)
			st.NextDue = at
			e.save(feeds.Poll{State: st})
		}
	}
	t.Run("OrderAndLimit", func(t *testing.T) {
		e := s.setup(t)
		e.sync(src("A"), src("B"), src("C"), src("D"))
		dueAt(e, map[string]time.Time{
			"A": base.Add(-time.Minute),
			"B": base.Add(-time.Hour),
			"C": base, // due exactly now
			"D": base.Add(time.Millisecond),
		})
		if got := e.claim("r1", base, 2, lease); fmt.Sprint(got) != "[B A]" {
			t.Errorf("first claim: got %v, want [B A]", got)
		}
		if got := e.claim("r2", base, 5, lease); fmt.Sprint(got) != "[C]" {
			t.Errorf("second claim: got %v, want [C]", got)
		}
		if got := e.claim("r3", base, 5, lease); len(got) != 0 {
			t.Errorf("third claim: got %v, want none", got)
		}
		if got := e.claim("r3", base.Add(time.Millisecond), 5, lease); fmt.Sprint(got) != "[D]" {
			t.Errorf("claim when D is due: got %v, want [D]", got)
		}
	})
	t.Run("LeaseExpiry", func(t *testing.T) {
		e := s.setup(t)
		e.sync(src("A"))
		if got := e.claim("r1", base, 5, lease); fmt.Sprint(got) != "[A]" {
			t.Fatalf("claim: got %v, want [A]", got)
		}
		if got := e.claim("r2", base.Add(lease/2), 5, lease); len(got) != 0 {
			t.Errorf("claim under a live lease: got %v, want none", got)
		}
		if got := e.claim("r2", base.Add(lease), 5, lease); len(got) != 0 {
			t.Errorf("claim at the lease's end: got %v, want none", got)
		}
		if got := e.claim("r2", base.Add(lease+time.Millisecond), 5, lease); fmt.Sprint(got) != "[A]" {
			t.Errorf("claim after expiry: got %v, want [A]", got)
		}
	})
	t.Run("SavePollReleases", func(t *testing.T) {
		for _, tc := range []struct {
			name     string
			owner    string
			released bool
		}{
			{"Holder", "r1", true},
			{"Other", "r2", false},
			{"Unleased", "", false},
		} {
			t.Run(tc.name, func(t *testing.T) {
				e := s.setup(t)
				e.sync(src("A"))
				e.claim("r1", base, 1, lease)
				st := stateOf("A", base)
				st.NextDue = base // due again at once
				e.save(feeds.Poll{State: st, Owner: tc.owner})
				got := e.claim("r3", base.Add(time.Second), 1, lease)
				if released := len(got) == 1; released != tc.released {
					t.Errorf("after SavePoll by %q: claimable %v, want %v", tc.owner, released, tc.released)
				}
			})
		}
	})
	t.Run("ReleaseKeepsNextDue", func(t *testing.T) {
		e := s.setup(t)
		e.sync(src("A"))
		e.claim("r1", base, 1, lease)
		e.save(feeds.Poll{State: stateOf("A", base), Owner: "r1"}) // due in an hour
		if got := e.claim("r2", base.Add(time.Minute), 1, lease); len(got) != 0 {
			t.Errorf("claim before next due: got %v, want none", got)
		}
		if got := e.claim("r2", base.Add(time.Hour), 1, lease); fmt.Sprint(got) != "[A]" {
			t.Errorf("claim at next due: got %v, want [A]", got)
		}
	})
	t.Run("Inactive", func(t *testing.T) {
		e := s.setup(t)
		e.sync(src("A"), src("B"))
		e.sync(src("B"))
		if got := e.claim("r1", base, 5, lease); fmt.Sprint(got) != "[B]" {
			t.Errorf("got %v, want [B]", got)
		}
	})
	t.Run("Args", func(t *testing.T) {
		e := s.setup(t)
		e.sync(src("A"))
		if got := e.claim("r1", base, 0, lease); len(got) != 0 {
			t.Errorf("limit 0: got %v, want none", got)
		}
		if _, err := e.s.ClaimDue(e.ctx, "", base, 1, lease); err == nil {
			t.Errorf("empty owner: got nil error, want one")
		}
		if _, err := e.s.ClaimDue(e.ctx, "r1", base, 1, 0); err == nil {
			t.Errorf("zero lease: got nil error, want one")
		}
		if got := e.claim("r1", base, 1, lease); fmt.Sprint(got) != "[A]" {
			t.Errorf("after rejected claims: got %v, want [A]", got)
		}
	})
	t.Run("Concurrent", func(t *testing.T) {
		// Claimers on two handles, as two replicas, each with several
		// goroutines, take every source exactly once.
		const sources, workers = 60, 8
		e := s.setup(t)
		var cfg []feeds.Source
		for i := range sources {
			cfg = append(cfg, src(fmt.Sprintf("S%02d", i)))
		}
		e.sync(cfg...)
		handles := []store.Store{e.s, s.handle(t, e.clk)}
		// Several rounds, each once the previous leases have expired.
		for round := range 3 {
			now := base.Add(time.Duration(round) * (lease + time.Millisecond))
			var (
				mu      sync.Mutex
				claimed = map[string]string{}
				dups    []string
				wg      sync.WaitGroup
				errs    = make(chan error, workers)
			)
			for w := range workers {
				h := handles[w%2]
				owner := fmt.Sprintf("replica%d-worker%d", w%2, w)
				wg.Go(func() {
					for {
						names, err := h.ClaimDue(e.ctx, owner, now, 3, lease)
						if err != nil {
							errs <- err
							return
						}
						if len(names) == 0 {
							return
						}
						mu.Lock()
						for _, n := range names {
							if prev, ok := claimed[n]; ok {
								dups = append(dups, fmt.Sprintf("%s by %s and %s", n, prev, owner))
							}
							claimed[n] = owner
						}
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Errorf("round %d: ClaimDue: %v", round, err)
			}
			sort.Strings(dups)
			for _, d := range dups {
				t.Errorf("round %d: claimed twice: %s", round, d)
			}
			if len(claimed) != sources {
				t.Errorf("round %d: claimed %d sources, want %d", round, len(claimed), sources)
			}
		}
	})
}
