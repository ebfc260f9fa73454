package sqldb

import (
	"context"
	"database/sql"
	"fmt"
	"time"
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
	// StampLock, if set, is run by SavePoll in its transaction before it
	// reads the clock for its new articles' FirstSeen, and SeenBarrier by
	// SeenHorizon in a transaction of its own. The barrier must wait for
	// every transaction that took StampLock to end, and hold back new ones
	// until it ends; shared and exclusive transaction-scoped locks do.
	// Where transactions are serialized already (SQLite's BEGIN
	// IMMEDIATE), both stay empty.
	StampLock   string
	SeenBarrier string
	// ClockSkew is how far apart the clocks of processes sharing the
	// database may be; SeenHorizon ends its windows that much earlier.
	ClockSkew time.Duration
	// Reclaim, if set, is run after Retain deleted something, outside any
	// transaction, to return the freed pages to the file system.
	Reclaim string
}

// SQLite is the dialect of modernc.org/sqlite. Writers are serialized by the
// database itself (BEGIN IMMEDIATE and a busy timeout), so claiming,
// migrating and stamping FirstSeen need no extra locks; every transaction
// must begin IMMEDIATE (store/sqlite opens its connections so), and the
// processes sharing a file share a clock.
var SQLite = Dialect{
	Name:      "sqlite",
	MaxParams: 32766,
	// Files use auto_vacuum = INCREMENTAL (store/sqlite); this frees the
	// pages Retain emptied. PostgreSQL's autovacuum makes them reusable.
	Reclaim: "PRAGMA incremental_vacuum",
}

// Postgres is the dialect of PostgreSQL through pgx's database/sql driver.
var Postgres = Dialect{
	Name:           "postgres",
	Numbered:       true,
	ClaimLock:      " FOR UPDATE SKIP LOCKED",
	MaxParams:      65535,
	LockMigrations: pgLockMigrations,
	StampLock:      "SELECT pg_advisory_xact_lock_shared(" + pgStampKey + ")",
	// A poll's transaction is short; one that holds the shared lock for a
	// minute is stuck (a partitioned client whose session lingers), and a
	// digest had better fail and cover the window next time than hang.
	SeenBarrier: "SELECT set_config('lock_timeout', '60s', true), pg_advisory_xact_lock(" + pgStampKey + ")",
	// Replicas run on machines whose clocks NTP keeps within milliseconds;
	// a second is a wide margin that no reader of a digest notices.
	ClockSkew: time.Second,
}

// pgStampKey names the advisory lock that stamping FirstSeen shares and
// SeenHorizon takes alone, scoped to the schema as pgMigrateKey is.
const pgStampKey = "hashtextextended('broadsheet.first_seen.' || current_schema(), 0)"

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
