package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/schollz/progressbar/v3"

	"github.com/broadsheet/broadsheet/store"
	"github.com/broadsheet/broadsheet/store/postgres"
	"github.com/broadsheet/broadsheet/store/sqldb"
	"github.com/broadsheet/broadsheet/store/sqlite"
)

// cmdMigrate copies a whole store into another: from the embedded SQLite
// file to PostgreSQL when moving to several replicas (or back). Both are
// migrated to this version's schema first, as any command would; then
// every table is copied in batches (sqldb.Copy), and the row counts of both
// sides are printed and compared.
func (m *Main) cmdMigrate(ctx context.Context, fs *flag.FlagSet, args []string) error {
	from := fs.String("from", "", "the store to copy: sqlite:PATH or postgres:DSN (required)")
	to := fs.String("to", "", "the store to copy into: postgres:DSN or sqlite:PATH (required)")
	force := fs.Bool("force", false, "copy into a store that already holds data, adding only the rows it lacks (to resume or repeat a copy)")
	batch := fs.Int("batch", 500, "rows per INSERT")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: broadsheet migrate --from sqlite:PATH --to postgres:DSN [--force]\n\n"+
			"Copies every table of one store into another, e.g. the embedded SQLite store into\n"+
			"PostgreSQL before running several replicas. Stop broadsheet first. The target must be\n"+
			"empty unless --force is given; with --force rows already there are kept as they are and\n"+
			"only missing ones are added, so an interrupted copy can be run again.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *from == "" || *to == "" {
		fs.Usage()
		return &exitError{code: exitUsage, msg: "migrate needs --from and --to, e.g. --from sqlite:./data/broadsheet.db --to postgres:${DATABASE_URL}"}
	}
	if *batch <= 0 {
		return &exitError{code: exitUsage, msg: fmt.Sprintf("--batch %d: must be positive", *batch)}
	}
	srcSpec, err := parseStoreSpec(*from)
	if err != nil {
		return &exitError{code: exitUsage, msg: "--from: " + err.Error()}
	}
	dstSpec, err := parseStoreSpec(*to)
	if err != nil {
		return &exitError{code: exitUsage, msg: "--to: " + err.Error()}
	}
	if srcSpec.same(dstSpec) {
		return &exitError{code: exitUsage, msg: "--from and --to name the same store"}
	}
	if srcSpec.driver == "sqlite" {
		// Opening would create an empty database: say what is wrong instead.
		if _, err := os.Stat(srcSpec.path); err != nil {
			return &exitError{code: exitUsage, msg: fmt.Sprintf("--from: %v", err)}
		}
	}
	src, err := srcSpec.open(ctx)
	if err != nil {
		return fmt.Errorf("open the source: %w", err)
	}
	defer src.Close()
	dst, err := dstSpec.open(ctx)
	if err != nil {
		return fmt.Errorf("open the target: %w", err)
	}
	defer dst.Close()

	fmt.Fprintf(m.Stderr, "copying %s into %s\n", srcSpec, dstSpec)
	var bar *progressbar.ProgressBar
	var barTable string
	finish := func() {
		if bar != nil {
			_ = bar.Finish()
			bar = nil
		}
	}
	opts := sqldb.CopyOptions{Force: *force, Batch: *batch}
	if m.Terminal {
		opts.Progress = func(table string, done, total int64) {
			if table != barTable {
				finish()
				barTable = table
				if total > 0 {
					bar = progressbar.NewOptions64(total,
						progressbar.OptionSetWriter(m.Stderr),
						progressbar.OptionSetDescription(fmt.Sprintf("%-22s", table)),
						progressbar.OptionShowCount(),
						progressbar.OptionClearOnFinish(),
						progressbar.OptionThrottle(100_000_000),
						progressbar.OptionSetPredictTime(true))
				}
			}
			if bar != nil {
				_ = bar.Set64(done)
			}
		}
	}
	counts, err := sqldb.Copy(ctx, dst.sqlDB(), src.sqlDB(), opts)
	finish()
	if errors.Is(err, sqldb.ErrTargetNotEmpty) {
		return &exitError{code: exitFailed, msg: err.Error() + "\nIf it holds an earlier or interrupted copy of the same store, run again with --force: rows already there are kept, missing ones added."}
	}
	if err != nil {
		if ctx.Err() != nil {
			printCopyTable(m, counts)
			return &exitError{code: exitFailed, msg: "interrupted: what was copied stays; run again with --force to finish"}
		}
		return err
	}
	short := printCopyTable(m, counts)
	if short > 0 {
		return &exitError{code: exitFailed, msg: fmt.Sprintf("%d tables have fewer rows in the target than in the source: was the source written to during the copy? Stop broadsheet and run again with --force", short)}
	}
	var total int64
	for _, c := range counts {
		total += c.Copied
	}
	fmt.Fprintf(m.Stdout, "copied %d rows; every table of the target has the source's rows\n", total)
	return nil
}

