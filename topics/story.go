package topics

import (
	"container/heap"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/broadsheet/broadsheet/feeds"
)

// srcTerm counts a term's items from one source, to spot boilerplate.
type srcTerm struct {
	src string
	id  uint32
}

type termInfo struct {
	term     string
	df       int32
	refs     int32 // live items with the word in their title (see doc.words)
	cap, low int32
	post     []posting // stories whose centroid holds the term
}

// posting is one story holding a term, with its centroid entry for it.
type posting struct {
	g *group
	e *centEntry
}

type docTerm struct {
	id       uint32
	w        float64 // unit-length TF-IDF weight, IDF as of the item's arrival
	cap, low int8
	comp     bool // only a word of the item's multi-word names (see rawTerm)
}

// part ties a word to a multi-word name of the item it is a word of.
type part struct {
	word, whole uint32
}

type doc struct {
	id, source, title, key string
	t                      time.Time
	seq                    uint64
	terms                  []docTerm
	parts                  []part   // for the terms marked comp, while choosing
	words                  []uint32 // distinct words of the title, for the label
	g                      *group
	heapIdx                int
}

type centEntry struct {
	w    float64
	n    int32 // members holding the term
	full int32 // members holding it on its own, not only as a word of a name
	pos  int32 // index in the term's postings
}

type group struct {
	id, slug string
	seq      uint64
	docs     []*doc
	cent     map[uint32]*centEntry
	norm2    float64
	sources  map[string]int
	words    map[uint32]int32 // members whose title has the word
	label    *doc             // valid while labelOK
	labelOK  bool
	mark     uint64 // the item acc was accumulated for
	acc      fit
	last     time.Time
}

// newDoc analyzes a, records its terms in the vocabulary and builds its
// unit TF-IDF vector.
func (c *Clusterer) newDoc(a feeds.Article, id string, t time.Time) *doc {
	c.seq++
	raw, words := analyze(a, &c.p, c)
	d := &doc{id: id, source: a.Source, title: a.Title, key: a.StoryKey, t: t, seq: c.seq}
	d.terms = make([]docTerm, 0, len(raw))
	c.srcDocs[d.source]++
	for _, r := range raw {
		tid := c.intern(r.term)
		ti := &c.terms[tid]
		ti.df++
		ti.cap += int32(r.cap)
		ti.low += int32(r.low)
		c.srcTerms[srcTerm{d.source, tid}]++
		d.terms = append(d.terms, docTerm{id: tid, w: r.w, cap: r.cap, low: r.low, comp: r.comp})
	}
	// Title words share the vocabulary (nearly all are terms of the item
	// anyway), counted apart so that a word stays while a title has it.
	d.words = make([]uint32, len(words))
	for i, w := range words {
		d.words[i] = c.intern(w)
		c.terms[d.words[i]].refs++
	}
	for i, r := range raw {
		if r.comp {
			d.parts = c.namesOf(d.parts, d.terms[i].id, r.term, r.names)
		}
	}
	n := float64(len(c.docs) + 1)
	srcN := c.srcDocs[d.source]
	var norm float64
	for i := range d.terms {
		dt := &d.terms[i]
		df := c.terms[dt.id].df
		dt.w *= math.Log((n + 1) / float64(df))
		// A term that nearly only this source uses, in a good share of
		// its items, is its boilerplate ("- WDRB 41 Louisville News"),
		// not news: it would tie the source's unrelated items together.
		if ns := c.srcTerms[srcTerm{d.source, dt.id}]; ns >= 2 && 10*ns >= 8*df && 10*ns >= 3*srcN {
			dt.w *= c.p.boiler
		}
		norm += dt.w * dt.w
	}
	if norm > 0 {
		norm = math.Sqrt(norm)
		for i := range d.terms {
			d.terms[i].w /= norm
		}
	}
	c.docs[id] = d
	heap.Push(&c.byTime, d)
	return d
}

