package publish

import (
	"context"
	"database/sql"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/broadsheet/broadsheet/feeds"
	"github.com/broadsheet/broadsheet/store/sqlite"
)

// openSQLite opens (creating) the SQLite store at path, closed with t.
func openSQLite(t *testing.T, path string) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// seedSQLite stores the fixtures through the real store, one poll per
// article at the article's FirstSeen, so that the store holds exactly what
// the in-memory fixtures hold.
func seedSQLite(t *testing.T, db *sqlite.DB, arts []feeds.Article) {
	t.Helper()
	ctx := context.Background()
	var mu sync.Mutex
	var clock time.Time
	db.SetNow(func() time.Time { mu.Lock(); defer mu.Unlock(); return clock })
	if err := db.SyncSources(ctx, fixtureSources); err != nil {
		t.Fatal(err)
	}
	for _, a := range arts {
		mu.Lock()
		clock = a.FirstSeen
		mu.Unlock()
		a.FirstSeen = time.Time{}
		st := feeds.SourceState{Source: a.Source, Active: true, LastAttempt: clock, LastSuccess: clock, LastStatus: 200}
		if _, err := db.SavePoll(ctx, feeds.Poll{State: st, Articles: []feeds.Article{a}}); err != nil {
			t.Fatalf("SavePoll: %v", err)
		}
	}
}

