package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/broadsheet/broadsheet/config"
	"github.com/broadsheet/broadsheet/feeds"
	"github.com/broadsheet/broadsheet/feeds/fetch"
)

// readConfig reads and validates the configuration file for an edit,
// returning its text too.
func (m *Main) readConfig() (string, []byte, *config.Config, error) {
	path := m.configPath()
	data, err := os.ReadFile(path)
	if err != nil {
		return "", nil, nil, &exitError{code: exitUsage, msg: fmt.Sprintf("read the configuration: %v", err)}
	}
	cfg, err := config.Parse(path, data)
	if err != nil {
		return "", nil, nil, &exitError{code: exitUsage, msg: err.Error()}
	}
	return path, data, cfg, nil
}

// tagsFlag defines a flag of comma-separated tags.
func tagsFlag(fs *flag.FlagSet, usage string) *[]string {
	var tags []string
	fs.Func("tags", usage, func(s string) error {
		for t := range strings.SplitSeq(s, ",") {
			if t = strings.TrimSpace(t); t != "" && !slices.Contains(tags, t) {
				tags = append(tags, t)
			}
		}
		return nil
	})
	return &tags
}

func (m *Main) cmdSourcesAdd(ctx context.Context, fs *flag.FlagSet, args []string) error {
	name := fs.String("name", "", "the source's name (default: the feed's title)")
	kind := fs.String("kind", "", "news (the default) or editorial")
	tags := tagsFlag(fs, "tags, separated by commas")
	sched := fs.String("schedule", "", "when to poll it, if not on the global schedule (e.g. \"@every 1h\")")
	pos, err := parseArgs(fs, args, "URL")
	if err != nil {
		return err
	}
	raw := strings.TrimSpace(pos[0])
	if *kind != "" && *kind != config.KindNews && *kind != config.KindEditorial {
		return &exitError{code: exitUsage, msg: fmt.Sprintf("--kind %q: use news or editorial", *kind)}
	}
	if u, err := url.Parse(raw); err == nil && u.Scheme == "" && u.Host == "" && u.Path != "" && !strings.HasPrefix(raw, "/") {
		// "example.com/feed": the scheme is the usual omission.
		raw = "https://" + raw
	}
	path, data, cfg, err := m.readConfig()
	if err != nil {
		return err
	}
	if err := cfg.Conflict(config.Source{URL: raw}); err != nil {
		return &exitError{code: exitFailed, msg: fmt.Sprintf("not added: %v in %s", err, path)}
	}

	if m.Terminal {
		fmt.Fprintf(m.Stderr, "Looking for the feed at %s…\n", raw)
	}
	ctx, cancel := context.WithTimeout(ctx, max(time.Minute, 2*cfg.Fetch.Timeout))
	defer cancel()
	d, err := m.newFetcher(cfg).Discover(ctx, raw)
	if err != nil {
		var fe *feeds.FetchError
		if errors.As(err, &fe) {
			return &exitError{code: exitFailed, msg: fmt.Sprintf("not added: %s: %s", raw, fe.Reason)}
		}
		return err
	}
	m.showDiscovery(m.Stdout, d)

	src := config.Source{Name: *name, URL: d.URL, Kind: *kind, Tags: *tags, Schedule: *sched}
	if src.Name == "" {
		src.Name = defaultName(d)
	}
	if err := cfg.Conflict(src); err != nil {
		var de *config.DuplicateError
		hint := ""
		if errors.As(err, &de) && de.Field == "name" {
			hint = ": give this one another name with --name"
		}
		return &exitError{code: exitFailed, msg: fmt.Sprintf("not added: %v in %s%s", err, path, hint)}
	}
	out, err := config.AddSources(path, data, src)
	if err != nil {
		return &exitError{code: exitFailed, msg: fmt.Sprintf("not added: %v", err)}
	}
	if err := config.WriteFile(path, out, data); err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "Added source %q to %s. A running `broadsheet run` polls it within seconds; `broadsheet fetch --source %q` polls it now.\n", src.Name, path, src.Name)
	return nil
}

// showDiscovery prints what was found: the feed, how, its latest items and
// the page's other feeds.
func (m *Main) showDiscovery(w io.Writer, d *fetch.Discovery) {
	title := d.Title
	if title == "" {
		title = "(untitled)"
	}
	fmt.Fprintf(w, "Found the feed %q at %s (%s), with %d items", truncate(title, 100), d.URL, d.How, len(d.Articles))
	latest := slices.Clone(d.Articles)
	slices.SortStableFunc(latest, func(a, b feeds.Article) int { return b.Published.Compare(a.Published) })
	if len(latest) == 0 {
		fmt.Fprintln(w, ".")
	} else {
		fmt.Fprintln(w, "; the latest:")
	}
	for _, a := range latest[:min(len(latest), 5)] {
		date := "          "
		if !a.Published.IsZero() {
			date = a.Published.Format("2006-01-02")
		}
		fmt.Fprintf(w, "  %s  %s\n", date, truncate(oneLine(a.Title), 100))
	}
	if len(d.Others) > 0 {
		fmt.Fprintf(w, "The page also advertises: %s (add one of those by its address instead, if it is the one you want).\n", strings.Join(d.Others, ", "))
	}
}

// defaultName is a source's name when none is given: the feed's title,
// else its host.
func defaultName(d *fetch.Discovery) string {
	if t := truncate(oneLine(d.Title), 80); feeds.Slugify(t) != "" {
		return t
	}
	if u, err := url.Parse(d.URL); err == nil {
		return u.Hostname()
	}
	return d.URL
}

func (m *Main) cmdSourcesRemove(ctx context.Context, fs *flag.FlagSet, args []string) error {
	pos, err := parseArgs(fs, args, "NAME")
	if err != nil {
		return err
	}
	path, data, _, err := m.readConfig()
	if err != nil {
		return err
	}
	out, removed, err := config.RemoveSource(path, data, pos[0])
	if err != nil {
		return &exitError{code: exitFailed, msg: fmt.Sprintf("not removed: %v", err)}
	}
	if err := config.WriteFile(path, out, data); err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "Removed source %q (%s) from %s. Its stored items stay; a running `broadsheet run` stops polling it within seconds.\n", removed.Name, removed.URL, path)
	return nil
}
