package digest_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/broadsheet/broadsheet/digest"
	"github.com/broadsheet/broadsheet/feeds"
	"github.com/broadsheet/broadsheet/internal/pgtest"
	"github.com/broadsheet/broadsheet/store"
	"github.com/broadsheet/broadsheet/store/postgres"
	"github.com/broadsheet/broadsheet/store/sqlite"
)

// failOnce refuses the first message with a temporary error and keeps
// every message it is handed.
type failOnce struct {
	mu   sync.Mutex
	msgs []*digest.Message
}

func (f *failOnce) Open(ctx context.Context) (digest.Conn, error) { return f, nil }
func (f *failOnce) Close() error                                  { return nil }
func (f *failOnce) Send(ctx context.Context, m *digest.Message) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.msgs = append(f.msgs, m)
	if len(f.msgs) == 1 {
		return &digest.SendError{Temporary: true, Code: 451, Err: io.ErrUnexpectedEOF}
	}
	return nil
}

type testStore interface {
	digest.Store
	store.Store
	SetNow(func() time.Time)
}

// TestService_ContentFixedAtPlanning edits an article between the attempts
// at a delivery: the retried message is the first one, byte for byte,
// because what render uses was recorded when the delivery was planned.
func TestService_ContentFixedAtPlanning(t *testing.T) {
	t.Run("SQLite", func(t *testing.T) {
		db, err := sqlite.OpenMemory(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		contentFixed(t, db)
	})
	t.Run("PostgreSQL", func(t *testing.T) {
		db, err := postgres.Open(t.Context(), pgtest.Schema(t, pgtest.DSN(t), "digest"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		contentFixed(t, db)
	})
}

func contentFixed(t *testing.T, db testStore) {
	ctx := t.Context()
	now := time.Date(2025, 3, 3, 7, 0, 0, 0, time.UTC)
	src := feeds.Source{Name: "The Korea Herald", URL: "https://kh.example/rss", Kind: feeds.KindEditorial}
	if err := db.SyncSources(ctx, []feeds.Source{src}); err != nil {
		t.Fatal(err)
	}
	save := func(title string, seen time.Time) {
		t.Helper()
		db.SetNow(func() time.Time { return seen })
		a := feeds.Article{Source: src.Name, Identity: "kh/1", Link: "https://kh.example/1", Title: title,
			Excerpt: "What the editorial argues.", Kind: feeds.KindEditorial, Published: now.Add(-2 * time.Hour)}
		a.ID = feeds.ArticleID(a.Source, a.Identity)
		a.Hash = feeds.ContentHash(a)
		if _, err := db.SavePoll(ctx, feeds.Poll{State: feeds.SourceState{Source: src.Name, Active: true, URL: src.URL, LastSuccess: seen}, Articles: []feeds.Article{a}}); err != nil {
			t.Fatal(err)
		}
	}
	save("Seoul's patience is not endless", now.Add(-time.Hour))

	clock := now
	m := &failOnce{}
	svc, err := digest.New(db, m, nil, nil, digest.Options{
		Secret: []byte("s"), Owner: "test", MaxAttempts: 1, RetryLater: time.Minute,
		Now: func() time.Time { return clock }, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	d := digest.Digest{Name: "daily", To: []string{"reader@example.com"}}
	if _, err := svc.Send(ctx, d, now); err != nil {
		t.Fatal(err)
	}
	if len(m.msgs) != 1 {
		t.Fatalf("%d attempts, want 1", len(m.msgs))
	}

	// The outlet corrects its headline; the delivery is due again.
	save("Seoul's patience is wearing thin", now.Add(time.Minute))
	if arts, err := db.Articles(ctx, store.ArticleFilter{}); err != nil || len(arts) != 1 || !strings.Contains(arts[0].Title, "wearing thin") {
		t.Fatalf("the edit was not stored: %v, %v", arts, err)
	}
	clock = now.Add(10 * time.Minute)
	rep, err := svc.Resume(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.msgs) != 2 || rep.Count(store.DeliverySent) != 1 {
		t.Fatalf("%d attempts, %d sent, want 2 and 1", len(m.msgs), rep.Count(store.DeliverySent))
	}
	first, retry := m.msgs[0], m.msgs[1]
	if !strings.Contains(first.Text, "patience is not endless") {
		t.Fatalf("first attempt lacks the headline:\n%s", first.Text)
	}
	if retry.Text != first.Text || retry.HTML != first.HTML || retry.Subject != first.Subject {
		t.Errorf("the retried message differs from the first:\n%s\nwant\n%s", retry.Text, first.Text)
	}
}
