package publish

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/broadsheet/broadsheet/feeds"
	"github.com/broadsheet/broadsheet/sanitize"
	"github.com/broadsheet/broadsheet/store"
	"github.com/broadsheet/broadsheet/topics"
)

// idPrefix starts every entry id. It is a fixed tag URI (RFC 4151) rather
// than one built from BaseURL, so that ids survive a change of address and
// are the same on every replica: the rest is the article's stable id.
const idPrefix = "tag:broadsheet,2026:article/"

// entry is one article prepared for output: text escaped by the encoders,
// HTML as ingest stored it (sanitized once, there), URLs checked.
type entry struct {
	ID        string // the entry id: idPrefix + Article.ID
	ArticleID string
	Title     string            // plain text
	Author    string            // plain text; empty when unknown
	Link      string            // http(s) or empty
	Summary   string            // sanitized HTML
	Content   string            // sanitized HTML
	Excerpt   string            // plain text, at most sanitize.ExcerptRunes
	Media     []feeds.Enclosure // http(s) only
	Published time.Time
	Updated   time.Time // never before Published
	FirstSeen time.Time
	Changed   time.Time // the newest of Published, Updated and FirstSeen
	Kind      feeds.Kind
	LinkKey   string
	Outlet    outlet
	Topics    []topicRef
	Also      []string // other outlets carrying the same story, in the combined feeds; as stored (see outletName)
	key       string   // see reuseKey
}

// reuseKey names everything an entry is made of, so that the next Refresh
// can reuse it while the article is unchanged; "" when the article has no
// content hash to go by.
func reuseKey(a feeds.Article) string {
	if a.Hash == "" {
		return ""
	}
	return strings.Join([]string{a.Hash, a.Source, string(a.Kind), a.LinkKey, a.Excerpt,
		a.Published.UTC().String(), a.Updated.UTC().String(), a.FirstSeen.UTC().String()}, "\x00")
}

// outlet is the source an entry came from.
type outlet struct {
	Name string // as shown: see outletName
	Key  string // the source's name as configured and stored, which identifies it
	URL  string // the source's own feed, http(s) or empty
	Slug string
}

// outletName is a source's name as every output shows it, cleaned as the
// digests clean it: one line, no control or bidi characters, at most
// sanitize.NameRunes. Config refuses bidi controls in a name, but the
// store may hold names written before it did, or by another writer. Only
// the shown copy is cleaned: the name as stored keeps identifying the
// source (lookups, slugs, counts).
func outletName(name string) string {
	return sanitize.Line(name, sanitize.NameRunes)
}

// outletNames is outletName of each of names, in a new slice; nil for none.
func outletNames(names []string) []string {
	if len(names) == 0 {
		return nil
	}
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = outletName(n)
	}
	return out
}

// topicRef names a topic an entry belongs to.
type topicRef struct {
	Slug, Label, Kind string
}

// topicFeed is a configured topic or a story with its entries, newest
// first: its feeds and its page.
type topicFeed struct {
	topicRef
	Entries []*entry
	Outlets int // distinct outlets among Entries
	// Group is the configured topic's group, or a group holding only the
	// story, as the page shows it; its labels are plain.
	Group topics.Group
	// In are the configured topics holding the story; nil for a topic.
	In []topicRef
}

// sourceFeed is a configured source with its entries.
type sourceFeed struct {
	Source  feeds.Source
	Slug    string
	Entries []*entry
	// sig names what the feed's outputs are made of besides the Handler's
	// fixed options, or is "" when that is not known: render reuses the
	// last snapshot's outputs of an equal sig rather than render again.
	sig string
}

