package digest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/broadsheet/broadsheet/feeds"
	"github.com/broadsheet/broadsheet/store"
)

// twoReaders is a digest to a@ and b@ with everything in it.
func twoReaders() Digest {
	return Digest{Name: "daily", To: []string{"a@example.com", "B <b@example.com>"}, Location: seoul}
}

func h(x float64) time.Time { return t0.Add(-time.Duration(x * float64(time.Hour))) }

func TestService_Send(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		e := newEnv(t, Options{}, nil, art("S", "one", h(1), h(1)), art("T", "two", h(2), h(2)))
		rep := e.send(twoReaders(), t0)
		if rep.Planned != 2 || rep.Count(store.DeliverySent) != 2 {
			t.Errorf("planned %d, sent %d; want 2, 2", rep.Planned, rep.Count(store.DeliverySent))
		}
		for _, a := range []string{"a@example.com", "b@example.com"} {
			if n := len(e.m.to(a)); n != 1 {
				t.Errorf("%s got %d messages, want 1", a, n)
			}
			d := e.st.delivery("daily", a, t0)
			if d == nil || d.State != store.DeliverySent || !d.Sent.Equal(t0) {
				t.Errorf("%s: delivery %+v, want sent at %v", a, d, t0)
			}
		}
		if e.m.opens != 1 {
			t.Errorf("opened %d connections, want 1 for the batch", e.m.opens)
		}
	})
	t.Run("HeadersStablePerDelivery", func(t *testing.T) {
		e := newEnv(t, Options{From: "News <news@example.org>", BaseURL: "https://example.org/bs"}, nil, art("S", "one", h(1), h(1)))
		e.send(twoReaders(), t0)
		ma, mb := e.m.to("a@example.com")[0], e.m.to("b@example.com")[0]
		if ma.MessageID == mb.MessageID {
			t.Errorf("both recipients got Message-ID %s", ma.MessageID)
		}
		if !strings.HasSuffix(ma.MessageID, "@example.org") || !strings.HasPrefix(ma.MessageID, "digest.daily.") {
			t.Errorf("Message-ID %q, want digest.daily.…@example.org", ma.MessageID)
		}
		if want := e.st.delivery("daily", "a@example.com", t0).MessageID; ma.MessageID != want {
			t.Errorf("sent Message-ID %q, planned %q", ma.MessageID, want)
		}
		if want := "broadsheet daily digest <daily.example.org>"; ma.ListID != want {
			t.Errorf("List-Id %q, want %q", ma.ListID, want)
		}
		if !strings.HasPrefix(ma.ListUnsubscribe, "<https://example.org/bs/unsubscribe/") || ma.ListUnsubscribePost != "List-Unsubscribe=One-Click" {
			t.Errorf("List-Unsubscribe %q, -Post %q", ma.ListUnsubscribe, ma.ListUnsubscribePost)
		}
		if !ma.Date.Equal(t0) {
			t.Errorf("Date %v, want %v", ma.Date, t0)
		}
		if mb.To != `"B" <b@example.com>` {
			t.Errorf("To %q, want the configured name and address", mb.To)
		}
	})
	t.Run("SamePeriodOnce", func(t *testing.T) {
		e := newEnv(t, Options{}, nil, art("S", "one", h(1), h(1)))
		e.send(twoReaders(), t0)
		e.st.add(art("S", "late", t0.Add(time.Minute), t0))
		e.clk.Add(time.Hour)
		rep := e.send(twoReaders(), t0) // a replica, or a retry of the tick
		if rep.Planned != 0 || rep.Already != 2 || len(rep.Results) != 0 {
			t.Errorf("second run of the period: planned %d, already %d, results %d; want 0, 2, 0", rep.Planned, rep.Already, len(rep.Results))
		}
		if n := len(e.m.to("a@example.com")); n != 1 {
			t.Errorf("a@ got %d messages, want 1", n)
		}
		// An older period after a newer one is not planned either.
		if rep := e.send(twoReaders(), t0.Add(-24*time.Hour)); rep.Planned != 0 {
			t.Errorf("older period planned %d deliveries, want 0", rep.Planned)
		}
	})
	t.Run("NextPeriodHasOnlyNew", func(t *testing.T) {
		e := newEnv(t, Options{}, nil, art("S", "first story", h(1), h(1)))
		e.send(twoReaders(), t0)
		e.clk.Add(24 * time.Hour)
		e.st.add(art("S", "second story", t0.Add(time.Hour), t0.Add(time.Hour)))
		e.send(twoReaders(), t0.Add(24*time.Hour))
		got := e.m.to("a@example.com")
		if len(got) != 2 {
			t.Fatalf("a@ got %d messages, want 2", len(got))
		}
		if strings.Contains(got[1].Text, "first story") || !strings.Contains(got[1].Text, "second story") {
			t.Errorf("second digest should hold only the second story:\n%s", got[1].Text)
		}
	})
	t.Run("EmptyNotSent", func(t *testing.T) {
		e := newEnv(t, Options{}, nil)
		rep := e.send(twoReaders(), t0)
		if rep.Empty != 2 || len(e.m.sent) != 0 || e.m.opens != 0 {
			t.Errorf("empty %d, sent %d, opens %d; want 2, 0, 0", rep.Empty, len(e.m.sent), e.m.opens)
		}
		if d := e.st.delivery("daily", "a@example.com", t0); d == nil || d.State != store.DeliveryEmpty {
			t.Errorf("delivery %+v, want recorded as empty", d)
		}
	})
	t.Run("SendEmpty", func(t *testing.T) {
		e := newEnv(t, Options{}, nil)
		d := twoReaders()
		d.SendEmpty = true
		e.send(d, t0)
		got := e.m.to("a@example.com")
		if len(got) != 1 || !strings.Contains(got[0].Text, "Nothing new") {
			t.Errorf("got %d messages, want 1 saying nothing is new", len(got))
		}
	})
	t.Run("Windows", func(t *testing.T) {
		e := newEnv(t, Options{}, nil,
			art("S", "seen 2h ago", h(2), h(2)),
			art("S", "seen 30h ago", h(30), h(30)),
			art("S", "seen 1h ago, published 10 days ago", h(1), h(240)),
			art("S", "seen in the future", t0.Add(time.Minute), h(0)))
		e.send(twoReaders(), t0)
		text := e.m.to("a@example.com")[0].Text
		for title, want := range map[string]bool{
			"seen 2h ago": true, "seen 30h ago": false, "published 10 days ago": false, "in the future": false,
		} {
			if got := strings.Contains(text, title); got != want {
				t.Errorf("digest has %q: %v, want %v", title, got, want)
			}
		}
	})
	t.Run("Filters", func(t *testing.T) {
		news := art("S", "a news report", h(1), h(1))
		news.Kind = feeds.KindNews
		e := newEnv(t, Options{}, nil, news, art("S", "an editorial", h(1), h(1)), art("Other", "elsewhere", h(1), h(1)))
		d := twoReaders()
		d.Kinds = []feeds.Kind{feeds.KindEditorial}
		d.Sources = []string{"S"}
		e.send(d, t0)
		text := e.m.to("a@example.com")[0].Text
		if !strings.Contains(text, "an editorial") || strings.Contains(text, "news report") || strings.Contains(text, "elsewhere") {
			t.Errorf("filtered digest:\n%s", text)
		}
	})
	t.Run("Unsubscribed", func(t *testing.T) {
		e := newEnv(t, Options{}, nil, art("S", "one", h(1), h(1)))
		if err := e.svc.Unsubscribe(e.ctx, "daily", "B@Example.com"); err != nil {
			t.Fatal(err)
		}
		rep := e.send(twoReaders(), t0)
		if rep.Unsubscribed != 1 || len(e.m.to("b@example.com")) != 0 || len(e.m.to("a@example.com")) != 1 {
			t.Errorf("unsubscribed %d, b@ got %d, a@ got %d; want 1, 0, 1", rep.Unsubscribed, len(e.m.to("b@example.com")), len(e.m.to("a@example.com")))
		}
		if ok, err := e.svc.Resubscribe(e.ctx, "daily", "b@example.com"); !ok || err != nil {
			t.Fatalf("Resubscribe = %v, %v; want true, nil", ok, err)
		}
		e.clk.Add(time.Hour)
		e.send(twoReaders(), t0.Add(time.Hour))
		if n := len(e.m.to("b@example.com")); n != 1 {
			t.Errorf("after resubscribing b@ got %d messages, want 1", n)
		}
	})
	t.Run("TemporaryFailureRetriedInRun", func(t *testing.T) {
		e := newEnv(t, Options{}, nil, art("S", "one", h(1), h(1)))
		e.m.errs["a@example.com"] = []error{tempErr(451), tempErr(421)}
		rep := e.send(twoReaders(), t0)
		if n := len(e.m.to("a@example.com")); n != 1 {
			t.Errorf("a@ got %d messages, want 1", n)
		}
		if n := len(e.m.to("b@example.com")); n != 1 {
			t.Errorf("b@ got %d messages, want 1", n)
		}
		if rep.Count(store.DeliverySent) != 2 {
			t.Errorf("results %+v, want 2 sent", rep.Results)
		}
		if d := e.st.delivery("daily", "a@example.com", t0); d.Attempts != 3 {
			t.Errorf("attempts %d, want 3", d.Attempts)
		}
		// Default backoff: 2s, then 8s.
		if got := e.clk.slept; len(got) != 2 || got[0] != 2*time.Second || got[1] != 8*time.Second {
			t.Errorf("slept %v, want [2s 8s]", got)
		}
		if len(e.m.sent) != 2 || NormalizeAddress(e.m.sent[0].To) != "b@example.com" {
			t.Errorf("b@ should not wait for a@'s retries")
		}
	})
	t.Run("TemporaryFailureLeftForNextRun", func(t *testing.T) {
		e := newEnv(t, Options{MaxAttempts: 2, RetryLater: 10 * time.Minute}, nil, art("S", "one", h(1), h(1)))
		e.m.errs["a@example.com"] = []error{tempErr(451), tempErr(451)}
		rep := e.send(twoReaders(), t0)
		if rep.Count(store.DeliveryRetry) != 1 || rep.Count(store.DeliverySent) != 1 {
			t.Errorf("results %+v, want 1 retry and 1 sent", rep.Results)
		}
		d := e.st.delivery("daily", "a@example.com", t0)
		if d.State != store.DeliveryRetry || !d.NextAttempt.Equal(e.clk.Now().Add(10*time.Minute)) || !strings.Contains(d.LastError, "451") {
			t.Errorf("delivery %+v, want retry in 10m with the error", d)
		}
		// Not due yet: nothing happens.
		rep, err := e.svc.Resume(e.ctx, twoReaders())
		if err != nil || len(rep.Results) != 0 {
			t.Errorf("early Resume: %+v, %v; want nothing done", rep.Results, err)
		}
		e.clk.Add(11 * time.Minute)
		if rep, err = e.svc.Resume(e.ctx, twoReaders()); err != nil || rep.Count(store.DeliverySent) != 1 {
			t.Errorf("Resume: %+v, %v; want 1 sent", rep.Results, err)
		}
		if n := len(e.m.to("a@example.com")); n != 1 {
			t.Errorf("a@ got %d messages, want 1", n)
		}
		if n := len(e.m.to("b@example.com")); n != 1 {
			t.Errorf("b@ got %d messages, want 1", n)
		}
	})
	t.Run("PermanentFailure", func(t *testing.T) {
		e := newEnv(t, Options{}, nil, art("S", "one", h(1), h(1)))
		e.m.errs["a@example.com"] = []error{permErr(550)}
		rep := e.send(twoReaders(), t0)
		if rep.Count(store.DeliveryFailed) != 1 || rep.Count(store.DeliverySent) != 1 {
			t.Errorf("results %+v, want 1 failed, 1 sent", rep.Results)
		}
		var se *SendError
		for _, r := range rep.Results {
			if r.State == store.DeliveryFailed && (r.Recipient != "a@example.com" || !errors.As(r.Err, &se) || se.Code != 550) {
				t.Errorf("failed result %+v, want a@ with the 550", r)
			}
		}
		if d := e.st.delivery("daily", "a@example.com", t0); d.State != store.DeliveryFailed || !strings.Contains(d.LastError, "550") {
			t.Errorf("delivery %+v, want failed with the 550", d)
		}
		e.clk.Add(time.Hour)
		if rep, _ := e.svc.Resume(e.ctx, twoReaders()); len(rep.Results) != 0 {
			t.Errorf("a permanent failure was retried: %+v", rep.Results)
		}
		if len(e.m.to("b@example.com")) != 1 || len(e.m.to("a@example.com")) != 0 {
			t.Errorf("b@ got %d, a@ got %d; want 1, 0", len(e.m.to("b@example.com")), len(e.m.to("a@example.com")))
		}
		// The next digest holds what the failed one did: it never went out.
		e.clk.Add(2 * time.Hour)
		e.m.errs["a@example.com"] = nil
		e.send(twoReaders(), t0.Add(3*time.Hour))
		if got := e.m.to("a@example.com"); len(got) != 1 || !strings.Contains(got[0].Text, "one") {
			t.Errorf("a@'s next digest should hold what the failed one did")
		}
	})
	t.Run("ConnectFailureStopsRun", func(t *testing.T) {
		e := newEnv(t, Options{MaxAttempts: 3}, nil, art("S", "one", h(1), h(1)))
		e.m.openErr = []error{tempErr(0), tempErr(0), tempErr(0)}
		rep, err := e.svc.Send(e.ctx, twoReaders(), t0)
		if err == nil || !strings.Contains(err.Error(), "unavailable") {
			t.Fatalf("Send error %v, want mail server unavailable", err)
		}
		if len(e.m.sent) != 0 || rep.Count(store.DeliverySent) != 0 {
			t.Errorf("sent %d", len(e.m.sent))
		}
		// Nothing lost: the next run sends both.
		e.clk.Add(time.Hour)
		if rep, err := e.svc.Resume(e.ctx, twoReaders()); err != nil || rep.Count(store.DeliverySent) != 2 {
			t.Errorf("Resume: %+v, %v; want 2 sent", rep.Results, err)
		}
	})
	t.Run("CrashedSendIsResentWithSameMessageID", func(t *testing.T) {
		e := newEnv(t, Options{Lease: time.Minute}, nil, art("S", "one", h(1), h(1)))
		// A process plans, claims a@'s delivery, and dies while sending.
		other, err := New(e.st, e.m, nil, nil, Options{Owner: "dead", Now: e.clk.Now, Secret: []byte("test secret")})
		if err != nil {
			t.Fatal(err)
		}
		rep := &Report{}
		if err := other.plan(e.ctx, twoReaders(), t0, rep); err != nil {
			t.Fatal(err)
		}
		claimed, err := e.st.ClaimDelivery(e.ctx, "daily", "dead", t0, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		// The restarted process sends b@ at once and a@ once the lease is
		// over, with the Message-ID planned.
		rep2, err := e.svc.Resume(e.ctx, twoReaders())
		if err != nil {
			t.Fatal(err)
		}
		if rep2.Count(store.DeliverySent) != 2 {
			t.Errorf("results %+v, want 2 sent", rep2.Results)
		}
		got := e.m.to(claimed.Recipient)
		if len(got) != 1 || got[0].MessageID != claimed.MessageID {
			t.Errorf("%s got %d messages, want 1 with Message-ID %s", claimed.Recipient, len(got), claimed.MessageID)
		}
		if now := e.clk.Now(); now.Before(t0.Add(time.Minute)) {
			t.Errorf("resent at %v, before the lease ended at %v", now, t0.Add(time.Minute))
		}
	})
	t.Run("LeaseLost", func(t *testing.T) {
		e := newEnv(t, Options{}, nil, art("S", "one", h(1), h(1)))
		e.st.failFinish = store.ErrLeaseLost
		rep := e.send(twoReaders(), t0)
		if len(e.m.sent) != 2 || len(rep.Results) != 2 {
			t.Errorf("sent %d, results %d; want 2, 2", len(e.m.sent), len(rep.Results))
		}
		if !errors.Is(rep.Results[0].Err, store.ErrLeaseLost) {
			t.Errorf("result %+v, want the lost lease reported", rep.Results[0])
		}
	})
	t.Run("GiveUp", func(t *testing.T) {
		e := newEnv(t, Options{GiveUp: 48 * time.Hour, MaxAttempts: 1}, nil, art("S", "one", h(1), h(1)))
		e.m.errs["a@example.com"] = []error{tempErr(451), tempErr(451), tempErr(451), tempErr(451)}
		e.send(twoReaders(), t0)
		e.clk.Add(49 * time.Hour)
		rep, err := e.svc.Resume(e.ctx, twoReaders())
		if err != nil {
			t.Fatal(err)
		}
		if rep.Count(store.DeliveryFailed) != 1 || !strings.Contains(rep.Results[0].Err.Error(), "gave up") {
			t.Errorf("results %+v, want a@ given up", rep.Results)
		}
	})
	t.Run("RemovedRecipientCancelled", func(t *testing.T) {
		e := newEnv(t, Options{}, nil, art("S", "one", h(1), h(1)))
		if err := e.svc.plan(e.ctx, twoReaders(), t0, &Report{}); err != nil {
			t.Fatal(err)
		}
		d := twoReaders()
		d.To = d.To[:1]
		rep, err := e.svc.Resume(e.ctx, d)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Count(store.DeliveryCancelled) != 1 || len(e.m.to("b@example.com")) != 0 {
			t.Errorf("results %+v; b@ should be cancelled", rep.Results)
		}
	})
	t.Run("GrouperError", func(t *testing.T) {
		e := newEnv(t, Options{}, &fakeGroups{err: errBoom}, art("S", "one", h(1), h(1)))
		if _, err := e.svc.Send(e.ctx, twoReaders(), t0); !errors.Is(err, errBoom) {
			t.Errorf("error %v, want the grouper's", err)
		}
		if len(e.m.sent) != 0 {
			t.Errorf("sent %d", len(e.m.sent))
		}
	})
	t.Run("Cancelled", func(t *testing.T) {
		e := newEnv(t, Options{}, nil, art("S", "one", h(1), h(1)))
		ctx, cancel := context.WithCancel(e.ctx)
		e.m.onSend = func(*Message) { cancel() }
		_, err := e.svc.Send(ctx, twoReaders(), t0)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("error %v, want context.Canceled", err)
		}
		// The message handed over before the cancel is recorded as sent.
		if len(e.m.sent) != 1 || e.st.delivery("daily", NormalizeAddress(e.m.sent[0].To), t0).State != store.DeliverySent {
			t.Errorf("the message sent before cancelling must be recorded as sent")
		}
	})
}

