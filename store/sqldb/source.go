package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/broadsheet/broadsheet/feeds"
	"github.com/broadsheet/broadsheet/store"
)

// SyncSources records the configured sources in one transaction: new ones
// are inserted due at once; existing ones take the configured URL, kind,
// tags and schedule and become active again, and a changed URL forgets the
// old URL's validators and makes the source due at once; sources not in
// srcs become inactive, keeping their state and articles. It is idempotent.
func (db *DB) SyncSources(ctx context.Context, srcs []feeds.Source) error {
	// Sorted, so that replicas syncing at once lock rows in the same order.
	srcs = append([]feeds.Source(nil), srcs...)
	sort.SliceStable(srcs, func(i, j int) bool { return srcs[i].Name < srcs[j].Name })
	want := make(map[string]bool, len(srcs))
	for _, s := range srcs {
		if s.Name == "" {
			return errors.New("sync sources: a source has no name")
		}
		want[s.Name] = true
	}
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		up, err := tx.PrepareContext(ctx, db.q(`INSERT INTO sources (name, url, kind, tags, schedule, active, next_due)
			VALUES (?, ?, ?, ?, ?, 1, 0)
			ON CONFLICT (name) DO UPDATE SET
				url = excluded.url,
				kind = excluded.kind,
				tags = excluded.tags,
				schedule = excluded.schedule,
				active = 1,
				etag = CASE WHEN sources.url = excluded.url THEN sources.etag ELSE '' END,
				last_modified = CASE WHEN sources.url = excluded.url THEN sources.last_modified ELSE '' END,
				next_due = CASE WHEN sources.url = excluded.url THEN sources.next_due ELSE 0 END`))
		if err != nil {
			return err
		}
		defer up.Close()
		for _, s := range srcs {
			tags, err := toJSON(s.Tags)
			if err != nil {
				return err
			}
			if _, err := up.ExecContext(ctx, s.Name, s.URL, string(kindOr(s.Kind)), tags, s.Schedule); err != nil {
				return fmt.Errorf("source %q: %w", s.Name, err)
			}
		}
		rows, err := tx.QueryContext(ctx, "SELECT name FROM sources WHERE active = 1 ORDER BY name")
		if err != nil {
			return err
		}
		var gone []any
		for rows.Next() {
			var name string
			if err := rows.Scan(&name); err != nil {
				rows.Close()
				return err
			}
			if !want[name] {
				gone = append(gone, name)
			}
		}
		if err := rows.Close(); err != nil {
			return err
		}
		for len(gone) > 0 {
			n := min(len(gone), db.chunk(0))
			if _, err := tx.ExecContext(ctx, db.q("UPDATE sources SET active = 0 WHERE name IN ("+marks(n)+")"), gone[:n]...); err != nil {
				return err
			}
			gone = gone[n:]
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sync sources: %w", err)
	}
	return nil
}

// kindOr is k, or news when k is unset.
func kindOr(k feeds.Kind) feeds.Kind {
	if k == "" {
		return feeds.KindNews
	}
	return k
}

const stateCols = `name, active, url, etag, last_modified, last_attempt, last_success,
	last_status, last_error, failures, next_due, articles_version`

func scanState(sc interface{ Scan(...any) error }, extra ...any) (feeds.SourceState, error) {
	var (
		st                    feeds.SourceState
		active                int64
		attempt, success, due sql.NullInt64
	)
	dest := append([]any{&st.Source, &active, &st.URL, &st.ETag, &st.LastModified, &attempt, &success,
		&st.LastStatus, &st.LastError, &st.Failures, &due, &st.ArticlesVersion}, extra...)
	if err := sc.Scan(dest...); err != nil {
		return st, err
	}
	st.Active = active != 0
	st.LastAttempt, st.LastSuccess, st.NextDue = fromMS(attempt), fromMS(success), fromMS(due)
	return st, nil
}

// SourceState returns the remembered state of a source, with its
// ArticlesVersion, or an error wrapping feeds.ErrNotFound if it is unknown.
// Articles is left 0.
func (db *DB) SourceState(ctx context.Context, source string) (feeds.SourceState, error) {
	row := db.db.QueryRowContext(ctx, db.q("SELECT "+stateCols+" FROM sources WHERE name = ?"), source)
	st, err := scanState(row)
	if errors.Is(err, sql.ErrNoRows) {
		return feeds.SourceState{}, fmt.Errorf("source state %q: %w", source, feeds.ErrNotFound)
	}
	if err != nil {
		return feeds.SourceState{}, fmt.Errorf("source state %q: %w", source, err)
	}
	return st, nil
}