// sourceSig is the sig of sf, whose articles were read as generation gen:
// the source as configured (its name and address are in the outputs), and
// each entry's topics, which change without the articles changing. The
// entries' other fields are the articles', which gen stands for: a Refresh
// that keeps them reads nothing of the source older than its stamp (load
// reads the stamps first), and any change after that moves the stamp.
// It is a digest, since snapshots keep one for each source.
func sourceSig(sf sourceFeed, gen uint64) string {
	h := sha256.New()
	fmt.Fprintf(h, "%d\x00%#v\x00%s", gen, sf.Source, sf.Slug)
	for _, e := range sf.Entries {
		io.WriteString(h, "\x00"+e.ArticleID)
		for _, t := range e.Topics {
			io.WriteString(h, "\x01"+t.Slug+"\x02"+t.Label+"\x02"+t.Kind)
		}
	}
	return string(h.Sum(nil))
}

// data is everything one Refresh read, prepared.
type data struct {
	Combined   []*entry
	Editorials []*entry
	Sources    []sourceFeed
	// Topics are the configured topics, in configuration order, then the
	// stories several outlets cover, each once.
	Topics []topicFeed
	// Page is the groups as the page shows them: each story once (see
	// topics.Distinct), labels plain, slugs those of Topics or empty.
	Page []topics.Group
	// entries are the prepared entries of the groups' items, by article
	// id.
	entries map[string]*entry
	// States are the configured sources' polling states, in configuration
	// order (one never synced has only its name), for the page's empty
	// state; Counts sums up the store's active sources, as SourceCounts
	// would, so that Run can tell when they changed.
	States []feeds.SourceState
	Counts store.SourceCounts
}

// load reads the store once for every output, in steps: the sources'
// stamps, the topic groups and their articles, the combined feeds, the
// per-source feeds (through h.cache), then the topic feeds and the page.
func (h *Handler) load(ctx context.Context) (*data, error) {
	n := h.opts.FeedItems
	// The sources' stamps come first, before any article is read (see
	// refreshCache).
	states, err := h.store.SourceStates(ctx)
	if err != nil {
		return nil, fmt.Errorf("source states: %w", err)
	}
	groups, err := h.readGroups(ctx)
	if err != nil {
		return nil, err
	}
	p := newPreparer(h.opts.Sources, h.cache.entries)
	defer func() { h.cache.entries = p.cache }()

	// Topic groups first, with one query for all their articles: entries
	// carry their topics as categories in every output.
	groups, feedsOf := cleanGroups(groups)
	byID, err := h.groupArticles(ctx, groups)
	if err != nil {
		return nil, err
	}
	members := p.assignTopics(feedsOf, byID)

	d := &data{Counts: countStates(states)}
	if d.Combined, d.Editorials, err = h.combined(ctx, p); err != nil {
		return nil, err
	}
	stamps := make(map[string]feeds.SourceState, len(states))
	for _, st := range states {
		stamps[st.Source] = st
	}
	d.States = configuredStates(h.opts.Sources, stamps)
	if d.Sources, err = h.sourceFeeds(ctx, p, stamps); err != nil {
		return nil, err
	}
	for i, tf := range feedsOf {
		tf.Entries = dedup(p.entries(members[i]), n)
		tf.Outlets = outlets(tf.Entries)
		d.Topics = append(d.Topics, tf)
	}
	d.Page = topics.Distinct(groups)
	d.entries = map[string]*entry{}
	forEachItem(groups, func(id string) {
		if a, ok := byID[id]; ok {
			d.entries[id] = p.entry(a, reuseKey(a))
		}
	})
	return d, nil
}

// readGroups answers the groups query of the page's window: the Grouper's
// groups, or with no topics the window's items, stories only by shared
// links.
func (h *Handler) readGroups(ctx context.Context) ([]topics.Group, error) {
	q := topics.Query{PublishedSince: h.opts.Now().Add(-h.opts.Window)}
	if h.opts.Groups != nil {
		groups, err := h.opts.Groups.Groups(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("topic groups: %w", err)
		}
		return groups, nil
	}
	arts, err := h.store.Articles(ctx, store.ArticleFilter{PublishedSince: q.PublishedSince})
	if err != nil {
		return nil, err
	}
	return topics.Build(arts, nil, nil, q), nil
}

