package digest

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/broadsheet/broadsheet/feeds"
	"github.com/broadsheet/broadsheet/store"
)

// layout is how one delivery arranges its articles: topics in order, each
// with its stories, each story the ids of its articles, lead first. It is
// chosen once, when the delivery is planned, and stored with it (as JSON in
// store.Delivery.Layout) so that every attempt sends the same digest.
type layout struct {
	Topics []layoutTopic `json:"topics"`
}

type layoutTopic struct {
	Slug    string     `json:"slug,omitempty"`
	Label   string     `json:"label"`
	Kind    string     `json:"kind,omitempty"`
	Stories [][]string `json:"stories"`
}

// ids lists the layout's articles in order.
func (l layout) ids() []string {
	var out []string
	for _, t := range l.Topics {
		for _, s := range t.Stories {
			out = append(out, s...)
		}
	}
	return out
}

func (l layout) empty() bool { return len(l.ids()) == 0 }

func (l layout) encode() (string, error) {
	b, err := json.Marshal(l)
	return string(b), err
}

func decodeLayout(s string) (layout, error) {
	var l layout
	if s == "" {
		return l, nil
	}
	if err := json.Unmarshal([]byte(s), &l); err != nil {
		return l, fmt.Errorf("decode digest layout: %w", err)
	}
	return l, nil
}

// story is one story of a selection: its articles, one per outlet, newest
// first (the first is the lead).
type story struct {
	arts  []feeds.Article
	topic int // index into the groups, -1 for none
}

func (s *story) lead() feeds.Article { return s.arts[0] }

// choose selects d's articles first seen in [since, until) and arranges
// them. It returns the layout and the articles it uses, by id.
func (s *Service) choose(ctx context.Context, d Digest, since, until, now time.Time) (layout, map[string]feeds.Article, error) {
	// An empty list means no filter here; to the store it would mean
	// nothing at all.
	f := store.ArticleFilter{PublishedSince: now.Add(-d.maxAge()), SeenSince: since, SeenBefore: until}
	if len(d.Sources) > 0 {
		f.Sources = d.Sources
	}
	if len(d.Kinds) > 0 {
		f.Kinds = d.Kinds
	}
	arts, err := s.st.Articles(ctx, f)
	if err != nil {
		return layout{}, nil, fmt.Errorf("digest %q: select articles: %w", d.Name, err)
	}
	var groups []Group
	if s.groups != nil && len(arts) > 0 {
		ids := make([]string, len(arts))
		for i, a := range arts {
			ids[i] = a.ID
		}
		if groups, err = s.groups.Groups(ctx, ids); err != nil {
			return layout{}, nil, fmt.Errorf("digest %q: group articles: %w", d.Name, err)
		}
	}
	l, used := arrange(d, arts, groups)
	return l, used, nil
}

// arrange groups arts (newest published first) into stories and topics,
// keeps the topics d asks for and the best d.MaxItems stories, and orders
// them: topics as groups orders them, stories by number of outlets, then
// newest first. Stories in no group go last, under "Other stories".
func arrange(d Digest, arts []feeds.Article, groups []Group) (layout, map[string]feeds.Article) {
	// Newest first, whatever order the store used, so that leads and ties
	// are deterministic.
	arts = slices.Clone(arts)
	sort.SliceStable(arts, func(i, j int) bool { return newer(arts[i], arts[j]) })

	var stories []*story
	byKey := map[string]*story{}
	byID := map[string]*story{}
	for _, a := range arts {
		key := a.StoryKey
		if key == "" {
			key = "id:" + a.ID
		}
		st := byKey[key]
		if st == nil {
			st = &story{topic: -1}
			byKey[key] = st
			stories = append(stories, st)
		}
		// One article per outlet: a source's newest on the story.
		if slices.ContainsFunc(st.arts, func(b feeds.Article) bool { return b.Source == a.Source }) {
			continue
		}
		st.arts = append(st.arts, a)
		byID[a.ID] = st
	}
	for gi, g := range groups {
		for _, id := range g.ArticleIDs {
			if st := byID[id]; st != nil && st.topic < 0 {
				st.topic = gi
			}
		}
	}

	all := len(d.Topics) == 0 || slices.Contains(d.Topics, AllTopics)
	var kept []*story
	for _, st := range stories {
		if all || (st.topic >= 0 && slices.Contains(d.Topics, groups[st.topic].Slug)) {
			kept = append(kept, st)
		}
	}
	sort.SliceStable(kept, func(i, j int) bool { return better(kept[i], kept[j]) })
	if d.MaxItems > 0 && len(kept) > d.MaxItems {
		kept = kept[:d.MaxItems]
	}

	// Topics in the groups' order, then the stories in no group.
	byTopic := map[int][]*story{}
	for _, st := range kept {
		byTopic[st.topic] = append(byTopic[st.topic], st)
	}
	var l layout
	used := map[string]feeds.Article{}
	add := func(t layoutTopic, sts []*story) {
		for _, st := range sts {
			ids := make([]string, len(st.arts))
			for i, a := range st.arts {
				ids[i] = a.ID
				used[a.ID] = a
			}
			t.Stories = append(t.Stories, ids)
		}
		l.Topics = append(l.Topics, t)
	}
	for gi, g := range groups {
		if sts := byTopic[gi]; len(sts) > 0 {
			label := g.Label
			if label == "" {
				label = g.Slug
			}
			add(layoutTopic{Slug: g.Slug, Label: label, Kind: g.Kind}, sts)
		}
	}
	if sts := byTopic[-1]; len(sts) > 0 {
		label := "Other stories"
		if len(l.Topics) == 0 {
			label = "Latest"
		}
		add(layoutTopic{Label: label}, sts)
	}
	return l, used
}

// newer orders articles newest published first, then by id.
func newer(a, b feeds.Article) bool {
	if !a.Published.Equal(b.Published) {
		return a.Published.After(b.Published)
	}
	return a.ID < b.ID
}

// better ranks stories: more outlets first, then the newer lead.
func better(a, b *story) bool {
	if len(a.arts) != len(b.arts) {
		return len(a.arts) > len(b.arts)
	}
	return newer(a.lead(), b.lead())
}
