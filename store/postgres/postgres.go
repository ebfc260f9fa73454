// Package postgres is broadsheet's multi-replica store: PostgreSQL through
// pgx's database/sql driver. The store itself is store/sqldb; this package
// opens the pool and applies the migrations under an advisory lock (so
// replicas starting together don't race). Jobs that must run on one replica
// at a time take leases through store.Locks, as on SQLite.
package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/broadsheet/broadsheet/store"
	"github.com/broadsheet/broadsheet/store/sqldb"
)

// Pool limits. Each Locker lock holds one connection while held. Idle
// connections are kept up to the limit and closed after maxIdleTime: a
// poller with eight workers uses ten or more at once, and with fewer kept
// idle it opened a new session (a server process, authentication) every
// nine polls or so (bench/replicas).
const (
	maxConns    = 16
	maxIdle     = maxConns
	maxIdleTime = 5 * time.Minute
)

// DB is a PostgreSQL-backed store.Store. Its methods, including those
// promoted from *sqldb.DB, are safe for concurrent use by any number of
// replicas sharing the database. Set Now before use to fix the clock that
// stamps FirstSeen.
type DB struct {
	*sqldb.DB
	sql *sql.DB
}

var _ store.Store = (*DB)(nil)

// Open connects to the database at dsn (a URL or key=value string, as pgx
// parses it; search_path may be given as a parameter to use another schema)
// and migrates it.
func Open(ctx context.Context, dsn string) (*DB, error) {
	db, host, err := connect(ctx, dsn, false)
	if err != nil {
		return nil, err
	}
	if err := db.Migrate(ctx); err != nil {
		db.sql.Close()
		if readOnly(err) {
			return nil, fmt.Errorf("open postgres %s: %w: this command writes to the database, and the server refuses writes to this role or session (a read-only role, default_transaction_read_only, or a hot standby): connect as a role that may create and write the schema's tables, or to the primary (%v)", host, store.ErrReadOnly, err)
		}
		return nil, fmt.Errorf("open postgres %s: %w", host, err)
	}
	return db, nil
}

// OpenReadOnly connects to the database at dsn for reading only: every
// transaction of the session is read-only (default_transaction_read_only),
// and it migrates nothing, so a read-only role or a standby serves it. The
// schema must be migrated to this version already: otherwise the error
// wraps store.ErrNotMigrated, and the caller may Open it instead.
func OpenReadOnly(ctx context.Context, dsn string) (*DB, error) {
	db, host, err := connect(ctx, dsn, true)
	if err != nil {
		return nil, err
	}
	if err := db.RequireCurrent(ctx); err != nil {
		db.sql.Close()
		return nil, fmt.Errorf("open postgres %s read-only: %w", host, err)
	}
	return db, nil
}

// readOnly reports whether err is the server refusing a write: a read-only
// transaction (25006) or a role without the privilege (42501).
func readOnly(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "25006" || pe.Code == "42501")
}

// connect opens the pool and pings it; readOnly makes every transaction
// read-only. It returns the host, for messages.
func connect(ctx context.Context, dsn string, readOnly bool) (*DB, string, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		// pgx's message can quote the DSN, password included.
		return nil, "", errors.New("open postgres: cannot parse the DSN")
	}
	if readOnly {
		cfg.RuntimeParams["default_transaction_read_only"] = "on"
	}
	if _, set := cfg.RuntimeParams["plan_cache_mode"]; !set {
		// Plan each execution of a cached statement for its arguments. A
		// generic plan, chosen after five runs while a table was small,
		// otherwise sticks until the next ANALYZE: a poll's lookup by
		// primary key was seen to turn into a scan of the whole table.
		cfg.RuntimeParams["plan_cache_mode"] = "force_custom_plan"
	}
	sdb := stdlib.OpenDB(*cfg)
	sdb.SetMaxOpenConns(maxConns)
	sdb.SetMaxIdleConns(maxIdle)
	sdb.SetConnMaxIdleTime(maxIdleTime)
	db := &DB{DB: sqldb.New(sdb, sqldb.Postgres), sql: sdb}
	if err := db.Ping(ctx); err != nil {
		sdb.Close()
		return nil, "", fmt.Errorf("open postgres %s: %w", cfg.Host, err)
	}
	return db, cfg.Host, nil
}