// forEachItem calls f with the id of every item of the groups' stories,
// shown or more, in order; an id may come more than once.
func forEachItem(groups []topics.Group, f func(id string)) {
	for _, g := range groups {
		for _, st := range g.Stories {
			for _, it := range slices.Concat(st.Items, st.More) {
				f(it.ID)
			}
		}
	}
}

// groupArticles reads the articles of the groups' items in one query, by
// id.
func (h *Handler) groupArticles(ctx context.Context, groups []topics.Group) (map[string]feeds.Article, error) {
	var ids []string
	forEachItem(groups, func(id string) { ids = append(ids, id) })
	slices.Sort(ids)
	ids = slices.Compact(ids)
	byID := map[string]feeds.Article{}
	if len(ids) == 0 {
		return byID, nil
	}
	arts, err := h.store.Articles(ctx, store.ArticleFilter{IDs: ids})
	if err != nil {
		return nil, err
	}
	for _, a := range arts {
		byID[a.ID] = a
	}
	return byID, nil
}

// assignTopics lists each topic feed's articles (parallel to feedsOf) and
// records, for every article, the topics it belongs to: configured topics
// first, then by slug, each once.
func (p *preparer) assignTopics(feedsOf []topicFeed, byID map[string]feeds.Article) [][]feeds.Article {
	members := make([][]feeds.Article, len(feedsOf))
	for i, tf := range feedsOf {
		forEachItem([]topics.Group{tf.Group}, func(id string) {
			if a, ok := byID[id]; ok {
				members[i] = append(members[i], a)
				p.topics[id] = append(p.topics[id], tf.topicRef)
			}
		})
	}
	for id, refs := range p.topics {
		sort.Slice(refs, func(i, j int) bool {
			if refs[i].Kind != refs[j].Kind {
				return refs[i].Kind == string(topics.KindConfigured)
			}
			return refs[i].Slug < refs[j].Slug
		})
		p.topics[id] = slices.CompactFunc(refs, func(a, b topicRef) bool { return a.Slug == b.Slug })
	}
	return members
}

// combined prepares the combined feed and the editorials' feed. They read
// more than they show, since stories carried by several sources collapse
// into one entry.
func (h *Handler) combined(ctx context.Context, p *preparer) (all, editorials []*entry, err error) {
	n := h.opts.FeedItems
	arts, err := h.store.Articles(ctx, store.ArticleFilter{Limit: 3 * n})
	if err != nil {
		return nil, nil, err
	}
	eds, err := h.store.Articles(ctx, store.ArticleFilter{Kinds: []feeds.Kind{feeds.KindEditorial}, Limit: 3 * n})
	if err != nil {
		return nil, nil, err
	}
	return dedup(p.entries(arts), n), dedup(p.entries(eds), n), nil
}

// configuredStates is the configured sources' states, in configuration
// order; one the store does not know yet has only its name.
func configuredStates(srcs []feeds.Source, stamps map[string]feeds.SourceState) []feeds.SourceState {
	out := make([]feeds.SourceState, 0, len(srcs))
	for _, src := range srcs {
		st, ok := stamps[src.Name]
		if !ok {
			st = feeds.SourceState{Source: src.Name, Active: true}
		}
		out = append(out, st)
	}
	return out
}

// sourceFeeds prepares the per-source feeds, from each source's newest
// articles as h.cache kept them, read again only for the sources whose
// stamps moved: one query for the states, and one per changed source
// rather than one per source.
func (h *Handler) sourceFeeds(ctx context.Context, p *preparer, stamps map[string]feeds.SourceState) ([]sourceFeed, error) {
	var out []sourceFeed
	next := make(map[string]*sourceArticles, len(h.opts.Sources))
	seen := map[string]bool{}
	for _, src := range h.opts.Sources {
		slug := src.Slug()
		if slug == "" || seen[slug] {
			h.opts.Logger.Warn("source has no feed of its own: its name's slug is empty or taken", "source", src.Name, "slug", slug)
			continue
		}
		seen[slug] = true
		st, known := stamps[src.Name]
		if sa := h.cache.sources[src.Name]; sa != nil && !p.reusable(sa) {
			// Not all prepared last time as they would be now (a moved
			// outlet): kept holds no text to prepare them from, so read.
			delete(h.cache.sources, src.Name)
		}
		sa, err := h.cache.source(st, known, func() ([]feeds.Article, error) {
			return h.store.Articles(ctx, store.ArticleFilter{Sources: []string{src.Name}, Limit: h.opts.FeedItems})
		})
		if err != nil {
			return nil, err
		}
		sf := sourceFeed{Source: src, Slug: slug, Entries: p.keyedEntries(sa.articles, sa.keys)}
		// Kept past this Refresh only as ids: the entries just prepared
		// hold the text, and the next Refresh reuses them.
		sa.slim()
		if known {
			next[src.Name] = sa
			sf.sig = sourceSig(sf, sa.gen)
		}
		out = append(out, sf)
	}
	// Sources no longer configured drop out here.
	h.cache.sources = next
	return out, nil
}

