package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"strings"
)

// ErrTargetNotEmpty is returned by Copy when the target already holds data
// and CopyOptions.Force is not set.
var ErrTargetNotEmpty = errors.New("the target store is not empty")

// CopyOptions tune Copy.
type CopyOptions struct {
	// Force copies into a target that already holds data (a re-run after
	// an interrupted or earlier copy): rows whose key the target has are
	// left as they are, the others are added. Without it a target holding
	// any row is refused with ErrTargetNotEmpty, except for the rows the
	// migrations themselves insert.
	Force bool
	// Batch is how many rows one INSERT carries at most; default 500, and
	// fewer when the dialect's parameter limit or a batch's size (4 MiB)
	// says so.
	Batch int
	// Progress, if set, is called after each batch with the table, the
	// rows read from it so far and its row count in the source.
	Progress func(table string, done, total int64)
}

// TableCount is what Copy did to one table.
type TableCount struct {
	Table  string
	Source int64 // rows in the source
	Target int64 // rows in the target, after the copy
	Copied int64 // rows the copy added
}

// copyBatchBytes bounds one batch's values, so that tables of long articles
// don't build huge statements.
const copyBatchBytes = 4 << 20

// Copy copies every table of the schema from src into dst, table by table in
// the order the migrations create them (so rows come after the rows they
// reference), in batches. Both must be migrated to the same version (Open
// migrates). The tables come from the migrations and their columns from the
// source, so tables and columns that later migrations add are copied
// without changing Copy; schema_migrations is not copied (dst has its own).
//
// Each batch is one INSERT … ON CONFLICT DO NOTHING, so the copy is
// idempotent: run again (with Force) after an interruption or to bring over
// what was added since, it adds what is missing and duplicates nothing. It
// never changes or deletes a row dst already had, except for the rows the
// migrations insert (such as the counters), which a copy into an empty
// store replaces with the source's, in one transaction per table.
//
// It returns each table's counts afterwards; Copied sums the rows the
// inserts reported. src must not be written during the copy (stop the
// daemon) for the counts to be meaningful.
func Copy(ctx context.Context, dst, src *DB, o CopyOptions) ([]TableCount, error) {
	if o.Batch <= 0 {
		o.Batch = 500
	}
	sv, err := src.Version(ctx)
	if err != nil {
		return nil, fmt.Errorf("copy: source: %w", err)
	}
	dv, err := dst.Version(ctx)
	if err != nil {
		return nil, fmt.Errorf("copy: target: %w", err)
	}
	if sv != dv {
		return nil, fmt.Errorf("copy: the source's schema is version %d and the target's %d: open both with the same broadsheet, which migrates them", sv, dv)
	}
	tables, seeded, err := SchemaTables()
	if err != nil {
		return nil, fmt.Errorf("copy: %w", err)
	}
	if !o.Force {
		var full []string
		for _, t := range tables {
			if seeded[t] {
				continue
			}
			n, err := dst.count(ctx, t)
			if err != nil {
				return nil, fmt.Errorf("copy: target: %w", err)
			}
			if n > 0 {
				full = append(full, fmt.Sprintf("%s (%d rows)", t, n))
			}
		}
		if len(full) > 0 {
			return nil, fmt.Errorf("copy: %w: %s", ErrTargetNotEmpty, strings.Join(full, ", "))
		}
	}
	out := make([]TableCount, 0, len(tables))
	for _, t := range tables {
		copied, err := copyTable(ctx, dst, src, t, seeded[t] && !o.Force, o)
		if err != nil {
			return out, fmt.Errorf("copy %s: %w", t, err)
		}
		tc := TableCount{Table: t, Copied: copied}
		if tc.Source, err = src.count(ctx, t); err != nil {
			return out, fmt.Errorf("copy %s: source: %w", t, err)
		}
		if tc.Target, err = dst.count(ctx, t); err != nil {
			return out, fmt.Errorf("copy %s: target: %w", t, err)
		}
		out = append(out, tc)
	}
	return out, nil
}

var (
	createTableRE = regexp.MustCompile(`(?i)\bCREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?([A-Za-z_][A-Za-z0-9_]*)`)
	insertIntoRE  = regexp.MustCompile(`(?i)\bINSERT\s+INTO\s+([A-Za-z_][A-Za-z0-9_]*)`)
)

// SchemaTables returns the tables the migrations create, in the order they
// create them, and those the migrations insert rows into (seeded).
func SchemaTables() (tables []string, seeded map[string]bool, err error) {
	ms, err := migrations("")
	if err != nil {
		return nil, nil, err
	}
	seeded = map[string]bool{}
	seen := map[string]bool{}
	for _, m := range ms {
		sqlText := stripComments(m.sql)
		for _, g := range createTableRE.FindAllStringSubmatch(sqlText, -1) {
			name := strings.ToLower(g[1])
			if !seen[name] {
				seen[name] = true
				tables = append(tables, name)
			}
		}
		for _, g := range insertIntoRE.FindAllStringSubmatch(sqlText, -1) {
			seeded[strings.ToLower(g[1])] = true
		}
	}
	if len(tables) == 0 {
		return nil, nil, fs.ErrNotExist
	}
	return tables, seeded, nil
}

