package smtp_test

import (
	"context"
	"crypto/tls"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/broadsheet/broadsheet/digest"
	"github.com/broadsheet/broadsheet/digest/smtp"
	"github.com/broadsheet/broadsheet/digest/smtp/smtptest"
	"github.com/broadsheet/broadsheet/feeds"
	"github.com/broadsheet/broadsheet/store"
)

// TestService_SizeLimit sends digests over a server's size limit, whether
// the server advertises its SIZE or only refuses past it: one holding an
// outsized item (a 1.35 MB title, as a hostile feed sent), whose title is
// cut while the other outlets' stories go out, grouped; and one of too many
// stories, of which the lowest ranked are left out and counted in the
// digest. Nothing fails, and the next period is not affected.
func TestService_SizeLimit(t *testing.T) {
	for _, tc := range []struct {
		name    string
		n       int // articles per source
		limit   int
		hide    bool
		refused int  // at least this many messages refused as too big (the first recipient's, halved until they fit)
		left    bool // items left out
	}{
		{"Outsized/Advertised", 6, 256 << 10, false, 0, false},
		{"Outsized/Unadvertised", 6, 256 << 10, true, 0, false}, // titles are capped at fetch and render too
		{"Many/Advertised", 300, 96 << 10, false, 0, true},
		{"Many/Unadvertised", 300, 96 << 10, true, 1, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			limit := tc.limit
			db := openStore(t, tc.n)
			ctx := t.Context()
			huge := feeds.Source{Name: "Outsized Outlet", URL: "https://huge.example/rss", Kind: feeds.KindNews}
			if err := db.SyncSources(ctx, []feeds.Source{
				{Name: "The Korea Herald", URL: "https://kh.example/rss", Kind: feeds.KindEditorial},
				{Name: "The Hankyoreh", URL: "https://hani.example/rss", Kind: feeds.KindEditorial}, huge}); err != nil {
				t.Fatal(err)
			}
			db.SetNow(func() time.Time { return now.Add(-10 * time.Minute) })
			a := feeds.Article{Source: huge.Name, Identity: "huge-1", Link: "https://huge.example/1", Kind: feeds.KindNews,
				Title: strings.Repeat("word ", 270_000), Published: now.Add(-5 * time.Minute)}
			a.ID = feeds.ArticleID(a.Source, a.Identity)
			a.Hash = feeds.ContentHash(a)
			if _, err := db.SavePoll(ctx, feeds.Poll{State: feeds.SourceState{Source: huge.Name, Active: true, URL: huge.URL, LastSuccess: now},
				Articles: []feeds.Article{a}}); err != nil {
				t.Fatal(err)
			}
			if stored, err := db.Articles(ctx, store.ArticleFilter{IDs: []string{a.ID}}); err != nil || len(stored) != 1 || len(stored[0].Title) < limit {
				t.Fatalf("the outsized item was not stored as such (%d, %v): the test needs it", len(stored), err)
			}

			srv := smtptest.Start(t, smtptest.Options{TLS: smtptest.StartTLS, MaxMessageBytes: int64(limit), HideSize: tc.hide})
			m, err := smtp.New(smtp.Options{Host: srv.Host, Port: srv.Port, TLSConfig: &tls.Config{RootCAs: srv.RootCAs}, Timeout: 5 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			var cmu sync.Mutex
			clock := now
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
			d := digest.Digest{Name: "daily", To: []string{"a@example.com", "b@example.com"}}
			// The digest uncut, as a preview renders it: every item's link.
			pre, err := svc.Preview(ctx, d, "")
			if err != nil {
				t.Fatal(err)
			}
			total := links(pre.Text)
			rep, err := svc.Send(ctx, d, now)
			if err != nil {
				t.Fatalf("Send: %v", err)
			}
			if rep.Count(store.DeliverySent) != 2 {
				t.Fatalf("sent %d of 2: %+v", rep.Count(store.DeliverySent), rep.Results)
			}
			refused := srv.TooBig()
			if refused < tc.refused || refused > 8 {
				t.Errorf("server refused %d messages as too big, want %d to 8 (the first recipient's only)", refused, tc.refused)
			}
			msgs := srv.Messages()
			if len(msgs) != 2 {
				t.Fatalf("server accepted %d messages, want 2", len(msgs))
			}
			for _, msg := range msgs {
				if len(msg.Data) > limit {
					t.Errorf("%v: %d bytes, over the limit of %d", msg.To, len(msg.Data), limit)
				}
				p := parse(t, msg.Data)
				text, html := p.parts["text/plain"], p.parts["text/html"]
				if strings.Contains(text, "word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word") {
					t.Errorf("%v: the outsized title is not cut", msg.To)
				}
				shown := links(text)
				left := 0
				if m := leftRe.FindStringSubmatch(text); m != nil {
					left, _ = strconv.Atoi(m[1])
					if !strings.Contains(html, m[1]+" more item") {
						t.Errorf("%v: the HTML part does not say %s items were left out", msg.To, m[1])
					}
				}
				if shown+left != total {
					t.Errorf("%v: %d items shown and %d said left out, want %d in all", msg.To, shown, left, total)
				}
				if (left > 0) != tc.left {
					t.Errorf("%v: %d items left out; want some: %v", msg.To, left, tc.left)
				}
				for _, want := range []string{"Story 0 of the day", "Story 1 of the day", "2 outlets on this story"} {
					if !strings.Contains(text, want) || !strings.Contains(html, want) {
						t.Errorf("%v: %q missing: the best stories were left out or their grouping lost", msg.To, want)
					}
				}
			}

			// The next period starts after the one sent: the outsized item
			// is not carried again, and nothing is left out.
			seedLater(t, db, now.Add(time.Hour))
			cmu.Lock()
			clock = now.Add(2 * time.Hour)
			cmu.Unlock()
			rep, err = svc.Send(ctx, d, now.Add(2*time.Hour))
			if err != nil || rep.Count(store.DeliverySent) != 2 {
				t.Fatalf("next period: %+v, %v; want 2 sent", rep.Results, err)
			}
			if got := srv.TooBig(); got != refused {
				t.Errorf("next period: server refused %d messages in all, want still %d", got, refused)
			}
			for _, msg := range srv.Messages()[2:] {
				if p := parse(t, msg.Data); strings.Contains(p.parts["text/plain"], "left out") || !strings.Contains(p.parts["text/plain"], "Later story") {
					t.Errorf("next period's message to %v: want the later story and nothing left out:\n%s", msg.To, p.parts["text/plain"])
				}
			}
		})
	}
}

// leftRe finds the note on items left out, wrapped as it may be.
var leftRe = regexp.MustCompile(strings.ReplaceAll(`(\d+) more items? left out to keep this email within the mail server's size limit: see https://news\.example\.org/\.`, " ", `\s+`))

// links counts the items' links in a text part.
func links(text string) int {
	n := 0
	for _, pre := range []string{"https://0.example/", "https://1.example/", "https://huge.example/"} {
		n += strings.Count(text, pre)
	}
	return n
}

// seedLater stores one article of The Korea Herald first seen at at.
func seedLater(t *testing.T, db seedable, at time.Time) {
	t.Helper()
	db.SetNow(func() time.Time { return at })
	a := feeds.Article{Source: "The Korea Herald", Identity: "later-1", Link: "https://kh.example/later", Kind: feeds.KindEditorial,
		Title: "Later story", Published: at}
	a.ID = feeds.ArticleID(a.Source, a.Identity)
	a.Hash = feeds.ContentHash(a)
	if _, err := db.SavePoll(t.Context(), feeds.Poll{State: feeds.SourceState{Source: a.Source, Active: true, URL: "https://kh.example/rss", LastSuccess: at},
		Articles: []feeds.Article{a}}); err != nil {
		t.Fatal(err)
	}
}
