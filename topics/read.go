package topics

import (
	"cmp"
	"slices"
	"time"

	"github.com/broadsheet/broadsheet/feeds"
)

// The read model: what the page, the topic and story feeds, the topics
// command and every digest show of the stored topics. Build computes it
// from articles and their stored memberships, so that every output groups,
// labels and orders the same items the same way, whatever order they were
// stored in.

// KindOther is the kind of the one group of stories a single outlet
// carries that no configured topic holds ("Other stories"). It is never
// stored.
const KindOther Kind = "other"

// StoryOutlets is how many outlets a story needs to be shown as one story,
// with its own page and feed; a story one outlet carries is that outlet's
// item.
const StoryOutlets = 2

// AllTopics in Query.Topics selects every group, as an empty list does.
const AllTopics = "all"

// Query selects the groups readers see: the items matching every field
// set, grouped. Zero fields select everything.
type Query struct {
	PublishedSince time.Time    // items published at or after
	SeenSince      time.Time    // items first seen at or after
	SeenBefore     time.Time    // items first seen before
	Sources        []string     // items of these sources (feeds.Source.Name)
	Kinds          []feeds.Kind // items of these kinds
	// Topics keeps only the groups with these slugs: configured topics
	// (with their stories) and stories; the other stories are left out.
	// Empty, or holding AllTopics, keeps every group.
	Topics []string
	// Distinct shows each story once, in the first group holding it (a
	// story may be in several configured topics), and leaves out groups
	// left empty, as a page or a digest shows them.
	Distinct bool
	// MaxStories, with Distinct, keeps the best MaxStories stories (see
	// Build for the order); 0 keeps all.
	MaxStories int
}

// Item is one article as groups show it. Text is as stored (plain text,
// cleaned at ingest); outputs escape and cut it. Field names in JSON are
// stable: digests store groups with their deliveries.
type Item struct {
	ID        string     `json:"id"`
	Source    string     `json:"source"`
	Title     string     `json:"title"`
	Link      string     `json:"link,omitempty"`
	Excerpt   string     `json:"excerpt,omitempty"`
	Author    string     `json:"author,omitempty"`
	Language  string     `json:"lang,omitempty"`
	Kind      feeds.Kind `json:"kind,omitempty"`
	Published time.Time  `json:"published"`
	FirstSeen time.Time  `json:"first_seen"`
	// Also are the other outlets carrying this item under the same link
	// (feeds.Article.LinkKey), sorted: a wire story is shown once.
	Also []string `json:"also,omitempty"`
}

// ItemOf is a's fields that groups show.
func ItemOf(a feeds.Article) Item {
	return Item{ID: a.ID, Source: a.Source, Title: a.Title, Link: a.Link, Excerpt: a.Excerpt, Author: a.Author,
		Language: a.Language, Kind: a.Kind, Published: a.Published, FirstSeen: a.FirstSeen}
}

// Story is one story: the items of every outlet covering it.
type Story struct {
	// Slug names the story's page and feed (/topics/{Slug}); it is empty
	// for a story fewer than StoryOutlets outlets carry, and for one found
	// only by a shared link while clustering is off.
	Slug string `json:"slug,omitempty"`
	// Label is a representative headline: the clusterer's label when it
	// is one of Items' titles, else the title of the item published first.
	// Items[0] is the item it is the title of; outputs show it once.
	Label string `json:"label"`
	// Items holds one item per outlet, its newest on the story, and one
	// per link (outlets carrying the same link are the first's Also):
	// the label's item first, then newest published first.
	Items []Item `json:"items"`
	// More are the outlets' other items on the story, newest first: in
	// the story's feed and page, not in its block.
	More []Item `json:"more,omitempty"`
	// ids are all the story's articles, those folded into an item's Also
	// included: a configured topic matching any of them holds the story.
	ids []string
}

// Outlets is how many outlets cover the story.
func (s Story) Outlets() int {
	n := len(s.Items)
	for _, it := range s.Items {
		n += len(it.Also)
	}
	return n
}