// SourceStates lists every known source's state, active or not, with its
// article count and ArticlesVersion, ordered by name. Both come from one
// statement, so they agree with each other.
func (db *DB) SourceStates(ctx context.Context) ([]feeds.SourceState, error) {
	rows, err := db.db.QueryContext(ctx, "SELECT "+stateCols+
		", (SELECT COUNT(*) FROM articles a WHERE a.source = sources.name) FROM sources ORDER BY name")
	if err != nil {
		return nil, fmt.Errorf("source states: %w", err)
	}
	defer rows.Close()
	var out []feeds.SourceState
	for rows.Next() {
		var n int64
		st, err := scanState(rows, &n)
		if err != nil {
			return nil, fmt.Errorf("source states: %w", err)
		}
		st.Articles = int(n)
		out = append(out, st)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("source states: %w", err)
	}
	return out, nil
}

// SourceCounts sums up the active sources' states in one statement.
func (db *DB) SourceCounts(ctx context.Context) (store.SourceCounts, error) {
	var (
		c                store.SourceCounts
		polled, failing  sql.NullInt64
		attempt, success sql.NullInt64
	)
	err := db.db.QueryRowContext(ctx, `SELECT COUNT(*),
		SUM(CASE WHEN last_attempt > 0 THEN 1 ELSE 0 END),
		SUM(CASE WHEN failures > 0 THEN 1 ELSE 0 END),
		MAX(last_attempt), MAX(last_success)
		FROM sources WHERE active = 1`).Scan(&c.Sources, &polled, &failing, &attempt, &success)
	if err != nil {
		return c, fmt.Errorf("source counts: %w", err)
	}
	c.Polled, c.Failing = int(polled.Int64), int(failing.Int64)
	c.LastAttempt, c.LastSuccess = fromMS(attempt), fromMS(success)
	return c, nil
}

// ClaimDue leases to owner, until now+lease, up to limit active sources
// whose next_due is not after now and whose lease is unset or expired
// (lease_until before now), earliest due first, and returns their names in
// that order. The lease is one statement, so concurrent claimers, in this
// process or another, never get the same source. SavePoll by owner releases
// it; otherwise it lapses.
func (db *DB) ClaimDue(ctx context.Context, owner string, now time.Time, limit int, lease time.Duration) ([]string, error) {
	if owner == "" {
		return nil, errors.New("claim due: owner is empty")
	}
	if lease <= 0 {
		return nil, fmt.Errorf("claim due: lease %v is not positive", lease)
	}
	if limit <= 0 {
		return nil, nil
	}
	nowMS := now.UnixMilli()
	rows, err := db.db.QueryContext(ctx, db.q(`UPDATE sources SET lease_owner = ?, lease_until = ?
		WHERE name IN (
			SELECT name FROM sources
			WHERE active = 1 AND next_due <= ? AND (lease_until IS NULL OR lease_until < ?)
			ORDER BY next_due, name
			LIMIT ?`+db.dialect.ClaimLock+`)
		RETURNING name, next_due`),
		owner, now.Add(lease).UnixMilli(), nowMS, nowMS, limit)
	if err != nil {
		return nil, fmt.Errorf("claim due: %w", err)
	}
	defer rows.Close()
	type claim struct {
		name string
		due  int64
	}
	var cs []claim
	for rows.Next() {
		var c claim
		if err := rows.Scan(&c.name, &c.due); err != nil {
			return nil, fmt.Errorf("claim due: %w", err)
		}
		cs = append(cs, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("claim due: %w", err)
	}
	// RETURNING has no order of its own.
	sort.Slice(cs, func(i, j int) bool {
		if cs[i].due != cs[j].due {
			return cs[i].due < cs[j].due
		}
		return cs[i].name < cs[j].name
	})
	names := make([]string, len(cs))
	for i, c := range cs {
		names[i] = c.name
	}
	return names, nil
}
