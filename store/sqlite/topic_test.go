package sqlite

import (
	"path/filepath"
	"sync"
	"testing"

	"github.com/broadsheet/broadsheet/store"
	"github.com/broadsheet/broadsheet/store/storetest"
)

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

func TestDB_Topics(t *testing.T) {
	storetest.RunTopics(t, memoryHandles())
}

func TestDB_TopicsOnDisk(t *testing.T) {
	storetest.RunTopics(t, fileHandles())
}

func TestDB_Locks(t *testing.T) {
	storetest.RunLocks(t, memoryHandles())
}

func TestDB_LocksOnDisk(t *testing.T) {
	storetest.RunLocks(t, fileHandles())
}
