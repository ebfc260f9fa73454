package fetch

import (
	"container/list"
	"hash/maphash"
	"net/url"
	"sync"

	"github.com/broadsheet/broadsheet/sanitize"
)

// htmlCache remembers sanitized HTML by its input. A feed that changed is
// fetched whole, yet most of its items are the ones sanitized on the last
// poll; sanitizing costs about as much as parsing, so remembering the
// results makes a repeat poll cost little more than gofeed's parse. It is
// a least-recently-used cache bounded in bytes, safe for concurrent use.
type htmlCache struct {
	mu    sync.Mutex
	max   int64 // bytes of sanitized HTML and excerpts, plus an estimate of overhead
	size  int64
	order *list.List // of *cacheEntry, most recently used first
	items map[cacheKey]*list.Element
	seeds [2]maphash.Seed
}

// cacheKey is a 128-bit hash of an input. maphash is fast and seeded per
// process, so no feed can aim for a collision.
type cacheKey [2]uint64

type cacheEntry struct {
	key     cacheKey
	html    string
	excerpt string // set when asked for
	hasEx   bool
}

func (e *cacheEntry) cost() int64 { return int64(len(e.html)+len(e.excerpt)) + entryOverhead }

// entryOverhead estimates the bytes an entry costs beyond its strings.
const entryOverhead = 128

// minCached is the shortest input worth a cache entry: below it, hashing
// and locking cost about what sanitizing does.
const minCached = 128

func newHTMLCache(max int64) *htmlCache {
	if max <= 0 {
		return nil
	}
	return &htmlCache{
		max:   max,
		order: list.New(),
		items: map[cacheKey]*list.Element{},
		seeds: [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()},
	}
}

// sanitizeHTML returns sanitize.HTML(raw, base) and, when withExcerpt is
// set, sanitize.Excerpt of that in excerptRunes, both remembered. baseKey
// names base (the canonical link it was parsed from), so that the same
// markup under another base, whose relative links resolve differently, is
// another entry.
func (c *htmlCache) sanitizeHTML(raw string, base *url.URL, baseKey string, withExcerpt bool) (html, excerpt string) {
	compute := func() (string, string) {
		h := sanitize.HTML(raw, base)
		if withExcerpt {
			return h, sanitize.Excerpt(h, excerptRunes)
		}
		return h, ""
	}
	if c == nil || len(raw) < minCached {
		return compute()
	}
	var key cacheKey
	for i, seed := range c.seeds {
		var h maphash.Hash
		h.SetSeed(seed)
		h.WriteString(baseKey)
		h.WriteByte(0)
		h.WriteString(raw)
		key[i] = h.Sum64()
	}

	c.mu.Lock()
	if el, ok := c.items[key]; ok {
		c.order.MoveToFront(el)
		e := el.Value.(*cacheEntry)
		if !withExcerpt || e.hasEx {
			html, excerpt = e.html, e.excerpt
			c.mu.Unlock()
			if !withExcerpt {
				excerpt = ""
			}
			return html, excerpt
		}
		html = e.html
		c.mu.Unlock()
		excerpt = sanitize.Excerpt(html, excerptRunes)
		c.mu.Lock()
		if !e.hasEx && c.items[key] == el {
			e.excerpt, e.hasEx = excerpt, true
			c.size += int64(len(excerpt))
			c.evict()
		}
		c.mu.Unlock()
		return html, excerpt
	}
	c.mu.Unlock()

	html, excerpt = compute()
	e := &cacheEntry{key: key, html: html, excerpt: excerpt, hasEx: withExcerpt}
	if e.cost() > c.max/4 {
		return html, excerpt
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.items[key]; ok {
		return html, excerpt // another goroutine got there first
	}
	c.items[key] = c.order.PushFront(e)
	c.size += e.cost()
	c.evict()
	return html, excerpt
}

// evict drops the least recently used entries until the cache fits. The
// caller holds c.mu.
func (c *htmlCache) evict() {
	for c.size > c.max {
		last := c.order.Back()
		e := last.Value.(*cacheEntry)
		c.order.Remove(last)
		delete(c.items, e.key)
		c.size -= e.cost()
	}
}
