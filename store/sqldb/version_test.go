package sqldb_test

import (
	"path/filepath"
	"sync"
	"testing"

	"github.com/broadsheet/broadsheet/store"
	"github.com/broadsheet/broadsheet/store/sqlite"
	"github.com/broadsheet/broadsheet/store/storetest"
)

func TestDB_DataVersion(t *testing.T) {
	// On a file, so that the second handle is a separate pool, as another
	// process would have.
	var mu sync.Mutex
	paths := map[*testing.T]string{}
	storetest.RunDataVersion(t, func(t *testing.T) store.Store {
		mu.Lock()
		path, ok := paths[t]
		if !ok {
			path = filepath.Join(t.TempDir(), "broadsheet.db")
			paths[t] = path
		}
		mu.Unlock()
		db, err := sqlite.Open(t.Context(), path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	})
}
