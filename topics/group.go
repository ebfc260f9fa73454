package topics

import (
	"container/heap"
	"maps"
	"slices"
	"strings"
	"time"
)

type centEntry struct {
	q    int64 // the members' docTerm.q summed: raw weight, no IDF
	n    int32 // members holding the term
	full int32 // members holding it on its own, not only as a word of a name
	pos  int32 // index in the term's postings
}

type group struct {
	id, slug string
	docs     []*doc
	cent     map[uint32]*centEntry
	sources  map[string]int
	words    map[uint32]int32 // members whose title has the word
	label    *doc             // valid while labelOK
	labelOK  bool
	mark     uint64 // the item acc was accumulated for
	acc      fit
	last     time.Time
}

func (c *Clusterer) newGroup(id, slug string, d *doc) *group {
	if slug == "" {
		slug = storySlug(d.title, id)
	}
	g := &group{id: id, slug: slug, cent: map[uint32]*centEntry{}, sources: map[string]int{}, words: map[uint32]int32{}}
	c.groups[id] = g
	return g
}

// weight is a centroid entry's weight with the window's IDF now.
func (c *Clusterer) weight(id uint32, e *centEntry) float64 {
	return float64(e.q) / fixedOne * c.idf(id)
}

// storyWeight is weight in story g: for a story of one item, with that
// item's source's boilerplate weighed down as in the item's own vector.
func (c *Clusterer) storyWeight(g *group, id uint32, e *centEntry) float64 {
	w := c.weight(id, e)
	if len(g.docs) == 1 {
		w *= c.boilerplate(g.docs[0].source, id)
	}
	return w
}

// norm2 is the squared length of g's centroid with the window's IDF now,
// in time linear in its terms: merges need it.
func (c *Clusterer) norm2(g *group) float64 {
	n := c.fieldNorm2(g)
	return n[0] + n[1]
}

// fieldNorm2 is norm2 by field (title, lede: see docTerm.field). It sums
// in a fixed order (a single member's terms, else by term id), so that the
// result does not depend on map iteration.
func (c *Clusterer) fieldNorm2(g *group) [2]float64 {
	var s [2]float64
	if len(g.docs) == 1 {
		for _, t := range g.docs[0].terms {
			w := c.storyWeight(g, t.id, g.cent[t.id])
			s[t.field] += w * w
		}
		return s
	}
	for _, id := range slices.Sorted(maps.Keys(g.cent)) {
		w := c.weight(id, g.cent[id])
		k := 0
		if strings.HasPrefix(c.terms[id].term, ledeMark) {
			k = 1
		}
		s[k] += w * w
	}
	return s
}

// older reports whether a's oldest member, by (time, id), is older than
// b's: a function of the members, unlike the order stories were founded
// or restored in.
func older(a, b *group) bool {
	x, y := a.oldest(), b.oldest()
	if !x.t.Equal(y.t) {
		return x.t.Before(y.t)
	}
	return x.id < y.id
}

func (g *group) oldest() *doc {
	var o *doc
	for _, d := range g.docs {
		if o == nil || d.t.Before(o.t) || d.t.Equal(o.t) && d.id < o.id {
			o = d
		}
	}
	return o
}

func (c *Clusterer) join(g *group, d *doc) {
	c.add(g, d)
	if d.key != "" && c.keys[d.key] == nil {
		c.keys[d.key] = g
	}
}

// add puts d's vector into g's centroid and postings.
func (c *Clusterer) add(g *group, d *doc) {
	for _, t := range d.terms {
		e := g.cent[t.id]
		if e == nil {
			ti := &c.terms[t.id]
			e = &centEntry{pos: int32(len(ti.post))}
			ti.post = append(ti.post, posting{g, e})
			g.cent[t.id] = e
		}
		e.q += t.q
		e.n++
		if !t.comp {
			e.full++
		}
	}
	g.docs = append(g.docs, d)
	if d.t.After(g.last) {
		g.last = d.t
	}
	g.sources[d.source]++
	for _, w := range d.words {
		g.words[w]++
	}
	g.labelOK = false
	d.g = g
}

