package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/broadsheet/broadsheet/assign"
	"github.com/broadsheet/broadsheet/config"
	"github.com/broadsheet/broadsheet/topics"
)

// topicRules converts the configured topics.
func topicRules(cfg *config.Config) []topics.Rule {
	rules := make([]topics.Rule, 0, len(cfg.Topics))
	for _, t := range cfg.Topics {
		rules = append(rules, topics.Rule{
			Name:       t.Name,
			Slug:       t.Slug,
			Any:        t.Match.Any,
			All:        t.Match.All,
			None:       t.Match.None,
			Categories: t.Match.Categories,
			Sources:    t.Match.Sources,
		})
	}
	return rules
}

// newAssigner builds the Assigner from cfg: the configured topics and the
// clustering settings. owner names this process in the "topics" lease.
// onPass, if set, is told of each pass (for metrics).
func newAssigner(cfg *config.Config, st assign.Store, owner string, log *slog.Logger, onPass func(int, time.Duration, error)) (*assign.Assigner, error) {
	a, err := assign.New(st, assign.Options{
		Rules: topicRules(cfg),
		Clustering: topics.Options{
			Window:    cfg.Clustering.Window,
			Threshold: cfg.Clustering.Threshold,
		},
		Enabled: cfg.ClusteringEnabled(),
		Owner:   owner,
		Logger:  log,
		OnPass:  onPass,
	})
	if err != nil {
		return nil, fmt.Errorf("topics: %w", err)
	}
	return a, nil
}

// assignTopics assigns the topics of what is pending, once, and releases
// the lease, so that commands show up-to-date topics without a daemon.
// When a daemon holds the lease it leaves the work to it.
func (a *app) assignTopics(ctx context.Context) error {
	if a.readOnly {
		return nil // openReadMostly said so
	}
	// Released however the pass ends, so that a daemon need not wait for
	// the lease to lapse.
	defer func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if err := a.topics.Release(rctx); err != nil {
			a.log.Warn("release the topics lease", "err", err)
		}
	}()
	if _, err := a.topics.Pass(ctx); err != nil {
		return fmt.Errorf("assign topics: %w", err)
	}
	return nil
}

