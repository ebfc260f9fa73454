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
	"github.com/broadsheet/broadsheet/feeds"
	"github.com/broadsheet/broadsheet/store"
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

// configuredSlugs lists the slugs of the topics configured now: topics
// removed from the configuration stay in the store but are not shown.
func configuredSlugs(ts []topics.Topic) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.Slug
	}
	return out
}

// assignTopics assigns the topics of what is pending, once, and releases
// the lease, so that commands show up-to-date topics without a daemon.
// When a daemon holds the lease it leaves the work to it.
func (a *app) assignTopics(ctx context.Context) error {
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
// it), then lists the topics, largest first.
func (m *Main) cmdTopics(ctx context.Context, fs *flag.FlagSet, args []string) error {
	since := durationFlag(fs, "since", 0, "only items published within this long, e.g. 72h or 3d (default clustering.window)")
	kind := fs.String("kind", "", "only topics of this kind: story or configured")
	asJSON := fs.Bool("json", false, "print a JSON array of {slug, label, kind, items}")
	outlets := fs.Int("min-outlets", topics.StoryOutlets, "only stories carried by at least this many outlets")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	var kinds []topics.Kind
	switch *kind {
	case "":
	case string(topics.KindStory), string(topics.KindConfigured):
		kinds = []topics.Kind{topics.Kind(*kind)}
	default:
		return &exitError{code: exitUsage, msg: fmt.Sprintf("topics: --kind %q: want story or configured", *kind)}
	}
	a, cfg, err := m.openQuiet(ctx)
	if err != nil {
		return err
	}
	defer a.Close()
	if err := a.assignTopics(ctx); err != nil {
		return err
	}
	ts, asg := a.store, a.topics

	window := *since
	if window <= 0 {
		window = cfg.Clustering.Window
	}
	if window <= 0 {
		window = topics.DefaultWindow
	}
	gs, err := ts.Topics(ctx, store.TopicFilter{PublishedSince: m.Now().Add(-window), Kinds: kinds})
	if err != nil {
		return err
	}
	conf := configuredSlugs(asg.ConfiguredTopics())
	gs = slices.DeleteFunc(gs, func(g store.TopicGroup) bool {
		if g.Kind == topics.KindConfigured {
			return !slices.Contains(conf, g.Slug)
		}
		return g.Sources < *outlets
	})
	var ids []string
	for _, g := range gs {
		ids = append(ids, g.ArticleIDs...)
	}
	arts := map[string]feeds.Article{}
	if len(ids) > 0 {
		list, err := a.store.Articles(ctx, store.ArticleFilter{IDs: ids})
		if err != nil {
			return err
		}
		for _, x := range list {
			arts[x.ID] = x
		}
	}
	if *asJSON {
		return writeTopicsJSON(m.Stdout, gs, arts)
	}
	writeTopicsText(m.Stdout, gs, arts, window)
	return nil
}

// topicJSON is one group in `topics --json`.
type topicJSON struct {
	Slug  string          `json:"slug"`
	Label string          `json:"label"`
	Kind  string          `json:"kind"`
	Items []topicItemJSON `json:"items"`
}

type topicItemJSON struct {
	ID        string    `json:"id"`
	Title     string    `json:"title"`
	Link      string    `json:"link"`
	Source    string    `json:"source"`
	Published time.Time `json:"published"`
}

func writeTopicsJSON(w io.Writer, gs []store.TopicGroup, arts map[string]feeds.Article) error {
	out := make([]topicJSON, 0, len(gs))
	for _, g := range gs {
		t := topicJSON{Slug: g.Slug, Label: g.Label, Kind: string(g.Kind), Items: []topicItemJSON{}}
		for _, id := range g.ArticleIDs {
			if x, ok := arts[id]; ok {
				t.Items = append(t.Items, topicItemJSON{ID: x.ID, Title: x.Title, Link: x.Link, Source: x.Source, Published: x.Published.UTC()})
			}
		}
		out = append(out, t)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func writeTopicsText(w io.Writer, gs []store.TopicGroup, arts map[string]feeds.Article, window time.Duration) {
	if len(gs) == 0 {
		fmt.Fprintf(w, "No topics or stories among the items published in the last %s.\n", formatWindow(window))
		return
	}
	for i, g := range gs {
		if i > 0 {
			fmt.Fprintln(w)
		}
		outlets := "1 outlet"
		if g.Sources != 1 {
			outlets = fmt.Sprintf("%d outlets", g.Sources)
		}
		fmt.Fprintf(w, "%s\n  %s · %s · %s\n", termText(g.Label), g.Kind, outlets, g.Slug)
		width := 0
		for _, id := range g.ArticleIDs {
			width = max(width, len([]rune(arts[id].Source)))
		}
		for _, id := range g.ArticleIDs {
			x, ok := arts[id]
			if !ok {
				continue
			}
			pad := width - len([]rune(x.Source))
			fmt.Fprintf(w, "    %s%*s  %s  %s\n", termText(x.Source), pad, "", x.Published.Local().Format("2006-01-02 15:04"), truncate(termText(x.Title), 90))
		}
	}
	fmt.Fprintf(w, "\n%s among the items published in the last %s.\n", plural(len(gs), "group", "groups"), formatWindow(window))
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