// namesOf appends to parts the names known to the vocabulary that hold the
// word term of id as a word and are the names given or a stretch of two or
// more of their words: a story holding "Urban Outfitters" holds the
// company of "Urban Outfitters CEO", whose words name one thing, not two.
func (c *Clusterer) namesOf(parts []part, id uint32, term string, names []string) []part {
	add := func(name string) {
		if n, ok := c.vocab[name]; ok && !slices.Contains(parts, part{id, n}) {
			parts = append(parts, part{id, n})
		}
	}
	for _, whole := range names {
		add(whole)
		words := strings.Fields(whole)
		for i, w := range words {
			if w != term {
				continue
			}
			for a := max(0, i-maxSubName+1); a <= i; a++ {
				for b := max(i+1, a+2); b <= len(words) && b-a <= maxSubName; b++ {
					if a > 0 || b < len(words) {
						add(strings.Join(words[a:b], " "))
					}
				}
			}
		}
	}
	return parts
}

// maxSubName bounds the stretches of a long name that namesOf tries.
const maxSubName = 4

func (c *Clusterer) capitalized(term string) (int, int) {
	if id, ok := c.vocab[term]; ok {
		return int(c.terms[id].cap), int(c.terms[id].low)
	}
	return 0, 0
}

// stem is the package's stem with a cache: the same words come back all
// day. The cache is dropped when it outgrows the window's vocabulary by
// far, so that it stays bounded by the window too.
func (c *Clusterer) stem(w string) string {
	if s, ok := c.stems[w]; ok {
		return s
	}
	if len(c.stems) >= 4*len(c.vocab)+4096 {
		clear(c.stems)
	}
	s := stem(w)
	c.stems[w] = s
	return s
}

func (c *Clusterer) intern(term string) uint32 {
	if id, ok := c.vocab[term]; ok {
		return id
	}
	var id uint32
	if n := len(c.free); n > 0 {
		id = c.free[n-1]
		c.free = c.free[:n-1]
	} else {
		id = uint32(len(c.terms))
		c.terms = append(c.terms, termInfo{})
	}
	c.terms[id] = termInfo{term: term}
	c.vocab[term] = id
	return id
}

// candidate is a story an item could join, with its score.
type candidate struct {
	g   *group
	sim float64
}

// choose returns the stories d could join, best first: those sharing one
// of d's strongest terms and scoring at least the threshold.
func (c *Clusterer) choose(d *doc) []candidate {
	if d.key != "" {
		if g := c.keys[d.key]; g != nil {
			return []candidate{{g, 1}}
		}
	}
	// Score every story sharing a term with d at once, term by term, so
	// that the cost is the length of the postings walked, not the number
	// of stories times the terms of d. Terms held by too many stories do
	// not bring candidates in; they still count for those found.
	touched := c.touched[:0]
	var common []docTerm
	for _, t := range d.terms {
		post := c.terms[t.id].post
		if len(post) > c.p.posting {
			common = append(common, t)
			continue
		}
		for _, p := range post {
			g := p.g
			if g.mark != d.seq {
				g.mark, g.acc = d.seq, fit{}
				touched = append(touched, g)
			}
			c.accumulate(&g.acc, g, d, t, p.e)
		}
	}
	for _, t := range common {
		// Walk the postings or look the term up in each story found,
		// whichever is shorter.
		if post := c.terms[t.id].post; len(post) < 4*len(touched) {
			for _, p := range post {
				if p.g.mark == d.seq {
					c.accumulate(&p.g.acc, p.g, d, t, p.e)
				}
			}
			continue
		}
		for _, g := range touched {
			if e := g.cent[t.id]; e != nil {
				c.accumulate(&g.acc, g, d, t, e)
			}
		}
	}
	var out []candidate
	for _, g := range touched {
		// Decay and the same-source margin only lower a score or raise
		// the bar: skip their cost when the score cannot pass anyway.
		sim := c.final(g, &g.acc)
		if sim < c.threshold {
			continue
		}
		sim *= c.decay(d.t.Sub(g.last))
		need := c.threshold
		if g.sources[d.source] > 0 {
			need += c.p.margin
		}
		if sim >= need {
			out = append(out, candidate{g, sim})
		}
	}
	clear(touched)
	c.touched = touched[:0]
	slices.SortFunc(out, func(x, y candidate) int {
		switch {
		case x.sim > y.sim:
			return -1
		case x.sim < y.sim:
			return 1
		}
		return cmpSeq(x.g, y.g)
	})
	return out
}

