package feeds

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// memStore is a minimal in-memory PollStore and Claimer for poller tests;
// the real backends are tested by store/storetest.
type memStore struct {
	mu     sync.Mutex
	states map[string]SourceState
	arts   map[string]Article
	leases map[string]string
	saves  int
}

func newMemStore() *memStore {
	return &memStore{states: map[string]SourceState{}, arts: map[string]Article{}, leases: map[string]string{}}
}

func (s *memStore) SourceState(ctx context.Context, name string) (SourceState, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.states[name]
	if !ok {
		return SourceState{}, fmt.Errorf("source %q: %w", name, ErrNotFound)
	}
	return st, nil
}

func (s *memStore) SavePoll(ctx context.Context, p Poll) (SaveStats, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.saves++
	var st SaveStats
	for _, a := range p.Articles {
		if _, ok := s.arts[a.ID]; ok {
			st.Unchanged++
			continue
		}
		s.arts[a.ID] = a
		st.New++
	}
	s.states[p.State.Source] = p.State
	if s.leases[p.State.Source] == p.Owner {
		delete(s.leases, p.State.Source)
	}
	return st, nil
}

func (s *memStore) ClaimDue(ctx context.Context, owner string, now time.Time, limit int, lease time.Duration) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for name, st := range s.states {
		if len(out) == limit {
			break
		}
		if st.Active && !st.NextDue.After(now) && s.leases[name] == "" {
			s.leases[name] = owner
			out = append(out, name)
		}
	}
	return out, nil
}

// fakeFetcher answers from a function and counts concurrent fetches per host.
type fakeFetcher struct {
	fn      func(src Source, prev SourceState) (*FetchResult, error)
	mu      sync.Mutex
	active  map[string]int
	maxSeen map[string]int
	calls   atomic.Int32
}

func (f *fakeFetcher) Fetch(ctx context.Context, src Source, prev SourceState) (*FetchResult, error) {
	f.calls.Add(1)
	h := hostOf(src.URL)
	f.mu.Lock()
	if f.active == nil {
		f.active, f.maxSeen = map[string]int{}, map[string]int{}
	}
	f.active[h]++
	f.maxSeen[h] = max(f.maxSeen[h], f.active[h])
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.active[h]--
		f.mu.Unlock()
	}()
	return f.fn(src, prev)
}

var quiet = slog.New(slog.DiscardHandler)

var t0 = time.Date(2026, 8, 14, 10, 0, 0, 0, time.UTC)

func every(d time.Duration) func(Source, time.Time) time.Time {
	return func(_ Source, t time.Time) time.Time { return t.Add(d) }
}

