package postgres

import (
	"testing"

	"github.com/broadsheet/broadsheet/store/storetest"
)

func TestDB_SeenHorizon(t *testing.T) {
	storetest.RunSeenHorizon(t, schemaHandles(testDSN(t)))
}

func TestDB_DataVersion(t *testing.T) {
	storetest.RunDataVersion(t, schemaHandles(testDSN(t)))
}