// Newest is when the story's newest item was published.
func (s Story) Newest() time.Time {
	var t time.Time
	for _, it := range s.Items {
		if it.Published.After(t) {
			t = it.Published
		}
	}
	return t
}

// Editorial reports whether every item of the story is an editorial or
// opinion piece, so that outputs mark the story once rather than each
// item.
func (s Story) Editorial() bool {
	for _, it := range s.Items {
		if it.Kind != feeds.KindEditorial {
			return false
		}
	}
	return len(s.Items) > 0
}

// key names the story among others, for ordering and Distinct.
func (s Story) key() string {
	if s.Slug != "" {
		return "s:" + s.Slug
	}
	return "i:" + s.Items[0].ID
}

// Group is what outputs show as one unit: a configured topic with the
// stories it holds, one story (Kind KindStory, its only story), or the
// other stories (KindOther).
type Group struct {
	Topic
	Stories []Story `json:"stories"`
	Outlets int     `json:"outlets"` // distinct outlets among the stories' Items
	Items   int     `json:"items"`   // the stories' Items, More left out
}

// StoryGroup is the group of story s alone, as Build makes it for a story
// no configured topic holds.
func StoryGroup(s Story) Group {
	g := Group{Topic: Topic{Slug: s.Slug, Label: s.Label, Kind: KindStory}, Stories: []Story{s}}
	g.count()
	return g
}

// Members is a stored topic with the ids of its member articles, as the
// store lists them: what Build reads the assignments from.
type Members struct {
	Topic
	ArticleIDs []string
}

// Build groups arts as q asks, from the stored memberships and the
// configured topics (in configuration order; stored topics no longer
// configured are ignored):
//
//   - Articles form stories: those of one stored story are one story, and
//     an article in none joins the story of an article with the same
//     LinkKey (the same link), or is a story of its own. A story shows one
//     item per outlet.
//   - Each configured topic lists the stories with an item it matched, and
//     comes first, in configuration order, even when it holds none (unless
//     q.Distinct).
//   - Then each story that StoryOutlets or more outlets cover and no
//     configured topic holds, as a group of its own; then the other stories
//     in one group of kind KindOther, unless q.Topics selects groups.
//
// Stories are ordered by outlets covering them, most first, then by their
// newest item, newest first. Articles outside q are left out first. The
// result depends on the articles and memberships only, not on their order.
func Build(arts []feeds.Article, members []Members, configured []Topic, q Query) []Group {
	arts = selectArticles(arts, q)
	storyOf := map[string]string{} // article id → stored story slug
	labels := map[string]string{}  // stored story slug → label
	inTopic := map[string][]string{}
	conf := map[string]bool{}
	for _, t := range configured {
		conf[t.Slug] = true
	}
	for _, m := range members {
		switch {
		case m.Kind == KindStory:
			labels[m.Slug] = m.Label
			for _, id := range m.ArticleIDs {
				// An article is in one story; of two (a store mid-merge),
				// the smaller slug, whatever order they came in.
				if s, ok := storyOf[id]; !ok || m.Slug < s {
					storyOf[id] = m.Slug
				}
			}
		case conf[m.Slug]:
			inTopic[m.Slug] = append(inTopic[m.Slug], m.ArticleIDs...)
		}
	}

	stories := formStories(arts, storyOf, labels)
	byArticle := map[string]int{}
	for i, s := range stories {
		for _, id := range s.ids {
			byArticle[id] = i
		}
	}

	all := len(q.Topics) == 0 || slices.Contains(q.Topics, AllTopics)
	selected := func(slug string) bool { return all || slug != "" && slices.Contains(q.Topics, slug) }
	var out []Group
	held := make([]bool, len(stories))
	seen := map[string]bool{}
	for _, t := range configured {
		if seen[t.Slug] || !selected(t.Slug) {
			continue
		}
		seen[t.Slug] = true
		in := map[int]bool{}
		for _, id := range inTopic[t.Slug] {
			if i, ok := byArticle[id]; ok {
				in[i] = true
			}
		}
		g := Group{Topic: Topic{Slug: t.Slug, Label: t.Label, Kind: KindConfigured}}
		for i := range stories {
			if in[i] {
				g.Stories = append(g.Stories, stories[i])
				held[i] = true
			}
		}
		out = append(out, g)
	}
	var other Group
	for i, s := range stories {
		switch {
		case held[i]:
		case s.Outlets() >= StoryOutlets && (all || selected(s.Slug)):
			out = append(out, StoryGroup(s))
		case all:
			other.Stories = append(other.Stories, s)
		}
	}
	if len(other.Stories) > 0 {
		other.Topic = Topic{Label: "Other stories", Kind: KindOther}
		out = append(out, other)
	}
	if q.Distinct {
		out = Distinct(out)
		if q.MaxStories > 0 {
			out = best(out, q.MaxStories)
		}
	}
	for i := range out {
		out[i].count()
	}
	return out
}

