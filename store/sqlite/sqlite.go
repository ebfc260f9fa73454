// Package sqlite is broadsheet's default store: an embedded SQLite database
// (modernc.org/sqlite, pure Go, so CGO_ENABLED=0 builds work) in WAL mode.
// The store itself is store/sqldb; this package opens the database with the
// settings a single-node daemon needs and applies the migrations.
package sqlite

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	sqlite "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/broadsheet/broadsheet/store"
	"github.com/broadsheet/broadsheet/store/sqldb"
)

// Memory is the path that Open takes for a private in-memory database.
const Memory = ":memory:"

// BusyTimeout is how long, in milliseconds, a writer waits for another
// before failing with SQLITE_BUSY.
const BusyTimeout = 10000

// maxConns bounds the pool: each connection has its own page cache, and
// writers queue on the database lock anyway.
const maxConns = 8

// DB is a SQLite-backed store.Store. Its methods, including those promoted
// from *sqldb.DB, are safe for concurrent use. Set Now before use to fix the
// clock that stamps FirstSeen.
type DB struct {
	*sqldb.DB
	sql  *sql.DB
	keep *sql.Conn // holds an in-memory database alive while DB is open
	path string
}

var _ store.Store = (*DB)(nil)

// Open opens (creating it and its directory if needed) the database file at
// path, and migrates it. Path Memory opens a private in-memory database
// instead, as OpenMemory does.
//
// Connections use WAL, a busy timeout of BusyTimeout ms, foreign keys and
// BEGIN IMMEDIATE for every transaction, so that writers queue for the lock
// instead of failing when one of them upgrades a read.
func Open(ctx context.Context, path string) (*DB, error) {
	if path == Memory {
		return OpenMemory(ctx)
	}
	if path == "" {
		return nil, errors.New("open sqlite: empty path")
	}
	if strings.Contains(path, "?") {
		// The driver would read what follows as connection options.
		return nil, fmt.Errorf("open sqlite %s: path must not contain ?", path)
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("open sqlite %s: %w", path, err)
		}
	}
	// SQLite opens a file it may not write read-only, without a word:
	// writes would fail later, one by one.
	if f, err := os.OpenFile(path, os.O_WRONLY, 0); err == nil {
		f.Close()
	} else if errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.EROFS) {
		return nil, readOnlyError(path, err)
	}
	dsn := path + "?" + options(true)
	db, err := open(ctx, path, dsn, false)
	if err != nil && readOnly(err, path) {
		return nil, readOnlyError(path, err)
	}
	return db, err
}

// OpenReadOnly opens the existing database file at path for reading only
// (SQLite's mode=ro): it creates, migrates and writes nothing, so it works
// on a file (or folder) this process may not write. Every write through it
// fails with an error wrapping store.ErrReadOnly. The file must exist and
// be migrated to this version: otherwise the error wraps fs.ErrNotExist or
// store.ErrNotMigrated, and the caller may Open it instead.
//
// A WAL database opened read-only still needs its -shm file, which SQLite
// creates next to it. Where the folder is not writable and no -shm file
// exists, no process has the database open (the last one to close removes
// both files), so it is opened as immutable instead, which needs neither:
// that is safe while the -wal file is absent too, since then every commit
// is in the file; with a -wal file left over (a writer that crashed), it
// is not opened, since immutable would miss the commits in it.
func OpenReadOnly(ctx context.Context, path string) (*DB, error) {
	if path == Memory || path == "" || strings.Contains(path, "?") {
		return nil, fmt.Errorf("open sqlite %s read-only: want the path of a database file", path)
	}
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("open sqlite %s read-only: %w", path, err)
	}
	uri := "file:" + (&url.URL{Path: path}).EscapedPath() + "?mode=ro&" + options(false)
	db, err := openReadOnly(ctx, path, uri)
	if err != nil && (isCode(err, codeCantOpen) || isCode(err, codeReadOnly)) && !exists(path+"-shm") && !exists(path+"-wal") {
		db, err = openReadOnly(ctx, path, uri+"&immutable=1")
	}
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s read-only: %w", path, err)
	}
	return db, nil
}

func openReadOnly(ctx context.Context, path, dsn string) (*DB, error) {
	sdb, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	sdb.SetMaxOpenConns(maxConns)
	sdb.SetMaxIdleConns(maxConns)
	db := &DB{DB: sqldb.New(sdb, sqldb.SQLite), sql: sdb, path: path}
	if err := db.RequireCurrent(ctx); err != nil {
		sdb.Close()
		return nil, err
	}
	return db, nil
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return !errors.Is(err, fs.ErrNotExist)
}

// SQLite's primary result codes that say a file cannot be written.
const (
	codeReadOnly = 8  // SQLITE_READONLY (and its extended codes)
	codeCantOpen = 14 // SQLITE_CANTOPEN
)

func isCode(err error, code int) bool {
	var e *sqlite.Error
	return errors.As(err, &e) && e.Code()&0xff == code
}

// readOnly reports whether err says the database at path cannot be
// written: SQLITE_READONLY, or SQLITE_CANTOPEN on a file that exists (the
// file, or its folder where the -wal and -shm files go, is not writable).
func readOnly(err error, path string) bool {
	return isCode(err, codeReadOnly) || (isCode(err, codeCantOpen) && exists(path))
}

// readOnlyError says what is wrong, and what to do, when the database at
// path cannot be written.
func readOnlyError(path string, err error) error {
	dir := filepath.Dir(path)
	return fmt.Errorf("%w: this command writes to the database, and this process (user %s) cannot write the file or its folder %s, where SQLite keeps the -wal and -shm files beside it: make both writable by this user (chown or chmod), or run the command as the user that owns them (%v)",
		store.ErrReadOnly, userName(), dir, err)
}

