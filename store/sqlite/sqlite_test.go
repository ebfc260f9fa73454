package sqlite

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/broadsheet/broadsheet/feeds"
	"github.com/broadsheet/broadsheet/store"
	"github.com/broadsheet/broadsheet/store/storetest"
)

func TestDB_Conformance(t *testing.T) {
	storetest.Run(t, memoryHandles())
}

func TestDB_ConformanceOnDisk(t *testing.T) {
	// The suite again on files, where WAL and file locking are in play.
	storetest.Run(t, fileHandles())
}

// memoryHandles opens one in-memory database per test; further opens by
// the same test get further handles on it.
func memoryHandles() func(t *testing.T) store.Store {
	var mu sync.Mutex
	first := map[*testing.T]*DB{}
	return func(t *testing.T) store.Store {
		mu.Lock()
		defer mu.Unlock()
		var db *DB
		var err error
		if prev, ok := first[t]; ok {
			db, err = prev.reopen(t.Context())
		} else {
			db, err = OpenMemory(t.Context())
			first[t] = db
		}
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if err := db.Close(); err != nil {
				t.Errorf("close: %v", err)
			}
		})
		return db
	}
}

// fileHandles opens one database file per test, where WAL and file locking
// are in play; further opens by the same test open the same file again.
func fileHandles() func(t *testing.T) store.Store {
	var mu sync.Mutex
	paths := map[*testing.T]string{}
	return func(t *testing.T) store.Store {
		mu.Lock()
		path, ok := paths[t]
		if !ok {
			path = filepath.Join(t.TempDir(), "broadsheet.db")
			paths[t] = path
		}
		mu.Unlock()
		db, err := Open(t.Context(), path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
}

func TestOpen(t *testing.T) {
	ctx := context.Background()
	t.Run("ReopenFile", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "a", "b", "broadsheet.db")
		db, err := Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.SyncSources(ctx, []feeds.Source{{Name: "Alpha", URL: "https://alpha.example/feed"}}); err != nil {
			t.Fatal(err)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		db, err = Open(ctx, path)
		if err != nil {
			t.Fatalf("reopen: %v", err)
		}
		defer db.Close()
		st, err := db.SourceState(ctx, "Alpha")
		if err != nil {
			t.Fatalf("after reopen: %v", err)
		}
		if st.URL != "https://alpha.example/feed" {
			t.Errorf("URL = %q, want %q", st.URL, "https://alpha.example/feed")
		}
		v, err := db.Version(ctx)
		if err != nil || v < 1 {
			t.Errorf("Version() = %d, %v; want >= 1", v, err)
		}
		for _, tc := range []struct{ pragma, want string }{
			{"journal_mode", "wal"},
			{"page_size", "16384"},
			{"foreign_keys", "1"},
			{"synchronous", "1"},
			{"busy_timeout", "10000"},
		} {
			var got string
			if err := db.sql.QueryRowContext(ctx, "PRAGMA "+tc.pragma).Scan(&got); err != nil || got != tc.want {
				t.Errorf("PRAGMA %s = %q, %v; want %q", tc.pragma, got, err, tc.want)
			}
		}
	})
	t.Run("MemoryIsPrivate", func(t *testing.T) {
		a, err := Open(ctx, Memory)
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		b, err := Open(ctx, Memory)
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		if err := a.SyncSources(ctx, []feeds.Source{{Name: "Alpha"}}); err != nil {
			t.Fatal(err)
		}
		states, err := b.SourceStates(ctx)
		if err != nil || len(states) != 0 {
			t.Errorf("second memory database sees %v, %v; want nothing", states, err)
		}
	})
	t.Run("BadPath", func(t *testing.T) {
		for _, p := range []string{"", "x.db?mode=ro"} {
			if db, err := Open(ctx, p); err == nil {
				db.Close()
				t.Errorf("Open(%q): got nil error, want one", p)
			}
		}
		file := filepath.Join(t.TempDir(), "file")
		if err := os.WriteFile(file, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		if db, err := Open(ctx, filepath.Join(file, "x.db")); err == nil {
			db.Close()
			t.Errorf("Open under a file: got nil error, want one")
		}
	})
}

// BenchmarkSavePoll runs on a file, as deployed: the in-memory database
// (memdb) grows by reallocation and copying, which would dominate.
func BenchmarkSavePoll(b *testing.B) {
	storetest.BenchmarkSavePoll(b, func(b *testing.B) store.Store {
		db, err := Open(b.Context(), filepath.Join(b.TempDir(), "bench.db"))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { db.Close() })
		return db
	})
}