func TestPoller_PollNow(t *testing.T) {
	src := Source{Name: "a", URL: "http://a.example/feed"}
	art := Article{ID: ArticleID("a", "1"), Source: "a", Identity: "1", Title: "One"}
	t.Run("OK", func(t *testing.T) {
		st := newMemStore()
		f := &fakeFetcher{fn: func(Source, SourceState) (*FetchResult, error) {
			return &FetchResult{Status: 200, ETag: `"v1"`, LastModified: "Fri, 14 Aug 2026 09:00:00 GMT", Articles: []Article{art}}, nil
		}}
		p := NewPoller(f, st, PollerOptions{Logger: quiet, Next: every(30 * time.Minute), Now: func() time.Time { return t0 }})
		rep := p.PollNow(context.Background(), []Source{src}, nil)[0]
		if rep.Err != nil || rep.New != 1 {
			t.Fatalf("report = %+v, want 1 new and no error", rep)
		}
		got := st.states["a"]
		if got.ETag != `"v1"` || got.LastSuccess != t0 || got.NextDue != t0.Add(30*time.Minute) || !got.Active || got.LastStatus != 200 {
			t.Fatalf("state = %+v", got)
		}
	})
	t.Run("NotModified", func(t *testing.T) {
		st := newMemStore()
		st.states["a"] = SourceState{Source: "a", ETag: `"v1"`, LastModified: "lm"}
		var sent SourceState
		f := &fakeFetcher{fn: func(_ Source, prev SourceState) (*FetchResult, error) {
			sent = prev
			return &FetchResult{Status: 304, NotModified: true, Articles: []Article{art}}, nil
		}}
		p := NewPoller(f, st, PollerOptions{Logger: quiet, Next: every(time.Hour), Now: func() time.Time { return t0 }})
		rep := p.PollNow(context.Background(), []Source{src}, nil)[0]
		if sent.ETag != `"v1"` || sent.LastModified != "lm" {
			t.Errorf("fetcher got validators %q %q, want the stored ones", sent.ETag, sent.LastModified)
		}
		if !rep.NotModified || rep.New != 0 || len(st.arts) != 0 {
			t.Errorf("304 stored articles: report %+v, %d stored", rep, len(st.arts))
		}
		if got := st.states["a"].ETag; got != `"v1"` {
			t.Errorf("ETag after 304 = %q, want it kept", got)
		}
	})
	t.Run("BackoffDoubles", func(t *testing.T) {
		st := newMemStore()
		f := &fakeFetcher{fn: func(Source, SourceState) (*FetchResult, error) {
			return nil, &FetchError{URL: src.URL, Status: 500, Reason: "the server had an error"}
		}}
		p := NewPoller(f, st, PollerOptions{Logger: quiet, Next: every(time.Minute), Now: func() time.Time { return t0 }, MaxBackoff: 30 * time.Minute})
		for i, want := range []time.Duration{5 * time.Minute, 10 * time.Minute, 20 * time.Minute, 30 * time.Minute, 30 * time.Minute} {
			rep := p.PollNow(context.Background(), []Source{src}, nil)[0]
			if rep.Err == nil {
				t.Fatalf("poll %d: no error reported", i+1)
			}
			s := st.states["a"]
			if s.Failures != i+1 || s.NextDue.Sub(t0) != want || s.LastStatus != 500 || s.LastError != "the server had an error" {
				t.Fatalf("after %d failures: failures=%d next due in %v status %d error %q; want next due in %v", i+1, s.Failures, s.NextDue.Sub(t0), s.LastStatus, s.LastError, want)
			}
		}
		f.fn = func(Source, SourceState) (*FetchResult, error) { return &FetchResult{Status: 200}, nil }
		p.PollNow(context.Background(), []Source{src}, nil)
		if s := st.states["a"]; s.Failures != 0 || s.LastError != "" {
			t.Fatalf("after a success: failures=%d error=%q, want both cleared", s.Failures, s.LastError)
		}
	})
	t.Run("RetryAfter", func(t *testing.T) {
		st := newMemStore()
		f := &fakeFetcher{fn: func(Source, SourceState) (*FetchResult, error) {
			return nil, fmt.Errorf("wrapped: %w", &FetchError{URL: src.URL, Status: 429, RetryAfter: 3 * time.Hour, Reason: "too many requests"})
		}}
		p := NewPoller(f, st, PollerOptions{Logger: quiet, Next: every(time.Minute), Now: func() time.Time { return t0 }})
		p.PollNow(context.Background(), []Source{src}, nil)
		if got, want := st.states["a"].NextDue.Sub(t0), 3*time.Hour; got != want {
			t.Fatalf("next due in %v, want %v (Retry-After)", got, want)
		}
	})
	t.Run("CancelledRecordsNothing", func(t *testing.T) {
		st := newMemStore()
		ctx, cancel := context.WithCancel(context.Background())
		f := &fakeFetcher{fn: func(Source, SourceState) (*FetchResult, error) {
			cancel()
			return nil, context.Canceled
		}}
		p := NewPoller(f, st, PollerOptions{Logger: quiet, Next: every(time.Minute)})
		rep := p.PollNow(ctx, []Source{src}, nil)[0]
		if !errors.Is(rep.Err, context.Canceled) || st.saves != 0 {
			t.Fatalf("err %v, %d saves; want cancellation reported and nothing saved", rep.Err, st.saves)
		}
	})
}

func TestPoller_PerHost(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := newMemStore()
		f := &fakeFetcher{fn: func(Source, SourceState) (*FetchResult, error) {
			time.Sleep(time.Second)
			return &FetchResult{Status: 200}, nil
		}}
		var srcs []Source
		for i := range 6 {
			srcs = append(srcs, Source{Name: fmt.Sprintf("slow%d", i), URL: fmt.Sprintf("http://slow.example/%d", i)})
			srcs = append(srcs, Source{Name: fmt.Sprintf("fast%d", i), URL: fmt.Sprintf("http://fast%d.example/", i)})
		}
		p := NewPoller(f, st, PollerOptions{Logger: quiet, Workers: 4, PerHost: 2, Next: every(time.Hour)})
		start := time.Now()
		p.PollNow(context.Background(), srcs, nil)
		if got := f.maxSeen["slow.example"]; got != 2 {
			t.Errorf("max concurrent fetches to one host = %d, want 2", got)
		}
		// 12 one-second fetches, 4 at a time, one host limited to 2: at
		// worst the fast hosts go first and the slow host's last four run
		// two by two, 4 rounds. A slow fetch waiting on its host while
		// holding a worker would make it 5 or more.
		if got := time.Since(start); got > 4*time.Second {
			t.Errorf("took %v, want at most 4s: a busy host held back the others", got)
		}
	})
}

