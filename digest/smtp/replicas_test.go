package smtp_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/broadsheet/broadsheet/digest"
	"github.com/broadsheet/broadsheet/digest/smtp"
	"github.com/broadsheet/broadsheet/digest/smtp/smtptest"
	"github.com/broadsheet/broadsheet/internal/pgtest"
	"github.com/broadsheet/broadsheet/store"
	"github.com/broadsheet/broadsheet/store/postgres"
	"github.com/broadsheet/broadsheet/store/sqlite"
)

// TestService_Replicas runs the same digest tick on three replicas at
// once, each with its own database handle: every recipient gets one
// message.
func TestService_Replicas(t *testing.T) {
	t.Run("SQLite", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "bs.db")
		replicas(t, func() seedable {
			db, err := sqlite.Open(context.Background(), path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return db
		})
	})
	t.Run("PostgreSQL", func(t *testing.T) {
		dsn := pgtest.Schema(t, pgtest.DSN(t), "digest")
		replicas(t, func() seedable {
			db, err := postgres.Open(context.Background(), dsn)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return db
		})
	})
}

func replicas(t *testing.T, open func() seedable) {
	seed(t, open(), 4)
	srv := smtptest.Start(t, smtptest.Options{TLS: smtptest.None})
	var rcpts []string
	for i := range 30 {
		rcpts = append(rcpts, fmt.Sprintf("r%02d@example.com", i))
	}
	d := digest.Digest{Name: "daily", To: rcpts}
	var wg sync.WaitGroup
	reports := make([]*digest.Report, 3)
	start := make(chan struct{})
	for i := range reports {
		st := open()
		m, err := smtp.New(smtp.Options{Host: srv.Host, Port: srv.Port, TLS: smtp.None, Timeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		svc, err := digest.New(st.(digest.Store), m, nil, nil, digest.Options{
			Owner: fmt.Sprintf("replica-%d", i), Secret: []byte("s"), Logger: quiet(),
			Now: func() time.Time { return now.Add(time.Duration(i) * time.Millisecond) },
		})
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			rep, err := svc.Send(context.Background(), d, now)
			if err != nil {
				t.Errorf("replica %d: %v", i, err)
			}
			reports[i] = rep
		}()
	}
	close(start)
	wg.Wait()
	got := map[string]int{}
	for _, m := range srv.Messages() {
		got[m.To[0]]++
	}
	for _, r := range rcpts {
		if got[r] != 1 {
			t.Errorf("%s got %d messages, want 1", r, got[r])
		}
	}
	sent, planned := 0, 0
	for _, rep := range reports {
		if rep != nil {
			sent += rep.Count(store.DeliverySent)
			planned += rep.Planned
		}
	}
	if sent != len(rcpts) || planned != len(rcpts) {
		t.Errorf("replicas planned %d and sent %d, want %d each", planned, sent, len(rcpts))
	}
}
