package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/broadsheet/broadsheet/feeds"
	"github.com/broadsheet/broadsheet/store"
)

const articleCols = `id, source, identity, link, story_key, title, summary, content, excerpt,
	author, categories, language, kind, published, updated, first_seen, hash, enclosures`

// articleArgs are a's values in articleCols order.
func articleArgs(a *feeds.Article, dst []any) ([]any, error) {
	cats, err := toJSON(a.Categories)
	if err != nil {
		return nil, err
	}
	encs, err := enclosuresJSON(a.Enclosures)
	if err != nil {
		return nil, err
	}
	return append(dst, a.ID, a.Source, a.Identity, a.Link, a.LinkKey, a.Title, a.Summary, a.Content, a.Excerpt,
		a.Author, cats, a.Language, string(a.Kind), ms0(a.Published), ms(a.Updated), ms0(a.FirstSeen), a.Hash, encs), nil
}

func scanArticle(sc interface{ Scan(...any) error }) (feeds.Article, error) {
	var (
		a                          feeds.Article
		cats, kind, encs           string
		published, updated, firstS sql.NullInt64
	)
	if err := sc.Scan(&a.ID, &a.Source, &a.Identity, &a.Link, &a.LinkKey, &a.Title, &a.Summary, &a.Content,
		&a.Excerpt, &a.Author, &cats, &a.Language, &kind, &published, &updated, &firstS, &a.Hash, &encs); err != nil {
		return a, err
	}
	var err error
	if a.Categories, err = fromJSON(cats); err != nil {
		return a, fmt.Errorf("article %s categories: %w", a.ID, err)
	}
	if a.Enclosures, err = enclosuresFromJSON(encs); err != nil {
		return a, fmt.Errorf("article %s enclosures: %w", a.ID, err)
	}
	a.Kind = feeds.Kind(kind)
	a.Published, a.Updated, a.FirstSeen = fromMS(published), fromMS(updated), fromMS(firstS)
	return a, nil
}

// Article returns one article by id, or an error wrapping feeds.ErrNotFound.
func (db *DB) Article(ctx context.Context, id string) (feeds.Article, error) {
	row := db.db.QueryRowContext(ctx, db.q("SELECT "+articleCols+" FROM articles WHERE id = ?"), id)
	a, err := scanArticle(row)
	if errors.Is(err, sql.ErrNoRows) {
		return feeds.Article{}, fmt.Errorf("article %q: %w", id, feeds.ErrNotFound)
	}
	if err != nil {
		return feeds.Article{}, fmt.Errorf("article %q: %w", id, err)
	}
	return a, nil
}

// Articles lists the articles matching f, newest published first and, among
// equals, by descending id, so that pages are stable. A zero filter lists
// everything; Limit <= 0 means no limit.
func (db *DB) Articles(ctx context.Context, f store.ArticleFilter) ([]feeds.Article, error) {
	if (f.IDs != nil && len(f.IDs) == 0) || (f.Sources != nil && len(f.Sources) == 0) || (f.Kinds != nil && len(f.Kinds) == 0) {
		// An empty, non-nil list selects nothing, rather than everything.
		return nil, nil
	}
	where, args := articleWhere(f)
	if f.IDs == nil {
		out, err := db.articles(ctx, where, args, f.Limit)
		if err != nil {
			return nil, fmt.Errorf("articles: %w", err)
		}
		return out, nil
	}
	// Long id lists go in chunks, each query limited and sorted; merging the
	// chunks and cutting at the limit gives the same result as one query.
	ids := f.IDs
	var out []feeds.Article
	for len(ids) > 0 {
		n := min(len(ids), db.chunk(len(args)+1))
		w := append([]string{"id IN (" + marks(n) + ")"}, where...)
		a := make([]any, 0, n+len(args))
		for _, id := range ids[:n] {
			a = append(a, id)
		}
		got, err := db.articles(ctx, w, append(a, args...), f.Limit)
		if err != nil {
			return nil, fmt.Errorf("articles: %w", err)
		}
		out = append(out, got...)
		ids = ids[n:]
	}
	if len(f.IDs) > db.chunk(len(args)+1) {
		sort.Slice(out, func(i, j int) bool { return newer(out[i], out[j]) })
		if f.Limit > 0 && len(out) > f.Limit {
			out = out[:f.Limit]
		}
	}
	return out, nil
}

// newer is the listing order: published descending, then id descending.
func newer(a, b feeds.Article) bool {
	if !a.Published.Equal(b.Published) {
		return a.Published.After(b.Published)
	}
	return a.ID > b.ID
}

// articleWhere turns f, except IDs, into conditions and their arguments.
func articleWhere(f store.ArticleFilter) ([]string, []any) {
	var where []string
	var args []any
	if f.Sources != nil {
		where = append(where, "source IN ("+marks(len(f.Sources))+")")
		for _, s := range f.Sources {
			args = append(args, s)
		}
	}
	if f.Kinds != nil {
		where = append(where, "kind IN ("+marks(len(f.Kinds))+")")
		for _, k := range f.Kinds {
			args = append(args, string(k))
		}
	}
	if !f.PublishedSince.IsZero() {
		where = append(where, "published >= ?")
		args = append(args, f.PublishedSince.UnixMilli())
	}
	if !f.SeenSince.IsZero() {
		where = append(where, "first_seen >= ?")
		args = append(args, f.SeenSince.UnixMilli())
	}
	if !f.SeenBefore.IsZero() {
		where = append(where, "first_seen < ?")
		args = append(args, f.SeenBefore.UnixMilli())
	}
	return where, args
}

func (db *DB) articles(ctx context.Context, where []string, args []any, limit int) ([]feeds.Article, error) {
	var b strings.Builder
	b.WriteString("SELECT " + articleCols + " FROM articles")
	for i, w := range where {
		if i == 0 {
			b.WriteString(" WHERE ")
		} else {
			b.WriteString(" AND ")
		}
		b.WriteString(w)
	}
	b.WriteString(" ORDER BY published DESC, id DESC")
	if limit > 0 {
		b.WriteString(" LIMIT ?")
		args = append(args, limit)
	}
	rows, err := db.db.QueryContext(ctx, db.q(b.String()), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []feeds.Article
	for rows.Next() {
		a, err := scanArticle(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}