// countStates sums up the active sources among states.
func countStates(states []feeds.SourceState) store.SourceCounts {
	var c store.SourceCounts
	for _, s := range states {
		if !s.Active {
			continue
		}
		c.Sources++
		if !s.LastAttempt.IsZero() {
			c.Polled++
		}
		if s.Failures > 0 {
			c.Failing++
		}
		c.LastAttempt, c.LastSuccess = latest(c.LastAttempt, s.LastAttempt), latest(c.LastSuccess, s.LastSuccess)
	}
	return c
}

func sameCounts(a, b store.SourceCounts) bool {
	return a.Sources == b.Sources && a.Polled == b.Polled && a.Failing == b.Failing &&
		a.LastAttempt.Equal(b.LastAttempt) && a.LastSuccess.Equal(b.LastSuccess)
}

// cleanGroups makes the groups' labels plain text and their slugs URL
// paths, and lists the topics with a feed and a page: every configured
// topic, then every story with a slug, once each. A slug that is empty
// once cleaned, or taken by an earlier topic, has no feed: the group and
// the story keep an empty slug, so that nothing links to another's page.
func cleanGroups(gs []topics.Group) ([]topics.Group, []topicFeed) {
	out := make([]topics.Group, 0, len(gs))
	var tfs []topicFeed
	taken := map[string]string{} // slug → what took it: "c:" + configured slug, or "s:" + story slug
	claim := func(raw, owner string) string {
		slug := feeds.Slugify(raw)
		if slug == "" {
			return ""
		}
		if o, ok := taken[slug]; ok {
			if o == owner {
				return slug
			}
			return ""
		}
		taken[slug] = owner
		return slug
	}
	stories := map[string]int{} // story slug → index in tfs
	for _, g := range gs {
		g.Label = sanitize.Plain(g.Label, sanitize.TitleRunes)
		g.Stories = slices.Clone(g.Stories)
		for i := range g.Stories {
			st := &g.Stories[i]
			st.Label = sanitize.Plain(st.Label, sanitize.TitleRunes)
			if st.Slug != "" {
				st.Slug = claim(st.Slug, "s:"+st.Slug)
			}
		}
		switch g.Kind {
		case topics.KindConfigured:
			g.Slug = claim(g.Slug, "c:"+g.Slug)
			if g.Label == "" {
				g.Label = g.Slug
			}
		case topics.KindStory:
			g.Slug = g.Stories[0].Slug
			g.Label = g.Stories[0].Label
		default:
			g.Slug = ""
		}
		out = append(out, g)
	}
	// Feeds: configured topics first, in order, then the stories.
	for _, g := range out {
		if g.Kind == topics.KindConfigured && g.Slug != "" {
			tfs = append(tfs, topicFeed{topicRef: topicRef{Slug: g.Slug, Label: g.Label, Kind: string(topics.KindConfigured)}, Group: g})
		}
	}
	for _, g := range out {
		for _, st := range g.Stories {
			if st.Slug == "" {
				continue
			}
			i, ok := stories[st.Slug]
			if !ok {
				i = len(tfs)
				stories[st.Slug] = i
				tfs = append(tfs, topicFeed{topicRef: topicRef{Slug: st.Slug, Label: st.Label, Kind: string(topics.KindStory)}, Group: topics.StoryGroup(st)})
			}
			if g.Kind == topics.KindConfigured && g.Slug != "" {
				tfs[i].In = append(tfs[i].In, topicRef{Slug: g.Slug, Label: g.Label, Kind: string(topics.KindConfigured)})
			}
		}
	}
	return out, tfs
}

