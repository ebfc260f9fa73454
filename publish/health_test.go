package publish

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/broadsheet/broadsheet/feeds"
	"github.com/broadsheet/broadsheet/store"
	"github.com/broadsheet/broadsheet/store/sqlite"
)

// manySources is a real SQLite store with n sources, every third failing,
// each with one article.
func manySources(tb testing.TB, n int) store.Store {
	tb.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(tb.TempDir(), "broadsheet.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	srcs := make([]feeds.Source, n)
	for i := range srcs {
		srcs[i] = feeds.Source{Name: fmt.Sprintf("Outlet %05d", i), URL: fmt.Sprintf("https://outlet%05d.example/feed", i), Kind: feeds.KindNews}
	}
	if err := db.SyncSources(ctx, srcs); err != nil {
		tb.Fatal(err)
	}
	for i, src := range srcs {
		st := feeds.SourceState{Source: src.Name, Active: true, LastAttempt: now.Add(-time.Duration(i) * time.Second), LastStatus: 200}
		var arts []feeds.Article
		if i%3 == 0 {
			st.Failures, st.LastError, st.LastStatus = 1, "the server answered 503", 503
		} else {
			st.LastSuccess = st.LastAttempt
			arts = []feeds.Article{article(src.Name, "a", src.Name+" story", fmt.Sprintf("https://outlet%05d.example/a", i), now.Add(-time.Hour))}
		}
		if _, err := db.SavePoll(ctx, feeds.Poll{State: st, Articles: arts}); err != nil {
			tb.Fatal(err)
		}
	}
	return db
}

// statesOnly hides the store's SourceCounts, as a store without it would:
// /healthz then reads every source's state.
type statesOnly struct{ Store }

func TestHandler_HealthzManySources(t *testing.T) {
	const n = 3000
	cs := &healthCounting{Store: manySources(t, n)}
	h := New(cs, fixtureOptions())
	res := httptest.NewRecorder()
	h.ServeHTTP(res, httptest.NewRequest(http.MethodGet, "/healthz", nil))
	var got health
	if err := json.Unmarshal(res.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if res.Code != http.StatusOK || got.Status != "degraded" || got.Sources != n || got.Polled != n || got.Failing != n/3 {
		t.Errorf("status %d, %+v; want 200, degraded, %d sources polled, %d failing", res.Code, got, n, n/3)
	}
	if got.LastPoll == nil || !got.LastPoll.Equal(now) {
		t.Errorf("last_poll %v, want %v", got.LastPoll, now)
	}
	if cs.states != 0 {
		t.Errorf("/healthz read every source's state (%d SourceStates calls), want the one counting query", cs.states)
	}
}

// healthCounting counts SourceStates calls on a store.
type healthCounting struct {
	store.Store
	states int
}

func (h *healthCounting) SourceStates(ctx context.Context) ([]feeds.SourceState, error) {
	h.states++
	return h.Store.SourceStates(ctx)
}

// BenchmarkHealthz serves /healthz at 10,000 sources with the store's
// counting query, against the baseline of reading every source's state.
func BenchmarkHealthz(b *testing.B) {
	db := manySources(b, 10000)
	var perReq [2]float64
	for i, st := range []Store{db, statesOnly{db}} {
		name := []string{"counts", "states"}[i]
		b.Run(name, func(b *testing.B) {
			h := New(st, fixtureOptions())
			req := httptest.NewRequest(http.MethodGet, "/healthz", nil)
			start := time.Now()
			for b.Loop() {
				res := httptest.NewRecorder()
				h.ServeHTTP(res, req)
				if res.Code != http.StatusOK {
					b.Fatalf("status %d", res.Code)
				}
			}
			perReq[i] = float64(time.Since(start)) / float64(b.N)
			b.ReportMetric(float64(time.Second)/perReq[i], "req/s")
		})
	}
	if perReq[0] > 0 && perReq[1] > 0 {
		b.Logf("10,000 sources: %.0f req/s with SourceCounts, %.0f req/s reading every state: %.1fx", float64(time.Second)/perReq[0], float64(time.Second)/perReq[1], perReq[1]/perReq[0])
	}
}