func TestService_CatchUp(t *testing.T) {
	for _, tc := range []struct {
		name       string
		tick       time.Time // the schedule's last tick at restart
		lastPeriod time.Time // zero: never sent
		wantPeriod time.Time // zero: nothing planned
	}{
		{"NeverSent", t0, time.Time{}, time.Time{}},
		{"Missed", t0, t0.Add(-24 * time.Hour), t0},
		{"ManyMissedSendOne", t0, t0.Add(-72 * time.Hour), t0},
		{"UpToDate", t0, t0, time.Time{}},
		{"NoTick", time.Time{}, t0.Add(-72 * time.Hour), time.Time{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, Options{}, nil, art("S", "one", h(20), h(20)))
			d := Digest{Name: "daily", To: []string{"a@example.com"}}
			if !tc.lastPeriod.IsZero() {
				e.clk.Set(tc.lastPeriod)
				e.send(d, tc.lastPeriod)
			}
			// Restarted at 12:00 the next day, after missing 07:00.
			e.clk.Set(t0.Add(5 * time.Hour))
			rep, err := e.svc.CatchUp(e.ctx, d, tc.tick)
			if err != nil {
				t.Fatal(err)
			}
			if tc.wantPeriod.IsZero() {
				if rep.Planned != 0 {
					t.Errorf("planned %d, want 0", rep.Planned)
				}
				return
			}
			if !rep.Period.Equal(tc.wantPeriod) || rep.Planned != 1 {
				t.Errorf("period %v, planned %d; want %v, 1", rep.Period, rep.Planned, tc.wantPeriod)
			}
			// Restarted again: that period is not sent twice.
			rep, err = e.svc.CatchUp(e.ctx, d, tc.tick)
			if err != nil || rep.Planned != 0 {
				t.Errorf("second CatchUp: planned %d, %v; want 0", rep.Planned, err)
			}
		})
	}
}
