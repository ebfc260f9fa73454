package topics

import (
	"container/heap"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/broadsheet/broadsheet/feeds"
)

// DefaultWindow is how long a story stays open to new items when
// Options.Window is zero.
const DefaultWindow = 72 * time.Hour

// DefaultThreshold is the cosine similarity an item needs with a story's
// centroid to join it when Options.Threshold is zero. It was tuned on the
// story-labelled headlines in the shared corpus (see TestQuality_Stories).
const DefaultThreshold = 0.25

// Options tunes a Clusterer. The zero value is ready to use.
type Options struct {
	// Window is how far back, by item time, stories stay open: items older
	// than the newest item's time minus Window are dropped, and with them
	// the stories they alone kept open. Default DefaultWindow.
	Window time.Duration
	// Threshold is the cosine similarity, between 0 and 1, an item needs
	// with a story's centroid to join it. Lower merges more. 0 means
	// DefaultThreshold.
	Threshold float64
}

// Assignment is the story an article was put in.
type Assignment struct {
	StoryID string // "s" and the founding article's id; never changes
	Slug    string // from the founding title, with an id suffix; never changes
	Label   string // the story's most central headline; may change as items join
	Size    int    // items in the story, this one included
	New     bool   // this article founded the story
	// Merged lists stories this article showed to be the same as StoryID
	// and that were absorbed into it: their articles now belong to
	// StoryID, and their ids are no longer used.
	Merged []string
}

// Group is a snapshot of one story.
type Group struct {
	ID         string
	Slug       string
	Label      string
	ArticleIDs []string  // in the order they joined
	Sources    []string  // distinct, sorted
	First      time.Time // the oldest item's time
	Last       time.Time // the newest item's time
}

// Stats counts what a Clusterer holds, to show memory is bounded by the
// window.
type Stats struct {
	Items    int // articles in the window
	Groups   int // live stories
	Terms    int // distinct terms of those articles
	Postings int // (term, story) pairs in the inverted index
}

// Clusterer groups articles into stories incrementally: each added article
// joins the most similar live story, or founds one. Similarity is the cosine
// between the article's TF-IDF vector (title above excerpt, URL and
// categories; names, acronyms and numbers boosted; document frequencies
// learned from the items in the window) and a story's centroid. Candidate
// stories come from an inverted index on the article's strongest terms, so
// the cost of an Add does not grow with the history, and memory is bounded
// by the items in the window.
//
// The same articles added in the same order give the same stories, which is
// how a restarted process rebuilds its state: replay the window ordered by
// (FirstSeen, ID), or Restore the persisted assignments. A Clusterer is safe
// for concurrent use; Add calls are serialized.
type Clusterer struct {
	mu        sync.Mutex
	window    time.Duration
	threshold float64
	p         params

	docs   map[string]*doc   // by article id
	groups map[string]*group // by story id
	keys   map[string]*group // by Article.StoryKey
	byTime docHeap
	high   time.Time // newest item time seen
	seq    uint64

	trace func(d *doc, g *group, sim float64)

	vocab map[string]uint32
	terms []termInfo
	free  []uint32

	srcDocs  map[string]int32 // items in the window per source
	srcTerms map[srcTerm]int32
}

// srcTerm counts a term's items from one source, to spot boilerplate.
type srcTerm struct {
	src string
	id  uint32
}

type termInfo struct {
	term     string
	df       int32
	cap, low int32
	groups   []*group // postings: stories whose centroid holds the term
}

type docTerm struct {
	id       uint32
	w        float64 // unit-length TF-IDF weight, IDF as of the item's arrival
	cap, low int8
}

type doc struct {
	id, source, title, key string
	t                      time.Time
	seq                    uint64
	terms                  []docTerm
	g                      *group
	heapIdx                int
}

type centEntry struct {
	w   float64
	n   int32 // members holding the term
	pos int32 // index in the term's postings
}

type group struct {
	id, slug   string
	seq        uint64
	docs       []*doc
	cent       map[uint32]*centEntry
	norm2      float64
	sources    map[string]int
	label      *doc
	labelScore float64
	mark       uint64 // last seq this group was scored for
	last       time.Time
}

