package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/schollz/progressbar/v3"

	"github.com/broadsheet/broadsheet/feeds"
)

func (m *Main) cmdFetch(ctx context.Context, fs *flag.FlagSet, args []string) error {
	only := fs.String("source", "", "poll only the source with this name")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	// The table is the report: the log adds only what went wrong.
	a, cfg, err := m.openQuiet(ctx)
	if err != nil {
		return err
	}
	defer a.Close()

	all := sources(cfg)
	srcs := all
	if *only != "" {
		srcs = nil
		for _, s := range all {
			if s.Name == *only {
				srcs = append(srcs, s)
			}
		}
		if len(srcs) == 0 {
			return &exitError{code: exitUsage, msg: fmt.Sprintf("no source named %q in %s; its sources are: %s", *only, a.cfgPath, sourceNames(all))}
		}
	}
	if err := a.store.SyncSources(ctx, all); err != nil {
		return err
	}

	var bar *progressbar.ProgressBar
	progress := func(feeds.Report) {}
	if m.Terminal {
		bar = progressbar.NewOptions(len(srcs),
			progressbar.OptionSetWriter(m.Stderr),
			progressbar.OptionSetDescription("fetching "+plural(len(srcs), "source", "sources")),
			progressbar.OptionShowCount(),
			progressbar.OptionSetPredictTime(false))
		bar.RenderBlank()
		// Log lines go above the bar, not through it.
		a.logOut.drawing(bar)
		progress = func(r feeds.Report) { bar.Add(1) }
	}
	reports := a.poller.PollNow(ctx, srcs, progress)
	if bar != nil {
		// At 100 % (or where an interrupt left it), then a new line for
		// what follows; log lines held back by the bar come out first.
		if ctx.Err() == nil {
			bar.Finish()
		} else {
			bar.Exit()
		}
		a.logOut.drawing(nil)
		fmt.Fprintln(m.Stderr)
	}
	if ctx.Err() == nil {
		if err := a.assignTopics(ctx); err != nil {
			a.log.Error("topics not assigned; the daemon or the next fetch will", "err", err)
		}
	}
	failed := printFetchTable(m.Stdout, reports)
	if ctx.Err() != nil {
		return &exitError{code: exitFailed, msg: "interrupted: sources not yet fetched were left as they were"}
	}
	if failed > 0 {
		return &exitError{code: exitFailed, msg: fmt.Sprintf("%d of %s failed; see the result column above, and `broadsheet sources` for their history", failed, plural(len(reports), "source", "sources"))}
	}
	return nil
}

// printFetchTable writes one row per report and a total, and returns the
// number of failed sources.
func printFetchTable(w io.Writer, reports []feeds.Report) (failed int) {
	feeds.SortReports(reports)
	tw := newTable(w)
	fmt.Fprintln(tw, "SOURCE\tSTATUS\tNEW\tUPDATED\tUNCHANGED\tRESULT")
	var n, upd, notMod int
	for _, r := range reports {
		status := "-"
		if code := reportStatus(r); code != 0 {
			status = fmt.Sprint(code)
		}
		result := "ok"
		switch {
		case r.Err != nil:
			failed++
			result = "failed: " + oneLine(errText(r.Err))
		case r.NotModified:
			notMod++
			result = "not modified"
		case r.Dropped > 0 || r.Filtered > 0:
			var why []string
			if r.Dropped > 0 {
				why = append(why, fmt.Sprintf("%d items over fetch.max_items skipped", r.Dropped))
			}
			if r.Filtered > 0 {
				why = append(why, fmt.Sprintf("%d left out by its keep/block rules", r.Filtered))
			}
			result = "ok (" + strings.Join(why, ", ") + ")"
		}
		if r.Err == nil && r.Skipped > 0 {
			result += fmt.Sprintf("; %s unreadable, skipped (see the log)", plural(r.Skipped, "item", "items"))
		}
		n += r.New
		upd += r.Updated
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%s\n", r.Source, status, r.New, r.Updated, r.Unchanged, result)
	}
	tw.Flush()
	fmt.Fprintf(w, "\n%s: %d ok (%d not modified), %d failed; %s, %d updated.\n",
		plural(len(reports), "source", "sources"), len(reports)-failed, notMod, failed, plural(n, "new item", "new items"), upd)
	return failed
}

// reportStatus is r's HTTP status, that of a failed fetch included; 0 when
// no answer came.
func reportStatus(r feeds.Report) int {
	if r.Status != 0 {
		return r.Status
	}
	var fe *feeds.FetchError
	if errors.As(r.Err, &fe) {
		return fe.Status
	}
	return 0
}

// errText prefers a FetchError's reason, written for people.
func errText(err error) string {
	var fe *feeds.FetchError
	if errors.As(err, &fe) && fe.Reason != "" {
		return fe.Reason
	}
	return err.Error()
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func sourceNames(srcs []feeds.Source) string {
	names := make([]string, len(srcs))
	for i, s := range srcs {
		names[i] = fmt.Sprintf("%q", s.Name)
	}
	return strings.Join(names, ", ")
}
