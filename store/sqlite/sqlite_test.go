package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

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
			{"auto_vacuum", "2"},
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

// TestDB_Retain checks the space side of retention on a file: a file made
// before auto_vacuum was set is converted once on opening, and the pages
// Retain frees are returned to the file system.
func TestDB_Retain(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "old.db")
	// A file as an older version left it: tables, auto_vacuum off.
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.ExecContext(ctx, "CREATE TABLE leftover (x TEXT)"); err != nil {
		t.Fatal(err)
	}
	var mode int
	if err := raw.QueryRowContext(ctx, "PRAGMA auto_vacuum").Scan(&mode); err != nil || mode != 0 {
		t.Fatalf("fresh file auto_vacuum = %d, %v; want 0 to start from", mode, err)
	}
	raw.Close()

	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	pragma := func(name string) int64 {
		t.Helper()
		var v int64
		if err := db.sql.QueryRowContext(ctx, "PRAGMA "+name).Scan(&v); err != nil {
			t.Fatalf("PRAGMA %s: %v", name, err)
		}
		return v
	}
	if got := pragma("auto_vacuum"); got != 2 {
		t.Fatalf("auto_vacuum after Open = %d, want 2 (incremental)", got)
	}

	old := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	db.Now = func() time.Time { return old }
	if err := db.SyncSources(ctx, []feeds.Source{{Name: "Alpha", URL: "https://alpha.example/feed"}}); err != nil {
		t.Fatal(err)
	}
	var arts []feeds.Article
	for i := range 2000 {
		arts = append(arts, feeds.Article{Identity: fmt.Sprintf("urn:%d", i), Title: "Old",
			Content: strings.Repeat("<p>words </p>", 200), Published: old.Add(-time.Hour)})
	}
	if _, err := db.SavePoll(ctx, feeds.Poll{State: feeds.SourceState{Source: "Alpha", Active: true}, Articles: arts}); err != nil {
		t.Fatal(err)
	}
	full := pragma("page_count")
	st, err := db.Retain(ctx, old.AddDate(0, 1, 0))
	if err != nil || st.Articles != len(arts) {
		t.Fatalf("Retain = %+v, %v; want %d articles deleted", st, err, len(arts))
	}
	after, free := pragma("page_count"), pragma("freelist_count")
	t.Logf("pages: %d before Retain, %d after, %d free", full, after, free)
	if free != 0 || after > full/4 {
		t.Errorf("after Retain: %d pages (%d free) of %d; want the freed pages returned (no free pages, under a quarter)", after, free, full)
	}
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
