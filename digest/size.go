package digest

import (
	"cmp"
	"context"
	"slices"

	"github.com/broadsheet/broadsheet/sanitize"
	"github.com/broadsheet/broadsheet/store"
	"github.com/broadsheet/broadsheet/topics"
)

// Trimming a digest to the mail server's size limit. A message over the
// limit is refused (552) for every recipient, and would be again at every
// attempt; so it is cut down until it fits, in steps, each measured:
// excerpts shortened and long titles cut, then excerpts dropped, then whole
// stories left out (an outsized one first, else the lowest ranked), never a
// single outlet's item of a story, so that a story's grouping is kept. The
// digest says how many items were left out (Data.LeftOut).

const (
	// trimExcerpt and trimTitle are the lengths, in characters, excerpts
	// and titles, authors and outlets are cut to at the first step.
	trimExcerpt = 100
	trimTitle   = 200
	// storyOverhead estimates the markup a story costs beyond its text.
	storyOverhead = 600
	// outsized is how many times the median story's size makes one left
	// out first.
	outsized = 4
)

// fit renders del to at most budget bytes as sz measures them (budget 0:
// no limit). It returns the message and how many items it left out; a
// message that fits no way (no stories left, still too big) is returned as
// small as it gets, for the mail system to refuse.
func (s *Service) fit(ctx context.Context, d Digest, del store.Delivery, display string, cache map[string][]topics.Group, sz Sizer, budget int64) (*Message, int, error) {
	full, err := s.load(ctx, d, del, cache)
	if err != nil {
		return nil, 0, err
	}
	msg, err := s.compose(ctx, d, del, full, display, 0)
	if err != nil || sz == nil || budget <= 0 {
		return msg, 0, err
	}
	size, err := sz.Size(msg)
	if err != nil || size <= budget {
		return msg, 0, err
	}
	var gs []topics.Group
	for step := 1; step <= 2; step++ {
		gs = cut(full, step)
		if msg, err = s.compose(ctx, d, del, gs, display, 0); err != nil {
			return nil, 0, err
		}
		if size, err = sz.Size(msg); err != nil || size <= budget {
			return msg, 0, err
		}
	}
	left := 0
	for {
		costs := storyCosts(gs)
		if len(costs) == 0 {
			return msg, left, nil
		}
		raw := int64(0)
		for _, c := range costs {
			raw += c.cost
		}
		// Leave out enough to save the overflow, scaled from the message's
		// size to the text's (each text is in both parts, encoded).
		need := (size - budget) * raw / max(size, 1)
		var n int
		gs, n = leaveOut(gs, costs, max(need, 1))
		left += n
		if msg, err = s.compose(ctx, d, del, gs, display, left); err != nil {
			return nil, 0, err
		}
		if size, err = sz.Size(msg); err != nil || size <= budget {
			return msg, left, err
		}
	}
}

// cut copies gs with their items' text cut down for trimming step 1
// (excerpts shortened, long titles cut) or 2 (excerpts gone too).
func cut(gs []topics.Group, step int) []topics.Group {
	out := make([]topics.Group, len(gs))
	for gi, g := range gs {
		g.Stories = slices.Clone(g.Stories)
		for si, st := range g.Stories {
			st.Label = sanitize.Line(st.Label, trimTitle)
			st.Items = slices.Clone(st.Items)
			for ii, x := range st.Items {
				x.Title = sanitize.Line(x.Title, trimTitle)
				x.Author = sanitize.Line(x.Author, trimTitle)
				x.Source = sanitize.Line(x.Source, trimTitle)
				if step >= 2 {
					x.Excerpt = ""
				} else {
					x.Excerpt = sanitize.Line(x.Excerpt, trimExcerpt)
				}
				st.Items[ii] = x
			}
			g.Stories[si] = st
		}
		out[gi] = g
	}
	return out
}

// storyCost is a story's estimated share of a message: where it is in the
// groups, and its bytes.
type storyCost struct {
	group, story int
	items        int // its entries: outlets sharing a link (Also) are one
	cost         int64
}

func storyCosts(gs []topics.Group) []storyCost {
	var out []storyCost
	for gi, g := range gs {
		for si, st := range g.Stories {
			if len(st.Items) == 0 {
				continue
			}
			c := storyCost{group: gi, story: si, cost: storyOverhead + int64(len(st.Label))}
			for _, x := range st.Items {
				c.items++
				// The link is written in both parts and as the title's href.
				c.cost += int64(len(x.Title) + len(x.Excerpt) + len(x.Author) + len(x.Source) + 3*len(x.Link))
				for _, o := range x.Also {
					c.cost += int64(len(o))
				}
			}
			out = append(out, c)
		}
	}
	return out
}

// leaveOut removes stories from gs until their costs add up to need: an
// outsized story first, else the lowest ranked (the last). It returns the
// new groups and the number of items removed.
func leaveOut(gs []topics.Group, costs []storyCost, need int64) ([]topics.Group, int) {
	sorted := slices.Clone(costs)
	slices.SortFunc(sorted, func(a, b storyCost) int { return cmp.Compare(a.cost, b.cost) })
	median := sorted[len(sorted)/2].cost
	drop := map[[2]int]bool{}
	saved, items := int64(0), 0
	take := func(c storyCost) {
		drop[[2]int{c.group, c.story}] = true
		saved += c.cost
		items += c.items
	}
	// Outsized stories, the largest first.
	for i := len(sorted) - 1; i >= 0 && saved < need && sorted[i].cost > outsized*median; i-- {
		take(sorted[i])
	}
	for i := len(costs) - 1; i >= 0 && saved < need; i-- {
		if !drop[[2]int{costs[i].group, costs[i].story}] {
			take(costs[i])
		}
	}
	var out []topics.Group
	for gi, g := range gs {
		var kept []topics.Story
		for si, st := range g.Stories {
			if !drop[[2]int{gi, si}] && len(st.Items) > 0 {
				kept = append(kept, st)
			}
		}
		if len(kept) > 0 {
			g.Stories = kept
			out = append(out, g)
		}
	}
	return out, items
}