// decay is how much a story's pull fades over dt of silence: news comes in
// bursts, and a story quiet for long is less likely what an item continues.
func (c *Clusterer) decay(dt time.Duration) float64 {
	if dt < 0 {
		dt = -dt
	}
	if c.p.halfLife <= 0 || dt == 0 {
		return 1
	}
	return math.Exp2(-float64(dt) / float64(c.p.halfLife))
}

func cmpSeq(x, y *group) int {
	switch {
	case x.seq < y.seq:
		return -1
	case x.seq > y.seq:
		return 1
	}
	return 0
}

// mergeBridged merges into g the other candidates whose centroids are
// close to g's: an item that fits two stories well shows they are one.
// The larger story (else the older) survives; it returns the survivor and
// the ids of the stories absorbed.
func (c *Clusterer) mergeBridged(g *group, cands []candidate) (*group, []string) {
	if c.p.merge <= 0 {
		return g, nil
	}
	var merged []string
	for _, cd := range cands {
		o := cd.g
		if o == g || c.groups[o.id] != o {
			continue
		}
		keep, gone := g, o
		if len(o.docs) > len(g.docs) || (len(o.docs) == len(g.docs) && o.seq < g.seq) {
			keep, gone = o, g
		}
		fit := centroidCosine(g, o) * c.decay(g.last.Sub(o.last))
		if fit < c.p.merge {
			continue
		}
		c.absorb(keep, gone)
		merged = append(merged, gone.id)
		g = keep
	}
	return g, merged
}