// NewClusterer returns an empty Clusterer.
func NewClusterer(opts Options) *Clusterer {
	if opts.Window <= 0 {
		opts.Window = DefaultWindow
	}
	if opts.Threshold <= 0 {
		opts.Threshold = DefaultThreshold
	}
	return &Clusterer{
		window:    opts.Window,
		threshold: opts.Threshold,
		p:         defaultParams,
		docs:      map[string]*doc{},
		groups:    map[string]*group{},
		keys:      map[string]*group{},
		vocab:     map[string]uint32{},
		srcDocs:   map[string]int32{},
		srcTerms:  map[srcTerm]int32{},
	}
}

// Add assigns a to a story and returns it. An article already added (by
// ID) keeps its story. An article older than the window founds a story of
// its own that is not kept.
func (c *Clusterer) Add(a feeds.Article) Assignment {
	c.mu.Lock()
	defer c.mu.Unlock()
	id := articleKey(a)
	if d, ok := c.docs[id]; ok {
		return d.g.assignment(false)
	}
	t, ok := c.advance(a)
	if !ok {
		g := &group{id: storyID(id)}
		g.slug = storySlug(a.Title, g.id)
		return Assignment{StoryID: g.id, Slug: g.slug, Label: a.Title, Size: 1, New: true}
	}
	d := c.newDoc(a, id, t)
	cands := c.choose(d)
	if len(cands) == 0 {
		g := c.newGroup(storyID(id), "", d)
		c.join(g, d)
		return g.assignment(true)
	}
	g := cands[0].g
	c.join(g, d)
	g, merged := c.mergeBridged(g, cands[1:])
	as := g.assignment(false)
	as.Merged = merged
	return as
}

// ErrNoStory is returned by Restore for an assignment without a story id.
var ErrNoStory = errors.New("topics: assignment has no story id")

