package topics

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/broadsheet/broadsheet/feeds"
)

// DefaultWindow is how long a story stays open to new items when
// Options.Window is zero.
const DefaultWindow = 72 * time.Hour

// DefaultThreshold is the score an item needs to join a story when
// Options.Threshold is zero. On the labelled headlines of the shared corpus
// it keeps B-cubed precision above 0.9 with a margin, on the whole file and
// on each half, with F1 above 0.85 (TestQuality_Stories reports it beside
// lower and higher thresholds, which trade precision for recall).
const DefaultThreshold = 0.2

// Options tunes a Clusterer. The zero value is ready to use.
type Options struct {
	// Window is how far back, by item time, stories stay open: items older
	// than the newest item's time minus Window are dropped, and with them
	// the stories they alone kept open. Default DefaultWindow.
	Window time.Duration
	// Threshold is the score an item needs to join a story (see
	// Clusterer): about 0.1 merges loosely, 0.4 strictly. 0 means
	// DefaultThreshold.
	Threshold float64
	// HalfLife is how long a story must stay silent for its pull on new
	// items to halve: news comes in bursts, and a day-old story is less
	// likely what a new item continues than one updated an hour ago. 0
	// means DefaultHalfLife; a negative value turns decay off.
	HalfLife time.Duration
}

// DefaultHalfLife is Options.HalfLife when zero.
const DefaultHalfLife = 12 * time.Hour

// DefaultBackgroundHalfLife is how fast the counts of items gone from the
// window fade (see background.go): slowly, for IDF is about the language,
// not the news of the week. On the few-outlets file laid out three events
// at a time, 30 days already lifts F1 from 0.84 to 0.90, 90 days to 0.91,
// and longer adds nothing.
const DefaultBackgroundHalfLife = 90 * 24 * time.Hour

// DefaultEditorialLag is how long after the news an editorial or column
// (feeds.KindEditorial) may come and still be pulled by the story as if it
// were fresh: opinion follows the news it comments on by a day or two,
// while a news report a day late is more likely another event on the same
// subject. Only the silence beyond it decays.
const DefaultEditorialLag = 48 * time.Hour

// Assignment is the story an article was put in.
type Assignment struct {
	StoryID string // "s" and the founding article's id; never changes
	Slug    string // from the founding title, with an id suffix; never changes
	Label   string // the story's most central headline (see Cluster.Label); may change as items join or leave
	Size    int    // items in the story, this one included
	New     bool   // this article founded the story
	// Merged lists stories this article showed to be the same as StoryID
	// and that were absorbed into it: their articles now belong to
	// StoryID, and their ids are no longer used.
	Merged []string
}

// Cluster is a snapshot of one story as the clusterer holds it.
type Cluster struct {
	ID   string
	Slug string
	// Label is the most central member's headline: the one sharing the
	// most words with the other members' headlines, ties going to the
	// smallest article id. It depends on the members alone, not on the
	// order they joined, so a Clusterer rebuilt through Restore, or
	// another replica, shows the same label for the same members.
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
	// Background is the terms whose counts outlive the window (see
	// background.go), bounded by pruning.
	Background int
}

// Clusterer groups articles into stories incrementally: each added article
// joins the live story it fits best, or founds one.
//
// An article is a TF-IDF vector of two fields: the title (with URL slug
// words the title lacks, and categories, weighing less) and the lede (the
// Excerpt's first words, terms of their own, compared with other ledes
// only, the field weighing excerptW of the whole); names, acronyms and numbers count double;
// document frequencies are learned from the items in the window as they
// arrive, and from those gone from it, fading (see background.go), so that
// a quiet window still knows the common words. A multi-word name ("North Korea", "Kim Jong Un") is one term, and
// its words count only where both sides name the same thing: a word shared
// by two different names ("Korea" of "North Korea" and "South Korea") is
// no evidence of one story. Its fit with a story weighs each shared term by how typical of
// the story and how specific to it the term is (see accumulate in score.go),
// fades as the story stays silent (by half in Options.HalfLife; for an
// editorial only past DefaultEditorialLag), and must
// reach the threshold, a little more when the story already holds an item
// from the same source. An item that fits two stories whose centroids are
// close shows they are one: the smaller is merged into the larger (see
// Assignment.Merged).
//
// Candidate stories come from an inverted index from terms to the stories
// holding them (terms held by very many stories bring none in), so an Add
// costs the same however long the history, and memory is bounded by the
// items in the window: older items leave their stories, and stories left
// empty are dropped.
//
// The same articles added in the same order give the same stories, and a
// story's centroid is a function of its members (IDF is applied when
// scoring, ties go by ids and times, never by arrival), so that adding a
// batch in (item time, ID) order gives the same stories whatever order it
// was fetched in. What the clusterer learns of names (which words are
// mostly capitalized) does follow the order items came in. A restarted
// process rebuilds its state either by replaying the window's articles
// through Add, or, to keep ids and members exactly as persisted, through
// Restore, in the order they were added. A Clusterer is safe for
// concurrent use; calls are serialized.
type Clusterer struct {
	mu        sync.Mutex
	window    time.Duration
	threshold float64
	p         params

	docs   map[string]*doc   // by article id
	groups map[string]*group // by story id
	keys   map[string]*group // by Article.LinkKey
	byTime docHeap
	high   time.Time // newest item time seen
	seq    uint64

	vocab map[string]uint32
	terms []termInfo
	free  []uint32

	touched []*group // scratch for choose
	stems   map[string]string

	srcDocs  map[string]int32 // items in the window per source
	srcTerms map[srcTerm]int32

	bg  map[string]*bgEntry // faded counts of terms gone from the window (see background.go)
	bgc bgClock
}

