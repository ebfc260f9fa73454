package publish

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/broadsheet/broadsheet/feeds"
)

// hasEntry reports whether the combined Atom feed holds article id.
func hasEntry(t *testing.T, h *Handler, id string) bool {
	t.Helper()
	return slices.Contains(entryIDs(t, get(t, h, "GET", "/feed.atom", nil)), idPrefix+id)
}

func TestHandler_Run(t *testing.T) {
	t.Run("VersionChange", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			st := &versionedStore{memStore: &memStore{arts: fixtureArticles()}, version: "1"}
			opts := fixtureOptions()
			opts.CheckEvery = 5 * time.Second
			opts.RefreshEvery = time.Hour
			h := New(st, opts)
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			go h.Run(ctx)
			synctest.Wait()
			if h.snap.Load() == nil {
				t.Fatal("no snapshot after Run started")
			}

			// Another replica stores an article: the version moves.
			late := article("The Bugle", "late", "Late news", "https://bugle.example/late", at(11, 58))
			st.mu.Lock()
			st.arts = append(st.arts, late)
			st.mu.Unlock()
			time.Sleep(opts.CheckEvery)
			synctest.Wait()
			if hasEntry(t, h, late.ID) {
				t.Fatal("refreshed while the version was unchanged")
			}
			st.mu.Lock()
			st.version = "2"
			st.mu.Unlock()
			time.Sleep(opts.CheckEvery)
			synctest.Wait()
			if !hasEntry(t, h, late.ID) {
				t.Error("not refreshed after the version changed")
			}
		})
	})
	t.Run("Changed", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			st := &memStore{arts: fixtureArticles()}
			opts := fixtureOptions()
			opts.RefreshEvery = time.Hour
			opts.MinInterval = time.Second
			h := New(st, opts)
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			go h.Run(ctx)
			synctest.Wait()
			perRefresh := st.Query() // the first Refresh's
			add := func(identity string) feeds.Article {
				a := article("The Bugle", identity, "Late news "+identity, "https://bugle.example/"+identity, at(11, 58))
				st.mu.Lock()
				st.arts = append(st.arts, a)
				st.mu.Unlock()
				return a
			}

			// Long after the last Refresh, Changed refreshes at once.
			time.Sleep(opts.MinInterval)
			late := add("late")
			before := st.Query()
			h.Changed()
			synctest.Wait()
			if !hasEntry(t, h, late.ID) {
				t.Error("not refreshed at once after Changed")
			}

			// A burst right after waits for the rest of MinInterval and
			// costs one Refresh.
			later := add("later")
			for range 10 {
				h.Changed()
			}
			synctest.Wait()
			if hasEntry(t, h, later.ID) {
				t.Error("refreshed again sooner than MinInterval after the last Refresh")
			}
			time.Sleep(opts.MinInterval)
			synctest.Wait()
			if !hasEntry(t, h, later.ID) {
				t.Error("not refreshed MinInterval after a held Changed")
			}
			if got, want := st.Query()-before, 2*perRefresh; got != want {
				t.Errorf("%d queries for Changed, then a burst, want two Refreshes' (%d)", got, want)
			}

			// Polls storing all the time: one Refresh per MinInterval.
			before = st.Query()
			const span = 5 * time.Second
			for range 50 {
				h.Changed()
				time.Sleep(span / 50)
			}
			synctest.Wait()
			if got, most := (st.Query()-before)/perRefresh, int(span/opts.MinInterval)+1; got > most || got < most-2 {
				t.Errorf("%d Refreshes while Changed was called every %v for %v, want about %d", got, span/50, span, most)
			}
		})
	})
	t.Run("RefreshEvery", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			st := &memStore{arts: fixtureArticles()} // no version: only the periodic refresh notices
			opts := fixtureOptions()
			opts.RefreshEvery = 5 * time.Minute
			h := New(st, opts)
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			go h.Run(ctx)
			synctest.Wait()
			late := article("The Bugle", "late", "Late news", "https://bugle.example/late", at(11, 58))
			st.mu.Lock()
			st.arts = append(st.arts, late)
			st.mu.Unlock()
			time.Sleep(opts.RefreshEvery)
			synctest.Wait()
			if !hasEntry(t, h, late.ID) {
				t.Error("not refreshed after RefreshEvery")
			}
		})
	})
}

