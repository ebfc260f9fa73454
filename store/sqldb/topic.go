package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/broadsheet/broadsheet/feeds"
	"github.com/broadsheet/broadsheet/store"
	"github.com/broadsheet/broadsheet/topics"
)

var _ store.TopicStore = (*DB)(nil)

// memberCols are articleCols read through the alias a, with Summary and
// Content left empty: StoryMembers reads a whole window of articles for the
// clusterer, which needs neither.
var memberCols = func() string {
	cols := strings.Split(articleCols, ",")
	for i, c := range cols {
		c = strings.TrimSpace(c)
		if c == "summary" || c == "content" {
			cols[i] = "''"
		} else {
			cols[i] = "a." + c
		}
	}
	return strings.Join(cols, ", ")
}()

// memberRows is how many memberships one INSERT carries.
const memberRows = 200

// PendingTopicArticles returns up to limit articles not yet assigned to
// topics, oldest first seen first; limit <= 0 means all of them.
func (db *DB) PendingTopicArticles(ctx context.Context, limit int) ([]feeds.Article, error) {
	q := "SELECT " + articleCols + " FROM articles WHERE topics_done = 0 ORDER BY first_seen, id"
	var args []any
	if limit > 0 {
		q += " LIMIT ?"
		args = append(args, limit)
	}
	rows, err := db.db.QueryContext(ctx, db.q(q), args...)
	if err != nil {
		return nil, fmt.Errorf("pending topic articles: %w", err)
	}
	defer rows.Close()
	var out []feeds.Article
	for rows.Next() {
		a, err := scanArticle(rows)
		if err != nil {
			return nil, fmt.Errorf("pending topic articles: %w", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("pending topic articles: %w", err)
	}
	return out, nil
}

// SaveTopics records one batch of assignments in one transaction (see
// store.TopicStore). The epoch is an upserted counter row, which on
// PostgreSQL also serializes concurrent savers at the end of their
// transactions.
func (db *DB) SaveTopics(ctx context.Context, b store.TopicBatch) (int64, error) {
	for _, t := range b.Topics {
		if t.Slug == "" {
			return 0, fmt.Errorf("save topics: topic %q has no slug", t.Label)
		}
		if t.Kind != topics.KindConfigured && t.Kind != topics.KindStory {
			return 0, fmt.Errorf("save topics: topic %s: kind %q: want configured or story", t.Slug, t.Kind)
		}
		if (t.Kind == topics.KindStory) != (t.StoryID != "") {
			return 0, fmt.Errorf("save topics: topic %s: a story, and only a story, has a story id", t.Slug)
		}
	}
	var epoch int64
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if b.Lease != nil {
			if err := db.holdsLock(ctx, tx, *b.Lease); err != nil {
				return err
			}
		}
		if err := db.upsertTopics(ctx, tx, b.At, b.Topics); err != nil {
			return fmt.Errorf("upsert topics: %w", err)
		}
		if err := db.unmatch(ctx, tx, b.Rematched); err != nil {
			return fmt.Errorf("rematch: %w", err)
		}
		if err := db.addMembers(ctx, tx, b.Members); err != nil {
			return fmt.Errorf("add members: %w", err)
		}
		for _, m := range b.Merged {
			if err := db.mergeStory(ctx, tx, m); err != nil {
				return fmt.Errorf("merge story %s into %s: %w", m.From, m.Into, err)
			}
		}
		if err := db.markAssigned(ctx, tx, b.Assigned); err != nil {
			return fmt.Errorf("mark assigned: %w", err)
		}
		return tx.QueryRowContext(ctx, `INSERT INTO counters (name, value) VALUES ('topics_epoch', 1)
			ON CONFLICT (name) DO UPDATE SET value = counters.value + 1 RETURNING value`).Scan(&epoch)
	})
	if err != nil {
		return 0, fmt.Errorf("save topics: %w", err)
	}
	return epoch, nil
}

func (db *DB) upsertTopics(ctx context.Context, tx *sql.Tx, at time.Time, ts []store.TopicRecord) error {
	if len(ts) == 0 {
		return nil
	}
	// Sorted, so that concurrent savers lock rows in the same order.
	ts = slices.Clone(ts)
	slices.SortStableFunc(ts, func(a, b store.TopicRecord) int { return strings.Compare(a.Slug, b.Slug) })
	st, err := tx.PrepareContext(ctx, db.q(`INSERT INTO topics (slug, story_id, label, kind, created, updated)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (slug) DO UPDATE SET
			story_id = excluded.story_id,
			label = excluded.label,
			kind = excluded.kind,
			updated = excluded.updated`))
	if err != nil {
		return err
	}
	defer st.Close()
	stamp := ms0(at)
	for i, t := range ts {
		if i+1 < len(ts) && ts[i+1].Slug == t.Slug {
			continue // of repeated slugs, the last is the newest
		}
		if _, err := st.ExecContext(ctx, t.Slug, t.StoryID, t.Label, string(t.Kind), stamp, stamp); err != nil {
			return fmt.Errorf("topic %s: %w", t.Slug, err)
		}
	}
	return nil
}