// userName names the user this process runs as, for messages.
func userName() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return strconv.Itoa(os.Getuid())
}

// OpenMemory opens a new, private in-memory database, migrated. Several
// connections share it (it lives in SQLite's memdb VFS under a random name),
// so it behaves like a file under concurrent use; it disappears on Close.
func OpenMemory(ctx context.Context) (*DB, error) {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return openMemory(ctx, "/broadsheet-"+hex.EncodeToString(b[:]))
}

func openMemory(ctx context.Context, name string) (*DB, error) {
	// memdb has no WAL; its rollback journal with the busy timeout still
	// queues writers. It keeps the default page size: it grows by copying.
	dsn := "file:" + name + "?vfs=memdb&_pragma=auto_vacuum(2)&" + options(false)
	return open(ctx, Memory, dsn, true)
}

// options are the connection settings. WAL is not among them: it is set
// once per file, by initFile, after the page size.
func options(file bool) string {
	o := fmt.Sprintf("_txlock=immediate&_pragma=busy_timeout(%d)&_pragma=foreign_keys(1)", BusyTimeout)
	if file {
		// In WAL mode NORMAL loses no integrity, only the last commits on
		// power loss, and spares an fsync per commit.
		o += "&_pragma=synchronous(NORMAL)"
	}
	return o
}

// groupPolls is how many polls one transaction stores at most: writers
// queue on SQLite's one lock anyway, and a commit per group instead of per
// poll saves the commit's WAL writes and syncs. 32 is twice the busiest
// worker pool seen, so a group takes every poll waiting.
const groupPolls = 32

// pageSize is the page size of new database files. Articles run to a few
// KB each; with 16 KiB pages several share a page, and storing a poll
// writes fewer, fuller WAL frames (a fifth less CPU than 4 KiB pages in
// BenchmarkSavePoll/New).
const pageSize = 16384

// initFile sets the page size of a new file, before anything is written,
// then auto_vacuum (see incrementalVacuum), then WAL mode, which is stored in the file, so every later connection
// uses it. On an existing file the page size stays as it is.
func initFile(ctx context.Context, sdb *sql.DB) error {
	conn, err := sdb.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, fmt.Sprintf("PRAGMA page_size = %d", pageSize)); err != nil {
		return err
	}
	if err := incrementalVacuum(ctx, conn); err != nil {
		return fmt.Errorf("auto_vacuum: %w", err)
	}
	var mode string
	if err := conn.QueryRowContext(ctx, "PRAGMA journal_mode = WAL").Scan(&mode); err != nil {
		return err
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("journal mode is %s, not wal", mode)
	}
	return nil
}

func open(ctx context.Context, path, dsn string, memory bool) (*DB, error) {
	sdb, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	sdb.SetMaxOpenConns(maxConns)
	sdb.SetMaxIdleConns(maxConns)
	db := &DB{DB: sqldb.New(sdb, sqldb.SQLite), sql: sdb, path: path}
	if !memory {
		if err := initFile(ctx, sdb); err != nil {
			sdb.Close()
			return nil, fmt.Errorf("open sqlite %s: %w", path, err)
		}
	}
	if memory {
		db.path = strings.TrimPrefix(strings.SplitN(dsn, "?", 2)[0], "file:")
		// memdb frees the database when its last connection closes; the
		// pool may close idle ones at any time, so pin one. Pinning takes a
		// slot of the pool.
		if db.keep, err = sdb.Conn(ctx); err != nil {
			sdb.Close()
			return nil, fmt.Errorf("open sqlite %s: %w", path, err)
		}
		sdb.SetMaxOpenConns(maxConns + 1)
	}
	if err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	db.GroupCommits(groupPolls)
	return db, nil
}

// reopen opens another handle on the same database as db, as a second
// process would: for a file, Open with its path; for an in-memory database,
// a handle on the same memdb, alive while any handle is open.
func (db *DB) reopen(ctx context.Context) (*DB, error) {
	if db.keep != nil {
		return openMemory(ctx, db.path)
	}
	return Open(ctx, db.path)
}

// Close closes the database. An in-memory database is gone once every
// handle on it is closed.
func (db *DB) Close() error {
	var err error
	if db.keep != nil {
		err = db.keep.Close()
	}
	return errors.Join(err, db.DB.Close())
}

// incrementalVacuum makes the file auto_vacuum = INCREMENTAL, so that the
// pages retention frees can be returned to the file system (Dialect.Reclaim
// runs PRAGMA incremental_vacuum after each retention run); without it the
// file never shrinks, and only reuses its free pages. A new file takes the
// setting at once. A file created before has its tables already, and takes
// it only through VACUUM, which rewrites the file once, at the first open
// by this version: that needs free disk space as large as the file, and
// time (about a second per 100 MB).
func incrementalVacuum(ctx context.Context, conn *sql.Conn) error {
	const incremental = 2
	var mode int
	if err := conn.QueryRowContext(ctx, "PRAGMA auto_vacuum").Scan(&mode); err != nil {
		return err
	}
	if mode == incremental {
		return nil
	}
	if _, err := conn.ExecContext(ctx, "PRAGMA auto_vacuum = INCREMENTAL"); err != nil {
		return err
	}
	var tables int
	if err := conn.QueryRowContext(ctx, "SELECT COUNT(*) FROM sqlite_master").Scan(&tables); err != nil {
		return err
	}
	if tables == 0 {
		return nil
	}
	if _, err := conn.ExecContext(ctx, "VACUUM"); err != nil {
		return fmt.Errorf("VACUUM (needs free disk space as large as the database file): %w", err)
	}
	return nil
}
