// Package retention simulates a year of polling with retention on, and
// prints the database's size at the end of each simulated month on SQLite
// and PostgreSQL, to show it levelling off once retention starts deleting:
//
//	go test -run '^$' -bench . -benchtime 1x ./bench/retention/
//
// By default it is small (10 feeds × 10 items a day, about a minute on
// both backends); the full
// year, 200 feeds × 30 items a day, is
//
//	BROADSHEET_RETENTION_FEEDS=200 BROADSHEET_RETENTION_ITEMS=30 go test ...
//
// PostgreSQL runs when BROADSHEET_TEST_POSTGRES_DSN is set. Each simulated
// day stores every feed's items (one poll each), groups the same item of
// every feed into one story, sends one digest of the day, and runs
// Retain(now - 90d), as the daemon does nightly. The ratio printed is the
// size after twelve months over the size after four, measured in the same
// run: near 1 means the size levelled off (without retention it would be
// about 3).
package retention

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/stdlib"

	"github.com/broadsheet/broadsheet/feeds"
	"github.com/broadsheet/broadsheet/internal/pgtest"
	"github.com/broadsheet/broadsheet/store"
	"github.com/broadsheet/broadsheet/store/postgres"
	"github.com/broadsheet/broadsheet/store/sqlite"
	"github.com/broadsheet/broadsheet/topics"
)

const keep = 90 * 24 * time.Hour

func envInt(b *testing.B, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		b.Fatalf("%s=%q: want a positive number", name, v)
	}
	return n
}

type clocked interface{ SetNow(func() time.Time) }

func BenchmarkRetention(b *testing.B) {
	feedsN := envInt(b, "BROADSHEET_RETENTION_FEEDS", 10)
	items := envInt(b, "BROADSHEET_RETENTION_ITEMS", 10)
	days := envInt(b, "BROADSHEET_RETENTION_DAYS", 360)
	b.Run("sqlite", func(b *testing.B) {
		for range b.N {
			path := filepath.Join(b.TempDir(), "year.db")
			db, err := sqlite.Open(b.Context(), path)
			if err != nil {
				b.Fatal(err)
			}
			raw, err := sql.Open("sqlite", path)
			if err != nil {
				b.Fatal(err)
			}
			size := func(ctx context.Context) (int64, error) {
				// The WAL holds recent pages until a checkpoint; count the
				// file as it stands after one.
				if _, err := raw.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
					return 0, err
				}
				fi, err := os.Stat(path)
				if err != nil {
					return 0, err
				}
				return fi.Size(), nil
			}
			simulate(b, db, size, feedsN, items, days)
			raw.Close()
			db.Close()
		}
	})
	b.Run("postgres", func(b *testing.B) {
		dsn := pgtest.Schema(b, pgtest.DSN(b), "retention")
		for range b.N {
			db, err := postgres.Open(b.Context(), dsn)
			if err != nil {
				b.Fatal(err)
			}
			raw, err := sql.Open("pgx", dsn)
			if err != nil {
				b.Fatal(err)
			}
			size := func(ctx context.Context) (int64, error) {
				// VACUUM (not FULL) makes deleted rows' space reusable, as
				// autovacuum does in a day; the size is of the tables
				// with their indexes and TOAST.
				for _, t := range []string{"articles", "article_topics", "topics", "digest_deliveries"} {
					if _, err := raw.ExecContext(ctx, "VACUUM "+t); err != nil {
						return 0, err
					}
				}
				var n int64
				err := raw.QueryRowContext(ctx, `SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0)
					FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace
					WHERE s.nspname = current_schema() AND c.relkind = 'r'`).Scan(&n)
				return n, err
			}
			simulate(b, db, size, feedsN, items, days)
			raw.Close()
			db.Close()
		}
	})
}

var _ = stdlib.GetDefaultDriver // registers "pgx"