// printCopyTable prints each table's counts and returns how many tables
// have fewer rows in the target than in the source.
func printCopyTable(m *Main, counts []sqldb.TableCount) int {
	short := 0
	tw := newTable(m.Stdout)
	fmt.Fprintln(tw, "TABLE\tSOURCE\tTARGET\tCOPIED\tCHECK")
	for _, c := range counts {
		check := "ok"
		switch {
		case c.Target < c.Source:
			check = fmt.Sprintf("MISSING %d", c.Source-c.Target)
			short++
		case c.Target > c.Source:
			check = fmt.Sprintf("ok, %d more in the target", c.Target-c.Source)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%s\n", c.Table, c.Source, c.Target, c.Copied, check)
	}
	tw.Flush()
	return short
}

// storeSpec is a store named on the command line: sqlite:PATH or
// postgres:DSN.
type storeSpec struct {
	driver string // sqlite or postgres
	path   string // sqlite
	dsn    string // postgres
}

// parseStoreSpec reads sqlite:PATH, postgres:DSN, or a bare postgres://
// URL.
func parseStoreSpec(s string) (storeSpec, error) {
	switch {
	case strings.HasPrefix(s, "postgres://"), strings.HasPrefix(s, "postgresql://"):
		return storeSpec{driver: "postgres", dsn: s}, nil
	case strings.HasPrefix(s, "postgres:"):
		return storeSpec{driver: "postgres", dsn: strings.TrimPrefix(s, "postgres:")}, nil
	case strings.HasPrefix(s, "postgresql:"):
		return storeSpec{driver: "postgres", dsn: strings.TrimPrefix(s, "postgresql:")}, nil
	case strings.HasPrefix(s, "sqlite:"):
		p := strings.TrimPrefix(s, "sqlite:")
		if p == "" || p == sqlite.Memory {
			return storeSpec{}, fmt.Errorf("%q: give the SQLite database file, e.g. sqlite:./data/broadsheet.db", s)
		}
		return storeSpec{driver: "sqlite", path: p}, nil
	}
	return storeSpec{}, fmt.Errorf("%q: write sqlite:PATH or postgres:DSN", redactSpec(s))
}

func (s storeSpec) same(o storeSpec) bool {
	if s.driver != o.driver {
		return false
	}
	if s.driver == "sqlite" {
		return absPath(s.path) == absPath(o.path)
	}
	return s.dsn == o.dsn
}

// String names the store without its password.
func (s storeSpec) String() string {
	if s.driver == "sqlite" {
		return "SQLite " + filepath.Clean(s.path)
	}
	return "PostgreSQL " + redactSpec(s.dsn)
}

// redactSpec shows a DSN's host and database but never its password.
func redactSpec(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.Host != "" {
		return u.Host + u.Path
	}
	if strings.Contains(dsn, "password") || strings.Contains(dsn, "@") {
		return "(DSN)"
	}
	return dsn
}

// copyStore is an open store that Copy can read or fill.
type copyStore interface {
	store.Store
	sqlDB() *sqldb.DB
}

type sqliteCopy struct{ *sqlite.DB }

func (s sqliteCopy) sqlDB() *sqldb.DB { return s.DB.DB }

type postgresCopy struct{ *postgres.DB }

func (p postgresCopy) sqlDB() *sqldb.DB { return p.DB.DB }

func (s storeSpec) open(ctx context.Context) (copyStore, error) {
	if s.driver == "sqlite" {
		db, err := sqlite.Open(ctx, s.path)
		if err != nil {
			return nil, err
		}
		return sqliteCopy{db}, nil
	}
	db, err := postgres.Open(ctx, s.dsn)
	if err != nil {
		return nil, err
	}
	return postgresCopy{db}, nil
}