// slim drops all but each article's ID and Source, which is all that
// keyedEntries reads of an article the previous Refresh prepared (see
// reusable). Keeping every source's whole articles besides their entries
// held a second copy of every feed's text for as long as the daemon ran.
func (sa *sourceArticles) slim() {
	for i, a := range sa.articles {
		sa.articles[i] = feeds.Article{ID: a.ID, Source: a.Source}
	}
}

// reusable reports whether every article of sa is prepared already, or was
// prepared by the previous Refresh as it would be now, so that entries from
// sa's slim articles need none of their text.
func (p *preparer) reusable(sa *sourceArticles) bool {
	for i, a := range sa.articles {
		if _, ok := p.cache[a.ID]; ok {
			continue
		}
		old, ok := p.prev[a.ID]
		if !ok || sa.keys[i] == "" || old.key != sa.keys[i] || old.Outlet.URL != p.outletURL(a.Source) {
			return false
		}
	}
	return true
}

// preparer turns articles into entries once per Refresh, however many
// outputs share them.
type preparer struct {
	sources map[string]feeds.Source
	cache   map[string]*entry // this Refresh's entries, by article id
	prev    map[string]*entry // the previous Refresh's, reused when unchanged
	topics  map[string][]topicRef
}

func newPreparer(srcs []feeds.Source, prev map[string]*entry) *preparer {
	p := &preparer{sources: map[string]feeds.Source{}, cache: map[string]*entry{}, prev: prev, topics: map[string][]topicRef{}}
	for _, s := range srcs {
		p.sources[s.Name] = s
	}
	return p
}

func (p *preparer) entries(arts []feeds.Article) []*entry {
	return p.keyedEntries(arts, nil)
}

// keyedEntries is entries with each article's reuseKey already known (keys
// parallel to arts), or computed when keys is nil.
func (p *preparer) keyedEntries(arts []feeds.Article, keys []string) []*entry {
	out := make([]*entry, 0, len(arts))
	for i, a := range arts {
		if e, ok := p.cache[a.ID]; ok {
			out = append(out, e)
			continue
		}
		var key string
		if keys != nil {
			key = keys[i]
		} else {
			key = reuseKey(a)
		}
		out = append(out, p.entry(a, key))
	}
	sortEntries(out)
	return out
}

// outletURL is the link to source's own feed in its entries.
func (p *preparer) outletURL(source string) string {
	if src, ok := p.sources[source]; ok && !src.Private {
		return sanitize.RedactURL(src.URL)
	}
	return ""
}

