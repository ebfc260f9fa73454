package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/broadsheet/broadsheet/feeds"
	"github.com/broadsheet/broadsheet/store"
)

// testDigest checks the store.DigestStore methods: planning once per
// period, claims that never hand one delivery to two claimers, leases,
// outcomes, unsubscriptions and the shared secret.
func (s *suite) testDigest(t *testing.T) {
	t.Run("PlanAndCursor", s.testPlanAndCursor)
	t.Run("PlanOncePerPeriod", s.testPlanOncePerPeriod)
	t.Run("Claim", s.testClaimDelivery)
	t.Run("ConcurrentClaims", s.testConcurrentDeliveryClaims)
	t.Run("ConcurrentPlans", s.testConcurrentPlans)
	t.Run("Finish", s.testFinishDelivery)
	t.Run("Deliveries", s.testDeliveries)
	t.Run("Unsubscribe", s.testUnsubscribe)
	t.Run("Secret", s.testDigestSecret)
}

// digestStore is e's store as a DigestStore.
func digestStore(t *testing.T, st store.Store) store.DigestStore {
	t.Helper()
	ds, ok := st.(store.DigestStore)
	if !ok {
		t.Fatalf("store %T does not implement store.DigestStore", st)
	}
	return ds
}

// delivery is a pending delivery of digest "daily" to rcpt for period p,
// covering the day before p.
func delivery(rcpt string, p time.Time) store.Delivery {
	return store.Delivery{
		DeliveryKey: store.DeliveryKey{Digest: "daily", Recipient: rcpt, Period: p},
		SeenSince:   p.Add(-24 * time.Hour),
		SeenBefore:  p.Add(time.Minute),
		Created:     p.Add(time.Minute),
		State:       store.DeliveryPending,
		Articles:    []string{"a1", "a2"},
		Layout:      `{"topics":[{"label":"Latest","stories":[["a1","a2"]]}]}`,
		MessageID:   fmt.Sprintf("digest.daily.%s.%d@example.org", rcpt, p.UnixMilli()),
	}
}

func plan(t *testing.T, ds store.DigestStore, d store.Delivery) bool {
	t.Helper()
	ok, err := ds.PlanDelivery(t.Context(), d)
	if err != nil {
		t.Fatalf("PlanDelivery(%s, %v): %v", d.Recipient, d.Period, err)
	}
	return ok
}

func claim(t *testing.T, ds store.DigestStore, owner string, now time.Time) (store.Delivery, bool) {
	t.Helper()
	d, err := ds.ClaimDelivery(t.Context(), "daily", owner, now, time.Minute)
	if errors.Is(err, feeds.ErrNotFound) {
		return d, false
	}
	if err != nil {
		t.Fatalf("ClaimDelivery: %v", err)
	}
	return d, true
}

func finish(t *testing.T, ds store.DigestStore, d store.Delivery, owner string, o store.DeliveryOutcome) {
	t.Helper()
	if err := ds.FinishDelivery(t.Context(), d.DeliveryKey, owner, o); err != nil {
		t.Fatalf("FinishDelivery(%s): %v", d.Recipient, err)
	}
}

func (s *suite) testPlanAndCursor(t *testing.T) {
	e := s.setup(t)
	ds := digestStore(t, e.s)
	cur, err := ds.DigestCursor(e.ctx, "daily", "a@example.com")
	if err != nil || !cur.LastPeriod.IsZero() || !cur.CoveredUntil.IsZero() {
		t.Fatalf("cursor of a new recipient = %+v, %v; want zero", cur, err)
	}
	d := delivery("a@example.com", base)
	if !plan(t, ds, d) {
		t.Fatal("first plan not recorded")
	}
	got, err := ds.Deliveries(e.ctx, store.DeliveryFilter{Digest: "daily"})
	if err != nil || len(got) != 1 {
		t.Fatalf("Deliveries = %d, %v; want 1", len(got), err)
	}
	if df := diff(got[0], d); df != "" {
		t.Errorf("round trip: %s", df)
	}
	cur, _ = ds.DigestCursor(e.ctx, "daily", "a@example.com")
	if !cur.LastPeriod.Equal(base) || !cur.CoveredUntil.Equal(d.SeenBefore) {
		t.Errorf("cursor %+v, want period %v, covered until %v", cur, base, d.SeenBefore)
	}
	// Empty and failed deliveries set the period but cover nothing.
	e2 := delivery("b@example.com", base)
	e2.State, e2.Articles, e2.Layout = store.DeliveryEmpty, nil, ""
	plan(t, ds, e2)
	cur, _ = ds.DigestCursor(e.ctx, "daily", "b@example.com")
	if !cur.LastPeriod.Equal(base) || !cur.CoveredUntil.IsZero() {
		t.Errorf("cursor after an empty delivery %+v, want period %v and nothing covered", cur, base)
	}
	// Other digests and recipients are apart.
	if cur, _ := ds.DigestCursor(e.ctx, "weekly", "a@example.com"); !cur.LastPeriod.IsZero() {
		t.Errorf("weekly cursor %+v, want zero", cur)
	}
}

