package digest

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"
)

// horizonStore is a memStore shared with concurrent pollers: commit runs
// inside SeenHorizon, as the polls that the barrier waits for commit then,
// and the horizon is skew before now.
type horizonStore struct {
	*memStore
	skew   time.Duration
	commit func(now time.Time)
	calls  int
}

func (h *horizonStore) SeenHorizon(ctx context.Context, now time.Time) (time.Time, error) {
	h.calls++
	if h.commit != nil {
		h.commit(now)
		h.commit = nil
	}
	return now.Add(-h.skew), nil
}

func TestService_SendHorizon(t *testing.T) {
	clk := newClock(t0)
	st := &horizonStore{memStore: newMemStore(art("S", "old", h(3), h(3))), skew: time.Second}
	// Two polls stamped their articles before the digest read the clock and
	// commit while it waits at the barrier: one before the horizon, which
	// this digest must hold, one after it, which the next must.
	before := art("S", "stamped two seconds before", t0.Add(-2*time.Second), h(1))
	after := art("S", "stamped half a second before", t0.Add(-500*time.Millisecond), h(1))
	st.commit = func(now time.Time) { st.add(before, after) }
	m := &fakeMailer{errs: map[string][]error{}}
	svc, err := New(st, m, nil, nil, Options{Now: clk.Now, Sleep: clk.Sleep, Owner: "o", Secret: []byte("s"),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	d := Digest{Name: "daily", To: []string{"a@example.com"}}
	if _, err := svc.Send(t.Context(), d, t0); err != nil {
		t.Fatal(err)
	}
	first := st.delivery("daily", "a@example.com", t0)
	if first == nil {
		t.Fatal("no delivery planned")
	}
	if want := t0.Add(-time.Second); !first.SeenBefore.Equal(want) {
		t.Errorf("first digest's window ends at %v, want the horizon %v", first.SeenBefore, want)
	}
	if !slices.Contains(first.Articles, before.ID) || slices.Contains(first.Articles, after.ID) {
		t.Errorf("first digest holds %v; want %s (committed late, before the horizon) and not %s (after it)", first.Articles, before.ID, after.ID)
	}

	clk.Add(time.Hour)
	next := t0.Add(time.Hour)
	if _, err := svc.Send(t.Context(), d, next); err != nil {
		t.Fatal(err)
	}
	second := st.delivery("daily", "a@example.com", next)
	if second == nil {
		t.Fatal("no second delivery planned")
	}
	if !second.SeenSince.Equal(first.SeenBefore) {
		t.Errorf("second digest's window starts at %v, want where the first ended, %v", second.SeenSince, first.SeenBefore)
	}
	if !slices.Equal(second.Articles, []string{after.ID}) {
		t.Errorf("second digest holds %v, want only %s: an article is in exactly one digest", second.Articles, after.ID)
	}
	if st.calls != 2 {
		t.Errorf("SeenHorizon called %d times, want once per planning", st.calls)
	}
}
