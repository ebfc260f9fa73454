package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/broadsheet/broadsheet/feeds"
	"github.com/broadsheet/broadsheet/store"
)

// testArticlesVersion checks feeds.SourceState.ArticlesVersion: it grows
// for the polled source exactly when the poll inserts or edits an article,
// stays put for everything else (a 304, unchanged articles, a failure, a
// rejected poll, a resync, another source's poll, a value passed in the
// state), and reads the same through SourceState, SourceStates and a second
// handle, as another replica sees it.
func (s *suite) testArticlesVersion(t *testing.T) {
	e := s.setup(t)
	other := s.handle(t, e.clk)
	e.sync(src("Alpha"), src("Beta"))

	a1, a2 := art("Alpha", 1, base.Add(-2*time.Hour)), art("Alpha", 2, base.Add(-time.Hour))
	retitled := a1
	retitled.Summary += " Corrected."
	retitled = withIDs(retitled) // an edit that keeps the Updated date
	redated := retitled
	redated.Title += " (updated)"
	redated.Updated = retitled.Updated.Add(time.Hour)
	redated = withIDs(redated)
	a3 := art("Alpha", 3, base)
	clash := art("Alpha", 4, base)
	clash.ID = a1.ID // a different identity under an existing id: refused

	poll := func(source string, arts ...feeds.Article) func(e *env) {
		return func(e *env) {
			e.t.Helper()
			e.clk.Set(e.clk.Now().Add(time.Minute))
			e.save(feeds.Poll{State: stateOf(source, e.clk.Now()), Articles: arts})
		}
	}
	steps := []struct {
		name  string
		do    func(e *env)
		grows []string // sources whose version must grow; the others must not change
	}{
		{"NewArticles", poll("Alpha", a1, a2), []string{"Alpha"}},
		{"NotModified", poll("Alpha"), nil},
		{"AllUnchanged", poll("Alpha", a1, a2), nil},
		{"EditKeepingUpdated", poll("Alpha", retitled, a2), []string{"Alpha"}},
		{"EditWithNewerUpdated", poll("Alpha", redated, a2), []string{"Alpha"}},
		{"OneNewAmongUnchanged", poll("Alpha", redated, a2, a3), []string{"Alpha"}},
		{"OtherSource", poll("Beta", art("Beta", 1, base)), []string{"Beta"}},
		{"Failure", func(e *env) {
			st := stateOf("Alpha", e.clk.Now())
			st.LastStatus, st.LastError, st.Failures, st.LastSuccess = 503, "busy", 1, time.Time{}
			e.save(feeds.Poll{State: st})
		}, nil},
		{"GivenVersionIgnored", func(e *env) {
			st := stateOf("Alpha", e.clk.Now())
			st.ArticlesVersion = 1 << 40
			e.save(feeds.Poll{State: st, Articles: []feeds.Article{redated, a2, a3}})
		}, nil},
		{"Rejected", func(e *env) {
			stats := e.save(feeds.Poll{State: stateOf("Alpha", e.clk.Now()), Articles: []feeds.Article{clash}})
			if len(stats.Rejected) != 1 || stats.New+stats.Updated != 0 {
				e.t.Fatalf("SavePoll with a clashing id: %+v, want it rejected", stats)
			}
		}, nil},
		{"Resync", func(e *env) {
			moved := src("Alpha")
			moved.URL = "https://alpha.example/moved.xml"
			e.sync(moved, src("Beta"))
		}, nil},
	}

	// versions reads every source's version through both handles, which
	// must agree, and through SourceState.
	versions := func(t *testing.T) map[string]int64 {
		t.Helper()
		out := map[string]int64{}
		for i, h := range []store.Store{e.s, other} {
			states, err := h.SourceStates(e.ctx)
			if err != nil {
				t.Fatalf("handle %d: SourceStates: %v", i, err)
			}
			for _, st := range states {
				if v, ok := out[st.Source]; ok && v != st.ArticlesVersion {
					t.Errorf("%s: ArticlesVersion %d through one handle, %d through the other", st.Source, v, st.ArticlesVersion)
				}
				out[st.Source] = st.ArticlesVersion
				one, err := h.SourceState(e.ctx, st.Source)
				if err != nil {
					t.Fatalf("handle %d: SourceState(%s): %v", i, st.Source, err)
				}
				if one.ArticlesVersion != st.ArticlesVersion {
					t.Errorf("%s: SourceState says ArticlesVersion %d, SourceStates %d", st.Source, one.ArticlesVersion, st.ArticlesVersion)
				}
			}
		}
		return out
	}
	prev := versions(t)
	for _, step := range steps {
		t.Run(step.name, func(t *testing.T) {
			e.t = t
			step.do(e)
			got := versions(t)
			for _, name := range []string{"Alpha", "Beta"} {
				grows := false
				for _, g := range step.grows {
					grows = grows || g == name
				}
				switch {
				case grows && got[name] <= prev[name]:
					t.Errorf("%s: ArticlesVersion %d, want more than %d", name, got[name], prev[name])
				case !grows && got[name] != prev[name]:
					t.Errorf("%s: ArticlesVersion %d, want it unchanged at %d", name, got[name], prev[name])
				}
			}
			prev = got
		})
	}
	e.t = t

	t.Run("Concurrent", func(t *testing.T) {
		// Polls storing one new article each, on two handles at once, as
		// two replicas: none of their bumps is lost.
		const polls = 8
		before := prev["Beta"]
		handles := []store.Store{e.s, other}
		var wg sync.WaitGroup
		errs := make(chan error, polls)
		for i := range polls {
			h := handles[i%2]
			a := art("Beta", 100+i, base)
			wg.Go(func() {
				if _, err := h.SavePoll(e.ctx, feeds.Poll{State: stateOf("Beta", base), Articles: []feeds.Article{a}}); err != nil {
					errs <- fmt.Errorf("poll %d: %w", i, err)
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		after := versions(t)["Beta"]
		if after-before < polls {
			t.Errorf("Beta: ArticlesVersion went from %d to %d after %d storing polls, want at least %d more", before, after, polls, polls)
		}
	})
}
