package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/broadsheet/broadsheet/config"
	"github.com/broadsheet/broadsheet/feeds"
	"github.com/broadsheet/broadsheet/sanitize"
	"github.com/broadsheet/broadsheet/store"
)

// sourcesCommands are the subcommands of `broadsheet sources`.
func sourcesCommands() []command {
	return []command{
		{"list", "", "each source's polling status: items stored, last success, next poll, failures, last error", (*Main).cmdSourcesList},
		{"add", "URL [--name N] [--kind news|editorial] [--tags a,b] [--schedule S]", "find the feed of a page or feed address, show it and add it to the configuration", (*Main).cmdSourcesAdd},
		{"remove", "NAME", "remove a source from the configuration (its stored items stay)", (*Main).cmdSourcesRemove},
	}
}

// cmdSources runs a subcommand of `broadsheet sources`, by default list.
func (m *Main) cmdSources(ctx context.Context, _ *flag.FlagSet, args []string) error {
	return m.subcommand(ctx, "sources", sourcesCommands(), "list", args)
}

func (m *Main) cmdSourcesList(ctx context.Context, fs *flag.FlagSet, args []string) error {
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	a, cfg, err := m.openRead(ctx)
	if err != nil {
		return err
	}
	defer a.Close()
	stored, err := a.store.SourceStates(ctx)
	if err != nil {
		return err
	}
	states := configuredStates(stored, sources(cfg))
	now := m.Now()
	tw := newTable(m.Stdout)
	fmt.Fprintln(tw, "SOURCE\tITEMS\tLAST SUCCESS\tNEXT DUE\tFAILURES\tLAST ERROR")
	for _, s := range states {
		name := s.Source
		next := relTime(now, s.NextDue)
		if !s.Active {
			name += " (removed)"
			next = "-"
		} else if s.NextDue.IsZero() || !s.NextDue.After(now) {
			next = "now"
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%d\t%s\n", name, s.Articles, relTime(now, s.LastSuccess), next, s.Failures, oneLine(s.LastError))
	}
	return tw.Flush()
}

// configuredStates is stored as SyncSources would leave it for srcs,
// without writing: a configured source not stored yet is listed, due now;
// a stored one no longer configured is inactive. The order is by name.
func configuredStates(stored []feeds.SourceState, srcs []feeds.Source) []feeds.SourceState {
	configured := make(map[string]string, len(srcs)) // URL by name
	for _, s := range srcs {
		configured[s.Name] = s.URL
	}
	seen := make(map[string]bool, len(stored))
	out := make([]feeds.SourceState, 0, len(stored)+len(srcs))
	for _, st := range stored {
		seen[st.Source] = true
		url, ok := configured[st.Source]
		st.Active = ok
		if ok && url != st.URL {
			st.NextDue = time.Time{} // a changed URL is polled at once
		}
		out = append(out, st)
	}
	for _, s := range srcs {
		if !seen[s.Name] {
			out = append(out, feeds.SourceState{Source: s.Name, URL: s.URL, Active: true})
		}
	}
	if len(out) == len(stored) {
		return out // in the store's order
	}
	slices.SortStableFunc(out, func(x, y feeds.SourceState) int { return strings.Compare(x.Source, y.Source) })
	return out
}

func (m *Main) cmdItems(ctx context.Context, fs *flag.FlagSet, args []string) error {
	since := durationFlag(fs, "since", 0, "only items published within this long, e.g. 24h or 7d (default: all)")
	source := fs.String("source", "", "only items of the source with this name")
	asJSON := fs.Bool("json", false, "print one JSON object a line")
	limit := fs.Int("limit", 0, "at most this many items (0: no limit)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	a, cfg, err := m.openRead(ctx)
	if err != nil {
		return err
	}
	defer a.Close()
	f := store.ArticleFilter{Limit: *limit}
	if *since > 0 {
		f.PublishedSince = m.Now().Add(-*since)
	}
	if *source != "" {
		f.Sources = []string{*source}
	}
	arts, err := a.store.Articles(ctx, f)
	if err != nil {
		return err
	}
	if len(arts) == 0 && !*asJSON {
		return m.noItems(ctx, a, *since, *source)
	}
	if *asJSON {
		enc := json.NewEncoder(m.Stdout)
		for _, x := range arts {
			if err := enc.Encode(itemJSON(x)); err != nil {
				return err
			}
		}
		return nil
	}
	tw := newTable(m.Stdout)
	fmt.Fprintln(tw, "PUBLISHED\tSOURCE\tKIND\tTITLE")
	for _, x := range arts {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", x.Published.In(cfg.Zone()).Format("2006-01-02 15:04 MST"), x.Source, x.Kind, truncate(x.Title, 90))
	}
	return tw.Flush()
}

// noItems says why `items` lists nothing: nothing stored yet, or nothing
// the filters let through.
func (m *Main) noItems(ctx context.Context, a *app, since time.Duration, source string) error {
	c, err := a.store.SourceCounts(ctx)
	if err != nil {
		return err
	}
	all, err := a.store.Articles(ctx, store.ArticleFilter{Limit: 1})
	if err != nil {
		return err
	}
	switch {
	case len(all) == 0 && c.Failing > 0:
		which, their := fmt.Sprintf("%d of %d sources", c.Failing, c.Sources), "their"
		switch {
		case c.Sources == 1:
			which, their = "the one source", "its"
		case c.Failing == c.Sources:
			which = fmt.Sprintf("all %d sources", c.Sources)
		}
		fmt.Fprintf(m.Stdout, "No items stored yet: %s failed at %s last poll; `broadsheet sources` says why.\n", which, their)
	case len(all) == 0:
		fmt.Fprintln(m.Stdout, "No items stored yet: `broadsheet fetch` polls the sources now, or `broadsheet run` on their schedules.")
	default:
		var what []string
		if source != "" {
			what = append(what, fmt.Sprintf("from %q", source))
		}
		if since > 0 {
			what = append(what, "published within "+config.FormatDuration(since))
		}
		fmt.Fprintf(m.Stdout, "No items %s (others are stored: try without the filter).\n", strings.Join(what, " "))
	}
	return nil
}

// item is the JSON form of an article in `items --json`.
type item struct {
	ID         string    `json:"id"`
	Source     string    `json:"source"`
	Title      string    `json:"title"`
	Link       string    `json:"link"`
	Published  time.Time `json:"published"`
	FirstSeen  time.Time `json:"first_seen"`
	Kind       string    `json:"kind"`
	Author     string    `json:"author,omitempty"`
	Categories []string  `json:"categories,omitempty"`
	Excerpt    string    `json:"excerpt,omitempty"`
}

func itemJSON(a feeds.Article) item {
	return item{ID: a.ID, Source: a.Source, Title: a.Title, Link: a.Link, Published: a.Published.UTC(), FirstSeen: a.FirstSeen.UTC(),
		Kind: string(a.Kind), Author: a.Author, Categories: a.Categories, Excerpt: a.Excerpt}
}

func (m *Main) cmdCheck(ctx context.Context, fs *flag.FlagSet, args []string) error {
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	path := m.configPath()
	cfg, err := m.loadConfig(path)
	if err != nil {
		return err
	}
	if err := checkDigests(cfg); err != nil {
		return &exitError{code: exitUsage, msg: fmt.Sprintf("%s: digests: %v", path, err)}
	}
	fmt.Fprintln(m.Stdout, cfg.Summary())
	for _, w := range privateSourceWarnings(ctx, path, cfg) {
		fmt.Fprintln(m.Stderr, w)
	}
	fmt.Fprintln(m.Stdout, "configuration OK")
	return nil
}

// relTime says when t is relative to now, briefly: "5m ago", "in 2h".
func relTime(now, t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := t.Sub(now)
	suffix := ""
	prefix := "in "
	if d < 0 {
		d, prefix, suffix = -d, "", " ago"
	}
	var s string
	switch {
	case d < time.Minute:
		s = fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		s = fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		s = fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	default:
		s = fmt.Sprintf("%dd", int(d.Hours()/24))
	}
	return prefix + s + suffix
}

// truncate cuts s to n terminal columns (a Hangul syllable takes two).
func truncate(s string, n int) string { return sanitize.ClipColumns(s, n) }
