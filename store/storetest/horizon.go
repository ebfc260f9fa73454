package storetest

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/broadsheet/broadsheet/feeds"
	"github.com/broadsheet/broadsheet/store"
)

// SeenHorizoner is the optional barrier a digest takes before choosing the
// articles first seen in a window; *sqldb.DB implements it.
type SeenHorizoner interface {
	SeenHorizon(ctx context.Context, now time.Time) (time.Time, error)
}

// RunSeenHorizon checks a backend's SeenHorizon: a poll that stamped
// FirstSeen before the reader's clock reading but had not committed yet is
// waited for, so that a window ending at the horizon holds its article
// (without the barrier, that digest would miss it and the next one, which
// starts where this one ended, too); with nothing in flight it returns at
// once, no later than now; and an article stamped after it is outside the
// window. open is as for Run; each subtest opens a writer and a reader
// handle, as two replicas.
func RunSeenHorizon(t *testing.T, open func(t *testing.T) store.Store) {
	t.Run("LateCommit", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		stamped, release := make(chan struct{}), make(chan struct{})
		var once sync.Once
		stampAt := base
		writer := open(t)
		clocked(t, writer).SetNow(func() time.Time {
			// The poll holds its transaction open right after reading
			// the clock, as a slow commit would.
			once.Do(func() {
				close(stamped)
				<-release
			})
			return stampAt
		})
		reader := open(t)
		clocked(t, reader).SetNow(func() time.Time { return stampAt.Add(time.Minute) })
		hz := horizoner(t, reader)
		if err := reader.SyncSources(ctx, []feeds.Source{src("Alpha")}); err != nil {
			t.Fatal(err)
		}

		late := art("Alpha", 1, base.Add(-time.Hour))
		saved := make(chan error, 1)
		go func() {
			_, err := writer.SavePoll(ctx, feeds.Poll{State: stateOf("Alpha", base), Articles: []feeds.Article{late}})
			saved <- err
		}()
		select {
		case <-stamped:
		case err := <-saved:
			t.Fatalf("SavePoll returned (%v) without reading the clock", err)
		}

		// The reader's clock says a minute later: without a barrier the
		// late article, stamped before, is not committed yet.
		now := stampAt.Add(time.Minute)
		type result struct {
			h    time.Time
			arts []feeds.Article
			err  error
		}
		done := make(chan result, 1)
		go func() {
			var r result
			r.h, r.err = hz.SeenHorizon(ctx, now)
			if r.err == nil {
				r.arts, r.err = reader.Articles(ctx, store.ArticleFilter{SeenSince: base.Add(-time.Hour), SeenBefore: r.h})
			}
			done <- r
		}()
		var r result
		released := false
		select {
		case r = <-done:
			// Returned while the poll was uncommitted: only right if it
			// nevertheless sees the article, which it cannot.
		case <-time.After(300 * time.Millisecond):
			close(release)
			released = true
			r = <-done
		}
		if !released {
			close(release)
		}
		if err := <-saved; err != nil {
			t.Fatalf("SavePoll: %v", err)
		}
		if r.err != nil {
			t.Fatalf("SeenHorizon or Articles: %v", r.err)
		}
		if r.h.After(now) || !r.h.After(stampAt) {
			t.Errorf("SeenHorizon(%v) = %v, want in (%v, %v]", now, r.h, stampAt, now)
		}
		if !slices.ContainsFunc(r.arts, func(a feeds.Article) bool { return a.ID == late.ID }) {
			t.Errorf("window [.., %v) read after SeenHorizon holds %d articles, not the one first seen at %v and committed late: a digest would lose it", r.h, len(r.arts), stampAt)
		}
	})

	t.Run("Idle", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		clk := &clock{now: base}
		st := open(t)
		clocked(t, st).SetNow(clk.Now)
		hz := horizoner(t, st)
		if err := st.SyncSources(ctx, []feeds.Source{src("Alpha")}); err != nil {
			t.Fatal(err)
		}
		// Bounded: nothing is in flight, so there is nothing to wait for.
		hctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		h, err := hz.SeenHorizon(hctx, base)
		if err != nil {
			t.Fatalf("SeenHorizon: %v", err)
		}
		if h.After(base) || h.Before(base.Add(-time.Minute)) {
			t.Errorf("SeenHorizon(%v) = %v, want at most now and within a minute of it", base, h)
		}
		// A poll after the horizon stamps a later FirstSeen: outside the
		// window, so the next one has it.
		clk.Set(base.Add(time.Second))
		a := art("Alpha", 1, base.Add(-time.Hour))
		if _, err := st.SavePoll(ctx, feeds.Poll{State: stateOf("Alpha", base), Articles: []feeds.Article{a}}); err != nil {
			t.Fatal(err)
		}
		got, err := st.Article(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.FirstSeen.Before(h) {
			t.Errorf("article stored after SeenHorizon has FirstSeen %v, before the horizon %v", got.FirstSeen, h)
		}
	})
}

func clocked(t *testing.T, st store.Store) Clocked {
	t.Helper()
	c, ok := st.(Clocked)
	if !ok {
		t.Fatalf("store %T does not implement storetest.Clocked (SetNow)", st)
	}
	return c
}

func horizoner(t *testing.T, st store.Store) SeenHorizoner {
	t.Helper()
	h, ok := st.(SeenHorizoner)
	if !ok {
		t.Fatalf("store %T does not implement SeenHorizon", st)
	}
	return h
}