func (s *suite) testPlanOncePerPeriod(t *testing.T) {
	e := s.setup(t)
	ds := digestStore(t, e.s)
	d := delivery("a@example.com", base)
	plan(t, ds, d)
	for _, tc := range []struct {
		name string
		d    func() store.Delivery
		want bool
	}{
		{"SamePeriod", func() store.Delivery { x := delivery("a@example.com", base); x.SeenSince = d.SeenBefore; return x }, false},
		{"EarlierPeriod", func() store.Delivery {
			x := delivery("a@example.com", base.Add(-time.Hour))
			x.SeenSince = d.SeenBefore
			return x
		}, false},
		{"StaleCursor", func() store.Delivery { return delivery("a@example.com", base.Add(24*time.Hour)) }, false},
		{"NextPeriod", func() store.Delivery {
			x := delivery("a@example.com", base.Add(24*time.Hour))
			x.SeenSince = d.SeenBefore
			return x
		}, true},
		{"OtherRecipient", func() store.Delivery { return delivery("b@example.com", base) }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := plan(t, ds, tc.d()); got != tc.want {
				t.Errorf("PlanDelivery = %v, want %v", got, tc.want)
			}
		})
	}
	t.Run("BadState", func(t *testing.T) {
		x := delivery("c@example.com", base)
		x.State = store.DeliverySent
		if _, err := ds.PlanDelivery(e.ctx, x); err == nil {
			t.Error("planned a delivery as sent")
		}
	})
}

func (s *suite) testClaimDelivery(t *testing.T) {
	e := s.setup(t)
	ds := digestStore(t, e.s)
	if _, ok := claim(t, ds, "o1", base); ok {
		t.Fatal("claimed from an empty store")
	}
	// Two periods, two recipients: earliest period first, then recipient.
	p2 := base.Add(24 * time.Hour)
	plan(t, ds, delivery("b@example.com", base))
	plan(t, ds, delivery("a@example.com", base))
	late := delivery("a@example.com", p2)
	late.SeenSince = delivery("a@example.com", base).SeenBefore
	plan(t, ds, late)
	empty := delivery("c@example.com", base)
	empty.State = store.DeliveryEmpty
	plan(t, ds, empty)
	var order []string
	for {
		d, ok := claim(t, ds, "o1", base)
		if !ok {
			break
		}
		if d.State != store.DeliverySending || d.Owner != "o1" || !d.LeaseUntil.Equal(base.Add(time.Minute)) || d.Attempts != 1 {
			t.Errorf("claimed %+v, want sending by o1 until %v, attempt 1", d, base.Add(time.Minute))
		}
		order = append(order, fmt.Sprintf("%s@%s", d.Recipient, d.Period.Sub(base)))
	}
	if got, want := fmt.Sprint(order), "[a@example.com@0s b@example.com@0s a@example.com@24h0m0s]"; got != want {
		t.Errorf("claim order %s, want %s (empty deliveries are never claimed)", got, want)
	}
	// A live lease is not taken over; an expired one is, by anyone.
	if _, ok := claim(t, ds, "o2", base.Add(time.Minute)); ok {
		t.Error("took over a lease at its last instant")
	}
	d, ok := claim(t, ds, "o2", base.Add(time.Minute+time.Millisecond))
	if !ok || d.Owner != "o2" || d.Attempts != 2 || d.Recipient != "a@example.com" || !d.Period.Equal(base) {
		t.Errorf("took over %+v, %v; want a@'s first delivery, attempt 2, by o2", d, ok)
	}
	// A retry is due at NextAttempt, not before.
	now := base.Add(2 * time.Minute)
	finish(t, ds, d, "o2", store.DeliveryOutcome{State: store.DeliveryRetry, At: now, Error: "451 later", NextAttempt: now.Add(time.Hour)})
	for _, x := range []string{"b@example.com", "a@example.com"} { // the other two leases lapsed too
		_ = x
		if d, ok := claim(t, ds, "o3", now); ok {
			finish(t, ds, d, "o3", store.DeliveryOutcome{State: store.DeliverySent, At: now})
		}
	}
	if d, ok := claim(t, ds, "o3", now.Add(time.Hour-time.Millisecond)); ok {
		t.Errorf("claimed %s/%v before its retry was due", d.Recipient, d.Period)
	}
	d, ok = claim(t, ds, "o3", now.Add(time.Hour))
	if !ok || d.LastError != "451 later" || d.Attempts != 3 {
		t.Errorf("retry claim %+v, %v; want a@ with its last error, attempt 3", d, ok)
	}
}