// stripComments drops "--" comments, which may mention table names.
func stripComments(s string) string {
	var b strings.Builder
	for line := range strings.Lines(s) {
		if i := strings.Index(line, "--"); i >= 0 {
			line = line[:i] + "\n"
		}
		b.WriteString(line)
	}
	return b.String()
}

func (db *DB) count(ctx context.Context, table string) (int64, error) {
	var n int64
	if err := db.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+quoteIdent(table)).Scan(&n); err != nil {
		return 0, fmt.Errorf("count %s: %w", table, err)
	}
	return n, nil
}

// columns returns table's column names, in the database's order.
func (db *DB) columns(ctx context.Context, table string) ([]string, error) {
	rows, err := db.db.QueryContext(ctx, "SELECT * FROM "+quoteIdent(table)+" WHERE 1 = 0")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	for i := range cols {
		cols[i] = strings.ToLower(cols[i])
	}
	return cols, nil
}

// quoteIdent quotes a table or column name, as both databases read it.
func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// copyTable streams table from src into dst in batches and returns how many
// rows the inserts added. With replace, it first deletes dst's rows, in the
// same transaction as the inserts.
func copyTable(ctx context.Context, dst, src *DB, table string, replace bool, o CopyOptions) (int64, error) {
	cols, err := src.columns(ctx, table)
	if err != nil {
		return 0, fmt.Errorf("source columns: %w", err)
	}
	dcols, err := dst.columns(ctx, table)
	if err != nil {
		return 0, fmt.Errorf("target columns: %w", err)
	}
	for _, c := range cols {
		if !slices.Contains(dcols, c) {
			return 0, fmt.Errorf("the target has no column %s", c)
		}
	}
	total, err := src.count(ctx, table)
	if err != nil {
		return 0, err
	}
	quoted := make([]string, len(cols))
	for i, c := range cols {
		quoted[i] = quoteIdent(c)
	}
	list := strings.Join(quoted, ", ")
	rows, err := src.db.QueryContext(ctx, "SELECT "+list+" FROM "+quoteIdent(table))
	if err != nil {
		return 0, err
	}
	defer rows.Close()

	var (
		exec   execer = dst.db
		tx     *sql.Tx
		copied int64
		done   int64
	)
	if replace {
		if tx, err = dst.db.BeginTx(ctx, nil); err != nil {
			return 0, err
		}
		defer func() { _ = tx.Rollback() }()
		if _, err := tx.ExecContext(ctx, "DELETE FROM "+quoteIdent(table)); err != nil {
			return 0, err
		}
		exec = tx
	}
	step := max(1, min(o.Batch, dst.dialect.MaxParams/len(cols)))
	batch := make([]any, 0, step*len(cols))
	size := 0
	flush := func() error {
		n := len(batch) / len(cols)
		if n == 0 {
			return nil
		}
		var b strings.Builder
		b.WriteString("INSERT INTO " + quoteIdent(table) + " (" + list + ") VALUES ")
		row := "(" + marks(len(cols)) + ")"
		for i := range n {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(row)
		}
		b.WriteString(" ON CONFLICT DO NOTHING")
		res, err := exec.ExecContext(ctx, dst.q(b.String()), batch...)
		if err != nil {
			return err
		}
		added, err := res.RowsAffected()
		if err != nil {
			return err
		}
		copied += added
		done += int64(n)
		batch, size = batch[:0], 0
		if o.Progress != nil {
			o.Progress(table, done, total)
		}
		return nil
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return copied, err
		}
		for _, v := range vals {
			// Drivers may reuse a []byte's memory on the next row.
			if b, ok := v.([]byte); ok {
				v = string(b)
			}
			// Older SQLite stores kept NUL and invalid UTF-8, which
			// PostgreSQL refuses: copy the text as SavePoll now stores it.
			if s, ok := v.(string); ok {
				v = cleanText(s)
			}
			batch = append(batch, v)
			if s, ok := v.(string); ok {
				size += len(s)
			}
		}
		if len(batch)/len(cols) >= step || size >= copyBatchBytes {
			if err := flush(); err != nil {
				return copied, err
			}
		}
	}
	if err := rows.Err(); err != nil {
		return copied, err
	}
	if err := flush(); err != nil {
		return copied, err
	}
	if o.Progress != nil && done == 0 {
		o.Progress(table, 0, total)
	}
	if tx != nil {
		if err := tx.Commit(); err != nil {
			return copied, err
		}
	}
	return copied, nil
}

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}
