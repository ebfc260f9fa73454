package store

import (
	"context"
	"time"
)

// Locks hands out named leases in the database, for work that one process
// at a time must do among replicas sharing it (assigning topics). A lease
// lapses at its expiry time unless its owner extends it, so a crashed
// holder blocks the others for at most one ttl. Implementations are safe
// for concurrent use by several processes.
type Locks interface {
	// AcquireLock grants the lock called name to owner until now+ttl if it
	// is free, expired (held until before now), or already owner's (which
	// extends it, or shortens it to now+ttl), and
	// reports whether it did. Of concurrent acquirers of a free lock
	// exactly one succeeds. owner must not be empty and ttl must be
	// positive.
	AcquireLock(ctx context.Context, name, owner string, now time.Time, ttl time.Duration) (bool, error)
	// ReleaseLock frees the lock if owner holds it; otherwise, as when it
	// lapsed and another took it, it does nothing.
	ReleaseLock(ctx context.Context, name, owner string) error
}
