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

	"github.com/broadsheet/broadsheet/config"
	"github.com/broadsheet/broadsheet/feeds"
	"github.com/broadsheet/broadsheet/opml"
)

// imported is what import makes of one feed of the file.
type imported struct {
	feed   opml.Feed
	source config.Source
	note   string // why it was skipped, or how it was renamed or merged
	skip   bool
}

func (m *Main) cmdImport(ctx context.Context, fs *flag.FlagSet, args []string) error {
	dry := fs.Bool("dry-run", false, "show what would be added, without changing the configuration")
	pos, err := parseArgs(fs, args, "FILE")
	if err != nil {
		return err
	}
	doc, err := readOPML(pos[0])
	if err != nil {
		return &exitError{code: exitFailed, msg: err.Error()}
	}
	path, data, cfg, err := m.readConfig()
	if err != nil {
		return err
	}
	plan := planImport(cfg, doc)
	var add []config.Source
	for _, p := range plan {
		if !p.skip {
			add = append(add, p.source)
		}
	}
	m.showImport(m.Stdout, pos[0], doc, plan)
	if len(add) == 0 {
		fmt.Fprintf(m.Stdout, "Nothing to add: %s is unchanged.\n", path)
		return nil
	}
	out, err := config.AddSources(path, data, add...)
	if err != nil {
		return &exitError{code: exitFailed, msg: fmt.Sprintf("nothing imported: %v", err)}
	}
	if *dry {
		fmt.Fprintf(m.Stdout, "Would add %d sources to %s (a dry run: the file is unchanged).\n", len(add), path)
		return nil
	}
	if err := config.WriteFile(path, out, data); err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "Added %d sources to %s. A running `broadsheet run` polls them within seconds; `broadsheet fetch` polls them now, and `broadsheet sources` shows how each did.\n", len(add), path)
	return nil
}

func readOPML(name string) (*opml.Document, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("read the subscription list: %w", err)
	}
	defer f.Close()
	doc, err := opml.Parse(f)
	if err != nil {
		var e *opml.Error
		if errors.As(err, &e) && e.Line > 0 {
			return nil, fmt.Errorf("%s:%d: %s", name, e.Line, e.Msg)
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return doc, nil
}

// planImport decides, for each feed of doc, the source it becomes or why
// it is skipped: a feed already configured, or listed again in the file
// (its folders then join the first listing's tags, as readers that file a
// feed in several folders list it once in each), or without an http(s)
// address. Folders and categories become tags; a name already taken gets
// its site's host, then a number.
func planImport(cfg *config.Config, doc *opml.Document) []imported {
	existing := cfg.SourceSet()
	chosen := &config.Config{}
	planned := chosen.SourceSet()
	byKey := map[string]int{} // feed key → index in plan of its first listing
	var plan []imported
	for _, f := range doc.Feeds {
		p := imported{feed: f}
		u, err := url.Parse(f.URL)
		switch {
		case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.ContainsAny(f.URL, " \t\r\n"):
			p.skip, p.note = true, "not an http or https address"
			plan = append(plan, p)
			continue
		}
		key := config.FeedKey(f.URL)
		tags, kind := importTags(f)
		if i, ok := byKey[key]; ok {
			first := &plan[i]
			for _, t := range tags {
				if !slices.ContainsFunc(first.source.Tags, func(x string) bool { return strings.EqualFold(x, t) }) {
					first.source.Tags = append(first.source.Tags, t)
				}
			}
			p.skip, p.note = true, fmt.Sprintf("listed again (line %d); its folders are added to the first's tags", plan[i].feed.Line)
			plan = append(plan, p)
			continue
		}
		src := config.Source{URL: f.URL, Kind: kind, Tags: tags}
		var de *config.DuplicateError
		if err := existing.Conflict(src); errors.As(err, &de) {
			p.skip, p.note = true, "already configured as "+quoteSource(de)
			plan = append(plan, p)
			continue
		}
		src.Name, p.note = importName(f, u, existing, planned)
		p.source = src
		planned.Add(src)
		byKey[key] = len(plan)
		plan = append(plan, p)
	}
	return plan
}

func quoteSource(de *config.DuplicateError) string {
	s := fmt.Sprintf("%q", de.Existing.Name)
	if de.Line > 0 {
		s += fmt.Sprintf(" (line %d)", de.Line)
	}
	return s
}

// importTags are a feed's folders and categories, each once, with the
// source kind taken out of them ("editorial", as broadsheet's own OPML
// writes it in the categories).
func importTags(f opml.Feed) ([]string, string) {
	var tags []string
	kind := ""
	for _, t := range append(slices.Clone(f.Folders), f.Categories...) {
		switch strings.ToLower(t) {
		case config.KindEditorial:
			kind = config.KindEditorial
			continue
		case config.KindNews:
			continue
		}
		if t != "" && !slices.ContainsFunc(tags, func(x string) bool { return strings.EqualFold(x, t) }) {
			tags = append(tags, t)
		}
	}
	return tags, kind
}

// importName is the name for f: its title, else its host; a name taken
// (in the configuration or earlier in the file) gets the host, then a
// number. note says when it was changed.
func importName(f opml.Feed, u *url.URL, sets ...*config.SourceSet) (name, note string) {
	host := strings.TrimPrefix(u.Hostname(), "www.")
	title := truncate(oneLine(f.Title), 80)
	if feeds.Slugify(title) == "" {
		title = host
	}
	taken := func(n string) bool {
		for _, s := range sets {
			if s.Conflict(config.Source{Name: n}) != nil {
				return true
			}
		}
		return false
	}
	if !taken(title) {
		return title, ""
	}
	cand := title + " (" + host + ")"
	if title == host {
		cand = host + strings.TrimRight(u.EscapedPath(), "/")
	}
	for i := 2; taken(cand); i++ {
		cand = fmt.Sprintf("%s (%s) %d", title, host, i)
	}
	return cand, fmt.Sprintf("renamed: %q is taken", title)
}

// showImport prints what the file holds and what becomes of each feed.
func (m *Main) showImport(w io.Writer, name string, doc *opml.Document, plan []imported) {
	what := "OPML"
	if doc.Version != "" {
		what += " " + doc.Version
	}
	if doc.Title != "" {
		what += fmt.Sprintf(", %q", truncate(doc.Title, 60))
	}
	fmt.Fprintf(w, "%s: %d feeds (%s).\n", name, len(doc.Feeds), what)
	tw := newTable(w)
	var added, skipped int
	for _, p := range plan {
		status, title, note := "add", p.source.Name, p.note
		if p.skip {
			status, title = "skip", truncate(oneLine(p.feed.Title), 60)
			skipped++
		} else {
			added++
			if len(p.source.Tags) > 0 {
				note = strings.TrimPrefix(note+"; tags: "+strings.Join(p.source.Tags, ", "), "; ")
			}
			if p.source.Kind != "" {
				note = strings.TrimPrefix(note+"; kind: "+p.source.Kind, "; ")
			}
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", status, title, p.feed.URL, note)
	}
	for _, s := range doc.Skipped {
		fmt.Fprintf(tw, "  skip\t%s\t\t\n", s)
		skipped++
	}
	tw.Flush()
	fmt.Fprintf(w, "%d to add, %d skipped.\n", added, skipped)
}