// entry prepares a, whose reuseKey is key, once per Refresh.
func (p *preparer) entry(a feeds.Article, key string) *entry {
	if e, ok := p.cache[a.ID]; ok {
		return e
	}
	outletURL := p.outletURL(a.Source)
	if old, ok := p.prev[a.ID]; ok && key != "" && old.key == key && old.Outlet.URL == outletURL {
		// An unchanged article is reused, with this Refresh's topics, so
		// that a Refresh allocates only for what changed.
		e := *old
		e.Topics = p.topics[a.ID]
		p.cache[a.ID] = &e
		return &e
	}
	link := sanitize.Link(a.Link)
	e := &entry{
		ID:        idPrefix + a.ID,
		ArticleID: a.ID,
		Title:     sanitize.Plain(a.Title, sanitize.TitleRunes),
		Author:    sanitize.Plain(a.Author, sanitize.NameRunes),
		Link:      link,
		// Stored HTML was sanitized once, at ingest (links resolved
		// there too); parsing it again here cost most of a Refresh.
		Summary:   a.Summary,
		Content:   a.Content,
		Media:     enclosures(a),
		Published: utcSecond(a.Published),
		Updated:   utcSecond(a.Updated),
		Kind:      a.Kind,
		LinkKey:   a.LinkKey,
		Outlet:    outlet{Name: outletName(a.Source), Key: a.Source, Slug: feeds.Slugify(a.Source)},
		FirstSeen: utcSecond(a.FirstSeen),
		Topics:    p.topics[a.ID],
		key:       key,
	}
	e.Outlet.URL = outletURL
	if e.Title == "" {
		e.Title = "Untitled"
	}
	if e.Summary == e.Content {
		// One text only: keep it as the content, where readers show it whole.
		e.Summary = ""
	}
	if a.Excerpt != "" {
		// Plain text already, cleaned at ingest: cut, not parsed again.
		e.Excerpt = sanitize.Plain(a.Excerpt, sanitize.ExcerptRunes)
	} else {
		e.Excerpt = sanitize.Plain(sanitize.Excerpt(firstNonEmpty(a.Summary, a.Content), sanitize.ExcerptRunes), sanitize.ExcerptRunes)
	}
	if e.Published.IsZero() {
		e.Published = utcSecond(a.FirstSeen)
	}
	if e.Updated.Before(e.Published) {
		e.Updated = e.Published
	}
	e.Changed = latest(e.Updated, e.FirstSeen)
	p.cache[a.ID] = e
	return e
}

// sortEntries orders entries as the store lists articles: newest published
// first, then by id, so that every replica renders the same order.
func sortEntries(es []*entry) {
	sort.SliceStable(es, func(i, j int) bool {
		a, b := es[i], es[j]
		if !a.Published.Equal(b.Published) {
			return a.Published.After(b.Published)
		}
		return a.ArticleID > b.ArticleID
	})
}

// dedup keeps one entry per story (same LinkKey), newest first, at most n.
// The entry kept is the one first seen, then published first, so that its
// id does not change as more outlets carry the story; the others' outlets
// are listed in its Also.
func dedup(es []*entry, n int) []*entry {
	rep := map[string]*entry{}
	others := map[string][]string{}
	for _, e := range es {
		if e.LinkKey == "" {
			continue
		}
		r, ok := rep[e.LinkKey]
		if !ok || earlier(e, r) {
			rep[e.LinkKey] = e
		}
	}
	out := make([]*entry, 0, min(len(es), n))
	for _, e := range es {
		if e.LinkKey != "" && rep[e.LinkKey] != e {
			others[e.LinkKey] = append(others[e.LinkKey], e.Outlet.Key)
			continue
		}
		out = append(out, e)
	}
	if len(out) > n {
		out = out[:n]
	}
	// Entries are shared between outputs: copy those whose Also differs.
	for i, e := range out {
		if names := others[e.LinkKey]; e.LinkKey != "" && len(names) > 0 {
			slices.Sort(names)
			c := *e
			c.Also = slices.Compact(names)
			out[i] = &c
		}
	}
	return out
}

// earlier reports whether a is the earlier copy of a story than b.
func earlier(a, b *entry) bool {
	if !a.FirstSeen.Equal(b.FirstSeen) {
		return a.FirstSeen.Before(b.FirstSeen)
	}
	if !a.Published.Equal(b.Published) {
		return a.Published.Before(b.Published)
	}
	return a.ArticleID < b.ArticleID
}

// outlets counts the distinct outlets of es, including those in Also.
func outlets(es []*entry) int {
	m := map[string]bool{}
	for _, e := range es {
		m[e.Outlet.Key] = true
		for _, o := range e.Also {
			m[o] = true
		}
	}
	return len(m)
}

// newest is the latest change time among es; zero when es is empty.
func newest(es []*entry) time.Time {
	var t time.Time
	for _, e := range es {
		t = latest(t, e.Changed)
	}
	return t
}

func utcSecond(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC().Truncate(time.Second)
}

func latest(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if strings.TrimSpace(s) != "" {
			return s
		}
	}
	return ""
}