// Distinct keeps each story in the first group holding it only, and
// leaves out groups with no story: what a page or a digest shows, never
// the same item twice.
func Distinct(gs []Group) []Group {
	seen := map[string]bool{}
	var out []Group
	for _, g := range gs {
		var kept []Story
		for _, s := range g.Stories {
			if k := s.key(); !seen[k] {
				seen[k] = true
				kept = append(kept, s)
			}
		}
		if len(kept) == 0 {
			continue
		}
		g.Stories = kept
		g.count()
		out = append(out, g)
	}
	return out
}

// best keeps the n best stories of distinct groups gs, in their groups.
func best(gs []Group, n int) []Group {
	var all []Story
	for _, g := range gs {
		all = append(all, g.Stories...)
	}
	if len(all) <= n {
		return gs
	}
	slices.SortStableFunc(all, compareStories)
	keep := map[string]bool{}
	for _, s := range all[:n] {
		keep[s.key()] = true
	}
	var out []Group
	for _, g := range gs {
		g.Stories = slices.DeleteFunc(slices.Clone(g.Stories), func(s Story) bool { return !keep[s.key()] })
		if len(g.Stories) > 0 {
			out = append(out, g)
		}
	}
	return out
}

func (g *Group) count() {
	outlets := map[string]bool{}
	g.Items = 0
	for _, s := range g.Stories {
		g.Items += len(s.Items)
		for _, it := range s.Items {
			outlets[it.Source] = true
			for _, o := range it.Also {
				outlets[o] = true
			}
		}
	}
	g.Outlets = len(outlets)
}

// selectArticles returns the articles q selects, each once, in a fixed
// order (by id) whatever order they came in.
func selectArticles(arts []feeds.Article, q Query) []feeds.Article {
	out := make([]feeds.Article, 0, len(arts))
	for _, a := range arts {
		if !q.PublishedSince.IsZero() && a.Published.Before(q.PublishedSince) ||
			!q.SeenSince.IsZero() && a.FirstSeen.Before(q.SeenSince) ||
			!q.SeenBefore.IsZero() && !a.FirstSeen.Before(q.SeenBefore) ||
			len(q.Sources) > 0 && !slices.Contains(q.Sources, a.Source) ||
			len(q.Kinds) > 0 && !slices.Contains(q.Kinds, a.Kind) {
			continue
		}
		out = append(out, a)
	}
	slices.SortFunc(out, func(a, b feeds.Article) int { return cmp.Compare(a.ID, b.ID) })
	return slices.CompactFunc(out, func(a, b feeds.Article) bool { return a.ID == b.ID })
}