// unmatch deletes the configured-topic memberships of ids.
func (db *DB) unmatch(ctx context.Context, tx *sql.Tx, ids []string) error {
	for len(ids) > 0 {
		n := min(len(ids), db.chunk(0))
		args := make([]any, n)
		for i, id := range ids[:n] {
			args[i] = id
		}
		if _, err := tx.ExecContext(ctx, db.q(`DELETE FROM article_topics WHERE article_id IN (`+marks(n)+`)
			AND slug IN (SELECT slug FROM topics WHERE kind = 'configured')`), args...); err != nil {
			return err
		}
		ids = ids[n:]
	}
	return nil
}

func (db *DB) addMembers(ctx context.Context, tx *sql.Tx, ms []store.TopicMember) error {
	for len(ms) > 0 {
		n := min(len(ms), memberRows)
		args := make([]any, 0, 2*n)
		for _, m := range ms[:n] {
			args = append(args, m.ArticleID, m.Slug)
		}
		q := "INSERT INTO article_topics (article_id, slug) VALUES " +
			strings.TrimSuffix(strings.Repeat("(?, ?),", n), ",") +
			" ON CONFLICT (article_id, slug) DO NOTHING"
		if _, err := tx.ExecContext(ctx, db.q(q), args...); err != nil {
			return err
		}
		ms = ms[n:]
	}
	return nil
}

// storySlug returns the slug of the stored story with story id id, or "".
func (db *DB) storySlug(ctx context.Context, tx *sql.Tx, id string) (string, error) {
	var slug string
	err := tx.QueryRowContext(ctx, db.q("SELECT slug FROM topics WHERE story_id = ? AND kind = 'story' ORDER BY slug LIMIT 1"), id).Scan(&slug)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return slug, err
}

func (db *DB) mergeStory(ctx context.Context, tx *sql.Tx, m store.StoryMerge) error {
	into, err := db.storySlug(ctx, tx, m.Into)
	if err != nil {
		return err
	}
	if into == "" {
		return fmt.Errorf("story %s: %w", m.Into, feeds.ErrNotFound)
	}
	from, err := db.storySlug(ctx, tx, m.From)
	if err != nil || from == "" || from == into {
		// A story never stored has no members to move.
		return err
	}
	if _, err := tx.ExecContext(ctx, db.q(`INSERT INTO article_topics (article_id, slug)
		SELECT article_id, CAST(? AS TEXT) FROM article_topics WHERE slug = ?
		ON CONFLICT (article_id, slug) DO NOTHING`), into, from); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, db.q("DELETE FROM article_topics WHERE slug = ?"), from); err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, db.q("DELETE FROM topics WHERE slug = ?"), from)
	return err
}

func (db *DB) markAssigned(ctx context.Context, tx *sql.Tx, vs []store.ArticleVersion) error {
	for len(vs) > 0 {
		n := min(len(vs), insertRows)
		args := make([]any, 0, 2*n)
		for _, v := range vs[:n] {
			args = append(args, v.ID, v.Hash)
		}
		q := "UPDATE articles SET topics_done = 1 FROM (VALUES " +
			strings.TrimSuffix(strings.Repeat("(?, ?),", n), ",") +
			") AS v WHERE articles.id = v.column1 AND (v.column2 = '' OR articles.hash = v.column2)"
		if _, err := tx.ExecContext(ctx, db.q(q), args...); err != nil {
			return err
		}
		vs = vs[n:]
	}
	return nil
}

// TopicEpoch returns how many topic batches have been saved.
func (db *DB) TopicEpoch(ctx context.Context) (int64, error) {
	var v int64
	err := db.db.QueryRowContext(ctx, "SELECT value FROM counters WHERE name = 'topics_epoch'").Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("topic epoch: %w", err)
	}
	return v, nil
}

// StoryMembers returns the story memberships of the articles first seen at
// or after seenSince, in (FirstSeen, ID) order, without Summary and
// Content.
func (db *DB) StoryMembers(ctx context.Context, seenSince time.Time) ([]store.StoryMember, error) {
	rows, err := db.db.QueryContext(ctx, db.q(`SELECT `+memberCols+`, t.story_id, t.slug
		FROM article_topics m
		JOIN topics t ON t.slug = m.slug
		JOIN articles a ON a.id = m.article_id
		WHERE t.kind = 'story' AND a.first_seen >= ?
		ORDER BY a.first_seen, a.id, t.slug`), ms0(seenSince))
	if err != nil {
		return nil, fmt.Errorf("story members: %w", err)
	}
	defer rows.Close()
	var out []store.StoryMember
	for rows.Next() {
		var m store.StoryMember
		a, err := scanArticle(scanPlus{rows, []any{&m.StoryID, &m.Slug}})
		if err != nil {
			return nil, fmt.Errorf("story members: %w", err)
		}
		m.Article = a
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("story members: %w", err)
	}
	return out, nil
}

// scanPlus scans a row holding an article's columns followed by extra
// ones.
type scanPlus struct {
	rows  *sql.Rows
	extra []any
}

func (s scanPlus) Scan(dest ...any) error { return s.rows.Scan(append(dest, s.extra...)...) }

