package topics

import (
	"math"
	"slices"
)

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
		if len(o.docs) > len(g.docs) || (len(o.docs) == len(g.docs) && older(o, g)) {
			keep, gone = o, g
		}
		fit := c.centroidCosine(g, o) * c.decay(g.last.Sub(o.last))
		if fit < c.p.merge {
			continue
		}
		c.absorb(keep, gone)
		merged = append(merged, gone.id)
		g = keep
	}
	return g, merged
}

// centroidCosine is the cosine between two stories' centroids, with the
// window's IDF now.
func (c *Clusterer) centroidCosine(a, b *group) float64 {
	na, nb := c.norm2(a), c.norm2(b)
	if na <= 0 || nb <= 0 {
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
			dot += c.weight(id, a.cent[id]) * c.weight(id, e)
		}
	}
	return dot / math.Sqrt(na*nb)
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
