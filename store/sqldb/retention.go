package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/broadsheet/broadsheet/feeds"
	"github.com/broadsheet/broadsheet/store"
)

// retainBatch is how many articles one Retain transaction deletes: enough
// that a year's backlog goes in minutes, few enough that a poll waiting for
// SQLite's write lock waits well under its busy timeout.
const retainBatch = 500

// unfinishedStates are the deliveries still to be sent, whose articles
// Retain keeps.
const unfinishedStates = `('pending', 'sending', 'retry')`

// Retain deletes what is older than cutoff; see store.Retainer.
func (db *DB) Retain(ctx context.Context, cutoff time.Time) (store.RetainStats, error) {
	var st store.RetainStats
	c := roundMS(cutoff).UnixMilli()
	// First, so that from now on SavePoll refuses what this run deletes.
	if _, err := db.db.ExecContext(ctx, db.q(`INSERT INTO counters (name, value) VALUES ('retention_cutoff', ?)
		ON CONFLICT (name) DO UPDATE SET value = CASE WHEN excluded.value > counters.value THEN excluded.value ELSE counters.value END`), c); err != nil {
		return st, fmt.Errorf("retain: record the cutoff: %w", err)
	}
	held, err := db.heldArticles(ctx)
	if err != nil {
		return st, fmt.Errorf("retain: read unfinished deliveries: %w", err)
	}
	// Keyset over (first_seen, id), so that the held articles, which stay,
	// are stepped over rather than read again by every batch.
	var afterSeen int64 = -1 << 62
	afterID := ""
	for more := true; more; {
		if more, err = db.retainBatch(ctx, c, held, &afterSeen, &afterID, &st); err != nil {
			return st, fmt.Errorf("retain: delete articles: %w", err)
		}
	}
	res, err := db.db.ExecContext(ctx, db.q(`DELETE FROM digest_deliveries
		WHERE period < ? AND state NOT IN `+unfinishedStates+`
		AND period < (SELECT MAX(x.period) FROM digest_deliveries x
			WHERE x.digest = digest_deliveries.digest AND x.recipient = digest_deliveries.recipient)
		AND period <> COALESCE((SELECT MAX(x.period) FROM digest_deliveries x
			WHERE x.digest = digest_deliveries.digest AND x.recipient = digest_deliveries.recipient
			AND x.state IN `+coveredStates+`), -1)
		AND period <> COALESCE((SELECT MAX(x.period) FROM digest_deliveries x
			WHERE x.digest = digest_deliveries.digest AND x.recipient = digest_deliveries.recipient
			AND x.state = 'sent'), -1)`), c)
	if err != nil {
		return st, fmt.Errorf("retain: delete deliveries: %w", err)
	}
	k, _ := res.RowsAffected()
	st.Deliveries = int(k)
	if db.dialect.Reclaim != "" && st.Articles+st.Deliveries > 0 {
		if _, err := db.db.ExecContext(ctx, db.dialect.Reclaim); err != nil {
			return st, fmt.Errorf("retain: reclaim space: %w", err)
		}
	}
	return st, nil
}

// heldArticles are the ids that unfinished deliveries list.
func (db *DB) heldArticles(ctx context.Context) (map[string]bool, error) {
	rows, err := db.db.QueryContext(ctx, "SELECT articles FROM digest_deliveries WHERE state IN "+unfinishedStates)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	held := map[string]bool{}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		ids, err := fromJSON(s)
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			held[id] = true
		}
	}
	return held, rows.Err()
}

// retainBatch deletes, in one transaction, up to retainBatch of the articles
// after the keyset position that are older than cutoff and not held, and
// reports whether there may be more.
func (db *DB) retainBatch(ctx context.Context, cutoff int64, held map[string]bool, afterSeen *int64, afterID *string, st *store.RetainStats) (bool, error) {
	var deleted int
	more := false
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, db.q(`SELECT id, source, published, first_seen FROM articles
			WHERE first_seen < ? AND published < ? AND (first_seen > ? OR (first_seen = ? AND id > ?))
			ORDER BY first_seen, id LIMIT ?`), cutoff, cutoff, *afterSeen, *afterSeen, *afterID, retainBatch)
		if err != nil {
			return err
		}
		var (
			doomed  []any
			undated []string
			sources = map[string]bool{}
			n       int
			heldN   int
			seen    int64
			last    string
		)
		for rows.Next() {
			var id, src string
			var pub, fs int64
			if err := rows.Scan(&id, &src, &pub, &fs); err != nil {
				rows.Close()
				return err
			}
			n++
			seen, last = fs, id
			if held[id] {
				heldN++
				continue
			}
			doomed = append(doomed, id)
			sources[src] = true
			// SavePoll gives an undated article its FirstSeen as Published.
			if pub == fs {
				undated = append(undated, id)
			}
		}
		if err := rows.Close(); err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
		emptied, err := db.deleteArticles(ctx, tx, doomed, undated, sources)
		if err != nil {
			return err
		}
		// Only once committed: a failed batch is read again.
		deleted, more = len(doomed), n == retainBatch
		*afterSeen, *afterID = seen, last
		st.Held += heldN
		st.Topics += emptied
		st.Retired += len(undated)
		return nil
	})
	if err != nil {
		return false, err
	}
	st.Articles += deleted
	return more, nil
}