func TestHandler_WriteDir(t *testing.T) {
	h, _ := newFixture(t)
	dir := t.TempDir()
	stale := filepath.Join(dir, "topics", "gone.atom")
	other := filepath.Join(dir, "topics", "README.txt")
	for _, p := range []string{stale, other} {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.WriteDir(context.Background(), dir); err != nil {
		t.Fatalf("WriteDir: %v", err)
	}
	files := map[string]string{
		"feed.atom":                    "/feed.atom",
		"feed.rss":                     "/feed.rss",
		"feed.json":                    "/feed.json",
		"editorials.atom":              "/editorials.atom",
		"topics/summit-talks.rss":      "/topics/summit-talks.rss",
		"topics/korean-peninsula.json": "/topics/korean-peninsula.json",
		"sources/the-bugle.json":       "/sources/the-bugle.json",
		"sources/quiet-source.atom":    "/sources/quiet-source.atom",
		"opml.xml":                     "/opml",
		"index.html":                   "/",
	}
	for file, path := range files {
		t.Run(strings.ReplaceAll(file, "/", "_"), func(t *testing.T) {
			got, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(file)))
			if err != nil {
				t.Fatal(err)
			}
			if want := body(t, get(t, h, http.MethodGet, path, nil)); string(got) != string(want) {
				t.Errorf("%s differs from what %s serves", file, path)
			}
		})
	}
	var n int
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
			if strings.Contains(filepath.Base(p), ".tmp") {
				t.Errorf("temporary file left: %s", p)
			}
		}
		return nil
	})
	if want := len(h.snap.Load().files) + len(h.snap.Load().sources)*len(formats) + 1; n != want {
		t.Errorf("%d files in the folder, want %d (the outputs and README.txt)", n, want)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("stale topic feed not removed: %v", err)
	}
	if _, err := os.Stat(other); err != nil {
		t.Errorf("a file that is not a feed was touched: %v", err)
	}
}

// TestHandler_RefreshSeesEdits checks that entries reused between
// Refreshes (unchanged articles are not prepared again) give way to an
// edited article's new text.
func TestHandler_RefreshSeesEdits(t *testing.T) {
	arts := fixtureArticles()
	for i := range arts {
		arts[i].Hash = feeds.ContentHash(arts[i])
	}
	st := &memStore{arts: arts}
	h := New(st, fixtureOptions())
	if err := h.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	before := body(t, get(t, h, "GET", "/feed.json", nil))
	if err := h.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if again := body(t, get(t, h, "GET", "/feed.json", nil)); string(again) != string(before) {
		t.Fatal("a Refresh of unchanged data changed the feed")
	}
	st.mu.Lock()
	st.arts[0].Title = "Leaders strike a deal at the climate summit"
	st.arts[0].Summary = "<p>A deal, at last.</p>"
	st.arts[0].Hash = feeds.ContentHash(st.arts[0])
	st.arts[1].Kind = feeds.KindEditorial // a change the content hash does not cover
	st.mu.Unlock()
	if err := h.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := string(body(t, get(t, h, "GET", "/feed.json", nil))) + string(body(t, get(t, h, "GET", "/feed.atom", nil)))
	for _, want := range []string{"Leaders strike a deal at the climate summit", "A deal, at last.", `"kind": "editorial"`} {
		if !strings.Contains(got, want) {
			t.Errorf("after the edit, the feeds lack %q", want)
		}
	}
	if strings.Contains(got, "Leaders meet at climate summit") {
		t.Error("after the edit, the feeds still have the old title")
	}
}

func TestHandler_SetSources(t *testing.T) {
	h, _ := newFixture(t)
	if res := get(t, h, "GET", "/sources/new-outlet.atom", nil); res.StatusCode != http.StatusNotFound {
		t.Fatalf("before: status %d, want 404", res.StatusCode)
	}
	srcs := append(slices.Clone(fixtureSources[1:]), feeds.Source{Name: "New Outlet", URL: "https://new.example/feed"})
	h.SetSources(srcs)
	if err := h.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if res := get(t, h, "GET", "/sources/new-outlet.atom", nil); res.StatusCode != http.StatusOK {
		t.Errorf("added source's feed: status %d, want 200", res.StatusCode)
	}
	if res := get(t, h, "GET", "/sources/daily-planet.atom", nil); res.StatusCode != http.StatusNotFound {
		t.Errorf("removed source's feed: status %d, want 404", res.StatusCode)
	}
	opml := string(body(t, get(t, h, "GET", "/opml", nil)))
	if !strings.Contains(opml, "https://new.example/feed") || strings.Contains(opml, "dailyplanet.example") {
		t.Errorf("OPML does not follow the new sources:\n%s", opml)
	}
}