func (s *suite) testConcurrentDeliveryClaims(t *testing.T) {
	e := s.setup(t)
	const n, workers = 40, 6
	ds := digestStore(t, e.s)
	for i := range n {
		plan(t, ds, delivery(fmt.Sprintf("r%02d@example.com", i), base))
	}
	var mu sync.Mutex
	got := map[string]string{}
	var wg sync.WaitGroup
	for w := range workers {
		h := digestStore(t, s.handle(t, e.clk)) // another replica
		owner := fmt.Sprintf("w%d", w)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				d, err := h.ClaimDelivery(t.Context(), "daily", owner, base, time.Minute)
				if errors.Is(err, feeds.ErrNotFound) {
					return
				}
				if err != nil {
					t.Errorf("%s: ClaimDelivery: %v", owner, err)
					return
				}
				mu.Lock()
				if prev, dup := got[d.Recipient]; dup {
					t.Errorf("%s claimed by %s and %s", d.Recipient, prev, owner)
				}
				got[d.Recipient] = owner
				mu.Unlock()
				if err := h.FinishDelivery(t.Context(), d.DeliveryKey, owner, store.DeliveryOutcome{State: store.DeliverySent, At: base}); err != nil {
					t.Errorf("%s: FinishDelivery: %v", owner, err)
				}
			}
		}()
	}
	wg.Wait()
	if len(got) != n {
		t.Errorf("%d deliveries claimed, want %d", len(got), n)
	}
	sent, _ := ds.Deliveries(e.ctx, store.DeliveryFilter{Digest: "daily", States: []store.DeliveryState{store.DeliverySent}})
	if len(sent) != n {
		t.Errorf("%d sent, want %d", len(sent), n)
	}
}

func (s *suite) testConcurrentPlans(t *testing.T) {
	// Replicas firing on the same tick, and a manual send at once: one
	// delivery per recipient, whatever the interleaving.
	e := s.setup(t)
	var wg sync.WaitGroup
	var mu sync.Mutex
	planned := 0
	start := make(chan struct{})
	for w := range 12 {
		h := digestStore(t, s.handle(t, e.clk))
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			p := base
			if w%2 == 1 {
				p = base.Add(time.Duration(w) * time.Minute) // manual sends, later periods
			}
			ok, err := h.PlanDelivery(t.Context(), delivery("a@example.com", p))
			if err != nil {
				t.Errorf("PlanDelivery: %v", err)
			}
			if ok {
				mu.Lock()
				planned++
				mu.Unlock()
			}
		}()
	}
	close(start)
	wg.Wait()
	// All windows start at base-24h, so once one is planned every other
	// one is stale.
	if planned != 1 {
		t.Errorf("%d deliveries planned, want 1", planned)
	}
}

