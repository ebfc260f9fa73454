package sqldb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/broadsheet/broadsheet/feeds"
)

// insertRows is how many articles one INSERT or UPDATE carries: one
// statement per chunk rather than per row saves a round trip per article on
// PostgreSQL and the per-statement overhead on SQLite. A typical poll fits
// in one.
const insertRows = 100

// SavePoll records one poll in one transaction. The source's state row is
// upserted first: validators, last attempt, success, status and error,
// failures and next_due are taken from p.State, while url and active are set
// only for a source not seen before (SyncSources owns them). If p.Owner holds
// the source's lease, the lease is released; a poll with an empty Owner (an
// unleased poll, as by "poll now") leaves any lease alone, since it belongs
// to another poll still under way.
//
// Then each article is inserted if its (source, identity) is new, with
// FirstSeen set to Now() read inside the transaction, after the dialect's
// StampLock (see SeenHorizon); updated in place if it exists with a different
// Hash, keeping its ID, Published and FirstSeen; and otherwise counted as
// unchanged. Within one poll only the first of several articles with the
// same identity counts. An article with no Source takes p.State.Source, one
// with no ID or Hash gets feeds.ArticleID or feeds.ContentHash, one with no
// Kind is news, and one with no Published takes its FirstSeen. Articles are
// matched to stored ones by ID, so IDs must be stable (feeds.ArticleID is);
// an ID already naming another source's or identity's article is an error.
//
// On PostgreSQL the upsert locks the source's row, so polls of one source
// are stored one after another and never race on the same article.
//
// A poll that inserts or edits an article adds one to the source's
// articles_version (feeds.SourceState.ArticlesVersion) and to the
// "articles" counter, which is what DataVersion reads, in the same
// transaction. p.State.ArticlesVersion is ignored.
func (db *DB) SavePoll(ctx context.Context, p feeds.Poll) (feeds.SaveStats, error) {
	src := p.State.Source
	if src == "" {
		return feeds.SaveStats{}, errors.New("save poll: state has no source")
	}
	arts, rejected, err := pollArticles(src, p.Articles)
	if err != nil {
		return feeds.SaveStats{}, fmt.Errorf("save poll %s: %w", src, err)
	}
	var stats feeds.SaveStats
	if db.group != nil {
		stats, err = db.savePollGrouped(ctx, p, arts, rejected)
	} else {
		err = db.inTx(ctx, func(tx *sql.Tx) error {
			var err error
			stats, err = db.savePollTx(ctx, tx, p, arts, rejected)
			return err
		})
	}
	if err != nil {
		return feeds.SaveStats{}, fmt.Errorf("save poll %s: %w", src, err)
	}
	return stats, nil
}

