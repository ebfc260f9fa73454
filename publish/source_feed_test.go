package publish

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/broadsheet/broadsheet/feeds"
)

// sourcesOfN is a store of n sources with items articles each, all known
// to the states (so that their feeds have a sig), and their options.
func sourcesOfN(n, items int) (*memStore, Options) {
	var srcs []feeds.Source
	st := &memStore{}
	base := benchArticles(items)
	for s := range n {
		name := fmt.Sprintf("Outlet %02d", s)
		srcs = append(srcs, feeds.Source{Name: name, URL: fmt.Sprintf("https://outlet%d.example/feed", s)})
		st.states = append(st.states, feeds.SourceState{Source: name, Active: true})
		for i, a := range base {
			a.Source = name
			a.ID = feeds.ArticleID(name, fmt.Sprint(i))
			a.Link = fmt.Sprintf("https://outlet%d.example/story-%d", s, i)
			a.LinkKey = a.Link
			a.Hash = feeds.ContentHash(a)
			st.arts = append(st.arts, a)
		}
	}
	opts := fixtureOptions()
	opts.Sources = srcs
	return st, opts
}

// TestHandler_SourceFeedCache checks that source feeds rendered on request
// stay within the cache's bound however many sources are read, that an
// evicted feed renders again to the same bytes and validators (equal to a
// Handler whose cache holds everything), that a hot one is not rendered
// again, also across a Refresh that changes nothing, and that 304 and gzip
// work as for any output.
func TestHandler_SourceFeedCache(t *testing.T) {
	ctx := context.Background()
	const bound = 64 << 10
	st, opts := sourcesOfN(40, 10)
	h := New(st, opts)
	h.sources = newSourceCache(bound)
	ref := New(st, opts) // the default bound holds all 120 outputs
	for _, x := range []*Handler{h, ref} {
		if err := x.Refresh(ctx); err != nil {
			t.Fatalf("Refresh: %v", err)
		}
	}
	type seen struct{ body, etag, modified string }
	first := map[string]seen{}
	var paths []string
	for _, src := range opts.Sources {
		for _, f := range formats {
			paths = append(paths, "/sources/"+src.Slug()+"."+f.ext)
		}
	}
	gzip := map[string]string{"Accept-Encoding": "gzip"}
	for _, p := range paths {
		res := get(t, h, http.MethodGet, p, nil)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: status %d, want 200", p, res.StatusCode)
		}
		got := seen{string(body(t, res)), res.Header.Get("Etag"), res.Header.Get("Last-Modified")}
		first[p] = got
		want := get(t, ref, http.MethodGet, p, nil)
		if w := string(body(t, want)); got.body != w || got.etag != want.Header.Get("Etag") {
			t.Errorf("GET %s: bytes or ETag %s differ from a Handler that keeps every feed (ETag %s):\n%s", p, got.etag, want.Header.Get("Etag"), diff(w, got.body))
		}
		if gz := get(t, h, http.MethodGet, p, gzip); gz.Header.Get("Content-Encoding") != "gzip" || gz.Header.Get("Etag") != `"`+got.etag[1:len(got.etag)-1]+`-gz"` {
			t.Errorf("GET %s with gzip: Content-Encoding %q, ETag %q", p, gz.Header.Get("Content-Encoding"), gz.Header.Get("Etag"))
		}
		if size, _ := h.sources.stats(); size > bound {
			t.Fatalf("after GET %s the cache holds %d bytes, bound %d", p, size, bound)
		}
	}
	size, n := h.sources.stats()
	if n == 0 || n >= len(paths) {
		t.Fatalf("cache holds %d of %d outputs (%d bytes): the bound should have dropped some and kept some", n, len(paths), size)
	}
	if all, _ := ref.sources.stats(); all <= bound {
		t.Fatalf("all outputs take %d bytes, not more than the bound %d: the test does not evict", all, bound)
	}

	// The first feeds were evicted: they render again, to the same bytes,
	// and a reader's validators from before still answer 304.
	p := paths[0]
	res := get(t, h, http.MethodGet, p, nil)
	if got := string(body(t, res)); got != first[p].body || res.Header.Get("Etag") != first[p].etag {
		t.Errorf("GET %s again: ETag %s, want %s; bytes:\n%s", p, res.Header.Get("Etag"), first[p].etag, diff(first[p].body, got))
	}
	if res := get(t, h, http.MethodGet, paths[1], map[string]string{"If-None-Match": first[paths[1]].etag}); res.StatusCode != http.StatusNotModified {
		t.Errorf("GET %s with its first ETag: status %d, want 304", paths[1], res.StatusCode)
	}
	if m := first[paths[2]].modified; m == "" {
		t.Errorf("GET %s: no Last-Modified", paths[2])
	} else if res := get(t, h, http.MethodGet, paths[2], map[string]string{"If-Modified-Since": m}); res.StatusCode != http.StatusNotModified {
		t.Errorf("GET %s with If-Modified-Since %s: status %d, want 304", paths[2], m, res.StatusCode)
	}

	// A hot feed is served from the cache, also after a Refresh that
	// changes nothing: the snapshot shares the source's lazyFeed.
	lo := h.snap.Load().lazy[p]
	o1, err := h.sourceOutput(lo)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Refresh(ctx); err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	lo2 := h.snap.Load().lazy[p]
	if lo2.feed != lo.feed {
		t.Fatalf("an unchanged source got a new lazyFeed on Refresh")
	}
	if o2, err := h.sourceOutput(lo2); err != nil || o2 != o1 {
		t.Errorf("a hot feed was rendered again (err %v)", err)
	}

	// A changed source gets new bytes, the others keep theirs.
	st.mu.Lock()
	st.arts[0].Title = "A new title"
	st.arts[0].Hash = feeds.ContentHash(st.arts[0])
	st.mu.Unlock()
	if err := h.Refresh(ctx); err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	changed := "/sources/" + opts.Sources[0].Slug() + ".atom"
	if res := get(t, h, http.MethodGet, changed, nil); res.Header.Get("Etag") == first[changed].etag {
		t.Errorf("GET %s after its source changed: same ETag %s", changed, first[changed].etag)
	}
	same := "/sources/" + opts.Sources[1].Slug() + ".atom"
	if res := get(t, h, http.MethodGet, same, nil); res.Header.Get("Etag") != first[same].etag {
		t.Errorf("GET %s after another source changed: ETag %s, want %s", same, res.Header.Get("Etag"), first[same].etag)
	}
}

// TestSourceCache_put checks the LRU order and that an output larger than
// the bound is served but not kept.
func TestSourceCache_put(t *testing.T) {
	out := func(n int) *output { return &output{body: make([]byte, n)} }
	c := newSourceCache(3 * (1000 + outputOverhead))
	for i := range 3 {
		c.put(cacheKey{uint64(i), 0}, out(1000))
	}
	c.get(cacheKey{0, 0}) // 1 is now the least recently used
	c.put(cacheKey{3, 0}, out(1000))
	for i, want := range []bool{true, false, true, true} {
		if got := c.get(cacheKey{uint64(i), 0}) != nil; got != want {
			t.Errorf("feed %d kept: %v, want %v", i, got, want)
		}
	}
	c.put(cacheKey{9, 0}, out(5000))
	if c.get(cacheKey{9, 0}) != nil {
		t.Errorf("an output above the bound was kept")
	}
	if size, n := c.stats(); size != 3*(1000+outputOverhead) || n != 3 {
		t.Errorf("stats = %d bytes, %d outputs; want %d, 3", size, n, 3*(1000+outputOverhead))
	}
}