func (s *suite) testFinishDelivery(t *testing.T) {
	e := s.setup(t)
	ds := digestStore(t, e.s)
	plan(t, ds, delivery("a@example.com", base))
	plan(t, ds, delivery("b@example.com", base))
	plan(t, ds, delivery("c@example.com", base))
	at := base.Add(5 * time.Second)

	a, _ := claim(t, ds, "o1", base)
	finish(t, ds, a, "o1", store.DeliveryOutcome{State: store.DeliverySent, At: at})
	b, _ := claim(t, ds, "o1", base)
	finish(t, ds, b, "o1", store.DeliveryOutcome{State: store.DeliveryFailed, At: at, Error: "550 no such user"})
	c, _ := claim(t, ds, "o1", base)

	t.Run("NotOwner", func(t *testing.T) {
		err := ds.FinishDelivery(e.ctx, c.DeliveryKey, "o2", store.DeliveryOutcome{State: store.DeliverySent, At: at})
		if !errors.Is(err, store.ErrLeaseLost) {
			t.Errorf("error %v, want ErrLeaseLost", err)
		}
	})
	t.Run("AlreadyFinished", func(t *testing.T) {
		err := ds.FinishDelivery(e.ctx, a.DeliveryKey, "o1", store.DeliveryOutcome{State: store.DeliveryFailed, At: at})
		if !errors.Is(err, store.ErrLeaseLost) {
			t.Errorf("error %v, want ErrLeaseLost", err)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		k := c.DeliveryKey
		k.Recipient = "nobody@example.com"
		if err := ds.FinishDelivery(e.ctx, k, "o1", store.DeliveryOutcome{State: store.DeliverySent, At: at}); !errors.Is(err, feeds.ErrNotFound) {
			t.Errorf("error %v, want ErrNotFound", err)
		}
	})
	t.Run("BadState", func(t *testing.T) {
		if err := ds.FinishDelivery(e.ctx, c.DeliveryKey, "o1", store.DeliveryOutcome{State: store.DeliveryPending}); err == nil {
			t.Error("finished a delivery as pending")
		}
	})
	t.Run("Recorded", func(t *testing.T) {
		all, err := ds.Deliveries(e.ctx, store.DeliveryFilter{Digest: "daily"})
		if err != nil || len(all) != 3 {
			t.Fatalf("Deliveries = %d, %v", len(all), err)
		}
		by := map[string]store.Delivery{}
		for _, d := range all {
			by[d.Recipient] = d
		}
		if d := by["a@example.com"]; d.State != store.DeliverySent || !d.Sent.Equal(at) || d.Owner != "" || !d.LeaseUntil.IsZero() {
			t.Errorf("a@: %+v, want sent at %v, no lease", d, at)
		}
		if d := by["b@example.com"]; d.State != store.DeliveryFailed || d.LastError != "550 no such user" || !d.Sent.IsZero() {
			t.Errorf("b@: %+v, want failed with its error", d)
		}
		if d := by["c@example.com"]; d.State != store.DeliverySending || d.Owner != "o1" {
			t.Errorf("c@: %+v, want still sending by o1", d)
		}
		// Failed windows are not covered: the next digest includes them.
		cur, _ := ds.DigestCursor(e.ctx, "daily", "b@example.com")
		if !cur.CoveredUntil.IsZero() || !cur.LastPeriod.Equal(base) {
			t.Errorf("b@ cursor %+v, want period set and nothing covered", cur)
		}
	})
	t.Run("NeverClaimedAgain", func(t *testing.T) {
		finish(t, ds, c, "o1", store.DeliveryOutcome{State: store.DeliveryCancelled, At: at, Error: "unsubscribed"})
		if d, ok := claim(t, ds, "o9", base.Add(48*time.Hour)); ok {
			t.Errorf("claimed a finished delivery %+v", d)
		}
	})
}

func (s *suite) testDeliveries(t *testing.T) {
	e := s.setup(t)
	ds := digestStore(t, e.s)
	for i, r := range []string{"b@example.com", "a@example.com"} {
		for day := range 3 {
			d := delivery(r, base.Add(time.Duration(day)*24*time.Hour))
			d.SeenSince = base.Add(time.Duration(day-1)*24*time.Hour + time.Minute)
			if !plan(t, ds, d) {
				t.Fatalf("plan %s day %d", r, day)
			}
		}
		_ = i
	}
	other := delivery("a@example.com", base)
	other.Digest = "weekly"
	plan(t, ds, other)
	x, _ := claim(t, ds, "o", base)
	finish(t, ds, x, "o", store.DeliveryOutcome{State: store.DeliverySent, At: base})

	for _, tc := range []struct {
		name string
		f    store.DeliveryFilter
		want string
	}{
		{"Digest", store.DeliveryFilter{Digest: "daily"}, "a2 b2 a1 b1 a0 b0"},
		{"Recipient", store.DeliveryFilter{Digest: "daily", Recipient: "b@example.com"}, "b2 b1 b0"},
		{"States", store.DeliveryFilter{Digest: "daily", States: []store.DeliveryState{store.DeliverySent}}, "a0"},
		{"EmptyStates", store.DeliveryFilter{Digest: "daily", States: []store.DeliveryState{}}, ""},
		{"Limit", store.DeliveryFilter{Digest: "daily", Limit: 1}, "a2"},
		{"All", store.DeliveryFilter{}, "a2 b2 a1 b1 a0 a0 b0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ds.Deliveries(e.ctx, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			for i, d := range got {
				if i > 0 {
					b.WriteByte(' ')
				}
				fmt.Fprintf(&b, "%c%d", d.Recipient[0], int(d.Period.Sub(base)/(24*time.Hour)))
			}
			if b.String() != tc.want {
				t.Errorf("got %q, want %q", b.String(), tc.want)
			}
		})
	}
}