// formStories puts arts (sorted by id) into stories, ordered.
func formStories(arts []feeds.Article, storyOf, labels map[string]string) []Story {
	type acc struct {
		slug string
		arts []feeds.Article
	}
	var accs []*acc
	byKey := map[string]*acc{}
	byLink := map[string]*acc{}
	add := func(key, slug string, a feeds.Article) {
		s := byKey[key]
		if s == nil {
			s = &acc{slug: slug}
			byKey[key] = s
			accs = append(accs, s)
		}
		s.arts = append(s.arts, a)
		if a.LinkKey != "" && byLink[a.LinkKey] == nil {
			byLink[a.LinkKey] = s
		}
	}
	// Stored stories first, so that an article in none joins the story of
	// one with the same link, whichever was stored first.
	for _, a := range arts {
		if slug, ok := storyOf[a.ID]; ok {
			add("s:"+slug, slug, a)
		}
	}
	for _, a := range arts {
		if _, ok := storyOf[a.ID]; ok {
			continue
		}
		if s := byLink[a.LinkKey]; a.LinkKey != "" && s != nil {
			s.arts = append(s.arts, a)
			continue
		}
		add("i:"+a.ID, "", a)
	}
	out := make([]Story, 0, len(accs))
	for _, s := range accs {
		out = append(out, newStory(s.slug, labels[s.slug], s.arts))
	}
	slices.SortStableFunc(out, compareStories)
	return out
}

// newStory makes the story of arts, which a stored story named slug and
// labelled label holds (both empty for none).
func newStory(slug, label string, arts []feeds.Article) Story {
	slices.SortFunc(arts, func(a, b feeds.Article) int { return newerItem(ItemOf(a), ItemOf(b)) })
	var s Story
	for _, a := range arts {
		s.ids = append(s.ids, a.ID)
	}
	taken := map[string]bool{}
	var shown []feeds.Article
	for _, a := range arts {
		if taken[a.Source] {
			s.More = append(s.More, ItemOf(a))
			continue
		}
		taken[a.Source] = true
		shown = append(shown, a)
	}
	// Outlets carrying one link are one item: the copy seen first, then
	// published first, so that it does not change as more outlets carry
	// it (as the combined feeds keep it).
	rep := map[string]int{}
	for i, a := range shown {
		if a.LinkKey == "" {
			continue
		}
		if j, ok := rep[a.LinkKey]; !ok || earlierCopy(a, shown[j]) {
			rep[a.LinkKey] = i
		}
	}
	also := map[int][]string{}
	for i, a := range shown {
		if j, ok := rep[a.LinkKey]; ok && j != i {
			also[j] = append(also[j], a.Source)
		}
	}
	for i, a := range shown {
		if j, ok := rep[a.LinkKey]; ok && j != i {
			continue
		}
		it := ItemOf(a)
		if names := also[i]; len(names) > 0 {
			slices.Sort(names)
			it.Also = names
		}
		s.Items = append(s.Items, it)
	}
	lead := slices.IndexFunc(s.Items, func(it Item) bool { return label != "" && it.Title == label })
	if lead < 0 {
		// The stored label's item is not shown (left out by the query, or
		// an outlet's older item): the first published shown item names
		// the story.
		lead = 0
		for i, it := range s.Items {
			if first := s.Items[lead]; it.Published.Before(first.Published) || it.Published.Equal(first.Published) && it.ID < first.ID {
				lead = i
			}
		}
	}
	s.Label = s.Items[lead].Title
	if lead > 0 {
		it := s.Items[lead]
		s.Items = slices.Insert(slices.Delete(s.Items, lead, lead+1), 0, it)
	}
	if s.Outlets() >= StoryOutlets {
		s.Slug = slug
	}
	return s
}

// earlierCopy reports whether a is the earlier copy of a link than b:
// first seen first, then published first, then by id.
func earlierCopy(a, b feeds.Article) bool {
	if !a.FirstSeen.Equal(b.FirstSeen) {
		return a.FirstSeen.Before(b.FirstSeen)
	}
	if !a.Published.Equal(b.Published) {
		return a.Published.Before(b.Published)
	}
	return a.ID < b.ID
}

// newerItem orders items newest published first, then by id.
func newerItem(a, b Item) int {
	if c := b.Published.Compare(a.Published); c != 0 {
		return c
	}
	return cmp.Compare(a.ID, b.ID)
}

// compareStories orders stories by outlets, most first, then by newest
// item, newest first, then by key.
func compareStories(a, b Story) int {
	if c := cmp.Compare(b.Outlets(), a.Outlets()); c != 0 {
		return c
	}
	if c := b.Newest().Compare(a.Newest()); c != 0 {
		return c
	}
	return cmp.Compare(a.key(), b.key())
}
