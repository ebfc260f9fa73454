package digest

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/broadsheet/broadsheet/feeds"
	"github.com/broadsheet/broadsheet/store"
	"github.com/broadsheet/broadsheet/topics"
)

// layout is what one delivery shows: the groups the read model answered
// when the delivery was planned, with their items' text as it was then. It
// is stored with the delivery (as JSON in store.Delivery.Layout) and
// rendered from alone, so that every attempt sends the same digest even if
// an article is edited or deleted in between.
type layout struct {
	Groups []topics.Group `json:"groups,omitempty"`
	// Topics is the layout of a delivery planned by a broadsheet before
	// groups were recorded: article ids only, which render reads again
	// (see legacyGroups). It is never written.
	Topics []legacyTopic `json:"topics,omitempty"`
}

type legacyTopic struct {
	Slug    string     `json:"slug,omitempty"`
	Label   string     `json:"label"`
	Kind    string     `json:"kind,omitempty"`
	Stories [][]string `json:"stories"`
}

// ids lists the layout's articles in order: those it shows.
func (l layout) ids() []string {
	var out []string
	for _, g := range l.Groups {
		for _, s := range g.Stories {
			for _, it := range s.Items {
				out = append(out, it.ID)
			}
		}
	}
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

// query is the read-model query of d's articles first seen in
// [since, until), planned at now: the page's query, with the digest's
// filters, each story once and the best d.MaxItems stories.
func query(d Digest, since, until, now time.Time) topics.Query {
	return topics.Query{
		PublishedSince: now.Add(-d.maxAge()),
		SeenSince:      since,
		SeenBefore:     until,
		Sources:        d.Sources,
		Kinds:          d.Kinds,
		Topics:         d.Topics,
		Distinct:       true,
		MaxStories:     d.MaxItems,
	}
}

// choose asks the read model for d's groups of the articles first seen in
// [since, until), planned at now.
func (s *Service) choose(ctx context.Context, d Digest, since, until, now time.Time) (layout, error) {
	gs, err := s.groups.Groups(ctx, query(d, since, until, now))
	if err != nil {
		return layout{}, fmt.Errorf("digest %q: group articles: %w", d.Name, err)
	}
	// A digest shows one item per outlet; the outlets' other items on a
	// story are for its page.
	for i := range gs {
		for j := range gs[i].Stories {
			gs[i].Stories[j].More = nil
		}
	}
	return layout{Groups: gs}, nil
}

// ungrouped is the Grouper of a Service given none: the read model with
// no stored topics, stories found by shared links only.
type ungrouped struct{ st Store }

func (u ungrouped) Groups(ctx context.Context, q topics.Query) ([]topics.Group, error) {
	// An empty list means no filter here; to the store it would mean
	// nothing at all.
	f := store.ArticleFilter{PublishedSince: q.PublishedSince, SeenSince: q.SeenSince, SeenBefore: q.SeenBefore}
	if len(q.Sources) > 0 {
		f.Sources = q.Sources
	}
	if len(q.Kinds) > 0 {
		f.Kinds = q.Kinds
	}
	arts, err := u.st.Articles(ctx, f)
	if err != nil {
		return nil, err
	}
	return topics.Build(arts, nil, nil, q), nil
}

// legacyGroups turns a legacy layout into groups, from the articles as
// stored now; articles deleted since are left out.
func (s *Service) legacyGroups(ctx context.Context, l layout) ([]topics.Group, error) {
	ids := l.ids()
	if len(ids) == 0 {
		return nil, nil
	}
	as, err := s.st.Articles(ctx, store.ArticleFilter{IDs: ids})
	if err != nil {
		return nil, fmt.Errorf("load articles: %w", err)
	}
	arts := make(map[string]feeds.Article, len(as))
	for _, a := range as {
		arts[a.ID] = a
	}
	var out []topics.Group
	for _, t := range l.Topics {
		g := topics.Group{Topic: topics.Topic{Slug: t.Slug, Label: t.Label, Kind: topics.Kind(t.Kind)}}
		if t.Slug == "" {
			g.Kind = topics.KindOther
		}
		for _, ids := range t.Stories {
			var st topics.Story
			for _, id := range ids {
				if a, ok := arts[id]; ok {
					st.Items = append(st.Items, topics.ItemOf(a))
				}
			}
			if len(st.Items) > 0 {
				st.Label = st.Items[0].Title
				g.Stories = append(g.Stories, st)
			}
		}
		out = append(out, g)
	}
	return out, nil
}