// Restore puts a back into the story as says, without comparing it with
// anything: use it at start-up to rebuild the window from persisted
// assignments, in (FirstSeen, ID) order, so that stories keep their ids and
// members exactly. Articles already present or older than the window are
// ignored.
func (c *Clusterer) Restore(a feeds.Article, as Assignment) error {
	if as.StoryID == "" {
		return ErrNoStory
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	id := articleKey(a)
	if _, ok := c.docs[id]; ok {
		return nil
	}
	t, ok := c.advance(a)
	if !ok {
		return nil
	}
	d := c.newDoc(a, id, t)
	g := c.groups[as.StoryID]
	if g == nil {
		g = c.newGroup(as.StoryID, as.Slug, d)
	}
	c.join(g, d)
	return nil
}

// Assignment returns the story of a live article.
func (c *Clusterer) Assignment(articleID string) (Assignment, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	d, ok := c.docs[articleID]
	if !ok {
		return Assignment{}, false
	}
	return d.g.assignment(false), true
}

// Remove drops an article (deleted from the store, say) from its story.
// It reports whether the article was present.
func (c *Clusterer) Remove(articleID string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	d, ok := c.docs[articleID]
	if ok {
		c.drop(d)
	}
	return ok
}

// Evict drops the items older than now minus the window, and the stories
// left empty, as Add does with the newest item's time. Call it from a clock
// to close stories when no items arrive.
func (c *Clusterer) Evict(now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if now.After(c.high) {
		c.high = now
	}
	c.evict()
}

// Groups returns the live stories, largest first, then most recent, then by
// id.
func (c *Clusterer) Groups() []Group {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]Group, 0, len(c.groups))
	for _, g := range c.groups {
		out = append(out, g.snapshot())
	}
	slices.SortFunc(out, func(a, b Group) int {
		if d := len(b.ArticleIDs) - len(a.ArticleIDs); d != 0 {
			return d
		}
		if d := b.Last.Compare(a.Last); d != 0 {
			return d
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out
}

// Stats counts what the Clusterer holds.
func (c *Clusterer) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := Stats{Items: len(c.docs), Groups: len(c.groups), Terms: len(c.vocab)}
	for _, g := range c.groups {
		s.Postings += len(g.cent)
	}
	return s
}

// itemTime is when an article happened for the window: Published, else
// FirstSeen; a Published after FirstSeen is a wrong clock and FirstSeen
// wins. Without either, the newest time seen.
func itemTime(a feeds.Article, high time.Time) time.Time {
	t := a.Published
	if !a.FirstSeen.IsZero() && (t.IsZero() || t.After(a.FirstSeen)) {
		t = a.FirstSeen
	}
	if t.IsZero() {
		t = high
	}
	return t
}

// advance moves the clock to a's time, evicts what left the window and
// reports whether a itself is inside it.
func (c *Clusterer) advance(a feeds.Article) (time.Time, bool) {
	t := itemTime(a, c.high)
	if t.After(c.high) {
		c.high = t
	}
	c.evict()
	return t, !t.Before(c.high.Add(-c.window))
}

func (c *Clusterer) evict() {
	cut := c.high.Add(-c.window)
	for len(c.byTime) > 0 && c.byTime[0].t.Before(cut) {
		c.drop(c.byTime[0])
	}
}

// articleKey is the article's id, or for articles not yet stored a digest
// of what identifies them.
func articleKey(a feeds.Article) string {
	if a.ID != "" {
		return a.ID
	}
	ident := a.Identity
	if ident == "" {
		ident = a.Link + "\x00" + a.Title
	}
	return feeds.ArticleID(a.Source, ident)
}

// storyID derives a story's id from its founding article's id: the whole
// id, so that two stories never share one.
func storyID(articleID string) string {
	for i := 0; i < len(articleID); i++ {
		ch := articleID[i]
		if (ch < '0' || ch > '9') && (ch < 'a' || ch > 'f') {
			sum := sha256.Sum256([]byte(articleID))
			return "s" + hex.EncodeToString(sum[:10])
		}
	}
	return "s" + articleID
}

// storySlug is the first words of the founding title and six characters of
// the story id, readable and unique.
func storySlug(title, id string) string {
	suffix := strings.TrimPrefix(id, "s")
	if len(suffix) > 6 {
		suffix = suffix[:6]
	}
	words := strings.Split(feeds.Slugify(fold(title)), "-")
	var b strings.Builder
	for _, w := range words {
		if w == "" {
			continue
		}
		if b.Len() > 0 && b.Len()+len(w) > 48 {
			break
		}
		b.WriteString(w)
		b.WriteByte('-')
		if strings.Count(b.String(), "-") == 6 {
			break
		}
	}
	if b.Len() == 0 {
		b.WriteString("story-")
	}
	return b.String() + suffix
}

// newDoc analyzes a, records its terms in the vocabulary and builds its
// unit TF-IDF vector.
func (c *Clusterer) newDoc(a feeds.Article, id string, t time.Time) *doc {
	c.seq++
	raw := analyze(a, &c.p, c)
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
		d.terms = append(d.terms, docTerm{id: tid, w: r.w, cap: r.cap, low: r.low})
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
		if ns := c.srcTerms[srcTerm{d.source, dt.id}]; ns >= 3 && 10*ns >= 8*df && 10*ns >= 3*srcN {
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

func (c *Clusterer) capitalized(term string) (int, int) {
	if id, ok := c.vocab[term]; ok {
		return int(c.terms[id].cap), int(c.terms[id].low)
	}
	return 0, 0
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
	top := make([]docTerm, len(d.terms))
	copy(top, d.terms)
	slices.SortFunc(top, func(x, y docTerm) int {
		if x.w != y.w {
			if x.w > y.w {
				return -1
			}
			return 1
		}
		return int(x.id) - int(y.id)
	})
	if len(top) > c.p.topK {
		top = top[:c.p.topK]
	}
	var out []candidate
	for _, tt := range top {
		post := c.terms[tt.id].groups
		if len(post) > c.p.posting {
			continue
		}
		for _, g := range post {
			if g.mark == d.seq {
				continue
			}
			g.mark = d.seq
			sim := c.score(g, d) * c.decay(d.t.Sub(g.last))
			if c.trace != nil {
				c.trace(d, g, sim)
			}
			need := c.threshold
			if g.sources[d.source] > 0 {
				need += c.p.margin
			}
			if sim >= need {
				out = append(out, candidate{g, sim})
			}
		}
	}
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
		c.unpost(id, gone, gone.cent[id].pos)
	}
	delete(c.groups, gone.id)
	for _, d := range gone.docs {
		c.add(keep, d)
		if d.key != "" {
			c.keys[d.key] = keep
		}
	}
	keep.label = nil
	keep.relabel(nil)
}

func (c *Clusterer) newGroup(id, slug string, d *doc) *group {
	if slug == "" {
		slug = storySlug(d.title, id)
	}
	g := &group{id: id, slug: slug, seq: d.seq, cent: map[uint32]*centEntry{}, sources: map[string]int{}}
	c.groups[id] = g
	return g
}

// score is how well d fits g.
func (c *Clusterer) score(g *group, d *doc) float64 {
	switch c.p.score {
	case 1: // coverage, L2 doc
		var s float64
		n := float64(len(g.docs)) + c.p.smooth
		for _, t := range d.terms {
			if e := g.cent[t.id]; e != nil {
				s += t.w * float64(e.n) / n
			}
		}
		return s
	case 3, 4: // coverage times specificity
		var s float64
		n := float64(len(g.docs)) + c.p.smooth
		shared := 0
		for _, t := range d.terms {
			if e := g.cent[t.id]; e != nil {
				if t.w >= c.p.minW {
					shared++
				}
				typ := float64(e.n) / n
				spec := float64(e.n) / math.Max(1, float64(c.terms[t.id].df-1))
				if c.p.score == 3 {
					s += t.w * math.Sqrt(typ*spec)
				} else {
					s += t.w * spec
				}
			}
		}
		if shared < 2 && len(g.docs) <= c.p.minShared {
			return 0
		}
		return s
	case 2: // coverage, L1 doc
		var s, l1 float64
		n := float64(len(g.docs))
		for _, t := range d.terms {
			l1 += t.w
			if e := g.cent[t.id]; e != nil {
				s += t.w * float64(e.n) / n
			}
		}
		return s / l1
	}
	return g.similarity(d)
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

// similarity is the cosine between d and g's centroid.
func (g *group) similarity(d *doc) float64 {
	if g.norm2 <= 0 {
		return 0
	}
	return g.dot(d) / math.Sqrt(g.norm2)
}

func (c *Clusterer) join(g *group, d *doc) {
	c.add(g, d)
	if d.key != "" && c.keys[d.key] == nil {
		c.keys[d.key] = g
	}
	g.relabel(d)
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
			e = &centEntry{pos: int32(len(ti.groups))}
			ti.groups = append(ti.groups, g)
			g.cent[t.id] = e
		}
		e.w += t.w
		e.n++
	}
	g.norm2 += 2*dot + self
	g.docs = append(g.docs, d)
	if d.t.After(g.last) {
		g.last = d.t
	}
	g.sources[d.source]++
	d.g = g
}

// relabel keeps g.label the member closest to the centroid. Each join
// compares the newcomer with the current label; at sizes that are powers of
// two every member is rescored, which costs O(1) per join amortized.
func (g *group) relabel(joined *doc) {
	n := len(g.docs)
	if n == 0 {
		g.label = nil
		return
	}
	if g.label == nil || n&(n-1) == 0 {
		g.label, g.labelScore = nil, -1
		for _, d := range g.docs {
			if s := g.similarity(d); s > g.labelScore {
				g.label, g.labelScore = d, s
			}
		}
		return
	}
	g.labelScore = g.similarity(g.label)
	if joined != nil {
		if s := g.similarity(joined); s > g.labelScore {
			g.label, g.labelScore = joined, s
		}
	}
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
		if e.n == 0 {
			c.unpost(t.id, g, e.pos)
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
	if d.key != "" && c.keys[d.key] == g && !g.hasKey(d.key) {
		delete(c.keys, d.key)
	}
	if len(g.docs) == 0 {
		delete(c.groups, g.id)
	} else if g.label == d {
		g.label = nil
		g.relabel(nil)
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
		if ti.df == 0 {
			delete(c.vocab, ti.term)
			*ti = termInfo{}
			c.free = append(c.free, t.id)
		}
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

// unpost removes g from term id's postings, at index pos.
func (c *Clusterer) unpost(id uint32, g *group, pos int32) {
	post := c.terms[id].groups
	last := int32(len(post) - 1)
	if pos != last {
		moved := post[last]
		post[pos] = moved
		moved.cent[id].pos = pos
	}
	post[last] = nil
	c.terms[id].groups = post[:last]
}

func (g *group) assignment(isNew bool) Assignment {
	label := ""
	if g.label != nil {
		label = g.label.title
	}
	return Assignment{StoryID: g.id, Slug: g.slug, Label: label, Size: len(g.docs), New: isNew}
}

func (g *group) snapshot() Group {
	s := Group{ID: g.id, Slug: g.slug, ArticleIDs: make([]string, len(g.docs))}
	if g.label != nil {
		s.Label = g.label.title
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
