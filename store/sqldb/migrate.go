package sqldb

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/broadsheet/broadsheet/store"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// migration is one file of migrations/, named NNNN_name.sql, or
// NNNN_name.DIALECT.sql for a step that only that dialect's SQL can express.
type migration struct {
	version int
	name    string
	dialect string // "" for a migration every dialect runs
	sql     string
}

// migrations lists the embedded migrations that dialect runs, in version
// order, failing on a malformed name or a repeated version. A version has
// either one file for every dialect or one file per dialect; each dialect
// must have its own file of a version that has any. With dialect "", every
// file is listed (SchemaTables reads them all).
func migrations(dialect string) ([]migration, error) {
	entries, err := fs.ReadDir(migrationFS, "migrations")
	if err != nil {
		return nil, err
	}
	var ms []migration
	seen := map[string]string{} // by version and dialect
	common := map[int]bool{}
	specific := map[int]bool{}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || path.Ext(name) != ".sql" {
			continue
		}
		base := strings.TrimSuffix(name, ".sql")
		d := ""
		if i := strings.IndexByte(base, '.'); i >= 0 {
			base, d = base[:i], base[i+1:]
			if d != "sqlite" && d != "postgres" {
				return nil, fmt.Errorf("migration %s: the dialect must be sqlite or postgres", name)
			}
		}
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: name must be NNNN_name.sql or NNNN_name.DIALECT.sql", name)
		}
		key := num + "." + d
		if prev, dup := seen[key]; dup {
			return nil, fmt.Errorf("migrations %s and %s share version %d", prev, name, v)
		}
		seen[key] = name
		if d == "" {
			common[v] = true
		} else {
			specific[v] = true
		}
		if common[v] && specific[v] {
			return nil, fmt.Errorf("migration %s: version %d has a file for every dialect and one for a dialect", name, v)
		}
		if dialect != "" && d != "" && d != dialect {
			continue
		}
		b, err := fs.ReadFile(migrationFS, "migrations/"+name)
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: name, dialect: d, sql: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	if dialect != "" {
		have := map[int]bool{}
		for _, m := range ms {
			have[m.version] = true
		}
		for v := range specific {
			if !have[v] {
				return nil, fmt.Errorf("migration version %d has no file for %s", v, dialect)
			}
		}
	}
	return ms, nil
}

// Migrate brings the schema up to date: it applies each embedded migration
// not yet recorded in schema_migrations, in order, each in its own
// transaction together with its record. It is idempotent, and safe to call
// from several processes at once where the dialect takes a migration lock.
func (db *DB) Migrate(ctx context.Context) (err error) {
	ms, err := migrations(db.dialect.Name)
	if err != nil {
		return err
	}
	// One connection throughout, so that a session lock taken on it covers
	// every step.
	conn, err := db.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer conn.Close()
	if db.dialect.LockMigrations != nil {
		unlock, err := db.dialect.LockMigrations(ctx, conn)
		if err != nil {
			return err
		}
		defer func() {
			if uerr := unlock(context.WithoutCancel(ctx)); uerr != nil && err == nil {
				err = fmt.Errorf("unlock migrations: %w", uerr)
			}
		}()
	}
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT NOT NULL,
		applied_at BIGINT NOT NULL
	)`); err != nil {
		return fmt.Errorf("migrate: create schema_migrations: %w", err)
	}
	for _, m := range ms {
		if err := db.apply(ctx, conn, m); err != nil {
			return fmt.Errorf("migrate %s: %w", m.name, err)
		}
	}
	return nil
}

// apply runs m unless it is recorded already. The check is inside the
// transaction so that a concurrent migrator that got there first is noticed.
func (db *DB) apply(ctx context.Context, conn *sql.Conn, m migration) error {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	var n int
	if err := tx.QueryRowContext(ctx, db.q("SELECT COUNT(*) FROM schema_migrations WHERE version = ?"), m.version).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	// The drivers run a multi-statement script when it has no arguments.
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, db.q("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)"),
		m.version, m.name, time.Now().UnixMilli()); err != nil {
		return err
	}
	return tx.Commit()
}

// Version returns the highest applied migration, 0 if none.
func (db *DB) Version(ctx context.Context) (int, error) {
	var v sql.NullInt64
	if err := db.db.QueryRowContext(ctx, "SELECT MAX(version) FROM schema_migrations").Scan(&v); err != nil {
		return 0, fmt.Errorf("schema version: %w", err)
	}
	return int(v.Int64), nil
}

// RequireCurrent returns nil when every embedded migration is applied,
// else an error wrapping store.ErrNotMigrated, reading only: a read-only
// handle calls it instead of Migrate. A database with no schema_migrations
// table yet is not current.
func (db *DB) RequireCurrent(ctx context.Context) error {
	current, err := db.current(ctx)
	if err == nil && !current {
		err = store.ErrNotMigrated
	}
	return err
}

func (db *DB) current(ctx context.Context) (bool, error) {
	ms, err := migrations(db.dialect.Name)
	if err != nil {
		return false, err
	}
	exists := "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
	if db.dialect.Name == "postgres" {
		exists = "SELECT COUNT(*) FROM pg_catalog.pg_tables WHERE tablename = 'schema_migrations' AND schemaname = current_schema()"
	}
	var n int
	if err := db.db.QueryRowContext(ctx, exists).Scan(&n); err != nil {
		return false, fmt.Errorf("schema version: %w", err)
	}
	if n == 0 {
		return false, nil
	}
	v, err := db.Version(ctx)
	if err != nil {
		return false, err
	}
	return len(ms) == 0 || v >= ms[len(ms)-1].version, nil
}
