package sqldb_test

import (
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"

	"github.com/broadsheet/broadsheet/feeds"
	"github.com/broadsheet/broadsheet/internal/pgtest"
	"github.com/broadsheet/broadsheet/store"
	"github.com/broadsheet/broadsheet/store/postgres"
	"github.com/broadsheet/broadsheet/store/sqldb"
	"github.com/broadsheet/broadsheet/store/sqlite"
	"github.com/broadsheet/broadsheet/topics"
)

// copyEnd is one side of a copy: the store, and a plain handle on the same
// database to read tables with.
type copyEnd struct {
	db  *sqldb.DB
	raw *sql.DB
	st  store.Store
}

func sqliteEnd(t *testing.T, path string) copyEnd {
	t.Helper()
	db, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	return copyEnd{db: db.DB, raw: raw, st: db}
}

func postgresEnd(t *testing.T) copyEnd {
	t.Helper()
	dsn := pgtest.Schema(t, pgtest.DSN(t), "copy")
	db, err := postgres.Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	rcfg, _ := pgx.ParseConfig(dsn)
	raw := stdlib.OpenDB(*rcfg)
	t.Cleanup(func() { raw.Close() })
	return copyEnd{db: db.DB, raw: raw, st: db}
}

// seed fills every table through the store's API.
func seed(t *testing.T, e copyEnd) {
	t.Helper()
	ctx := t.Context()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	e.db.Now = func() time.Time { return now }
	var srcs []feeds.Source
	for i := range 4 {
		srcs = append(srcs, feeds.Source{Name: fmt.Sprintf("Source %d", i), URL: fmt.Sprintf("https://s%d.example/feed", i),
			Kind: feeds.KindEditorial, Tags: []string{"t", fmt.Sprint(i)}, Schedule: "@every 1h"})
	}
	if err := e.st.SyncSources(ctx, srcs); err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.ClaimDue(ctx, "old-host:1", now, 1, time.Hour); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i, s := range srcs {
		var arts []feeds.Article
		for j := range 7 {
			a := feeds.Article{Source: s.Name, Identity: fmt.Sprintf("urn:%d:%d", i, j), Title: fmt.Sprintf("Title ‘%d’ — %d", i, j),
				Link: fmt.Sprintf("https://s%d.example/%d", i, j), Content: strings.Repeat("<p>ünïcödé, 中文 & more</p>", j+1),
				Categories: []string{"a", "b"}, Kind: feeds.KindEditorial, Published: now.Add(-time.Duration(j) * time.Hour)}
			a.ID = feeds.ArticleID(a.Source, a.Identity)
			ids = append(ids, a.ID)
			arts = append(arts, a)
		}
		st := feeds.SourceState{Source: s.Name, URL: s.URL, Active: true, ETag: fmt.Sprintf(`"e%d"`, i), LastModified: "Sun, 01 Mar 2026 11:00:00 GMT",
			LastAttempt: now, LastSuccess: now, LastStatus: 200, NextDue: now.Add(time.Hour)}
		if _, err := e.st.SavePoll(ctx, feeds.Poll{State: st, Articles: arts}); err != nil {
			t.Fatal(err)
		}
	}
	ts, ok := e.st.(store.TopicStore)
	if !ok {
		t.Fatalf("%T is not a TopicStore", e.st)
	}
	batch := store.TopicBatch{At: now, Topics: []store.TopicRecord{
		{Topic: topics.Topic{Slug: "korea", Label: "Korea", Kind: topics.KindConfigured}},
		{Topic: topics.Topic{Slug: "story-1", Label: "A story", Kind: topics.KindStory}, StoryID: "s1"},
	}}
	for k, id := range ids[:10] {
		batch.Members = append(batch.Members, store.TopicMember{ArticleID: id, Slug: []string{"korea", "story-1"}[k%2]})
		batch.Assigned = append(batch.Assigned, store.ArticleVersion{ID: id})
	}
	if _, err := ts.SaveTopics(ctx, batch); err != nil {
		t.Fatal(err)
	}
	if ok, err := e.db.AcquireLock(ctx, "topics", "old-host:1", now, time.Minute); err != nil || !ok {
		t.Fatalf("AcquireLock: %v, %v", ok, err)
	}
	for i, r := range []string{"a@example.com", "b@example.com", "c@example.com"} {
		d := store.Delivery{DeliveryKey: store.DeliveryKey{Digest: "daily", Recipient: r, Period: now},
			SeenSince: now.Add(-24 * time.Hour), SeenBefore: now, Created: now, State: store.DeliveryPending,
			Articles: ids[i : i+3], Layout: `{"v":1}`, MessageID: fmt.Sprintf("<m%d@example.com>", i)}
		if _, err := e.db.PlanDelivery(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	del, err := e.db.ClaimDelivery(ctx, "daily", "old-host:1", now, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.db.FinishDelivery(ctx, del.DeliveryKey, "old-host:1", store.DeliveryOutcome{State: store.DeliverySent, At: now}); err != nil {
		t.Fatal(err)
	}
	if err := e.db.Unsubscribe(ctx, "daily", "c@example.com", now); err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.DigestSecret(ctx, []byte("0123456789abcdef")); err != nil {
		t.Fatal(err)
	}
	// An undated article that retention deleted, remembered by id.
	old := now.AddDate(0, -6, 0)
	e.db.Now = func() time.Time { return old }
	gone := feeds.Article{Source: srcs[0].Name, Identity: "urn:undated", Title: "Undated"}
	if _, err := e.st.SavePoll(ctx, feeds.Poll{State: feeds.SourceState{Source: srcs[0].Name, Active: true}, Articles: []feeds.Article{gone}}); err != nil {
		t.Fatal(err)
	}
	e.db.Now = func() time.Time { return now }
	if st, err := e.db.Retain(ctx, now.AddDate(0, -3, 0)); err != nil || st.Retired != 1 {
		t.Fatalf("Retain = %+v, %v; want the undated article remembered", st, err)
	}
}

// dump reads every row of table as text, sorted, so that two databases
// compare whatever their column types.
func dump(t *testing.T, db *sql.DB, table string) []string {
	t.Helper()
	rows, err := db.QueryContext(t.Context(), `SELECT * FROM "`+table+`"`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	var out []string
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for i, v := range vals {
			if b, ok := v.([]byte); ok {
				v = string(b)
			}
			fmt.Fprintf(&b, "%s=%v|", strings.ToLower(cols[i]), v)
		}
		out = append(out, b.String())
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

func TestCopy(t *testing.T) {
	for _, tc := range []struct {
		name string
		dst  func(t *testing.T) copyEnd
	}{
		{"SQLiteToSQLite", func(t *testing.T) copyEnd { return sqliteEnd(t, filepath.Join(t.TempDir(), "to.db")) }},
		{"SQLiteToPostgres", postgresEnd},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			src := sqliteEnd(t, filepath.Join(t.TempDir(), "from.db"))
			seed(t, src)
			dst := tc.dst(t)
			tables, seeded, err := sqldb.SchemaTables()
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{"sources", "articles", "topics", "article_topics", "counters", "locks",
				"digest_deliveries", "digest_unsubscriptions", "digest_secrets"} {
				if !slices.Contains(tables, want) {
					t.Errorf("SchemaTables() = %v, missing %s", tables, want)
				}
			}
			if slices.Index(tables, "articles") > slices.Index(tables, "article_topics") || !seeded["counters"] {
				t.Errorf("SchemaTables() = %v, seeded %v: want articles before article_topics, counters seeded", tables, seeded)
			}

			var progress int
			counts, err := sqldb.Copy(ctx, dst.db, src.db, sqldb.CopyOptions{Batch: 3, Progress: func(string, int64, int64) { progress++ }})
			if err != nil {
				t.Fatalf("Copy: %v", err)
			}
			if len(counts) != len(tables) || progress < len(tables) {
				t.Errorf("Copy reported %d tables and %d progress calls, want %d tables and a call per batch", len(counts), progress, len(tables))
			}
			for _, c := range counts {
				if c.Source != c.Target {
					t.Errorf("%s: %d rows in the source, %d in the target", c.Table, c.Source, c.Target)
				}
				if c.Source == 0 {
					t.Errorf("%s: empty in the source; the seed should fill every table", c.Table)
				}
				if !seeded[c.Table] && c.Copied != c.Source {
					t.Errorf("%s: copied %d rows, want %d", c.Table, c.Copied, c.Source)
				}
			}
			same := func(when string) {
				t.Helper()
				for _, table := range tables {
					got, want := dump(t, dst.raw, table), dump(t, src.raw, table)
					if !slices.Equal(got, want) {
						t.Errorf("%s: table %s differs:\n got %d rows %.300q\nwant %d rows %.300q", when, table, len(got), got, len(want), want)
					}
				}
			}
			same("after the copy")

			// The copy works through the store's API as the original does.
			want, err := src.st.Articles(ctx, store.ArticleFilter{})
			if err != nil {
				t.Fatal(err)
			}
			got, err := dst.st.Articles(ctx, store.ArticleFilter{})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) || len(got) == 0 || got[0].ID != want[0].ID || got[0].Content != want[0].Content || !got[0].FirstSeen.Equal(want[0].FirstSeen) {
				t.Errorf("Articles through the target: %d, first %+v; want %d, first %+v", len(got), first(got), len(want), first(want))
			}

			t.Run("RefusesNonEmpty", func(t *testing.T) {
				_, err := sqldb.Copy(ctx, dst.db, src.db, sqldb.CopyOptions{})
				if !errors.Is(err, sqldb.ErrTargetNotEmpty) {
					t.Errorf("second Copy without Force: %v, want ErrTargetNotEmpty", err)
				}
			})
			t.Run("RerunIsNoop", func(t *testing.T) {
				counts, err := sqldb.Copy(ctx, dst.db, src.db, sqldb.CopyOptions{Force: true})
				if err != nil {
					t.Fatal(err)
				}
				for _, c := range counts {
					if c.Copied != 0 || c.Source != c.Target {
						t.Errorf("%s: re-run copied %d (source %d, target %d), want 0 and equal counts", c.Table, c.Copied, c.Source, c.Target)
					}
				}
				same("after a re-run")
			})
			t.Run("ResumesInterrupted", func(t *testing.T) {
				// As if the first copy had stopped partway through articles
				// and everything after.
				if _, err := dst.raw.ExecContext(ctx, "DELETE FROM article_topics"); err != nil {
					t.Fatal(err)
				}
				res, err := dst.raw.ExecContext(ctx, "DELETE FROM articles WHERE source = 'Source 3'")
				if err != nil {
					t.Fatal(err)
				}
				gone, _ := res.RowsAffected()
				for _, table := range []string{"digest_deliveries", "digest_unsubscriptions", "digest_secrets"} {
					if _, err := dst.raw.ExecContext(ctx, "DELETE FROM "+table); err != nil {
						t.Fatal(err)
					}
				}
				counts, err := sqldb.Copy(ctx, dst.db, src.db, sqldb.CopyOptions{Force: true, Batch: 5})
				if err != nil {
					t.Fatal(err)
				}
				for _, c := range counts {
					if c.Table == "articles" && c.Copied != gone {
						t.Errorf("articles: resumed copy added %d, want the %d missing", c.Copied, gone)
					}
				}
				same("after resuming")
			})
		})
	}
}

func first(as []feeds.Article) any {
	if len(as) == 0 {
		return nil
	}
	return as[0].ID
}

func TestCopy_VersionMismatch(t *testing.T) {
	src := sqliteEnd(t, filepath.Join(t.TempDir(), "from.db"))
	dst := sqliteEnd(t, filepath.Join(t.TempDir(), "to.db"))
	if _, err := src.raw.ExecContext(t.Context(), "INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, '9999_future.sql', 0)"); err != nil {
		t.Fatal(err)
	}
	_, err := sqldb.Copy(t.Context(), dst.db, src.db, sqldb.CopyOptions{})
	if err == nil || !strings.Contains(err.Error(), "version 9999") {
		t.Errorf("Copy from a newer schema: %v, want an error naming the versions", err)
	}
}

// TestCopy_HostileItems copies, from a SQLite file written before SavePoll
// cleaned text, articles that PostgreSQL once refused (a NUL in a guid,
// invalid UTF-8, guids and links past a btree entry's size): every one is
// copied, and --force runs again without error or duplicates.
func TestCopy_HostileItems(t *testing.T) {
	ctx := t.Context()
	src := sqliteEnd(t, filepath.Join(t.TempDir(), "from.db"))
	if err := src.st.SyncSources(ctx, []feeds.Source{{Name: "Alpha", URL: "https://alpha.example/feed"}}); err != nil {
		t.Fatal(err)
	}
	long := "https://alpha.example/" + strings.Repeat("x", 5000)
	rows := []struct{ identity, link, title string }{
		{"tag:alpha\x00one", "https://alpha.example/1", "NUL\x00 in the guid"},
		{long + "/guid", "https://alpha.example/2", "long guid"},
		{"tag:alpha:three", long + "/link", "long link"},
		{"tag:alpha:four", "https://alpha.example/4", "bad UTF-8 \xff"},
	}
	for _, r := range rows {
		if _, err := src.raw.ExecContext(ctx, `INSERT INTO articles (id, source, identity, link, story_key, title, published, first_seen)
			VALUES (?, 'Alpha', ?, ?, ?, ?, 1, 1)`, feeds.ArticleID("Alpha", r.identity), r.identity, r.link, r.link, r.title); err != nil {
			t.Fatalf("insert %q: %v", r.title, err)
		}
	}
	dst := postgresEnd(t)
	for _, force := range []bool{false, true} {
		counts, err := sqldb.Copy(ctx, dst.db, src.db, sqldb.CopyOptions{Force: force})
		if err != nil {
			t.Fatalf("Copy (force %v): %v", force, err)
		}
		for _, c := range counts {
			if c.Table == "articles" && (c.Source != 4 || c.Target != 4) {
				t.Errorf("force %v: articles %d in the source, %d in the target, want 4 and 4", force, c.Source, c.Target)
			}
		}
	}
	got, err := dst.st.Article(ctx, feeds.ArticleID("Alpha", rows[0].identity))
	if err != nil {
		t.Fatal(err)
	}
	if got.Identity != "tag:alphaone" || got.Title != "NUL in the guid" {
		t.Errorf("NUL item copied as %q, %q; want the NUL removed", got.Identity, got.Title)
	}
	got, err = dst.st.Article(ctx, feeds.ArticleID("Alpha", rows[3].identity))
	if err != nil {
		t.Fatal(err)
	}
	if got.Title != "bad UTF-8 \uFFFD" {
		t.Errorf("bad UTF-8 title copied as %q, want U+FFFD in its place", got.Title)
	}
}
