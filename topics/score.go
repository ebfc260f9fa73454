package topics

import (
	"math"
	"slices"
	"strings"
	"time"
)

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
		sim := c.final(g, d, &g.acc)
		if sim < c.threshold {
			continue
		}
		sim *= c.decayFor(d, g)
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
		return strings.Compare(x.g.id, y.g.id)
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

// decayFor is decay for item d and story g: an editorial's pull fades
// only for the silence beyond the editorial lag, and only if the story is
// older than d (an editorial does not make later news its own sooner).
func (c *Clusterer) decayFor(d *doc, g *group) float64 {
	dt := d.t.Sub(g.last)
	if d.editorial && dt > 0 {
		dt = max(0, dt-c.p.lag)
	}
	return c.decay(dt)
}

// fit accumulates how well an item fits a story, term by term.
type fit struct {
	score          float64
	shared         int
	coverD, coverG [2]float64 // by field (see docTerm.field)
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
	f.coverD[t.field] += t.w * t.w
	if len(g.docs) <= c.p.minShared { // only small stories need it (see final)
		eg := c.storyWeight(g, t.id, e)
		f.coverG[t.field] += eg * eg
	}
	typ := float64(n) / float64(len(g.docs)+1)
	spec := float64(n) / math.Max(1, float64(c.terms[t.id].df-1))
	f.score += t.w * math.Sqrt(typ*spec)
}

// covers reports whether d and the small story g share at least minCover
// of each one's weight in the title, or ledeCover of it in the lede: two
// ledes say more than two headlines, which share few words even when they
// report one event.
func (c *Clusterer) covers(g *group, d *doc, f *fit) bool {
	var dn [2]float64
	for _, t := range d.terms {
		dn[t.field] += t.w * t.w
	}
	gn := c.fieldNorm2(g)
	for k := range dn {
		need := c.p.minCover
		if k == 1 {
			need = c.p.ledeCover
		}
		if dn[k] > 0 && gn[k] > 0 && min(f.coverD[k]/dn[k], f.coverG[k]/gn[k]) >= need {
			return true
		}
	}
	return dn[0] == 0 && dn[1] == 0 || gn[0] == 0 && gn[1] == 0
}

// final is the accumulated score, or 0 when g is a story of a single item
// and the two share less than two terms, or less than minCover of either's
// weight: that is how unrelated headlines collide ("criminal probe" and
// "criminally abusing"; "US-China talks resume" and "Brexit talks resume").
func (c *Clusterer) final(g *group, d *doc, f *fit) float64 {
	if len(g.docs) <= c.p.minShared {
		if f.shared < 2 {
			return 0
		}
		if !c.covers(g, d, f) {
			return 0
		}
	}
	return f.score
}
