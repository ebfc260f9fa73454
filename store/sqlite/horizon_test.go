package sqlite

import (
	"testing"

	"github.com/broadsheet/broadsheet/store/storetest"
)

func TestDB_SeenHorizon(t *testing.T) {
	t.Run("Memory", func(t *testing.T) { storetest.RunSeenHorizon(t, memoryHandles()) })
	t.Run("File", func(t *testing.T) { storetest.RunSeenHorizon(t, fileHandles()) })
}
