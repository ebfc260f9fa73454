package postgres

import (
	"sync"
	"testing"

	"github.com/broadsheet/broadsheet/store"
	"github.com/broadsheet/broadsheet/store/storetest"
)

// schemaHandles opens one fresh schema per test; further opens by the same
// test get further handles on it, as other replicas would.
func schemaHandles(dsn string) func(t *testing.T) store.Store {
	var mu sync.Mutex
	schemas := map[*testing.T]string{}
	return func(t *testing.T) store.Store {
		mu.Lock()
		sdsn, ok := schemas[t]
		if !ok {
			sdsn = freshSchema(t, dsn)
			schemas[t] = sdsn
		}
		mu.Unlock()
		return openTest(t, sdsn)
	}
}

func TestDB_Topics(t *testing.T) {
	storetest.RunTopics(t, schemaHandles(testDSN(t)))
}

func TestDB_Locks(t *testing.T) {
	storetest.RunLocks(t, schemaHandles(testDSN(t)))
}