// labelDoc returns the story's most central member, whose title labels
// it: the one whose title words are most shared with the other members'
// titles, by the cosine of its word set with the others' word counts
// (shared counts over the square root of its words), ties going to the
// smallest article id. It is a function of the members alone, whatever
// the order they joined or were restored in, so that replicas and a
// rebuilt Clusterer show the same label; it is computed again only after
// the members change, in time linear in the story's words.
func (g *group) labelDoc() *doc {
	if g.labelOK {
		return g.label
	}
	var best *doc
	var bestS, bestK int64
	for _, d := range g.docs {
		var s int64
		for _, w := range d.words {
			s += int64(g.words[w] - 1)
		}
		k := int64(max(len(d.words), 1))
		// s/sqrt(k) against bestS/sqrt(bestK), in integers.
		if best == nil || s*s*bestK > bestS*bestS*k || s*s*bestK == bestS*bestS*k && d.id < best.id {
			best, bestS, bestK = d, s, k
		}
	}
	g.label, g.labelOK = best, true
	return best
}

// drop removes d from its story and the vocabulary.
func (c *Clusterer) drop(d *doc) {
	g := d.g
	for _, t := range d.terms {
		e := g.cent[t.id]
		e.q -= t.q
		e.n--
		if !t.comp {
			e.full--
		}
		if e.n == 0 {
			c.unpost(t.id, e)
			delete(g.cent, t.id)
		}
	}
	if i := slices.Index(g.docs, d); i >= 0 {
		g.docs = slices.Delete(g.docs, i, i+1)
	}
	if g.sources[d.source]--; g.sources[d.source] == 0 {
		delete(g.sources, d.source)
	}
	for _, w := range d.words {
		if g.words[w]--; g.words[w] == 0 {
			delete(g.words, w)
		}
	}
	g.label, g.labelOK = nil, false
	if d.key != "" && c.keys[d.key] == g && !g.hasKey(d.key) {
		delete(c.keys, d.key)
	}
	if len(g.docs) == 0 {
		delete(c.groups, g.id)
	} else {
		if d.t.Equal(g.last) {
			g.last = time.Time{}
			for _, o := range g.docs {
				if o.t.After(g.last) {
					g.last = o.t
				}
			}
		}
	}
	if c.srcDocs[d.source]--; c.srcDocs[d.source] == 0 {
		delete(c.srcDocs, d.source)
	}
	for _, t := range d.terms {
		k := srcTerm{d.source, t.id}
		if c.srcTerms[k]--; c.srcTerms[k] == 0 {
			delete(c.srcTerms, k)
		}
		ti := &c.terms[t.id]
		ti.df--
		ti.cap -= int32(t.cap)
		ti.low -= int32(t.low)
		c.release(t.id)
	}
	for _, id := range d.words {
		c.terms[id].refs--
		c.release(id)
	}
	delete(c.docs, d.id)
	heap.Remove(&c.byTime, d.heapIdx)
	d.g = nil
}

func (g *group) hasKey(key string) bool {
	for _, d := range g.docs {
		if d.key == key {
			return true
		}
	}
	return false
}

func (g *group) assignment(isNew bool) Assignment {
	label := ""
	if d := g.labelDoc(); d != nil {
		label = d.title
	}
	return Assignment{StoryID: g.id, Slug: g.slug, Label: label, Size: len(g.docs), New: isNew}
}

func (g *group) snapshot() Cluster {
	s := Cluster{ID: g.id, Slug: g.slug, ArticleIDs: make([]string, len(g.docs))}
	if d := g.labelDoc(); d != nil {
		s.Label = d.title
	}
	for i, d := range g.docs {
		s.ArticleIDs[i] = d.id
		if s.First.IsZero() || d.t.Before(s.First) {
			s.First = d.t
		}
		if d.t.After(s.Last) {
			s.Last = d.t
		}
	}
	for src := range g.sources {
		s.Sources = append(s.Sources, src)
	}
	slices.Sort(s.Sources)
	return s
}
