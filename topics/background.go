package topics

import (
	"math"
	"time"
)

// The background: document frequencies that outlive the window.
//
// In a quiet window (three events, nine headlines) the window's own counts
// say little about which words are common: "says" and "mosque" each in
// three items weigh the same. So the items leaving the window are not
// forgotten at once: their terms' counts are kept, fading by half every
// params.bgHalfLife, and IDF adds them to the window's (see idf). Only
// counts are kept, per term, never items, and the table is pruned of
// faded terms as it grows (see bgPrune), so memory stays bounded however
// long the history. A restarted process rebuilds it from the articles it
// replays or restores before the window (assign reads a longer horizon
// than the window for that).

// bgEntry is a term's faded count, in units of bgClock's reference time.
type bgEntry struct{ v float64 }

// bgClock keeps all faded counts relative to one reference time, so that
// adding an item costs one multiplication, not a pass over the table.
type bgClock struct {
	ref   time.Time
	now   float64 // factor from ref to c.high: exp2(-(high-ref)/halfLife)
	total float64 // items, faded, at ref
	next  int     // table size at which to prune again
}

// bgFloor is the faded count, as of now, under which a term is dropped
// from the background when it is pruned.
const bgFloor = 0.25

// bgMax bounds the background's terms: past it, pruning raises its floor.
const bgMax = 1 << 18

// remember adds d, leaving the window, to the background.
func (c *Clusterer) remember(d *doc) {
	if c.p.bgHalfLife <= 0 {
		return
	}
	if c.bgc.ref.IsZero() {
		c.bgc.ref = d.t
		c.bgTime()
	}
	x := math.Exp2(float64(d.t.Sub(c.bgc.ref)) / float64(c.p.bgHalfLife))
	c.bgc.total += x
	for _, t := range d.terms {
		ti := &c.terms[t.id]
		if ti.bg == nil {
			ti.bg = c.bg[ti.term]
			if ti.bg == nil {
				ti.bg = &bgEntry{}
				c.bg[ti.term] = ti.bg
			}
		}
		ti.bg.v += x
	}
	if len(c.bg) >= c.bgc.next {
		c.bgPrune()
	}
}

// bgTime updates the factor to now (c.high) and moves the reference time
// up before the counts could overflow.
func (c *Clusterer) bgTime() {
	if c.p.bgHalfLife <= 0 || c.bgc.ref.IsZero() {
		return
	}
	if c.high.Sub(c.bgc.ref) > 64*c.p.bgHalfLife {
		c.bgPrune()
		return
	}
	c.bgc.now = math.Exp2(-float64(c.high.Sub(c.bgc.ref)) / float64(c.p.bgHalfLife))
}

// bgPrune rebases the counts to now and drops the faded ones, raising the
// floor until at most bgMax/2 terms are left; live terms keep theirs.
func (c *Clusterer) bgPrune() {
	if c.high.After(c.bgc.ref) {
		f := math.Exp2(-float64(c.high.Sub(c.bgc.ref)) / float64(c.p.bgHalfLife))
		for _, e := range c.bg {
			e.v *= f
		}
		c.bgc.total *= f
		c.bgc.ref = c.high
	}
	c.bgc.now = 1
	for floor := bgFloor; ; floor *= 2 {
		for term, e := range c.bg {
			if e.v < floor {
				delete(c.bg, term)
			}
		}
		if len(c.bg) <= bgMax/2 {
			break
		}
	}
	// Live terms may hold an entry just dropped: keep it.
	for i := range c.terms {
		if ti := &c.terms[i]; ti.bg != nil && ti.term != "" {
			c.bg[ti.term] = ti.bg
		}
	}
	c.bgc.next = max(2*len(c.bg), 1<<16)
}

// idf is term id's inverse document frequency in the window now, with the
// background's faded counts added to the window's.
func (c *Clusterer) idf(id uint32) float64 {
	ti := &c.terms[id]
	n, df := float64(len(c.docs)+1), float64(ti.df)
	if c.p.bgHalfLife > 0 {
		n += c.p.bgW * c.bgc.total * c.bgc.now
		if ti.bg != nil {
			df += c.p.bgW * ti.bg.v * c.bgc.now
		}
	}
	return math.Log(n / df)
}
