package publish

import (
	"container/list"
	"fmt"
	"sync"
)

// sourceCacheBytes bounds the source feeds kept rendered (bodies plus
// gzipped copies). Rendering every source's feed in every format at every
// Refresh and keeping them all was most of the daemon's memory (about
// 360 MB of 490 at 1,000 sources); readers ask for few of them, often.
const sourceCacheBytes = 32 << 20

// outputOverhead is about what an output costs besides its bytes.
const outputOverhead = 512

// lazyFeed is a source feed that snapshots serve rendered on request. It
// is immutable: a later snapshot shares it (and so its rendered outputs)
// while the source's sig stays the same, as render shared the outputs.
type lazyFeed struct {
	id  uint64  // names it in the Handler's sourceCache; never reused
	doc feedDoc // Updated set by the Refresh that made it
}

// lazyOutput is one format of a lazyFeed, as a snapshot path serves it.
type lazyOutput struct {
	feed   *lazyFeed
	format int // index into formats
}

// sourceOutput returns lo rendered, from the cache when it is there.
func (h *Handler) sourceOutput(lo lazyOutput) (*output, error) {
	k := cacheKey{lo.feed.id, lo.format}
	if o := h.sources.get(k); o != nil {
		return o, nil
	}
	o, err := h.renderLazy(lo)
	if err != nil {
		return nil, err
	}
	h.sources.put(k, o)
	return o, nil
}

// renderLazy renders lo, as render did for every source at every Refresh.
func (h *Handler) renderLazy(lo lazyOutput) (*output, error) {
	f, r := lo.feed.doc, formats[lo.format]
	body, err := r.render(h, f)
	if err != nil {
		return nil, fmt.Errorf("render %s.%s: %w", f.Name, r.ext, err)
	}
	o, err := newOutput(f.Name+"."+r.ext, r.ctype, body, f.Updated)
	if err != nil {
		return nil, err
	}
	return o, nil
}

type cacheKey struct {
	feed   uint64
	format int
}

// sourceCache keeps rendered outputs, least recently used out first, to
// at most max bytes. It is safe for concurrent use.
type sourceCache struct {
	mu    sync.Mutex
	max   int
	size  int
	order *list.List // of *cached, most recently used first
	byKey map[cacheKey]*list.Element
}

type cached struct {
	key  cacheKey
	o    *output
	size int
}

func newSourceCache(max int) *sourceCache {
	return &sourceCache{max: max, order: list.New(), byKey: map[cacheKey]*list.Element{}}
}

func (c *sourceCache) get(k cacheKey) *output {
	c.mu.Lock()
	defer c.mu.Unlock()
	el := c.byKey[k]
	if el == nil {
		return nil
	}
	c.order.MoveToFront(el)
	return el.Value.(*cached).o
}

// put adds o under k, dropping the least recently used outputs past the
// bound; an output larger than the bound alone is not kept.
func (c *sourceCache) put(k cacheKey, o *output) {
	n := len(o.body) + len(o.gz) + outputOverhead
	if n > c.max {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.byKey[k]; ok {
		// Rendered twice by concurrent misses: the same bytes.
		return
	}
	c.byKey[k] = c.order.PushFront(&cached{key: k, o: o, size: n})
	c.size += n
	for c.size > c.max {
		el := c.order.Back()
		v := el.Value.(*cached)
		c.order.Remove(el)
		delete(c.byKey, v.key)
		c.size -= v.size
	}
}

// stats reports the bytes and outputs kept.
func (c *sourceCache) stats() (size, n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.size, c.order.Len()
}