// simulate runs days of polling with retention and prints the size at the
// end of each 30-day month.
func simulate(b *testing.B, st store.Store, size func(context.Context) (int64, error), feedsN, items, days int) {
	ctx := b.Context()
	start := time.Date(2025, 1, 1, 6, 0, 0, 0, time.UTC)
	now := start
	st.(clocked).SetNow(func() time.Time { return now })
	var srcs []feeds.Source
	for f := range feedsN {
		srcs = append(srcs, feeds.Source{Name: fmt.Sprintf("Feed %03d", f), URL: fmt.Sprintf("https://f%d.example/feed", f)})
	}
	if err := st.SyncSources(ctx, srcs); err != nil {
		b.Fatal(err)
	}
	body := strings.Repeat("<p>Words of an article, as feeds send them, a few paragraphs long. </p>", 20)
	sizes := map[int]int64{}
	var deleted int
	b.ResetTimer()
	for d := range days {
		now = start.Add(time.Duration(d) * 24 * time.Hour)
		var ids []string
		batch := store.TopicBatch{At: now}
		for i := range items {
			sid := fmt.Sprintf("s%d-%d", d, i)
			batch.Topics = append(batch.Topics, store.TopicRecord{Topic: topics.Topic{Slug: sid, Label: sid, Kind: topics.KindStory}, StoryID: sid})
		}
		for _, s := range srcs {
			arts := make([]feeds.Article, items)
			for i := range arts {
				arts[i] = feeds.Article{
					Identity: fmt.Sprintf("https://%s.example/%d/%d", feeds.Slugify(s.Name), d, i),
					Title:    fmt.Sprintf("Story %d of day %d", i, d), Content: body, Excerpt: body[:200],
					Published: now.Add(-time.Duration(i) * time.Minute),
				}
			}
			stats, err := st.SavePoll(ctx, feeds.Poll{State: feeds.SourceState{Source: s.Name, Active: true, LastAttempt: now, LastSuccess: now, LastStatus: 200}, Articles: arts})
			if err != nil || stats.New != items {
				b.Fatalf("day %d, %s: %d new, %v; want %d", d, s.Name, stats.New, err, items)
			}
			for i, a := range arts {
				id := feeds.ArticleID(s.Name, a.Identity)
				ids = append(ids, id)
				batch.Members = append(batch.Members, store.TopicMember{ArticleID: id, Slug: fmt.Sprintf("s%d-%d", d, i)})
			}
		}
		if _, err := st.SaveTopics(ctx, batch); err != nil {
			b.Fatal(err)
		}
		// One digest a day, sent.
		period := now.Add(time.Hour)
		if ok, err := st.PlanDelivery(ctx, store.Delivery{
			DeliveryKey: store.DeliveryKey{Digest: "daily", Recipient: "reader@example.com", Period: period},
			SeenSince:   period.Add(-24 * time.Hour), SeenBefore: period, Created: period, State: store.DeliveryPending,
			Articles: ids[:min(len(ids), 50)], MessageID: fmt.Sprintf("<d%d@example.com>", d),
		}); err != nil || !ok {
			b.Fatalf("plan day %d: %v, %v", d, ok, err)
		}
		dl, err := st.ClaimDelivery(ctx, "daily", "bench", period, time.Minute)
		if err != nil {
			b.Fatal(err)
		}
		if err := st.FinishDelivery(ctx, dl.DeliveryKey, "bench", store.DeliveryOutcome{State: store.DeliverySent, At: period}); err != nil {
			b.Fatal(err)
		}
		rs, err := st.Retain(ctx, now.Add(-keep))
		if err != nil {
			b.Fatal(err)
		}
		deleted += rs.Articles
		if (d+1)%30 == 0 {
			b.StopTimer()
			n, err := size(ctx)
			if err != nil {
				b.Fatal(err)
			}
			month := (d + 1) / 30
			sizes[month] = n
			fmt.Printf("%s month %2d: %8.1f MiB, %7d articles stored, %7d deleted\n", b.Name(), month, float64(n)/(1<<20), (d+1)*feedsN*items, deleted)
			b.StartTimer()
		}
	}
	if s4, s12 := sizes[4], sizes[12]; s4 > 0 && s12 > 0 {
		ratio := float64(s12) / float64(s4)
		fmt.Printf("%s: %d feeds × %d items a day, retention 90d: size month 12 / month 4 = %.2f (without retention ≈ 3)\n", b.Name(), feedsN, items, ratio)
		b.ReportMetric(ratio, "size12/size4")
		b.ReportMetric(float64(s12)/(1<<20), "MiB_month12")
	}
}