// cmdTopics assigns what is pending (so that `fetch` then `topics` works
// without a daemon; when a daemon holds the lease it leaves the work to
// it), then lists the groups the page shows, in its order and with its
// labels: the one query (assign.Assigner.Groups), each story once.
func (m *Main) cmdTopics(ctx context.Context, fs *flag.FlagSet, args []string) error {
	since := durationFlag(fs, "since", 0, "only items published within this long, e.g. 72h or 3d (default clustering.window)")
	kind := fs.String("kind", "", "only groups of this kind: story or configured")
	asJSON := fs.Bool("json", false, "print a JSON array of {slug, label, kind, outlets, stories: [{slug, label, outlets, items}], items}")
	outlets := fs.Int("min-outlets", topics.StoryOutlets, "only stories of their own carried by at least this many outlets (1 adds the other stories)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	var want topics.Kind
	switch *kind {
	case "", string(topics.KindStory), string(topics.KindConfigured):
		want = topics.Kind(*kind)
	default:
		return &exitError{code: exitUsage, msg: fmt.Sprintf("topics: --kind %q: want story or configured", *kind)}
	}
	a, cfg, err := m.openReadMostly(ctx)
	if err != nil {
		return err
	}
	defer a.Close()
	if err := a.assignTopics(ctx); err != nil {
		return err
	}
	window := *since
	if window <= 0 {
		window = cfg.Clustering.Window
	}
	if window <= 0 {
		window = topics.DefaultWindow
	}
	gs, err := a.topics.Groups(ctx, topics.Query{PublishedSince: m.Now().Add(-window), Distinct: true})
	if err != nil {
		return err
	}
	gs = slices.DeleteFunc(gs, func(g topics.Group) bool {
		switch {
		case want != "" && g.Kind != want:
			return true
		case g.Kind == topics.KindStory:
			return g.Stories[0].Outlets() < *outlets
		case g.Kind == topics.KindOther:
			// Every story here has one outlet (more would be a group of
			// its own).
			return *outlets > 1
		}
		return false
	})
	loc := cfg.Zone()
	if *asJSON {
		return writeTopicsJSON(m.Stdout, gs)
	}
	return writeTopicsText(m.Stdout, gs, window, loc)
}

// topicJSON is one group in `topics --json`. Items are its stories'
// items, in order, for scripts that want a flat list.
type topicJSON struct {
	Slug    string          `json:"slug"`
	Label   string          `json:"label"`
	Kind    string          `json:"kind"`
	Outlets int             `json:"outlets"`
	Stories []storyJSON     `json:"stories"`
	Items   []topicItemJSON `json:"items"`
}

type storyJSON struct {
	Slug    string          `json:"slug,omitempty"`
	Label   string          `json:"label"`
	Outlets int             `json:"outlets"`
	Items   []topicItemJSON `json:"items"`
}

type topicItemJSON struct {
	ID        string    `json:"id"`
	Title     string    `json:"title"`
	Link      string    `json:"link"`
	Source    string    `json:"source"`
	Also      []string  `json:"also,omitempty"`
	Published time.Time `json:"published"`
}

func writeTopicsJSON(w io.Writer, gs []topics.Group) error {
	out := make([]topicJSON, 0, len(gs))
	for _, g := range gs {
		t := topicJSON{Slug: g.Slug, Label: g.Label, Kind: string(g.Kind), Outlets: g.Outlets, Stories: []storyJSON{}, Items: []topicItemJSON{}}
		for _, s := range g.Stories {
			sj := storyJSON{Slug: s.Slug, Label: s.Label, Outlets: s.Outlets(), Items: []topicItemJSON{}}
			for _, x := range s.Items {
				it := topicItemJSON{ID: x.ID, Title: x.Title, Link: x.Link, Source: x.Source, Also: x.Also, Published: x.Published.UTC()}
				sj.Items = append(sj.Items, it)
				t.Items = append(t.Items, it)
			}
			t.Stories = append(t.Stories, sj)
		}
		out = append(out, t)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// writeTopicsText writes each group as the page shows it: a configured
// topic with its stories, a story with its outlets' items. Times are in
// loc, with its zone.
func writeTopicsText(w io.Writer, gs []topics.Group, window time.Duration, loc *time.Location) error {
	if len(gs) == 0 {
		_, err := fmt.Fprintf(w, "No topics or stories among the items published in the last %s.\n", formatWindow(window))
		return err
	}
	items := func(s topics.Story, indent string) {
		tb := newTable(w)
		for _, x := range s.Items {
			src := termText(x.Source)
			if len(x.Also) > 0 {
				src += " (also " + termText(strings.Join(x.Also, ", ")) + ")"
			}
			fmt.Fprintf(tb, "%s%s\t%s\t%s\n", indent, truncate(src, 40), x.Published.In(loc).Format("2006-01-02 15:04 MST"), truncate(termText(x.Title), 90))
		}
		tb.Flush()
	}
	for i, g := range gs {
		if i > 0 {
			fmt.Fprintln(w)
		}
		switch g.Kind {
		case topics.KindStory:
			fmt.Fprintf(w, "%s\n  story · %s · %s\n", termText(g.Label), plural(g.Outlets, "outlet", "outlets"), g.Slug)
			items(g.Stories[0], "    ")
		default:
			what := string(g.Kind)
			if g.Slug != "" {
				what += " · " + g.Slug
			}
			fmt.Fprintf(w, "%s\n  %s · %s from %s\n", termText(g.Label), what, plural(len(g.Stories), "story", "stories"), plural(g.Outlets, "outlet", "outlets"))
			for _, s := range g.Stories {
				fmt.Fprintf(w, "    %s\n", truncate(termText(s.Label), 90))
				items(s, "      ")
			}
		}
	}
	_, err := fmt.Fprintf(w, "\n%s among the items published in the last %s.\n", plural(len(gs), "group", "groups"), formatWindow(window))
	return err
}

// termText is feed text made safe for a terminal: one line, without
// control characters (a title could carry escape sequences).
func termText(s string) string {
	return oneLine(strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s))
}

// formatWindow writes whole hours and days plainly: 72h, 2h30m.
func formatWindow(d time.Duration) string {
	s := d.String()
	for _, suffix := range []string{"m0s", "h0m"} {
		if len(s) > len(suffix) && s[len(s)-len(suffix):] == suffix {
			s = s[:len(s)-len(suffix)+1]
		}
	}
	return s
}