// savePollTx is SavePoll within tx; rejected are the articles pollArticles
// refused already.
func (db *DB) savePollTx(ctx context.Context, tx *sql.Tx, p feeds.Poll, arts []*feeds.Article, rejected []feeds.Rejected) (feeds.SaveStats, error) {
	src := p.State.Source
	stats := feeds.SaveStats{Rejected: slices.Clone(rejected)}
	err := func() error {
		if err := db.saveState(ctx, tx, p); err != nil {
			return fmt.Errorf("state: %w", err)
		}
		if len(arts) == 0 {
			return nil
		}
		old, err := db.existing(ctx, tx, arts)
		if err != nil {
			return fmt.Errorf("look up articles: %w", err)
		}
		arts, skipped, err := db.skipRetired(ctx, tx, arts, old)
		if err != nil {
			return fmt.Errorf("look up retired articles: %w", err)
		}
		stats.Unchanged += skipped
		var fresh, edited, changed []*feeds.Article
		for _, a := range arts {
			e, ok := old[a.ID]
			switch {
			case ok && (e.source != a.Source || e.identity != a.Identity):
				stats.Rejected = append(stats.Rejected, reject(a, fmt.Errorf("article id %s is taken by %.80q of %s", a.ID, e.identity, e.source)))
			case !ok:
				fresh = append(fresh, a)
				changed = append(changed, a)
			case e.hash != a.Hash:
				a.Published, a.FirstSeen = e.published, e.firstSeen
				edited = append(edited, a)
				changed = append(changed, a)
			default:
				stats.Unchanged++
			}
		}
		if len(fresh) > 0 {
			now, err := db.stamp(ctx, tx)
			if err != nil {
				return fmt.Errorf("stamp first seen: %w", err)
			}
			for _, a := range fresh {
				a.FirstSeen = now
				if a.Published.IsZero() {
					a.Published = now
				}
			}
		}
		bad, err := db.eachAlone(ctx, tx, fresh, db.insertArticles)
		if err != nil {
			return fmt.Errorf("insert articles: %w", err)
		}
		stats.New = len(fresh) - len(bad)
		badEdits, err := db.eachAlone(ctx, tx, edited, db.updateArticles)
		if err != nil {
			return fmt.Errorf("update articles: %w", err)
		}
		stats.Updated = len(edited) - len(badEdits)
		if len(bad)+len(badEdits) > 0 {
			failed := make(map[*feeds.Article]bool, len(bad)+len(badEdits))
			for _, r := range append(bad, badEdits...) {
				failed[r.art] = true
				stats.Rejected = append(stats.Rejected, reject(r.art, r.err))
			}
			changed = slices.DeleteFunc(changed, func(a *feeds.Article) bool { return failed[a] })
		}
		if len(changed) > 0 {
			// The source's row is locked by saveState already.
			if _, err := tx.ExecContext(ctx, db.q(bumpSource), src); err != nil {
				return fmt.Errorf("count the source's change: %w", err)
			}
			// Last, so that on PostgreSQL the counter's row lock, which
			// serializes the polls that store something, is held only
			// while committing.
			if _, err := tx.ExecContext(ctx, bumpArticles); err != nil {
				return fmt.Errorf("count the change: %w", err)
			}
		}
		return nil
	}()
	return stats, err
}

// stamp reads the clock for the FirstSeen of a poll's new articles, after
// taking the dialect's StampLock in tx, so that SeenHorizon can wait for
// every stamp it might otherwise miss.
func (db *DB) stamp(ctx context.Context, tx *sql.Tx) (time.Time, error) {
	if db.dialect.StampLock != "" {
		if _, err := tx.ExecContext(ctx, db.dialect.StampLock); err != nil {
			return time.Time{}, err
		}
	}
	return roundMS(db.now()), nil
}

// pollArticles copies the poll's articles, dropping repeated identities,
// cleaning their text (cleanText), filling defaults and rounding times to
// what the database keeps. FirstSeen is cleared: SavePoll sets it on the
// articles it stores. An article with no identity is rejected alone; one
// of another source is the caller's mistake and fails the poll.
func pollArticles(src string, in []feeds.Article) ([]*feeds.Article, []feeds.Rejected, error) {
	out := make([]*feeds.Article, 0, len(in))
	var rejected []feeds.Rejected
	seen := make(map[string]bool, len(in))
	for i := range in {
		a := in[i]
		if a.Source == "" {
			a.Source = src
		}
		if a.Source != src {
			return nil, nil, fmt.Errorf("article %q is from source %q", a.Identity, a.Source)
		}
		cleanArticle(&a)
		if a.Identity == "" {
			rejected = append(rejected, feeds.Rejected{Err: fmt.Errorf("article %d (%.80q) has no identity", i, a.Title)})
			continue
		}
		if seen[a.Identity] {
			continue
		}
		seen[a.Identity] = true
		if a.ID == "" {
			a.ID = feeds.ArticleID(a.Source, a.Identity)
		}
		if a.Hash == "" {
			a.Hash = feeds.ContentHash(a)
		}
		a.Kind = kindOr(a.Kind)
		a.Published, a.Updated, a.FirstSeen = roundMS(a.Published), roundMS(a.Updated), time.Time{}
		out = append(out, &a)
	}
	return out, rejected, nil
}

// failedArticle is an article that a statement of its own could not store.
type failedArticle struct {
	art *feeds.Article
	err error
}