// centroidCosine is the cosine between two stories' centroids.
func centroidCosine(a, b *group) float64 {
	if a.norm2 <= 0 || b.norm2 <= 0 {
		return 0
	}
	if len(a.cent) > len(b.cent) {
		a, b = b, a
	}
	// Sum in a fixed order so that the result does not depend on map
	// iteration.
	ids := make([]uint32, 0, len(a.cent))
	for id := range a.cent {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var dot float64
	for _, id := range ids {
		if e := b.cent[id]; e != nil {
			dot += a.cent[id].w * e.w
		}
	}
	return dot / math.Sqrt(a.norm2*b.norm2)
}

// absorb moves every item of gone into keep and forgets gone.
func (c *Clusterer) absorb(keep, gone *group) {
	ids := make([]uint32, 0, len(gone.cent))
	for id := range gone.cent {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		c.unpost(id, gone.cent[id])
	}
	delete(c.groups, gone.id)
	for _, d := range gone.docs {
		c.add(keep, d)
		if d.key != "" {
			c.keys[d.key] = keep
		}
	}
}

func (c *Clusterer) newGroup(id, slug string, d *doc) *group {
	if slug == "" {
		slug = storySlug(d.title, id)
	}
	g := &group{id: id, slug: slug, seq: d.seq, cent: map[uint32]*centEntry{}, sources: map[string]int{}, words: map[uint32]int32{}}
	c.groups[id] = g
	return g
}

// fit accumulates how well an item fits a story, term by term.
type fit struct {
	score          float64
	shared         int
	coverD, coverG float64
}

// accumulate adds to f the item's term t, which story g holds as e.
//
// The score of an item in a story is the sum, over the terms they share,
// of the term's weight in the item times the geometric mean of its
// typicality in the story (the share of the story's items that have it,
// smoothed by one so that small stories need more evidence) and its
// specificity to the story (the share of the other items in the window
// having it that are in the story). A big story's own words keep their
// pull however common the story makes them in the window, unlike with a
// plain TF-IDF cosine, while words common to many stories count little.
//
// Words of multi-word names count only as far as they name the same thing
// on both sides. A word the item holds only inside names ("Korea" of
// "North Korea") counts fully when the story holds one of those names (or
// a stretch of one: see namesOf), and otherwise only for the story's items
// that hold the word on its own: a story of "South Korea" gets nothing
// from it. A word the item holds on its own counts fully: "Korea" alone
// may mean either.
func (c *Clusterer) accumulate(f *fit, g *group, d *doc, t docTerm, e *centEntry) {
	n := e.n
	if t.comp && !d.sharesName(g, t.id) {
		n = e.full
	}
	if n <= 0 {
		return
	}
	if t.w >= c.p.minW {
		f.shared++
	}
	f.coverD += t.w * t.w
	f.coverG += e.w * e.w
	typ := float64(n) / float64(len(g.docs)+1)
	spec := float64(n) / math.Max(1, float64(c.terms[t.id].df-1))
	f.score += t.w * math.Sqrt(typ*spec)
}

// sharesName reports whether g holds one of the names of d that word is a
// word of.
func (d *doc) sharesName(g *group, word uint32) bool {
	for _, p := range d.parts {
		if p.word == word && g.cent[p.whole] != nil {
			return true
		}
	}
	return false
}

// final is the accumulated score, or 0 when g is a story of a single item
// and the two share less than two terms, or less than minCover of either's
// weight: that is how unrelated headlines collide ("criminal probe" and
// "criminally abusing"; "US-China talks resume" and "Brexit talks resume").
func (c *Clusterer) final(g *group, f *fit) float64 {
	if len(g.docs) <= c.p.minShared {
		if f.shared < 2 {
			return 0
		}
		if g.norm2 > 0 && min(f.coverD, f.coverG/g.norm2) < c.p.minCover {
			return 0
		}
	}
	return f.score
}

// dot is d's dot product with g's centroid.
func (g *group) dot(d *doc) float64 {
	var s float64
	for _, t := range d.terms {
		if e := g.cent[t.id]; e != nil {
			s += t.w * e.w
		}
	}
	return s
}

func (c *Clusterer) join(g *group, d *doc) {
	c.add(g, d)
	if d.key != "" && c.keys[d.key] == nil {
		c.keys[d.key] = g
	}
}

// add puts d's vector into g's centroid and postings.
func (c *Clusterer) add(g *group, d *doc) {
	dot := g.dot(d)
	var self float64
	for _, t := range d.terms {
		self += t.w * t.w
		e := g.cent[t.id]
		if e == nil {
			ti := &c.terms[t.id]
			e = &centEntry{pos: int32(len(ti.post))}
			ti.post = append(ti.post, posting{g, e})
			g.cent[t.id] = e
		}
		e.w += t.w
		e.n++
		if !t.comp {
			e.full++
		}
	}
	g.norm2 += 2*dot + self
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
	dot := g.dot(d)
	var self float64
	for _, t := range d.terms {
		self += t.w * t.w
		e := g.cent[t.id]
		e.w -= t.w
		e.n--
		if !t.comp {
			e.full--
		}
		if e.n == 0 {
			c.unpost(t.id, e)
			delete(g.cent, t.id)
		}
	}
	g.norm2 -= 2*dot - self
	if g.norm2 < 0 || len(g.cent) == 0 {
		g.norm2 = 0
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

// release forgets term id once no live item holds it or has it in its title.
func (c *Clusterer) release(id uint32) {
	if ti := &c.terms[id]; ti.df == 0 && ti.refs == 0 {
		delete(c.vocab, ti.term)
		*ti = termInfo{}
		c.free = append(c.free, id)
	}
}

func (g *group) hasKey(key string) bool {
	for _, d := range g.docs {
		if d.key == key {
			return true
		}
	}
	return false
}

// unpost removes g's entry e from term id's postings.
func (c *Clusterer) unpost(id uint32, e *centEntry) {
	post := c.terms[id].post
	last := int32(len(post) - 1)
	if e.pos != last {
		post[e.pos] = post[last]
		post[e.pos].e.pos = e.pos
	}
	post[last] = posting{}
	c.terms[id].post = post[:last]
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

// docHeap orders items by time, then arrival, for eviction.
type docHeap []*doc

func (h docHeap) Len() int { return len(h) }
func (h docHeap) Less(i, j int) bool {
	if !h[i].t.Equal(h[j].t) {
		return h[i].t.Before(h[j].t)
	}
	return h[i].seq < h[j].seq
}
func (h docHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].heapIdx = i
	h[j].heapIdx = j
}
func (h *docHeap) Push(x any) {
	d := x.(*doc)
	d.heapIdx = len(*h)
	*h = append(*h, d)
}
func (h *docHeap) Pop() any {
	old := *h
	d := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return d
}
