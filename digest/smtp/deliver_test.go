package smtp_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/broadsheet/broadsheet/digest"
	"github.com/broadsheet/broadsheet/digest/smtp"
	"github.com/broadsheet/broadsheet/digest/smtp/smtptest"
	"github.com/broadsheet/broadsheet/feeds"
	"github.com/broadsheet/broadsheet/store"
	"github.com/broadsheet/broadsheet/store/sqlite"
)

// now is the tests' clock: 07:00 in Seoul.
var now = time.Date(2025, 3, 2, 22, 0, 0, 0, time.UTC)

// openStore is an in-memory SQLite store holding n articles of two
// sources, first seen in the hour before now.
func openStore(t testing.TB, n int) *sqlite.DB {
	t.Helper()
	db, err := sqlite.OpenMemory(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	seed(t, db, n)
	return db
}

// seedable is a store whose clock can be set, as sqldb's can.
type seedable interface {
	store.Store
	SetNow(func() time.Time)
}

// seed stores n articles of each of two sources, first seen in the hour
// before now, pairs of them on the same story.
func seed(t testing.TB, db seedable, n int) {
	t.Helper()
	ctx := context.Background()
	srcs := []feeds.Source{{Name: "The Korea Herald", URL: "https://kh.example/rss", Kind: feeds.KindEditorial},
		{Name: "The Hankyoreh", URL: "https://hani.example/rss", Kind: feeds.KindEditorial}}
	if err := db.SyncSources(ctx, srcs); err != nil {
		t.Fatal(err)
	}
	for si, src := range srcs {
		db.SetNow(func() time.Time { return now.Add(-time.Duration(30+si) * time.Minute) })
		var arts []feeds.Article
		for i := range n {
			a := feeds.Article{
				Source: src.Name, Identity: fmt.Sprintf("%s/%d", src.URL, i), Link: fmt.Sprintf("https://%d.example/%d", si, i),
				Title:   fmt.Sprintf("Story %d of the day, as %s tells it", i, src.Name),
				Excerpt: "An excerpt that says what the editorial argues, in a sentence or two, as feeds do.",
				LinkKey: fmt.Sprintf("story-%d", i%(n/2+1)), Kind: feeds.KindEditorial,
				Published: now.Add(-time.Duration(i+60) * time.Minute),
			}
			a.ID = feeds.ArticleID(a.Source, a.Identity)
			a.Hash = feeds.ContentHash(a)
			arts = append(arts, a)
		}
		if _, err := db.SavePoll(ctx, feeds.Poll{State: feeds.SourceState{Source: src.Name, Active: true, URL: src.URL, LastSuccess: now}, Articles: arts}); err != nil {
			t.Fatal(err)
		}
	}
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestService_DeliverOverSMTP(t *testing.T) {
	db := openStore(t, 6)
	// Each of these recipients meets one failure, once; gone@ is refused
	// for good, and so is the message to spam@, after which this server
	// wants an RSET before the next recipient's (z@) MAIL.
	var mu sync.Mutex
	seen := map[string]bool{}
	once := func(key string) bool {
		mu.Lock()
		defer mu.Unlock()
		if seen[key] {
			return false
		}
		seen[key] = true
		return true
	}
	srv := smtptest.Start(t, smtptest.Options{TLS: smtptest.StartTLS, Username: "bs", Password: "pw", RsetAfterFailure: true, Hook: func(ev smtptest.Event) error {
		if len(ev.To) == 0 {
			return nil
		}
		rcpt := ev.To[len(ev.To)-1]
		switch {
		case ev.Stage == "rcpt" && rcpt == "gone@example.com":
			return smtptest.Reply(550, "5.1.1 no such user")
		case ev.Stage == "data" && rcpt == "spam@example.com":
			return smtptest.Reply(554, "5.7.1 message refused")
		case ev.Stage == "rcpt" && rcpt == "busy@example.com" && once("busy"):
			return smtptest.Reply(421, "4.3.2 too busy, come back later")
		case ev.Stage == "data" && rcpt == "later@example.com" && once("later"):
			return smtptest.Reply(451, "4.7.1 greylisted, try again")
		case ev.Stage == "data" && rcpt == "drop@example.com" && once("drop"):
			return smtptest.ErrDrop
		}
		return nil
	}})
	m, err := smtp.New(smtp.Options{Host: srv.Host, Port: srv.Port, Username: "bs", Password: "pw",
		TLSConfig: &tls.Config{RootCAs: srv.RootCAs}, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	clock := now
	var cmu sync.Mutex
	svc, err := digest.New(db, m, nil, nil, digest.Options{
		From: "Broadsheet <digest@news.example.org>", BaseURL: "https://news.example.org/",
		Backoff: func(int) time.Duration { return time.Second },
		Now:     func() time.Time { cmu.Lock(); defer cmu.Unlock(); return clock },
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
	d := digest.Digest{Name: "daily", To: []string{"a@example.com", "busy@example.com", "drop@example.com",
		"gone@example.com", "later@example.com", "spam@example.com", "z@example.com"}}

	rep, err := svc.Send(t.Context(), d, now)
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	got := map[string]int{}
	for _, msg := range srv.Messages() {
		got[strings.Join(msg.To, ",")]++
	}
	for _, r := range d.To {
		want := 1
		if r == "gone@example.com" || r == "spam@example.com" {
			want = 0
		}
		if got[r] != want {
			t.Errorf("%s got %d messages, want %d", r, got[r], want)
		}
	}
	if rep.Count(store.DeliverySent) != 5 || rep.Count(store.DeliveryFailed) != 2 {
		t.Errorf("report: %d sent, %d failed; want 5, 2: %+v", rep.Count(store.DeliverySent), rep.Count(store.DeliveryFailed), rep.Results)
	}
	dels, _ := db.Deliveries(t.Context(), store.DeliveryFilter{Digest: "daily"})
	for _, x := range dels {
		want := store.DeliverySent
		attempts := 1
		switch x.Recipient {
		case "gone@example.com":
			want = store.DeliveryFailed
			if !strings.Contains(x.LastError, "550") {
				t.Errorf("gone@'s error %q, want the 550", x.LastError)
			}
		case "spam@example.com":
			want = store.DeliveryFailed
			if !strings.Contains(x.LastError, "554") {
				t.Errorf("spam@'s error %q, want the 554", x.LastError)
			}
		case "busy@example.com", "later@example.com", "drop@example.com":
			attempts = 2
		}
		if x.State != want || x.Attempts != attempts {
			t.Errorf("%s: %s after %d attempts, want %s after %d", x.Recipient, x.State, x.Attempts, want, attempts)
		}
	}

	// Nothing more to do: no resend, and the failure is not retried.
	before := len(srv.Messages())
	if rep, err := svc.Resume(t.Context(), d); err != nil || len(rep.Results) != 0 {
		t.Errorf("Resume: %+v, %v; want nothing done", rep.Results, err)
	}
	if rep, err := svc.Send(t.Context(), d, now); err != nil || rep.Planned != 0 {
		t.Errorf("Send of the same period again: planned %d, %v", rep.Planned, err)
	}
	if n := len(srv.Messages()); n != before {
		t.Errorf("server got %d more messages", n-before)
	}

	t.Run("Message", func(t *testing.T) {
		var raw []byte
		for _, msg := range srv.Messages() {
			if msg.To[0] == "a@example.com" {
				raw = msg.Data
			}
		}
		p := parse(t, raw)
		h := p.header.Header
		if id := h.Get("Message-ID"); !strings.HasPrefix(id, "<digest.daily.") || !strings.HasSuffix(id, "@news.example.org>") {
			t.Errorf("Message-ID %q", id)
		}
		if !strings.HasPrefix(h.Get("List-Unsubscribe"), "<https://news.example.org/unsubscribe/") || h.Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" {
			t.Errorf("List-Unsubscribe %q, -Post %q", h.Get("List-Unsubscribe"), h.Get("List-Unsubscribe-Post"))
		}
		if h.Get("List-Id") != "broadsheet daily digest <daily.news.example.org>" {
			t.Errorf("List-Id %q", h.Get("List-Id"))
		}
		if !strings.Contains(p.parts["text/plain"], "2 outlets on this story") || !strings.Contains(p.parts["text/html"], "2 outlets on this story") {
			t.Errorf("the parts do not group the story the two outlets share")
		}
	})
}
