// Package sqldb implements store.Store once, over database/sql, for every SQL
// backend broadsheet supports. A Dialect carries the few differences
// (placeholders, row locking, migration locks); store/sqlite and
// store/postgres open the driver, pick the dialect and embed *DB.
//
// Schema changes are the numbered files in migrations/, applied in order by
// Migrate, each in its own transaction. The code is organised by entity
// (source.go, article.go, poll.go …) so that new entities add files, not
// edits. Times are stored as BIGINT unix milliseconds UTC (NULL or 0 for the
// zero time) and string lists as JSON text.
package sqldb

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// DB is a store.Store over a database/sql handle. Its methods are safe for
// concurrent use, and for use by several processes sharing one database.
type DB struct {
	// Now is the clock that stamps FirstSeen; time.Now unless replaced
	// before use (tests make it deterministic).
	Now func() time.Time

	db      *sql.DB
	dialect Dialect
	group   *group // set by GroupCommits
}

// New returns a DB over db speaking dialect d. It does not migrate: call
// Migrate before use.
func New(db *sql.DB, d Dialect) *DB {
	return &DB{Now: time.Now, db: db, dialect: d}
}

// SetNow replaces the clock, as setting Now does, for callers that hold DB
// behind an interface (the conformance suite). Call it before use.
func (db *DB) SetNow(now func() time.Time) { db.Now = now }

// Dialect returns the dialect DB speaks.
func (db *DB) Dialect() Dialect { return db.dialect }

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.db.PingContext(ctx); err != nil {
		return fmt.Errorf("ping %s: %w", db.dialect.Name, err)
	}
	return nil
}

// Close closes the underlying handle. Queries under way finish first.
func (db *DB) Close() error {
	if db.group != nil {
		db.group.close()
	}
	return db.db.Close()
}

func (db *DB) now() time.Time {
	if db.Now == nil {
		return time.Now()
	}
	return db.Now()
}

// q returns query with the dialect's placeholders. Queries must not contain
// a literal question mark. Rewriting costs far less than the query, so it is
// not cached.
func (db *DB) q(query string) string {
	if !db.dialect.Numbered {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(query[i])
	}
	return b.String()
}

// inTx runs fn in a transaction, committing if it returns nil.
func (db *DB) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// marks returns n comma-separated placeholders, for IN lists.
func marks(n int) string {
	if n <= 0 {
		return ""
	}
	return strings.Repeat("?,", n-1) + "?"
}

// chunk is how many values one IN list takes, leaving room for extra
// parameters in the same statement.
func (db *DB) chunk(extra int) int {
	return max(1, min(500, db.dialect.MaxParams-extra))
}
