package smtp_test

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/broadsheet/broadsheet/digest"
	"github.com/broadsheet/broadsheet/digest/smtp"
	"github.com/broadsheet/broadsheet/digest/smtp/smtptest"
	"github.com/broadsheet/broadsheet/feeds"
	"github.com/broadsheet/broadsheet/internal/pgtest"
	"github.com/broadsheet/broadsheet/store"
	"github.com/broadsheet/broadsheet/store/postgres"
	"github.com/broadsheet/broadsheet/store/sqlite"
)

// TestService_Refused has a mail server refuse a period's digest for good,
// not for its size: its content (554 at the end of DATA, as a content
// filter does for one item) and one recipient (550 at RCPT). Each refusal
// happens once: nothing is retried, the failures are reported, and the
// next period's digest holds only the items that came after, so the
// refused item neither repeats the refusal nor holds back newer ones, even
// with an empty period in between.
func TestService_Refused(t *testing.T) {
	t.Run("SQLite", func(t *testing.T) {
		db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "bs.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		refused(t, db)
	})
	t.Run("PostgreSQL", func(t *testing.T) {
		db, err := postgres.Open(context.Background(), pgtest.Schema(t, pgtest.DSN(t), "refused"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		refused(t, db)
	})
}

func refused(t *testing.T, db seedable) {
	ctx := t.Context()
	seed(t, db, 4)
	db.SetNow(func() time.Time { return now.Add(-20 * time.Minute) })
	spam := feeds.Article{Source: "The Hankyoreh", Identity: "spam-1", Link: "https://hani.example/spam", Kind: feeds.KindEditorial,
		Title: "Miracle pills: a spammy offer", Published: now.Add(-20 * time.Minute)}
	spam.ID = feeds.ArticleID(spam.Source, spam.Identity)
	spam.Hash = feeds.ContentHash(spam)
	if _, err := db.SavePoll(ctx, feeds.Poll{State: feeds.SourceState{Source: spam.Source, Active: true, URL: "https://hani.example/rss", LastSuccess: now},
		Articles: []feeds.Article{spam}}); err != nil {
		t.Fatal(err)
	}

	var contentRefusals, rcptRefusals atomic.Int32
	var refuseGone atomic.Bool
	refuseGone.Store(true)
	srv := smtptest.Start(t, smtptest.Options{TLS: smtptest.None, RsetAfterFailure: true,
		Hook: func(ev smtptest.Event) error {
			if ev.Stage == "rcpt" && refuseGone.Load() && ev.To[len(ev.To)-1] == "gone@example.com" {
				rcptRefusals.Add(1)
				return smtptest.Reply(550, "5.1.1 mailbox unavailable")
			}
			return nil
		},
		Check: func(m smtptest.Message) error {
			if bytes.Contains(m.Data, []byte("spammy offer")) {
				contentRefusals.Add(1)
				return smtptest.Reply(554, "5.7.1 message content rejected")
			}
			return nil
		}})
	m, err := smtp.New(smtp.Options{Host: srv.Host, Port: srv.Port, TLS: smtp.None, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	var cmu sync.Mutex
	clock := now
	setClock := func(at time.Time) { cmu.Lock(); clock = at; cmu.Unlock() }
	svc, err := digest.New(db, m, nil, nil, digest.Options{
		From: "Broadsheet <digest@news.example.org>", BaseURL: "https://news.example.org/",
		Now: func() time.Time { cmu.Lock(); defer cmu.Unlock(); return clock },
		Sleep: func(ctx context.Context, d time.Duration) error {
			cmu.Lock()
			clock = clock.Add(d)
			cmu.Unlock()
			return ctx.Err()
		},
		Logger: quiet(),
	})
	if err != nil {
		t.Fatal(err)
	}
	d := digest.Digest{Name: "daily", To: []string{"a@example.com", "b@example.com", "gone@example.com"}}

	// Period 1: the spammy item is in everyone's digest; a@ and b@ are
	// refused at the end of DATA, gone@ at RCPT.
	rep, err := svc.Send(ctx, d, now)
	if err != nil {
		t.Fatalf("period 1: %v", err)
	}
	if rep.Count(store.DeliveryFailed) != 3 || len(rep.Results) != 3 {
		t.Fatalf("period 1: %+v; want 3 failed", rep.Results)
	}
	for _, r := range rep.Results {
		want := "554"
		if r.Recipient == "gone@example.com" {
			want = "550"
		}
		if r.Attempts != 1 || r.Err == nil || !strings.Contains(r.Err.Error(), want) || !strings.Contains(r.Err.Error(), "next digest holds only newer items") {
			t.Errorf("period 1, %s: %d attempts, %v; want 1 attempt and the %s refusal, saying what happens next", r.Recipient, r.Attempts, r.Err, want)
		}
	}
	if c, r := contentRefusals.Load(), rcptRefusals.Load(); c != 2 || r != 1 {
		t.Fatalf("period 1: %d content and %d recipient refusals, want 2 and 1", c, r)
	}
	failed, err := db.Deliveries(ctx, store.DeliveryFilter{Digest: d.Name, States: []store.DeliveryState{store.DeliveryFailed}})
	if err != nil || len(failed) != 3 {
		t.Fatalf("failed deliveries recorded: %d, %v; want 3", len(failed), err)
	}
	for _, f := range failed {
		if !strings.HasPrefix(f.LastError, "permanent failure, refused by the mail server") {
			t.Errorf("%s: recorded error %q: want it marked as a refusal", f.Recipient, f.LastError)
		}
	}

	// Nothing is retried.
	setClock(now.Add(30 * time.Minute))
	if rep, err := svc.Resume(ctx, d); err != nil || len(rep.Results) != 0 {
		t.Fatalf("resume after the refusals: %+v, %v; want nothing attempted", rep.Results, err)
	}
	// An empty period in between: nothing new since the refused digest.
	setClock(now.Add(time.Hour))
	if rep, err := svc.Send(ctx, d, now.Add(time.Hour)); err != nil || rep.Empty != 3 || len(rep.Results) != 0 {
		t.Fatalf("empty period: %+v (empty %d), %v; want 3 empty, none sent", rep.Results, rep.Empty, err)
	}

	// Period 2: a new item; every recipient gets it, and only it.
	seedLater(t, db, now.Add(90*time.Minute))
	refuseGone.Store(false)
	setClock(now.Add(2 * time.Hour))
	pre, err := svc.Preview(ctx, d, "a@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(pre.Text, "spammy offer") || !strings.Contains(pre.Text, "Later story") {
		t.Errorf("preview of period 2 offers the refused items again, or not the new one:\n%s", pre.Text)
	}
	rep, err = svc.Send(ctx, d, now.Add(2*time.Hour))
	if err != nil || rep.Count(store.DeliverySent) != 3 {
		t.Fatalf("period 2: %+v, %v; want 3 sent", rep.Results, err)
	}
	if c, r := contentRefusals.Load(), rcptRefusals.Load(); c != 2 || r != 1 {
		t.Errorf("after period 2: %d content and %d recipient refusals in all, want still 2 and 1", c, r)
	}
	msgs := srv.Messages()
	if len(msgs) != 3 {
		t.Fatalf("server accepted %d messages, want 3", len(msgs))
	}
	for _, msg := range msgs {
		text := parse(t, msg.Data).parts["text/plain"]
		if !strings.Contains(text, "Later story") || strings.Contains(text, "Story 0 of the day") {
			t.Errorf("period 2's message to %v: want the later story alone, not the refused period's items:\n%s", msg.To, text)
		}
	}
}
