package topics

import (
	"container/heap"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/broadsheet/broadsheet/feeds"
)

type docTerm struct {
	id uint32
	// w is the unit-length TF-IDF weight with the window's IDF as the item
	// arrives, for choosing its story only.
	w float64
	// q is the field weight without IDF, the item's field weights scaled
	// to unit length, in fixed point (see fixedOne): the centroids sum it,
	// and IDF is applied when they are scored, so that a story's centroid
	// is a function of its members whatever the order they came in or
	// were restored in, and integer sums are exact in any order.
	q        int64
	cap, low int8
	comp     bool // only a word of the item's multi-word names (see rawTerm)
	field    int8 // 0 title, 1 lede (see rawTerm.lede)
}

// fixedOne is 1 in the fixed point of docTerm.q and centEntry.q.
const fixedOne = 1 << 30

// part ties a word to a multi-word name of the item it is a word of.
type part struct {
	word, whole uint32
}

type doc struct {
	id, source, title, key string
	t                      time.Time
	editorial              bool   // comments on the news: its decay starts late (see decayFor)
	seq                    uint64 // arrival counter, to mark scratch state
	terms                  []docTerm
	parts                  []part   // for the terms marked comp, while choosing
	words                  []uint32 // distinct words of the title, for the label
	g                      *group
	heapIdx                int
}

// newDoc analyzes a, records its terms in the vocabulary and builds its
// unit TF-IDF vector.
func (c *Clusterer) newDoc(a feeds.Article, id string, t time.Time) *doc {
	c.seq++
	raw, words := analyze(a, &c.p, c)
	d := &doc{id: id, source: a.Source, title: a.Title, key: a.LinkKey, t: t, seq: c.seq, editorial: a.Kind == feeds.KindEditorial}
	d.terms = make([]docTerm, 0, len(raw))
	c.srcDocs[d.source]++
	for _, r := range raw {
		tid := c.intern(r.term)
		ti := &c.terms[tid]
		ti.df++
		ti.cap += int32(r.cap)
		ti.low += int32(r.low)
		c.srcTerms[srcTerm{d.source, tid}]++
		dt := docTerm{id: tid, w: r.w, cap: r.cap, low: r.low, comp: r.comp}
		if r.lede {
			dt.field = 1
		}
		d.terms = append(d.terms, dt)
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
	fieldW := func(i int) float64 {
		if raw[i].lede {
			return c.p.excerptW
		}
		return 1
	}
	scale(d.terms, raw, fieldW, func(dt *docTerm) *float64 { return &dt.w })
	for i := range d.terms {
		d.terms[i].q = int64(math.Round(d.terms[i].w * fixedOne))
	}
	c.docs[id] = d
	for i := range d.terms {
		dt := &d.terms[i]
		dt.w = raw[i].w * c.idf(dt.id) * c.boilerplate(d.source, dt.id)
	}
	scale(d.terms, raw, fieldW, func(dt *docTerm) *float64 { return &dt.w })
	heap.Push(&c.byTime, d)
	return d
}

// scale makes each field of terms (the title's, the lede's: see
// rawTerm.lede) unit length times its weight fieldW, then the whole unit
// length, so that a lede counts as one field however long it is.
func scale(terms []docTerm, raw []rawTerm, fieldW func(int) float64, w func(*docTerm) *float64) {
	var n2 [2]float64
	field := func(i int) int {
		if raw[i].lede {
			return 1
		}
		return 0
	}
	for i := range terms {
		x := *w(&terms[i])
		n2[field(i)] += x * x
	}
	var total float64
	f := [2]float64{}
	for k := range n2 {
		if n2[k] > 0 {
			f[k] = 1 / math.Sqrt(n2[k])
		}
	}
	for i := range terms {
		p := w(&terms[i])
		*p *= f[field(i)] * fieldW(i)
		total += *p * *p
	}
	if total > 0 {
		total = math.Sqrt(total)
		for i := range terms {
			*w(&terms[i]) /= total
		}
	}
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
	mark := ""
	if strings.HasPrefix(term, ledeMark) {
		mark, term = ledeMark, term[len(ledeMark):]
	}
	for _, whole := range names {
		add(whole)
		words := strings.Fields(strings.TrimPrefix(whole, mark))
		for i, w := range words {
			if w != term {
				continue
			}
			for a := max(0, i-maxSubName+1); a <= i; a++ {
				for b := max(i+1, a+2); b <= len(words) && b-a <= maxSubName; b++ {
					if a > 0 || b < len(words) {
						add(mark + strings.Join(words[a:b], " "))
					}
				}
			}
		}
	}
	return parts
}

// maxSubName bounds the stretches of a long name that namesOf tries.
const maxSubName = 4

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

// boilerplate is the multiplier of term id in an item of src: a term that
// nearly only this source uses, in a good share of its items, is its
// boilerplate ("- WDRB 41 Louisville News"), not news: it would tie the
// source's unrelated items together.
func (c *Clusterer) boilerplate(src string, id uint32) float64 {
	ns, df := c.srcTerms[srcTerm{src, id}], c.terms[id].df
	if ns >= 2 && 10*ns >= 8*df && 10*ns >= 3*c.srcDocs[src] {
		return c.p.boiler
	}
	return 1
}

// docHeap orders items by time, then id, for eviction.
type docHeap []*doc

func (h docHeap) Len() int { return len(h) }

func (h docHeap) Less(i, j int) bool {
	if !h[i].t.Equal(h[j].t) {
		return h[i].t.Before(h[j].t)
	}
	return h[i].id < h[j].id
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
