package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/broadsheet/broadsheet/store"
)

var _ store.Locks = (*DB)(nil)

// AcquireLock grants the lease on name to owner until now+ttl when it is
// free, expired or owner's already. It is one upsert whose update applies
// only under those conditions, so concurrent acquirers are decided by the
// database: SQLite serializes writers, and PostgreSQL's ON CONFLICT makes
// the second of two racing inserts re-check the winner's row.
func (db *DB) AcquireLock(ctx context.Context, name, owner string, now time.Time, ttl time.Duration) (bool, error) {
	if name == "" || owner == "" {
		return false, errors.New("acquire lock: empty name or owner")
	}
	if ttl <= 0 {
		return false, fmt.Errorf("acquire lock %s: ttl %v is not positive", name, ttl)
	}
	res, err := db.db.ExecContext(ctx, db.q(`INSERT INTO locks (name, owner, until) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, until = excluded.until
		WHERE locks.until < ? OR locks.owner = ?`),
		name, owner, now.Add(ttl).UnixMilli(), now.UnixMilli(), owner)
	if err != nil {
		return false, fmt.Errorf("acquire lock %s: %w", name, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("acquire lock %s: %w", name, err)
	}
	return n == 1, nil
}

// ReleaseLock frees the lease on name if owner holds it.
func (db *DB) ReleaseLock(ctx context.Context, name, owner string) error {
	if _, err := db.db.ExecContext(ctx, db.q("DELETE FROM locks WHERE name = ? AND owner = ?"), name, owner); err != nil {
		return fmt.Errorf("release lock %s: %w", name, err)
	}
	return nil
}

// holdsLock checks, inside tx, that l.Owner holds l.Name unexpired at
// l.Now. The check is an update of the lease row, which on PostgreSQL locks
// it until tx ends, so no one can take the lease over while tx commits.
func (db *DB) holdsLock(ctx context.Context, tx *sql.Tx, l store.Lease) error {
	res, err := tx.ExecContext(ctx, db.q("UPDATE locks SET until = until WHERE name = ? AND owner = ? AND until >= ?"),
		l.Name, l.Owner, l.Now.UnixMilli())
	if err != nil {
		return fmt.Errorf("check lock %s: %w", l.Name, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("check lock %s: %w", l.Name, err)
	}
	if n != 1 {
		return fmt.Errorf("lock %s is not held by %s: %w", l.Name, l.Owner, store.ErrLeaseLost)
	}
	return nil
}
