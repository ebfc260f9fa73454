package topics

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
	bg       *bgEntry  // the term's background count, if it has one
}

// posting is one story holding a term, with its centroid entry for it.
type posting struct {
	g *group
	e *centEntry
}

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
	c.terms[id] = termInfo{term: term, bg: c.bg[term]}
	c.vocab[term] = id
	return id
}

// release forgets term id once no live item holds it or has it in its title.
func (c *Clusterer) release(id uint32) {
	if ti := &c.terms[id]; ti.df == 0 && ti.refs == 0 {
		delete(c.vocab, ti.term)
		*ti = termInfo{}
		c.free = append(c.free, id)
	}
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
