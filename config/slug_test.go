package config_test

import (
	"testing"

	"github.com/broadsheet/broadsheet/config"
	"github.com/broadsheet/broadsheet/feeds"
)

// TestSlugify_MatchesFeeds keeps config's copy of the slug rule (config
// may not import feeds) in step with feeds.Slugify: source names that
// config accepts as distinct must get distinct addresses.
func TestSlugify_MatchesFeeds(t *testing.T) {
	names := []string{
		"BBC News", "  BBC  news!! ", "Le Monde — English", "Élections 2026", "한겨레 English",
		"a/b\\c", "---", "", "x", "The New York Times: Opinion", "Ünïcödé_Names", "tab\tsep", "1 2 3",
	}
	for _, name := range names {
		if got, want := config.Slugify(name), feeds.Slugify(name); got != want {
			t.Errorf("config.Slugify(%q) = %q, feeds.Slugify = %q", name, got, want)
		}
	}
}