// params are the Clusterer's general settings, tuned on the labelled
// headlines as a whole (see TestQuality_Stories), never story by story.
type params struct {
	titleW     float64       // weight of a title word
	excerptW   float64       // weight of the lede field (or of an excerpt word, without ledeField)
	urlW       float64       // weight of a URL slug word the title lacks
	catW       float64       // weight of a category word
	entity     float64       // multiplier for names, acronyms and numbers
	runWord    float64       // weight of each word of a multi-word name
	capRatio   float64       // share of capitalized sightings that makes a word a name
	margin     float64       // added to the threshold to join a story holding the same source
	halfLife   time.Duration // silence after which a story's pull is halved
	lag        time.Duration // silence an editorial item's decay ignores (see decayFor)
	merge      float64       // centroid cosine at which two stories an item fits merge
	boiler     float64       // multiplier for a source's boilerplate terms
	minShared  int           // stories this small need two shared terms, not one
	minW       float64       // weight a term needs to count as shared
	minCover   float64       // share of each side's title weight small stories must share
	ledeCover  float64       // or of each side's lede weight
	posting    int           // a term in more stories than this finds no candidates
	excerpt    int           // words of the excerpt read
	ledeField  bool          // the excerpt is a field of its own, of weight excerptW, not mixed into the title's
	bgHalfLife time.Duration // how fast the background's counts fade; 0 keeps none (see background.go)
	bgW        float64       // weight of a background count against a window count in IDF
}

var defaultParams = params{
	titleW:     1,
	excerptW:   0.2,
	urlW:       0.5,
	catW:       0.25,
	entity:     2,
	runWord:    1,
	capRatio:   0.9,
	margin:     0.05,
	halfLife:   DefaultHalfLife,
	lag:        DefaultEditorialLag,
	merge:      0.2,
	boiler:     0.1,
	minShared:  1,
	minW:       0.05,
	minCover:   0.3,
	ledeCover:  0.05,
	posting:    400,
	excerpt:    60,
	ledeField:  true,
	bgHalfLife: DefaultBackgroundHalfLife,
	bgW:        1,
}

// NewClusterer returns an empty Clusterer.
func NewClusterer(opts Options) *Clusterer {
	if opts.Window <= 0 {
		opts.Window = DefaultWindow
	}
	if opts.Threshold <= 0 {
		opts.Threshold = DefaultThreshold
	}
	p := defaultParams
	switch {
	case opts.HalfLife > 0:
		p.halfLife = opts.HalfLife
	case opts.HalfLife < 0:
		p.halfLife = 0
	}
	return &Clusterer{
		window:    opts.Window,
		threshold: opts.Threshold,
		p:         p,
		docs:      map[string]*doc{},
		groups:    map[string]*group{},
		keys:      map[string]*group{},
		vocab:     map[string]uint32{},
		stems:     map[string]string{},
		srcDocs:   map[string]int32{},
		srcTerms:  map[srcTerm]int32{},
		bg:        map[string]*bgEntry{},
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
	d.parts = nil // only choosing needs them
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
// assignments, in the order they were added (by (item time, ID) where
// passes add them so), so that stories keep their ids and members exactly. Articles already present or older than the window are
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
	d.parts = nil
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
		c.bgTime()
	}
	c.evict()
}

// Groups returns the live stories, largest first, then most recent, then by
// id.
func (c *Clusterer) Clusters() []Cluster {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]Cluster, 0, len(c.groups))
	for _, g := range c.groups {
		out = append(out, g.snapshot())
	}
	slices.SortFunc(out, func(a, b Cluster) int {
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
	s := Stats{Items: len(c.docs), Groups: len(c.groups), Terms: len(c.vocab), Background: len(c.bg)}
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
		c.bgTime()
	}
	c.evict()
	return t, !t.Before(c.high.Add(-c.window))
}

func (c *Clusterer) evict() {
	cut := c.high.Add(-c.window)
	for len(c.byTime) > 0 && c.byTime[0].t.Before(cut) {
		c.remember(c.byTime[0])
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
