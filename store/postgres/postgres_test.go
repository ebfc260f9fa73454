package postgres

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/broadsheet/broadsheet/feeds"
	"github.com/broadsheet/broadsheet/internal/pgtest"
	"github.com/broadsheet/broadsheet/store"
	"github.com/broadsheet/broadsheet/store/storetest"
)

// testDSN returns the server to test against; see pgtest.DSN for when
// the test skips instead.
func testDSN(t testing.TB) string {
	t.Helper()
	return pgtest.DSN(t)
}

// freshSchema creates an empty schema, dropped when t ends, and returns dsn
// with search_path set to it.
func freshSchema(t testing.TB, dsn string) string {
	t.Helper()
	return pgtest.Schema(t, dsn, "store")
}

// openTest opens a handle on dsn, closed when t ends.
func openTest(t testing.TB, dsn string) *DB {
	t.Helper()
	db, err := Open(context.Background(), dsn)
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

func TestDB_Conformance(t *testing.T) {
	storetest.Run(t, schemaHandles(testDSN(t)))
}

// schemaHandles opens one fresh schema per test; further opens by the same
// test get further handles on it, as other replicas would.
func schemaHandles(dsn string) func(t *testing.T) store.Store {
	var mu sync.Mutex
	schemas := map[*testing.T]string{}
	return func(t *testing.T) store.Store {
		// The lock is not held across freshSchema, which may end t (and
		// its goroutine) with t.Fatal: a lock left held would hang every
		// other test. One test opens its handles one after another, so
		// two schemas are never made for the same t.
		mu.Lock()
		sdsn, ok := schemas[t]
		mu.Unlock()
		if !ok {
			sdsn = freshSchema(t, dsn)
			mu.Lock()
			schemas[t] = sdsn
			mu.Unlock()
		}
		return openTest(t, sdsn)
	}
}

func TestOpen(t *testing.T) {
	dsn := testDSN(t)
	t.Run("ConcurrentMigrations", func(t *testing.T) {
		// Replicas starting together on an empty schema all succeed, and
		// the migrations run once.
		sdsn := freshSchema(t, dsn)
		const replicas = 6
		dbs := make([]*DB, replicas)
		errs := make([]error, replicas)
		var wg sync.WaitGroup
		for i := range replicas {
			wg.Go(func() { dbs[i], errs[i] = Open(t.Context(), sdsn) })
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("replica %d: %v", i, err)
				continue
			}
			defer dbs[i].Close()
		}
		if t.Failed() {
			return
		}
		var n, distinct int
		if err := dbs[0].sql.QueryRowContext(t.Context(), "SELECT COUNT(*), COUNT(DISTINCT version) FROM schema_migrations").Scan(&n, &distinct); err != nil {
			t.Fatal(err)
		}
		if n != distinct || n < 1 {
			t.Errorf("schema_migrations has %d rows for %d versions, want one row per version", n, distinct)
		}
	})
	t.Run("SchemaIsolation", func(t *testing.T) {
		a := openTest(t, freshSchema(t, dsn))
		b := openTest(t, freshSchema(t, dsn))
		if err := a.SyncSources(t.Context(), []feeds.Source{{Name: "Alpha"}}); err != nil {
			t.Fatal(err)
		}
		states, err := b.SourceStates(t.Context())
		if err != nil || len(states) != 0 {
			t.Errorf("other schema sees %v, %v; want nothing", states, err)
		}
	})
	t.Run("BadDSN", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		for _, bad := range []string{"postgres://user:secret@127.0.0.1:notaport/db", "postgres://postgres@127.0.0.1:1/test?sslmode=disable&connect_timeout=2"} {
			db, err := Open(ctx, bad)
			if err == nil {
				db.Close()
				t.Errorf("Open(%q): got nil error, want one", bad)
				continue
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("error %q reveals the password", err)
			}
		}
	})
}

func BenchmarkSavePoll(b *testing.B) {
	dsn := testDSN(b)
	storetest.BenchmarkSavePoll(b, func(b *testing.B) store.Store {
		return openTest(b, freshSchema(b, dsn))
	})
}