// reject names a for SaveStats.Rejected, its identity cut to what a log
// line can carry.
func reject(a *feeds.Article, err error) feeds.Rejected {
	id := a.Identity
	if len(id) > 200 {
		id = strings.ToValidUTF8(id[:200], "") + "…"
	}
	return feeds.Rejected{Identity: id, Err: err}
}

// eachAlone runs write over arts in one go, inside a savepoint; if that
// fails it rolls back to the savepoint and writes each article alone, each
// in a savepoint of its own, so that one article the database refuses
// (PostgreSQL's first error aborts the whole transaction otherwise) costs
// only itself. It returns the articles that failed alone; an error is
// returned only when the transaction itself is lost (ctx done, connection
// gone) and SavePoll must fail.
func (db *DB) eachAlone(ctx context.Context, tx *sql.Tx, arts []*feeds.Article,
	write func(context.Context, *sql.Tx, []*feeds.Article) error) ([]failedArticle, error) {
	if len(arts) == 0 {
		return nil, nil
	}
	if _, err := tx.ExecContext(ctx, "SAVEPOINT save_articles"); err != nil {
		return nil, err
	}
	err := write(ctx, tx, arts)
	if err == nil {
		_, err = tx.ExecContext(ctx, "RELEASE SAVEPOINT save_articles")
		return nil, err
	}
	if lost(ctx, err) {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT save_articles"); err != nil {
		return nil, err
	}
	var failed []failedArticle
	for _, a := range arts {
		if _, err := tx.ExecContext(ctx, "SAVEPOINT save_article"); err != nil {
			return nil, err
		}
		werr := write(ctx, tx, []*feeds.Article{a})
		if werr == nil {
			if _, err := tx.ExecContext(ctx, "RELEASE SAVEPOINT save_article"); err != nil {
				return nil, err
			}
			continue
		}
		if lost(ctx, werr) {
			return nil, werr
		}
		if _, err := tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT save_article"); err != nil {
			return nil, err
		}
		failed = append(failed, failedArticle{art: a, err: werr})
	}
	if _, err := tx.ExecContext(ctx, "RELEASE SAVEPOINT save_articles"); err != nil {
		return nil, err
	}
	return failed, nil
}

// lost reports whether err ends the transaction rather than one statement.
func lost(ctx context.Context, err error) bool {
	return ctx.Err() != nil || errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrTxDone) ||
		errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

func (db *DB) saveState(ctx context.Context, tx *sql.Tx, p feeds.Poll) error {
	st := p.State
	st.URL, st.ETag, st.LastModified, st.LastError = cleanText(st.URL), cleanText(st.ETag), cleanText(st.LastModified), cleanText(st.LastError)
	_, err := tx.ExecContext(ctx, db.q(`INSERT INTO sources
			(name, url, active, etag, last_modified, last_attempt, last_success, last_status, last_error, failures, next_due)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET
			url = CASE WHEN sources.url = '' THEN excluded.url ELSE sources.url END,
			etag = excluded.etag,
			last_modified = excluded.last_modified,
			last_attempt = excluded.last_attempt,
			last_success = excluded.last_success,
			last_status = excluded.last_status,
			last_error = excluded.last_error,
			failures = excluded.failures,
			next_due = excluded.next_due,
			lease_owner = CASE WHEN sources.lease_owner = ? THEN NULL ELSE sources.lease_owner END,
			lease_until = CASE WHEN sources.lease_owner = ? THEN NULL ELSE sources.lease_until END`),
		st.Source, st.URL, boolInt(st.Active), st.ETag, st.LastModified, ms(st.LastAttempt), ms(st.LastSuccess),
		st.LastStatus, st.LastError, st.Failures, ms0(st.NextDue),
		// No lease is ever held by "", so an unleased poll releases nothing.
		p.Owner, p.Owner)
	return err
}

// stored is what SavePoll needs to know of an article already stored.
type stored struct {
	source, identity, hash string
	published, firstSeen   time.Time
}

