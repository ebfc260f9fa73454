package schedule_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/broadsheet/broadsheet/internal/pgtest"
	"github.com/broadsheet/broadsheet/schedule"
	"github.com/broadsheet/broadsheet/store"
	"github.com/broadsheet/broadsheet/store/postgres"
	"github.com/broadsheet/broadsheet/store/sqlite"
)

// TestLeaseLocker_Backends runs two replicas' schedulers over one store of
// each backend: a job runs on one of them at a time, and on the other once
// the first is done.
func TestLeaseLocker_Backends(t *testing.T) {
	backends := map[string]func(t *testing.T) store.Store{
		"SQLite": func(t *testing.T) store.Store {
			db, err := sqlite.OpenMemory(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return db
		},
		"PostgreSQL": func(t *testing.T) store.Store {
			dsn := pgtest.Schema(t, pgtest.DSN(t), "schedule")
			db, err := postgres.Open(context.Background(), dsn)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return db
		},
	}
	for name, open := range backends {
		t.Run(name, func(t *testing.T) {
			st := open(t)
			a := schedule.New(schedule.NewLeaseLocker(st, "replica-a", time.Minute, nil, nil), nil)
			b := schedule.New(schedule.NewLeaseLocker(st, "replica-b", time.Minute, nil, nil), nil)
			var runs atomic.Int32
			inside, release := make(chan struct{}), make(chan struct{})
			job := schedule.Job{Name: "digest:daily", Timeout: time.Minute, Run: func(ctx context.Context) error {
				runs.Add(1)
				if inside != nil {
					close(inside)
					select {
					case <-release:
					case <-ctx.Done():
					}
				}
				return nil
			}}
			done := make(chan bool)
			go func() { done <- a.RunNow(job) }()
			select {
			case <-inside:
			case <-time.After(time.Minute):
				t.Fatal("replica a's run did not start within a minute")
			}
			if b.RunNow(job) {
				t.Error("replica b ran the job while replica a ran it")
			}
			close(release)
			select {
			case ran := <-done:
				if !ran {
					t.Fatal("replica a did not run the job")
				}
			case <-time.After(time.Minute):
				t.Fatal("replica a's run did not end within a minute")
			}
			inside = nil
			if !b.RunNow(job) {
				t.Error("replica b did not run the job once replica a was done")
			}
			if got := runs.Load(); got != 2 {
				t.Errorf("runs = %d, want 2", got)
			}
		})
	}
}