// ResetTopics marks the articles first seen since seenSince as pending.
func (db *DB) ResetTopics(ctx context.Context, seenSince time.Time) (int, error) {
	res, err := db.db.ExecContext(ctx, db.q("UPDATE articles SET topics_done = 0 WHERE topics_done <> 0 AND first_seen >= ?"), ms0(seenSince))
	if err != nil {
		return 0, fmt.Errorf("reset topics: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("reset topics: %w", err)
	}
	return int(n), nil
}

// Topics returns the groups matching f (see store.TopicStore). One query
// per chunk of f.ArticleIDs reads the memberships with what ordering needs;
// grouping and ordering happen here.
func (db *DB) Topics(ctx context.Context, f store.TopicFilter) ([]store.TopicGroup, error) {
	if (f.ArticleIDs != nil && len(f.ArticleIDs) == 0) || (f.Kinds != nil && len(f.Kinds) == 0) || (f.Slugs != nil && len(f.Slugs) == 0) {
		return nil, nil
	}
	var where []string
	var args []any
	if !f.PublishedSince.IsZero() {
		where = append(where, "a.published >= ?")
		args = append(args, f.PublishedSince.UnixMilli())
	}
	if f.Kinds != nil {
		where = append(where, "t.kind IN ("+marks(len(f.Kinds))+")")
		for _, k := range f.Kinds {
			args = append(args, string(k))
		}
	}
	if f.Slugs != nil {
		where = append(where, "t.slug IN ("+marks(len(f.Slugs))+")")
		for _, s := range f.Slugs {
			args = append(args, s)
		}
	}
	groups := map[string]*topicAcc{}
	read := func(where []string, args []any) error {
		q := `SELECT t.slug, t.label, t.kind, t.story_id, t.updated, a.id, a.source, a.published
			FROM article_topics m
			JOIN topics t ON t.slug = m.slug
			JOIN articles a ON a.id = m.article_id`
		if len(where) > 0 {
			q += " WHERE " + strings.Join(where, " AND ")
		}
		rows, err := db.db.QueryContext(ctx, db.q(q), args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				slug, label, kind, storyID, id, source string
				updated, published                     sql.NullInt64
			)
			if err := rows.Scan(&slug, &label, &kind, &storyID, &updated, &id, &source, &published); err != nil {
				return err
			}
			g := groups[slug]
			if g == nil {
				g = &topicAcc{TopicGroup: store.TopicGroup{
					Topic:   topics.Topic{Slug: slug, Label: label, Kind: topics.Kind(kind)},
					StoryID: storyID,
					Updated: fromMS(updated),
				}, sources: map[string]bool{}}
				groups[slug] = g
			}
			g.members = append(g.members, topicMember{id: id, published: fromMS(published)})
			g.sources[source] = true
		}
		return rows.Err()
	}
	if f.ArticleIDs == nil {
		if err := read(where, args); err != nil {
			return nil, fmt.Errorf("topics: %w", err)
		}
	} else {
		ids := f.ArticleIDs
		for len(ids) > 0 {
			n := min(len(ids), db.chunk(len(args)))
			a := make([]any, 0, n+len(args))
			for _, id := range ids[:n] {
				a = append(a, id)
			}
			w := append([]string{"m.article_id IN (" + marks(n) + ")"}, where...)
			if err := read(w, append(a, args...)); err != nil {
				return nil, fmt.Errorf("topics: %w", err)
			}
			ids = ids[n:]
		}
	}

	out := make([]store.TopicGroup, 0, len(groups))
	newest := make(map[string]time.Time, len(groups))
	for slug, g := range groups {
		if len(g.sources) < f.MinSources {
			continue
		}
		// Repeated ids in f.ArticleIDs read a member twice.
		slices.SortFunc(g.members, func(x, y topicMember) int {
			if c := y.published.Compare(x.published); c != 0 {
				return c
			}
			return strings.Compare(y.id, x.id)
		})
		g.members = slices.CompactFunc(g.members, func(x, y topicMember) bool { return x.id == y.id })
		g.ArticleIDs = make([]string, len(g.members))
		for i, m := range g.members {
			g.ArticleIDs[i] = m.id
		}
		g.Sources = len(g.sources)
		newest[slug] = g.members[0].published
		out = append(out, g.TopicGroup)
	}
	slices.SortFunc(out, func(x, y store.TopicGroup) int {
		if x.Sources != y.Sources {
			return y.Sources - x.Sources
		}
		if len(x.ArticleIDs) != len(y.ArticleIDs) {
			return len(y.ArticleIDs) - len(x.ArticleIDs)
		}
		if c := newest[y.Slug].Compare(newest[x.Slug]); c != 0 {
			return c
		}
		return strings.Compare(x.Slug, y.Slug)
	})
	if f.Limit > 0 && len(out) > f.Limit {
		out = out[:f.Limit]
	}
	return out, nil
}

// topicAcc gathers one group's rows.
type topicAcc struct {
	store.TopicGroup
	members []topicMember
	sources map[string]bool
}

type topicMember struct {
	id        string
	published time.Time
}