// TestE2E_SQLite renders from the real SQLite store: the outputs must be
// the golden files (the same data as the in-memory fixtures), two replicas
// on one database must serve the same bytes and validators, and a replica
// must notice another's write through DataVersion.
func TestE2E_SQLite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "broadsheet.db")
	db1 := openSQLite(t, path)
	seedSQLite(t, db1, fixtureArticles())
	db2 := openSQLite(t, path) // the second replica's own pool

	newHandler := func(db *sqlite.DB, now time.Time) *Handler {
		opts := fixtureOptions()
		opts.Groups = fixtureGroups(db)
		opts.Now = func() time.Time { return now }
		h := New(db, opts)
		if err := h.Refresh(context.Background()); err != nil {
			t.Fatalf("Refresh: %v", err)
		}
		return h
	}
	h1 := newHandler(db1, now)
	h2 := newHandler(db2, now.Add(3*time.Minute))

	t.Run("Golden", func(t *testing.T) {
		for _, p := range []string{"/feed.atom", "/feed.rss", "/feed.json", "/topics/summit-talks.atom", "/sources/the-bugle.atom", "/opml", "/"} {
			name := strings.TrimPrefix(p, "/")
			if name == "" {
				name = "index.html"
			}
			name = strings.ReplaceAll(name, "/", "_") + ".golden"
			want, err := os.ReadFile(filepath.Join("testdata", name))
			if err != nil {
				t.Fatal(err)
			}
			if got := body(t, get(t, h1, "GET", p, nil)); string(got) != string(want) {
				t.Errorf("%s from SQLite differs from %s:\n%s", p, name, diff(string(want), string(got)))
			}
		}
	})
	t.Run("Replicas", func(t *testing.T) {
		for _, p := range allPaths(h1) {
			e1 := get(t, h1, "GET", p, nil).Header.Get("ETag")
			e2 := get(t, h2, "GET", p, nil).Header.Get("ETag")
			if e1 != e2 {
				t.Errorf("%s: ETag %s on one replica, %s on the other", p, e1, e2)
			}
		}
	})
	t.Run("OtherReplicaWrites", func(t *testing.T) {
		ctx := context.Background()
		if h1.stale(ctx) {
			t.Fatal("stale right after Refresh")
		}
		late := article("The Bugle", "late", "Late news", "https://bugle.example/late", at(11, 58))
		db2.SetNow(func() time.Time { return at(11, 59) })
		if _, err := db2.SavePoll(ctx, feeds.Poll{State: feeds.SourceState{Source: "The Bugle", Active: true, LastSuccess: at(11, 59)}, Articles: []feeds.Article{late}}); err != nil {
			t.Fatal(err)
		}
		if !h1.stale(ctx) {
			t.Fatal("replica 1 did not notice replica 2's write")
		}
		for _, h := range []*Handler{h1, h2} {
			if err := h.Refresh(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if !hasEntry(t, h1, late.ID) {
			t.Error("new article missing after Refresh")
		}
		r1, r2 := get(t, h1, "GET", "/feed.atom", nil), get(t, h2, "GET", "/feed.atom", nil)
		if r1.Header.Get("ETag") != r2.Header.Get("ETag") || r1.Header.Get("Last-Modified") != r2.Header.Get("Last-Modified") {
			t.Errorf("validators differ after the write: %s %s vs %s %s", r1.Header.Get("ETag"), r1.Header.Get("Last-Modified"), r2.Header.Get("ETag"), r2.Header.Get("Last-Modified"))
		}
	})
}

// statusLog records the status of each response, for the newsboat test.
type statusLog struct {
	h http.Handler

	mu       sync.Mutex
	statuses []int
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (l *statusLog) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	sw := &statusWriter{ResponseWriter: w, status: 200}
	l.h.ServeHTTP(sw, r)
	l.mu.Lock()
	l.statuses = append(l.statuses, sw.status)
	l.mu.Unlock()
}

func (l *statusLog) take() []int {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.statuses
	l.statuses = nil
	return s
}

// TestE2E_Newsboat is the "done when": newsboat, a real feed
// reader, reloads the served /feed.atom and lists the items with titles,
// outlets and dates; its second reload is answered 304.
func TestE2E_Newsboat(t *testing.T) {
	nb, err := exec.LookPath("newsboat")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("newsboat is missing (scripts/test-deps installs it)")
		}
		t.Skip("newsboat is missing; run scripts/test-deps")
	}
	dir := t.TempDir()
	db := openSQLite(t, filepath.Join(dir, "broadsheet.db"))
	seedSQLite(t, db, fixtureArticles())
	opts := fixtureOptions()
	opts.Groups = fixtureGroups(db)
	h := New(db, opts)
	if err := h.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	log := &statusLog{h: h}
	srv := httptest.NewServer(log)
	defer srv.Close()

	urls := filepath.Join(dir, "urls")
	if err := os.WriteFile(urls, []byte(srv.URL+"/feed.atom\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cache := filepath.Join(dir, "cache.db")
	reload := func() {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, nb, "-x", "reload", "-u", urls, "-c", cache, "-C", os.DevNull)
		cmd.Env = append(os.Environ(), "HOME="+dir, "XDG_CONFIG_HOME="+dir, "XDG_DATA_HOME="+dir, "XDG_CACHE_HOME="+dir)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("newsboat reload: %v\n%s", err, out)
		}
	}

	reload()
	if got := log.take(); !slices.Equal(got, []int{200}) {
		t.Fatalf("first reload: statuses %v, want [200]", got)
	}
	cdb, err := sql.Open("sqlite", cache) // newsboat's cache is SQLite
	if err != nil {
		t.Fatal(err)
	}
	defer cdb.Close()
	rows, err := cdb.Query("SELECT title, author, pubDate FROM rss_item ORDER BY pubDate DESC, title")
	if err != nil {
		t.Fatal(err)
	}
	type item struct {
		title, author string
		date          time.Time
	}
	var got []item
	for rows.Next() {
		var it item
		var pub int64
		if err := rows.Scan(&it.title, &it.author, &pub); err != nil {
			t.Fatal(err)
		}
		it.date = time.Unix(pub, 0).UTC()
		got = append(got, it)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	var want []item
	for _, a := range fixtureFeeds()[0].arts {
		author := a.Source
		if a.Author != "" {
			author = a.Author + " · " + a.Source
		}
		want = append(want, item{a.Title, author, a.Published})
	}
	slices.SortStableFunc(want, func(a, b item) int { return b.date.Compare(a.date) })
	if len(got) != len(want) {
		t.Fatalf("newsboat lists %d items, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("item %d: newsboat lists %+v, want %+v", i, got[i], want[i])
		}
	}

	// newsboat 2.21 (Debian 12) loses the validators of a feed's very
	// first download: it saves them before the feed's row exists. From the
	// second download on it keeps them, so the third reload is the first
	// that can be conditional; it must be answered 304.
	reload()
	if got := log.take(); !slices.Equal(got, []int{200}) && !slices.Equal(got, []int{304}) {
		t.Errorf("second reload: statuses %v, want [200] or [304]", got)
	}
	reload()
	if got := log.take(); !slices.Equal(got, []int{304}) {
		t.Errorf("third reload: statuses %v, want [304]", got)
	}
	reload()
	if got := log.take(); !slices.Equal(got, []int{304}) {
		t.Errorf("fourth reload: statuses %v, want [304]", got)
	}
}