// existing returns the stored articles among arts, by ID, in as few queries
// as the parameter limit allows. It looks up the primary key rather than
// (source, identity): a lookup by the unique id is an index probe per value
// whatever the planner's statistics say, while PostgreSQL with stale
// statistics was seen to scan all of a source's articles for the other.
func (db *DB) existing(ctx context.Context, tx *sql.Tx, arts []*feeds.Article) (map[string]stored, error) {
	out := make(map[string]stored, len(arts))
	step := db.chunk(0)
	args := make([]any, 0, min(len(arts), step))
	for start := 0; start < len(arts); start += step {
		part := arts[start:min(start+step, len(arts))]
		args = args[:0]
		for _, a := range part {
			args = append(args, a.ID)
		}
		rows, err := tx.QueryContext(ctx, db.q("SELECT id, source, identity, hash, published, first_seen FROM articles WHERE id IN ("+marks(len(part))+")"), args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var (
				id      string
				s       stored
				pub, fs sql.NullInt64
			)
			if err := rows.Scan(&id, &s.source, &s.identity, &s.hash, &pub, &fs); err != nil {
				rows.Close()
				return nil, err
			}
			s.published, s.firstSeen = fromMS(pub), fromMS(fs)
			out[id] = s
		}
		if err := rows.Close(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (db *DB) insertArticles(ctx context.Context, tx *sql.Tx, arts []*feeds.Article) error {
	const cols = 18
	step := min(insertRows, db.dialect.MaxParams/cols)
	args := make([]any, 0, min(len(arts), step)*cols)
	var full string // the statement for a whole chunk, built once
	for start := 0; start < len(arts); start += step {
		part := arts[start:min(start+step, len(arts))]
		args = args[:0]
		for _, a := range part {
			var err error
			if args, err = articleArgs(a, args); err != nil {
				return err
			}
		}
		query := full
		if len(part) < step || query == "" {
			query = db.q(insertSQL(len(part)))
			if len(part) == step {
				full = query
			}
		}
		if _, err := tx.ExecContext(ctx, query, args...); err != nil {
			return err
		}
	}
	return nil
}

func insertSQL(rows int) string {
	var b strings.Builder
	b.WriteString("INSERT INTO articles (" + articleCols + ") VALUES ")
	row := "(" + marks(18) + ")"
	for i := range rows {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(row)
	}
	return b.String()
}

// updateCols are the columns an edit changes, after id, in the order of
// each VALUES row; updated is cast because PostgreSQL cannot infer the type
// of a parameter in a VALUES list.
var updateCols = []string{"title", "link", "story_key", "summary", "content", "excerpt", "author",
	"categories", "language", "kind", "updated", "hash", "enclosures"}

// updateArticles rewrites edited articles in place, in chunks of one
// statement: UPDATE … FROM (VALUES …), whose columns both databases name
// column1, column2 ….
func (db *DB) updateArticles(ctx context.Context, tx *sql.Tx, arts []*feeds.Article) error {
	cols := len(updateCols) + 1
	step := min(insertRows, db.dialect.MaxParams/cols)
	args := make([]any, 0, min(len(arts), step)*cols)
	for start := 0; start < len(arts); start += step {
		part := arts[start:min(start+step, len(arts))]
		args = args[:0]
		for _, a := range part {
			cats, err := toJSON(a.Categories)
			if err != nil {
				return err
			}
			encs, err := enclosuresJSON(a.Enclosures)
			if err != nil {
				return err
			}
			args = append(args, a.ID, a.Title, a.Link, a.LinkKey, a.Summary, a.Content, a.Excerpt, a.Author,
				cats, a.Language, string(a.Kind), ms(a.Updated), a.Hash, encs)
		}
		if _, err := tx.ExecContext(ctx, db.q(updateSQL(len(part))), args...); err != nil {
			return err
		}
	}
	return nil
}

func updateSQL(rows int) string {
	var b strings.Builder
	b.WriteString("UPDATE articles SET ")
	for i, c := range updateCols {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s = v.column%d", c, i+2)
	}
	// An edit may change which configured topics match: assign again.
	b.WriteString(", topics_done = 0")
	b.WriteString(" FROM (VALUES ")
	row := "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, CAST(? AS BIGINT), ?, ?)"
	for i := range rows {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(row)
	}
	b.WriteString(") AS v WHERE articles.id = v.column1")
	return b.String()
}
