package sqldb

import (
	"context"
	"database/sql"
	"fmt"
)

// Dialect describes what differs between the SQL databases that DB runs on.
// Queries are written once, with ? placeholders and portable SQL; the dialect
// rewrites the rest.
type Dialect struct {
	Name string
	// Numbered placeholders ($1, $2, …) replace ? in every query.
	Numbered bool
	// ClaimLock ends the subquery that picks sources to lease, so that
	// concurrent claimers skip rows another one is about to lease instead of
	// waiting for it or leasing it twice.
	ClaimLock string
	// MaxParams is the most bind parameters one statement may carry.
	MaxParams int
	// LockMigrations, if set, takes a lock on conn that keeps other
	// processes from migrating the same database at the same time, and
	// returns its release.
	LockMigrations func(ctx context.Context, conn *sql.Conn) (unlock func(context.Context) error, err error)
}

// SQLite is the dialect of modernc.org/sqlite. Writers are serialized by the
// database itself (BEGIN IMMEDIATE and a busy timeout), so claiming and
// migrating need no extra locks.
var SQLite = Dialect{
	Name:      "sqlite",
	MaxParams: 32766,
}

// Postgres is the dialect of PostgreSQL through pgx's database/sql driver.
var Postgres = Dialect{
	Name:           "postgres",
	Numbered:       true,
	ClaimLock:      " FOR UPDATE SKIP LOCKED",
	MaxParams:      65535,
	LockMigrations: pgLockMigrations,
}

// pgMigrateKey names the advisory lock that serializes migrations. It is
// scoped to the current schema so that several installations (or test
// schemas) in one database don't wait for each other.
const pgMigrateKey = "hashtextextended('broadsheet.migrate.' || current_schema(), 0)"

func pgLockMigrations(ctx context.Context, conn *sql.Conn) (func(context.Context) error, error) {
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock("+pgMigrateKey+")"); err != nil {
		return nil, fmt.Errorf("lock migrations: %w", err)
	}
	return func(ctx context.Context) error {
		_, err := conn.ExecContext(ctx, "SELECT pg_advisory_unlock("+pgMigrateKey+")")
		return err
	}, nil
}
