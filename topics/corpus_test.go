package topics

import (
	"cmp"
	"encoding/csv"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/broadsheet/broadsheet/feeds"
	"github.com/broadsheet/broadsheet/internal/testcorpus"
)

// labelled is one corpus headline with its true story.
type labelled struct {
	a     feeds.Article
	story string
}

// loadCorpus reads a story-labelled file of the shared corpus (see its
// README): id, title, url, publisher, story, timestamp (Unix ms), and
// summary when the file has it, which becomes the Excerpt as fetch would
// cut it. Rows must be in timestamp order.
func loadCorpus(t testing.TB, name string) []labelled {
	t.Helper()
	dir := testcorpus.Dir(t, "stories")
	f, err := os.Open(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	head, err := r.Read()
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	col := map[string]int{}
	for i, h := range head {
		col[h] = i
	}
	for _, h := range []string{"id", "title", "url", "publisher", "story", "timestamp"} {
		if _, ok := col[h]; !ok {
			t.Fatalf("%s lacks column %q", name, h)
		}
	}
	sum, hasSummary := col["summary"]
	var out []labelled
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		ms, err := strconv.ParseInt(rec[col["timestamp"]], 10, 64)
		if err != nil {
			t.Fatalf("%s row %s: %v", name, rec[col["id"]], err)
		}
		a := feeds.Article{
			Source:    rec[col["publisher"]],
			Identity:  rec[col["id"]],
			Link:      rec[col["url"]],
			Title:     rec[col["title"]],
			Published: time.UnixMilli(ms).UTC(),
		}
		if hasSummary {
			a.Excerpt = excerptOf(rec[sum])
		}
		a.ID = feeds.ArticleID(a.Source, a.Identity)
		out = append(out, labelled{a: a, story: rec[col["story"]]})
	}
	for i := 1; i < len(out); i++ {
		if out[i].a.Published.Before(out[i-1].a.Published) {
			t.Fatalf("%s: rows not in timestamp order at %d", name, i)
		}
	}
	return out
}

// excerptOf cuts a feed description as fetch cuts Article.Excerpt: 280
// runes, at a space, with an ellipsis.
func excerptOf(s string) string {
	const n = 280
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	rs := []rune(s)[:n-1]
	keep := string(rs)
	if sp := strings.LastIndexByte(keep, ' '); sp > len(keep)/2 {
		keep = keep[:sp]
	}
	return keep + "…"
}

// regime lays a corpus out again in time.
type regime struct {
	name string
	// perBatch is how many events are live at once, 0 for all of them;
	// each batch has its events' starts spread over spread, and batches
	// follow one another far enough apart that no window holds two.
	perBatch int
	spread   time.Duration
}

var basilRegimes = []regime{
	{name: "packed", perBatch: 0, spread: 48 * time.Hour},
	{name: "sparse", perBatch: -10, spread: 48 * time.Hour}, // a tenth of the events at a time
	{name: "thin", perBatch: 3, spread: 48 * time.Hour},
}

// layout re-times items event by event: each event keeps the spacing of
// its own items, its start is placed by a hash of its id within spread
// of its batch's start, and events are batched in the order of that hash.
func layout(items []labelled, rg regime) []labelled {
	type event struct {
		id    string
		first time.Time
		h     uint64
	}
	evs := map[string]*event{}
	var order []*event
	for _, it := range items {
		e := evs[it.story]
		if e == nil {
			h := fnv.New64a()
			h.Write([]byte(it.story))
			e = &event{id: it.story, first: it.a.Published, h: h.Sum64()}
			evs[it.story] = e
			order = append(order, e)
		}
		if it.a.Published.Before(e.first) {
			e.first = it.a.Published
		}
	}
	slices.SortFunc(order, func(a, b *event) int { return cmp.Compare(a.h, b.h) })
	per := rg.perBatch
	switch {
	case per == 0:
		per = len(order)
	case per < 0:
		per = (len(order) + (-per) - 1) / (-per)
	}
	base := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	const gap = 14 * 24 * time.Hour // more than a window plus an event's span
	start := map[string]time.Time{}
	for i, e := range order {
		b := base.Add(time.Duration(i/per) * gap)
		off := time.Duration(e.h>>11%uint64(rg.spread/time.Minute)) * time.Minute
		start[e.id] = b.Add(off)
	}
	out := make([]labelled, len(items))
	for i, it := range items {
		e := evs[it.story]
		it.a.Published = start[e.id].Add(it.a.Published.Sub(e.first))
		out[i] = it
	}
	slices.SortStableFunc(out, func(a, b labelled) int { return a.a.Published.Compare(b.a.Published) })
	return out
}

