package fetch

import (
	"bytes"
	"fmt"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/broadsheet/broadsheet/feeds"
	"github.com/broadsheet/broadsheet/sanitize"
)

func TestHTMLCache(t *testing.T) {
	long := `<p onclick="x()">` + strings.Repeat("words ", 40) + `<a href="/rel">link</a></p>`
	baseA, _ := url.Parse("https://a.example/story")
	baseB, _ := url.Parse("https://b.example/story")

	t.Run("hit returns what sanitize returns", func(t *testing.T) {
		c := newHTMLCache(1 << 20)
		first, _ := c.sanitizeHTML(long, baseA, "https://a.example/story", false)
		second, _ := c.sanitizeHTML(long, baseA, "https://a.example/story", false)
		if want := sanitize.HTML(long, baseA); first != want || second != want {
			t.Errorf("got %q then %q, want %q", first, second, want)
		}
		if len(c.items) != 1 {
			t.Errorf("%d entries, want 1", len(c.items))
		}
	})
	t.Run("the base is part of the key", func(t *testing.T) {
		c := newHTMLCache(1 << 20)
		a, _ := c.sanitizeHTML(long, baseA, "https://a.example/story", false)
		b, _ := c.sanitizeHTML(long, baseB, "https://b.example/story", false)
		if !strings.Contains(a, "https://a.example/rel") || !strings.Contains(b, "https://b.example/rel") {
			t.Errorf("links resolved against the wrong base: %q, %q", a, b)
		}
		if len(c.items) != 2 {
			t.Errorf("%d entries, want 2", len(c.items))
		}
	})
	t.Run("bounded", func(t *testing.T) {
		c := newHTMLCache(8 << 10)
		for i := range 200 {
			c.sanitizeHTML(fmt.Sprintf("%s %d", long, i), baseA, "k", i%2 == 0)
			if c.size > c.max {
				t.Fatalf("size %d over max %d", c.size, c.max)
			}
		}
		if len(c.items) != c.order.Len() || len(c.items) == 0 || len(c.items) >= 200 {
			t.Errorf("%d entries, %d in order; want a few, the same", len(c.items), c.order.Len())
		}
	})
	t.Run("short inputs are not cached", func(t *testing.T) {
		c := newHTMLCache(1 << 20)
		if got, _ := c.sanitizeHTML("<b>x</b>", nil, "", false); got != "<b>x</b>" {
			t.Errorf("got %q", got)
		}
		if len(c.items) != 0 {
			t.Errorf("%d entries, want 0", len(c.items))
		}
	})
	t.Run("disabled", func(t *testing.T) {
		var c *htmlCache = newHTMLCache(-1)
		if c != nil {
			t.Fatal("a negative size must disable the cache")
		}
		if got, _ := c.sanitizeHTML(long, baseA, "", false); got != sanitize.HTML(long, baseA) {
			t.Errorf("got %q, want %q", got, sanitize.HTML(long, baseA))
		}
	})
	t.Run("excerpt remembered on demand", func(t *testing.T) {
		c := newHTMLCache(1 << 20)
		h1, ex1 := c.sanitizeHTML(long, baseA, "k", false)
		h2, ex2 := c.sanitizeHTML(long, baseA, "k", true)
		h3, ex3 := c.sanitizeHTML(long, baseA, "k", true)
		want := sanitize.Excerpt(h1, excerptRunes)
		if ex1 != "" || ex2 != want || ex3 != want || h2 != h1 || h3 != h1 {
			t.Errorf("got excerpts %q, %q, %q; want none, then %q twice", ex1, ex2, ex3, want)
		}
		if c.size != int64(len(h1)+len(want))+entryOverhead {
			t.Errorf("size %d does not count the excerpt", c.size)
		}
	})
}

func TestClient_Parse_CacheGivesSameArticles(t *testing.T) {
	data := readFixture(t, "bench/news-100.xml")
	src := feeds.Source{Name: "News", URL: "https://www.news.example/rss"}
	cold := newTestClient(Options{SanitizeCacheBytes: -1})
	warm := newTestClient(Options{})
	want, _, err := cold.Parse(src, bytes.NewReader(data), "")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		got, _, err := warm.Parse(src, bytes.NewReader(data), "")
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("parse %d with the cache differs from the one without", i)
		}
	}
	if n := len(warm.cache.items); n != 200 {
		t.Errorf("cache holds %d entries, want 200 (content and summary of 100 items)", n)
	}
}
