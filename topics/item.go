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