func (s *suite) testUnsubscribe(t *testing.T) {
	e := s.setup(t)
	ds := digestStore(t, e.s)
	for _, a := range []string{"b@example.com", "a@example.com", "b@example.com"} {
		if err := ds.Unsubscribe(e.ctx, "daily", a, base); err != nil {
			t.Fatalf("Unsubscribe(%s): %v", a, err)
		}
	}
	if err := ds.Unsubscribe(e.ctx, "weekly", "c@example.com", base); err != nil {
		t.Fatal(err)
	}
	got, err := ds.Unsubscribed(e.ctx, "daily")
	if err != nil || fmt.Sprint(got) != "[a@example.com b@example.com]" {
		t.Errorf("Unsubscribed = %v, %v; want [a@example.com b@example.com]", got, err)
	}
	if ok, err := ds.Resubscribe(e.ctx, "daily", "b@example.com"); !ok || err != nil {
		t.Errorf("Resubscribe = %v, %v; want true", ok, err)
	}
	if ok, err := ds.Resubscribe(e.ctx, "daily", "b@example.com"); ok || err != nil {
		t.Errorf("second Resubscribe = %v, %v; want false", ok, err)
	}
	got, _ = ds.Unsubscribed(e.ctx, "daily")
	if fmt.Sprint(got) != "[a@example.com]" {
		t.Errorf("after resubscribing: %v", got)
	}
	if got, _ := ds.Unsubscribed(e.ctx, "none"); len(got) != 0 {
		t.Errorf("a digest with no unsubscriptions lists %v", got)
	}
}

func (s *suite) testDigestSecret(t *testing.T) {
	e := s.setup(t)
	ds := digestStore(t, e.s)
	k1, err := ds.DigestSecret(e.ctx, []byte("first candidate"))
	if err != nil || string(k1) != "first candidate" {
		t.Fatalf("DigestSecret = %q, %v; want the first candidate", k1, err)
	}
	other := digestStore(t, s.handle(t, e.clk))
	k2, err := other.DigestSecret(e.ctx, []byte("second candidate"))
	if err != nil || !bytes.Equal(k1, k2) {
		t.Errorf("another handle's DigestSecret = %q, %v; want %q", k2, err, k1)
	}
	if _, err := ds.DigestSecret(e.ctx, nil); err == nil {
		t.Error("no error for an empty candidate")
	}
}