// arrive simulates fetch: every poll interval each source is fetched, in
// an order drawn from rng, and stores the items published since its last
// fetch with FirstSeen a second apart per source in that order. It returns
// the items in the order the assigner takes them: (FirstSeen, ID).
func arrive(items []labelled, poll time.Duration, rng *rand.Rand) []labelled {
	out := slices.Clone(items)
	rounds := map[int64][]string{} // round -> shuffled sources
	for i := range out {
		a := &out[i].a
		r := a.Published.Add(poll - 1).Truncate(poll)
		srcs, ok := rounds[r.Unix()]
		if !ok {
			seen := map[string]bool{}
			for _, it := range items {
				if !seen[it.a.Source] {
					seen[it.a.Source] = true
					srcs = append(srcs, it.a.Source)
				}
			}
			if rng != nil {
				rng.Shuffle(len(srcs), func(i, j int) { srcs[i], srcs[j] = srcs[j], srcs[i] })
			}
			rounds[r.Unix()] = srcs
		}
		a.FirstSeen = r.Add(time.Duration(slices.Index(srcs, a.Source)) * time.Millisecond)
	}
	slices.SortFunc(out, func(a, b labelled) int {
		if c := a.a.FirstSeen.Compare(b.a.FirstSeen); c != 0 {
			return c
		}
		return strings.Compare(a.a.ID, b.a.ID)
	})
	return out
}

// stream adds items to c as the assigner does: a pass after each poll
// (items first seen in the same poll interval), which evicts to the pass's
// time minus the window and then adds the pass's items in (item time, ID)
// order. With poll 0 it is one pass after everything was fetched. It
// returns each item's final story, following the merges reported on the
// way, by item id.
func stream(c *Clusterer, items []labelled, poll time.Duration) map[string]string {
	story := map[string]string{}
	into := map[string]string{} // merged story -> the story it went into
	find := func(s string) string {
		for into[s] != "" {
			s = into[s]
		}
		return s
	}
	for len(items) > 0 {
		n := len(items)
		if poll > 0 {
			r := items[0].a.FirstSeen.Truncate(poll)
			n = 1
			for n < len(items) && items[n].a.FirstSeen.Truncate(poll).Equal(r) {
				n++
			}
		}
		pass := slices.Clone(items[:n])
		items = items[n:]
		now := pass[len(pass)-1].a.FirstSeen
		c.Evict(now.Add(-c.window))
		slices.SortFunc(pass, func(x, y labelled) int {
			if d := itemTime(x.a, time.Time{}).Compare(itemTime(y.a, time.Time{})); d != 0 {
				return d
			}
			return strings.Compare(x.a.ID, y.a.ID)
		})
		for _, it := range pass {
			as := c.Add(it.a)
			story[it.a.ID] = as.StoryID
			for _, m := range as.Merged {
				into[m] = as.StoryID
			}
		}
	}
	for id, s := range story {
		story[id] = find(s)
	}
	return story
}

// partition lists each item's story in items' order.
func partition(items []labelled, story map[string]string) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = story[it.a.ID]
	}
	return out
}

// samePartition reports whether two labellings group the items alike,
// whatever the labels.
func samePartition(a, b []string) bool {
	ab, ba := map[string]string{}, map[string]string{}
	for i := range a {
		if x, ok := ab[a[i]]; ok && x != b[i] {
			return false
		}
		if x, ok := ba[b[i]]; ok && x != a[i] {
			return false
		}
		ab[a[i]], ba[b[i]] = b[i], a[i]
	}
	return true
}