// deleteArticles deletes ids with their topic memberships, the story
// topics left empty, and remembers the undated ones; it counts the change
// for the sources' feeds and DataVersion.
func (db *DB) deleteArticles(ctx context.Context, tx *sql.Tx, ids []any, undated []string, sources map[string]bool) (emptied int, err error) {
	if len(ids) == 0 {
		return 0, nil
	}
	step := db.chunk(1)
	var slugs []any
	for start := 0; start < len(ids); start += step {
		part := ids[start:min(start+step, len(ids))]
		in := "(" + marks(len(part)) + ")"
		rows, err := tx.QueryContext(ctx, db.q(`SELECT DISTINCT t.slug FROM article_topics t JOIN topics p ON p.slug = t.slug
			WHERE p.kind = 'story' AND t.article_id IN `+in), part...)
		if err != nil {
			return 0, err
		}
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				rows.Close()
				return 0, err
			}
			slugs = append(slugs, s)
		}
		if err := rows.Close(); err != nil {
			return 0, err
		}
		if _, err := tx.ExecContext(ctx, db.q("DELETE FROM article_topics WHERE article_id IN "+in), part...); err != nil {
			return 0, err
		}
		if _, err := tx.ExecContext(ctx, db.q("DELETE FROM articles WHERE id IN "+in), part...); err != nil {
			return 0, err
		}
	}
	for start := 0; start < len(slugs); start += step {
		part := slugs[start:min(start+step, len(slugs))]
		res, err := tx.ExecContext(ctx, db.q(`DELETE FROM topics WHERE kind = 'story' AND slug IN (`+marks(len(part))+`)
			AND NOT EXISTS (SELECT 1 FROM article_topics m WHERE m.slug = topics.slug)`), part...)
		if err != nil {
			return 0, err
		}
		k, err := res.RowsAffected()
		if err != nil {
			return 0, err
		}
		emptied += int(k)
	}
	now := db.now().UnixMilli()
	for _, id := range undated {
		if _, err := tx.ExecContext(ctx, db.q(`INSERT INTO retired_articles (id, retired) VALUES (?, ?)
			ON CONFLICT (id) DO NOTHING`), id, now); err != nil {
			return 0, err
		}
	}
	for src := range sources {
		if _, err := tx.ExecContext(ctx, db.q(bumpSource), src); err != nil {
			return 0, err
		}
	}
	if _, err := tx.ExecContext(ctx, bumpArticles); err != nil {
		return 0, err
	}
	return emptied, nil
}

// skipRetired drops from arts the new articles (not in old) that retention
// deleted before: published before the recorded cutoff, or undated and
// remembered by id. Without it a feed still listing an old item would
// have it stored again as new, and sent again by the next digest. It
// returns the rest and how many it dropped.
func (db *DB) skipRetired(ctx context.Context, tx *sql.Tx, arts []*feeds.Article, old map[string]stored) ([]*feeds.Article, int, error) {
	if len(old) == len(arts) {
		return arts, 0, nil
	}
	var cutoff int64
	err := tx.QueryRowContext(ctx, "SELECT value FROM counters WHERE name = 'retention_cutoff'").Scan(&cutoff)
	if errors.Is(err, sql.ErrNoRows) {
		return arts, 0, nil // retention never ran
	}
	if err != nil {
		return nil, 0, err
	}
	var undated []any
	for _, a := range arts {
		if _, ok := old[a.ID]; !ok && a.Published.IsZero() {
			undated = append(undated, a.ID)
		}
	}
	retired := map[string]bool{}
	step := db.chunk(0)
	for start := 0; start < len(undated); start += step {
		part := undated[start:min(start+step, len(undated))]
		rows, err := tx.QueryContext(ctx, db.q("SELECT id FROM retired_articles WHERE id IN ("+marks(len(part))+")"), part...)
		if err != nil {
			return nil, 0, err
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, 0, err
			}
			retired[id] = true
		}
		if err := rows.Close(); err != nil {
			return nil, 0, err
		}
	}
	out := arts[:0:0]
	for _, a := range arts {
		if _, ok := old[a.ID]; !ok && (retired[a.ID] || !a.Published.IsZero() && a.Published.UnixMilli() < cutoff) {
			continue
		}
		out = append(out, a)
	}
	return out, len(arts) - len(out), nil
}
