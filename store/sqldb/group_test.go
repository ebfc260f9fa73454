package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/broadsheet/broadsheet/feeds"
)

func groupDB(t *testing.T) *DB {
	t.Helper()
	sdb, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "g.db")+"?_txlock=immediate&_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)")
	if err != nil {
		t.Fatal(err)
	}
	db := New(sdb, SQLite)
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	return db
}

func groupPoll(src string, ids ...string) feeds.Poll {
	p := feeds.Poll{State: feeds.SourceState{Source: src, URL: "http://example.test/" + src, Active: true, LastStatus: 200, LastAttempt: time.Unix(1000, 0)}}
	for _, id := range ids {
		p.Articles = append(p.Articles, feeds.Article{Identity: id, Title: "t " + id, Link: "http://example.test/" + id})
	}
	return p
}

func groupReq(t *testing.T, ctx context.Context, p feeds.Poll) *saveReq {
	t.Helper()
	arts, rej, err := pollArticles(p.State.Source, p.Articles)
	if err != nil {
		t.Fatal(err)
	}
	return &saveReq{ctx: ctx, p: p, arts: arts, rej: rej}
}

// One poll of a group failing, or cancelled before its turn, must leave
// the others stored and be stored in no part itself.
func TestDB_commitGroup(t *testing.T) {
	db := groupDB(t)
	ctx := t.Context()
	if _, err := db.SavePoll(ctx, groupPoll("A", "a1")); err != nil {
		t.Fatal(err)
	}
	// A poll that fails whole: its state cannot be stored.
	if _, err := db.db.ExecContext(ctx, `CREATE TRIGGER refuse_b BEFORE INSERT ON sources WHEN NEW.name = 'B'
		BEGIN SELECT RAISE(ABORT, 'refused by the test'); END`); err != nil {
		t.Fatal(err)
	}
	taken := groupPoll("B", "b1", "b2")
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	batch := []*saveReq{
		groupReq(t, ctx, groupPoll("C", "c1", "c2")),
		groupReq(t, ctx, taken),
		groupReq(t, cancelled, groupPoll("D", "d1")),
		groupReq(t, ctx, groupPoll("A", "a1", "a2")),
	}
	db.commitGroup(batch)

	if r := batch[0]; r.err != nil || r.stats.New != 2 {
		t.Errorf("C: stats %+v, err %v; want 2 new", r.stats, r.err)
	}
	if r := batch[1]; r.err == nil {
		t.Errorf("B: no error, want the trigger's")
	}
	if r := batch[2]; !errors.Is(r.err, context.Canceled) {
		t.Errorf("D: err %v, want context.Canceled", r.err)
	}
	if r := batch[3]; r.err != nil || r.stats.New != 1 || r.stats.Unchanged != 1 {
		t.Errorf("A: stats %+v, err %v; want 1 new, 1 unchanged", r.stats, r.err)
	}
	for _, c := range []struct {
		src, identity string
		want          bool
	}{{"C", "c1", true}, {"C", "c2", true}, {"A", "a2", true}, {"B", "b1", false}, {"D", "d1", false}} {
		_, err := db.Article(ctx, feeds.ArticleID(c.src, c.identity))
		if got := err == nil; got != c.want {
			t.Errorf("article %s/%s stored = %v (%v), want %v", c.src, c.identity, got, err, c.want)
		}
	}
	for _, src := range []string{"B", "D"} {
		if _, err := db.SourceState(ctx, src); !errors.Is(err, feeds.ErrNotFound) {
			t.Errorf("state of %s: %v, want ErrNotFound (its poll rolled back)", src, err)
		}
	}
}

// Polls saved at once through the writer are each stored once, and each
// call learns its own outcome.
func TestDB_GroupCommits(t *testing.T) {
	db := groupDB(t)
	db.GroupCommits(4)
	ctx := t.Context()
	const n = 24
	var wg sync.WaitGroup
	errs := make([]error, n)
	stats := make([]feeds.SaveStats, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			src := string(rune('a'+i%26)) + "src"
			stats[i], errs[i] = db.SavePoll(ctx, groupPoll(src, src+"1", src+"2", src+"3"))
		}()
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil || stats[i].New != 3 {
			t.Errorf("poll %d: stats %+v, err %v; want 3 new", i, stats[i], errs[i])
		}
	}
	var count int
	if err := db.db.QueryRowContext(ctx, "SELECT count(*) FROM articles").Scan(&count); err != nil {
		t.Fatal(err)
	}
	if count != 3*n {
		t.Errorf("%d articles stored, want %d", count, 3*n)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SavePoll(ctx, groupPoll("late", "x")); !errors.Is(err, ErrClosed) {
		t.Errorf("SavePoll after Close: %v, want ErrClosed", err)
	}
}
