package publish

import (
	"net/http"
	"strings"
	"testing"
)

// TestHandler_Golden checks every kind of output, byte for byte, against
// testdata/*.golden.
func TestHandler_Golden(t *testing.T) {
	h, _ := newFixture(t)
	for _, path := range []string{
		"/feed.atom", "/feed.rss", "/feed.json",
		"/editorials.atom",
		"/topics/summit-talks.atom", "/topics/summit-talks.rss", "/topics/summit-talks.json",
		"/sources/the-bugle.atom", "/sources/the-bugle.rss", "/sources/the-bugle.json",
		"/opml", "/",
		"/topics/climate", "/topics/summit-talks",
	} {
		name := strings.TrimPrefix(path, "/")
		if name == "" {
			name = "index.html"
		}
		if strings.HasPrefix(name, "topics/") && !strings.Contains(name, ".") {
			name += ".html"
		}
		name = strings.ReplaceAll(name, "/", "_") + ".golden"
		t.Run(name, func(t *testing.T) {
			res := get(t, h, http.MethodGet, path, nil)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("GET %s: status %d, want 200", path, res.StatusCode)
			}
			golden(t, name, body(t, res))
		})
	}
}