func TestPoller_Run(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := newMemStore()
		polled := map[string]int{}
		var mu sync.Mutex
		f := &fakeFetcher{fn: func(src Source, _ SourceState) (*FetchResult, error) {
			mu.Lock()
			polled[src.Name]++
			mu.Unlock()
			return &FetchResult{Status: 200}, nil
		}}
		p := NewPoller(f, st, PollerOptions{Logger: quiet, Next: every(10 * time.Minute)})
		a := Source{Name: "a", URL: "http://a.example/"}
		st.states["a"] = SourceState{Source: "a", Active: true}
		st.states["b"] = SourceState{Source: "b", Active: true}
		p.SetSources([]Source{a}) // b is in the store but no longer configured
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			p.Run(ctx, st, "me", time.Minute, time.Second)
			close(done)
		}()
		time.Sleep(25 * time.Minute)
		cancel()
		<-done
		if got, want := polled["a"], 3; got != want {
			t.Errorf("a polled %d times in 25 minutes every 10, want %d", got, want)
		}
		if got := polled["b"]; got != 0 {
			t.Errorf("unconfigured source b polled %d times", got)
		}
	})
}

// A source's Keep drops articles before they are stored, and the report
// counts them; the source's state moves on as after any successful poll.
func TestPoller_Keep(t *testing.T) {
	arts := []Article{
		{ID: ArticleID("a", "1"), Source: "a", Identity: "1", Title: "Harbour reopens"},
		{ID: ArticleID("a", "2"), Source: "a", Identity: "2", Title: "Sponsored: mattresses"},
		{ID: ArticleID("a", "3"), Source: "a", Identity: "3", Title: "Storm warning"},
	}
	src := Source{Name: "a", URL: "http://a.example/feed", Keep: func(a Article) bool { return a.Title != "Sponsored: mattresses" }}
	st := newMemStore()
	f := &fakeFetcher{fn: func(Source, SourceState) (*FetchResult, error) {
		return &FetchResult{Status: 200, ETag: `"v1"`, Articles: arts}, nil
	}}
	p := NewPoller(f, st, PollerOptions{Logger: quiet, Next: every(time.Hour), Now: func() time.Time { return t0 }})
	rep := p.PollNow(context.Background(), []Source{src}, nil)[0]
	if rep.Err != nil || rep.New != 2 || rep.Filtered != 1 {
		t.Fatalf("report = %+v, want 2 new and 1 filtered", rep)
	}
	if _, ok := st.arts[arts[1].ID]; ok || len(st.arts) != 2 {
		t.Errorf("stored %d articles, the blocked one included: %v", len(st.arts), ok)
	}
	if st.states["a"].ETag != `"v1"` {
		t.Errorf("state not saved: %+v", st.states["a"])
	}
	if len(arts) != 3 || arts[1].Title != "Sponsored: mattresses" {
		t.Error("filtering changed the fetcher's slice")
	}
}

// TestPoller_PollNow_Skipped: items the fetcher could not read are counted
// in the report and logged, one line each, and the rest are stored.
func TestPoller_PollNow_Skipped(t *testing.T) {
	src := Source{Name: "a", URL: "http://a.example/feed.json"}
	var arts []Article
	for _, id := range []string{"1", "2", "4"} {
		arts = append(arts, Article{ID: ArticleID("a", id), Source: "a", Identity: id, Title: "Item " + id})
	}
	reason := `JSON Feed item 3 (id "3"): "title" is a JSON number where JSON Feed wants a string`
	st := newMemStore()
	f := &fakeFetcher{fn: func(Source, SourceState) (*FetchResult, error) {
		return &FetchResult{Status: 200, Articles: arts, Skipped: 1, SkipReasons: []string{reason}}, nil
	}}
	var log strings.Builder
	p := NewPoller(f, st, PollerOptions{Logger: slog.New(slog.NewTextHandler(&log, nil)), Next: every(time.Hour), Now: func() time.Time { return t0 }})
	rep := p.PollNow(context.Background(), []Source{src}, nil)[0]
	if rep.Err != nil || rep.New != 3 || rep.Skipped != 1 || len(st.arts) != 3 {
		t.Fatalf("report = %+v with %d stored; want 3 new, 1 skipped, no error", rep, len(st.arts))
	}
	if st.states["a"].LastError != "" {
		t.Errorf("LastError = %q: a skipped item is not a failed poll", st.states["a"].LastError)
	}
	out := log.String()
	if !strings.Contains(out, "item skipped") || !strings.Contains(out, `title\" is a JSON number`) || !strings.Contains(out, "skipped=1") {
		t.Errorf("log does not name the skipped item and count:\n%s", out)
	}
}
