package storetest

import (
	"strings"
	"testing"
	"time"

	"github.com/broadsheet/broadsheet/feeds"
	"github.com/broadsheet/broadsheet/store"
)

// testHostileItems feeds SavePoll the items that once failed every poll of
// their source on PostgreSQL: a NUL in a guid, and guids and links longer
// than a btree entry may be. Each is stored, and an item the database does
// refuse costs only itself.
func (s *suite) testHostileItems(t *testing.T) {
	t.Run("NULAndLongKeys", func(t *testing.T) {
		e := s.setup(t)
		e.sync(src("Alpha"))
		long := "https://alpha.example/" + strings.Repeat("x", 5000)
		nul := art("Alpha", 1, base)
		nul.Identity = "tag:alpha.example,2026:\x00one"
		nul.Title = "Nul\x00 title \xff"
		nul.Content = "<p>a\x00b</p>"
		nul.Categories = []string{"c\x00d"}
		longGUID := art("Alpha", 2, base)
		longGUID.Identity = long + "/guid"
		longLink := art("Alpha", 3, base)
		longLink.Link = long + "/link"
		longLink.LinkKey = strings.TrimPrefix(longLink.Link, "https://")
		in := []feeds.Article{withIDs(nul), withIDs(longGUID), withIDs(longLink), art("Alpha", 4, base)}

		stats := e.save(feeds.Poll{State: stateOf("Alpha", base), Articles: in})
		if stats.New != 4 || len(stats.Rejected) != 0 {
			t.Fatalf("stats: %d new, rejected %v; want 4 new, none rejected", stats.New, stats.Rejected)
		}
		got := e.article(in[0].ID)
		if got.Identity != "tag:alpha.example,2026:one" || got.Title != "Nul title \uFFFD" || got.Content != "<p>ab</p>" ||
			len(got.Categories) != 1 || got.Categories[0] != "cd" {
			t.Errorf("NUL item read back as identity %q, title %q, content %q, categories %q; want NUL gone, bad UTF-8 replaced",
				got.Identity, got.Title, got.Content, got.Categories)
		}
		if got := e.article(in[1].ID); got.Identity != longGUID.Identity {
			t.Errorf("long guid read back %d bytes, want %d", len(got.Identity), len(longGUID.Identity))
		}
		if got := e.article(in[2].ID); got.Link != longLink.Link || got.LinkKey != longLink.LinkKey {
			t.Errorf("long link read back %d bytes (story key %d), want %d (%d)", len(got.Link), len(got.LinkKey), len(longLink.Link), len(longLink.LinkKey))
		}

		// The next poll of the same items finds them all again.
		e.clk.Set(base.Add(time.Hour))
		stats = e.save(feeds.Poll{State: stateOf("Alpha", base.Add(time.Hour)), Articles: in})
		if stats.New != 0 || stats.Updated != 0 || stats.Unchanged != 4 || len(stats.Rejected) != 0 {
			t.Errorf("second poll: %+v, want 4 unchanged", stats)
		}
		if n := len(e.articles(store.ArticleFilter{})); n != 4 {
			t.Errorf("%d articles stored, want 4", n)
		}
	})
	t.Run("OneBadItemAlone", func(t *testing.T) {
		e := s.setup(t)
		e.sync(src("Alpha"))
		first := art("Alpha", 1, base)
		e.save(feeds.Poll{State: stateOf("Alpha", base), Articles: []feeds.Article{first}})

		// An item whose identity is stored under another id: the database
		// itself refuses it (the unique key of source and identity), inside
		// the batch that carries the good ones.
		clash := first
		clash.ID = "0123456789abcdef0123"
		noIdentity := art("Alpha", 9, base)
		noIdentity.Identity = ""
		taken := art("Alpha", 8, base)
		taken.ID = first.ID // names the first item's row
		good := []feeds.Article{art("Alpha", 2, base), art("Alpha", 3, base)}
		e.clk.Set(base.Add(time.Minute))
		st := stateOf("Alpha", base.Add(time.Minute))
		st.ETag = `"v2"`
		stats := e.save(feeds.Poll{State: st, Articles: []feeds.Article{good[0], clash, noIdentity, taken, good[1]}})
		if stats.New != 2 || len(stats.Rejected) != 3 {
			t.Fatalf("stats: %d new, rejected %v; want 2 new, 3 rejected", stats.New, stats.Rejected)
		}
		for _, r := range stats.Rejected {
			if r.Err == nil {
				t.Errorf("rejected %q with no error", r.Identity)
			}
		}
		for _, a := range good {
			e.article(a.ID)
		}
		if n := len(e.articles(store.ArticleFilter{})); n != 3 {
			t.Errorf("%d articles stored, want 3", n)
		}
		if got := e.state("Alpha"); got.ETag != `"v2"` {
			t.Errorf("state ETag %q, want the poll's %q", got.ETag, `"v2"`)
		}
		if got := e.article(first.ID); got.Title != first.Title {
			t.Errorf("first item's title %q changed, want %q", got.Title, first.Title)
		}
	})
}
