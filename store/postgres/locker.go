package postgres

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"sync"
	"time"
)

// Locker takes named, cluster-wide locks with PostgreSQL session advisory
// locks, for jobs that must run on one replica at a time. Names are scoped
// to the schema in use. Its methods are safe for concurrent use.
type Locker struct {
	db *sql.DB
}

// NewLocker returns a Locker over db's pool.
func NewLocker(db *DB) *Locker { return &Locker{db: db.sql} }

// lockKey turns a name into the advisory lock's 64-bit key.
const lockKey = "hashtextextended('broadsheet.lock.' || current_schema() || '.' || $1, 0)"

// unlockTimeout bounds releasing a lock, which runs after the caller's ctx
// may have ended.
const unlockTimeout = 10 * time.Second

// TryLock takes the lock called name if no one holds it, and returns its
// release, which is safe to call more than once. ok is false, with a nil
// error, when another session holds it. The lock is held by a connection
// set aside from the pool until unlock; if that connection breaks, the
// database drops the lock, so a job must not assume it outlives a network
// failure. ctx bounds taking the lock only.
func (l *Locker) TryLock(ctx context.Context, name string) (unlock func(), ok bool, err error) {
	conn, err := l.db.Conn(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("lock %s: %w", name, err)
	}
	if err := conn.QueryRowContext(ctx, "SELECT pg_try_advisory_lock("+lockKey+")", name).Scan(&ok); err != nil {
		conn.Close()
		return nil, false, fmt.Errorf("lock %s: %w", name, err)
	}
	if !ok {
		conn.Close()
		return nil, false, nil
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			ctx, cancel := context.WithTimeout(context.Background(), unlockTimeout)
			defer cancel()
			var released bool
			err := conn.QueryRowContext(ctx, "SELECT pg_advisory_unlock("+lockKey+")", name).Scan(&released)
			if err != nil || !released {
				// Never hand a connection that may still hold the lock back
				// to the pool: closing the session releases it for sure.
				_ = conn.Raw(func(any) error { return driver.ErrBadConn })
			}
			conn.Close()
		})
	}, true, nil
}
