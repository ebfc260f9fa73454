package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/broadsheet/broadsheet/config"
	"github.com/broadsheet/broadsheet/digest"
	"github.com/broadsheet/broadsheet/digest/outbox"
	"github.com/broadsheet/broadsheet/digest/smtp"
	"github.com/broadsheet/broadsheet/feeds"
	"github.com/broadsheet/broadsheet/schedule"
	"github.com/broadsheet/broadsheet/store"
)

// digests is what the digest commands and `run` need: the Service and the
// configured digests with their schedules.
type digests struct {
	svc    *digest.Service
	list   []digest.Digest
	scheds map[string]*schedule.Schedule
	mailer digest.Mailer
	now    func() time.Time
	log    *slog.Logger
	// ran, if set, is told of every run's report (for metrics).
	ran func(*digest.Report)
}

// newDigests builds the digest Service from cfg over st: SMTP when cfg has
// an smtp: section, else the outbox folder. groups is the read model
// (the Assigner, as for the page); nil groups by shared links only.
func newDigests(cfg *config.Config, st store.Store, groups digest.Grouper, owner string, now func() time.Time, log *slog.Logger) (*digests, error) {
	tmpl, err := digest.LoadTemplates(cfg.Templates)
	if err != nil {
		return nil, fmt.Errorf("templates: %w", err)
	}
	opts := digest.Options{
		BaseURL: cfg.Server.BaseURL,
		Title:   cfg.Server.Title,
		Owner:   owner,
		Now:     now,
		Logger:  log,
	}
	if cfg.Server.Secret != "" {
		opts.Secret = []byte(cfg.Server.Secret)
	}
	var mailer digest.Mailer
	if c := cfg.SMTP; c != nil {
		m, err := smtp.New(smtp.Options{Host: c.Host, Port: c.Port, Username: c.Username, Password: c.Password, TLS: c.TLS, Timeout: c.Timeout})
		if err != nil {
			return nil, err
		}
		mailer = m
		opts.From = c.From
		// A delivery's lease must outlast its send, which the timeout
		// bounds.
		opts.Lease = 3 * m.Timeout()
	} else {
		dir := cfg.Outbox
		if dir == "" {
			dir = config.DefaultOutbox
		}
		mailer = outbox.New(dir, smtp.WriteMessage)
		opts.Lease = 30 * time.Second
	}
	svc, err := digest.New(st, mailer, tmpl, groups, opts)
	if err != nil {
		return nil, err
	}
	d := &digests{svc: svc, scheds: map[string]*schedule.Schedule{}, mailer: mailer, now: now, log: log}
	for _, c := range cfg.Digests {
		dg, sched, err := digestOf(cfg, c)
		if err != nil {
			return nil, err
		}
		if err := tmpl.Check(dg); err != nil {
			return nil, err
		}
		d.list = append(d.list, dg)
		d.scheds[dg.Name] = sched
	}
	return d, nil
}

// digestOf converts a configured digest of cfg, with the schedule cfg
// parsed.
func digestOf(cfg *config.Config, c config.Digest) (digest.Digest, *schedule.Schedule, error) {
	sched := cfg.DigestSchedule(c.Name)
	if sched == nil {
		return digest.Digest{}, nil, fmt.Errorf("digest %q: no schedule: the configuration was not validated", c.Name)
	}
	d := digest.Digest{
		Name: c.Name, To: c.To, Topics: c.Topics, Sources: c.Sources, MaxItems: c.MaxItems, MaxAge: c.MaxAge,
		Subject: c.Subject, Template: c.Template, SendEmpty: c.SendEmpty, Location: cfg.DigestZone(c.Name),
	}
	for _, k := range c.Kinds {
		d.Kinds = append(d.Kinds, feeds.Kind(k))
	}
	return d, sched, nil
}

// digestPeriod is the period a run of sched at now belongs to: its last tick,
// else (a schedule that has not fired in a year) now.
func digestPeriod(sched *schedule.Schedule, now time.Time) time.Time {
	if t := sched.Last(now); !t.IsZero() {
		return t
	}
	return now.Truncate(time.Second)
}

// checkDigests reports template errors, with file and line, and digests
// that cannot be rendered; `broadsheet check` calls it.
func checkDigests(cfg *config.Config) error {
	if err := digest.CheckTemplates(cfg.Templates); err != nil {
		return err
	}
	tmpl, err := digest.LoadTemplates(cfg.Templates)
	if err != nil {
		return err
	}
	var errs []error
	for _, c := range cfg.Digests {
		d, _, err := digestOf(cfg, c)
		if err == nil {
			err = tmpl.Check(d)
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// find returns the digest called name: exactly, else ignoring case and
// punctuation as config does.
func (d *digests) find(name string) (digest.Digest, error) {
	for _, x := range d.list {
		if x.Name == name {
			return x, nil
		}
	}
	var names []string
	for _, x := range d.list {
		if feeds.Slugify(x.Name) == feeds.Slugify(name) {
			return x, nil
		}
		names = append(names, fmt.Sprintf("%q", x.Name))
	}
	if len(names) == 0 {
		return digest.Digest{}, &exitError{code: exitUsage, msg: "no digests are configured: add one under digests: in the configuration"}
	}
	return digest.Digest{}, &exitError{code: exitUsage, msg: fmt.Sprintf("no digest named %q; the digests are: %s", name, strings.Join(names, ", "))}
}

// jobs are the scheduled jobs for `run`: each digest on its schedule, and
// one that retries temporary failures every five minutes.
func (d *digests) jobs() []schedule.Job {
	var jobs []schedule.Job
	for _, dg := range d.list {
		sched := d.scheds[dg.Name]
		jobs = append(jobs, schedule.Job{
			Name:     "digest:" + dg.Name,
			Schedule: sched,
			Timeout:  30 * time.Minute,
			Run: func(ctx context.Context) error {
				rep, err := d.svc.Send(ctx, dg, digestPeriod(sched, d.now()))
				d.logReport(rep)
				return err
			},
		})
	}
	if len(d.list) > 0 {
		jobs = append(jobs, schedule.Job{
			Name:     "digest-retry",
			Schedule: schedule.Every(5 * time.Minute),
			Timeout:  30 * time.Minute,
			Run:      d.resume,
		})
	}
	return jobs
}

// catchUp sends, once, the digests whose last period went by while
// broadsheet was down, and resumes unfinished deliveries; `run` calls it
// at start.
func (d *digests) catchUp(ctx context.Context) error {
	var errs []error
	for _, dg := range d.list {
		rep, err := d.svc.CatchUp(ctx, dg, d.scheds[dg.Name].Last(d.now()))
		d.logReport(rep)
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (d *digests) resume(ctx context.Context) error {
	var errs []error
	for _, dg := range d.list {
		rep, err := d.svc.Resume(ctx, dg)
		d.logReport(rep)
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (d *digests) logReport(rep *digest.Report) {
	if d.ran != nil && rep != nil {
		d.ran(rep)
	}
	if rep == nil || (rep.Planned == 0 && len(rep.Results) == 0) {
		return
	}
	d.log.Info("digest run", "digest", rep.Digest, "period", rep.Period, "planned", rep.Planned, "empty", rep.Empty,
		"sent", rep.Count(store.DeliverySent), "retry", rep.Count(store.DeliveryRetry), "failed", rep.Count(store.DeliveryFailed))
}

// unsubscribeHandler serves the unsubscribe links; mount it at
// unsubscribePattern(cfg) (or at /unsubscribe/ behind a proxy that strips
// base_url's path).
func (d *digests) unsubscribeHandler() http.Handler { return d.svc.UnsubscribeHandler() }

// unsubscribePattern is the ServeMux pattern under which the links of
// digests arrive: base_url's path, then unsubscribe/{token}.
func unsubscribePattern(cfg *config.Config) string {
	p := "/"
	if u, err := url.Parse(cfg.Server.BaseURL); err == nil && u.Path != "" {
		p = u.Path
	}
	if !strings.HasSuffix(p, "/") {
		p += "/"
	}
	return p + "unsubscribe/{token}"
}

const digestUsage = `Usage: broadsheet digest COMMAND [--config PATH] [flags]

Commands:
  list                         each digest: schedule, next run, last sent, recipients
  preview NAME [--html|--text] [--out FILE] [--to ADDRESS]
                               render the next digest without sending or recording it
                               (the whole message by default)
  send NAME [--tick]           send now and record it; with --tick, as the schedule's
                               last tick (so a second run in the same period sends nothing)
  resubscribe NAME ADDRESS     send NAME to ADDRESS again after it unsubscribed
  unsubscribe NAME ADDRESS     stop sending NAME to ADDRESS (e.g. after a mailed request)
`

func (m *Main) cmdDigest(ctx context.Context, _ *flag.FlagSet, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(m.Stdout, digestUsage)
		if len(args) == 0 {
			return &exitError{code: exitUsage}
		}
		return nil
	}
	sub, args := args[0], args[1:]
	fs := flag.NewFlagSet("broadsheet digest "+sub, flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	m.commandFlags(fs)
	var (
		html, text, tick *bool
		out, to          *string
		want             int
	)
	switch sub {
	case "list":
	case "preview":
		html = fs.Bool("html", false, "print the HTML part only")
		text = fs.Bool("text", false, "print the text part only")
		out = fs.String("out", "", "write to FILE instead of standard output")
		to = fs.String("to", "", "render for this recipient (default the digest's first)")
		want = 1
	case "send":
		tick = fs.Bool("tick", false, "send as the schedule's last tick, as `run` would, rather than as now")
		want = 1
	case "resubscribe", "unsubscribe":
		want = 2
	default:
		fmt.Fprintf(m.Stderr, "broadsheet digest: unknown command %q\n\n%s", sub, digestUsage)
		return &exitError{code: exitUsage}
	}
	// Flags may come before or after the names.
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return usageErr(err)
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(pos) != want {
		return &exitError{code: exitUsage, msg: fmt.Sprintf("digest %s takes %s, got %d; see `broadsheet digest help`", sub, plural(want, "argument", "arguments"), len(pos))}
	}
	// Each subcommand prints its outcome: the log adds what went wrong.
	open := m.openQuiet
	switch sub {
	case "list":
		open = m.openRead
	case "preview":
		open = m.openReadMostly
	}
	a, cfg, err := open(ctx)
	if err != nil {
		return err
	}
	defer a.Close()
	if sub == "send" || sub == "preview" {
		// As the daemon would: the digest is grouped, and selected, by
		// topic, so pending items are assigned first.
		if err := a.assignTopics(ctx); err != nil {
			return err
		}
	}
	d, err := newDigests(cfg, a.store, a.topics, a.owner, m.Now, a.log)
	if err != nil {
		return err
	}
	if sub == "list" {
		return m.digestList(ctx, d, a.store)
	}
	dg, err := d.find(pos[0])
	if err != nil {
		return err
	}
	switch sub {
	case "preview":
		return m.digestPreview(ctx, d, dg, *html, *text, *out, *to)
	case "send":
		period := m.Now()
		if *tick {
			period = digestPeriod(d.scheds[dg.Name], period)
		}
		return m.digestSend(ctx, a.store, d, dg, period)
	case "resubscribe":
		ok, err := d.svc.Resubscribe(ctx, dg.Name, pos[1])
		if err != nil {
			return err
		}
		if !ok {
			fmt.Fprintf(m.Stdout, "%s was not unsubscribed from %q; nothing to do\n", digest.NormalizeAddress(pos[1]), dg.Name)
			return nil
		}
		fmt.Fprintf(m.Stdout, "%s gets %q again from its next run\n", digest.NormalizeAddress(pos[1]), dg.Name)
		return nil
	default: // unsubscribe
		if err := d.svc.Unsubscribe(ctx, dg.Name, pos[1]); err != nil {
			return err
		}
		fmt.Fprintf(m.Stdout, "%s gets no more of %q (undo with: broadsheet digest resubscribe %q %s)\n",
			digest.NormalizeAddress(pos[1]), dg.Name, dg.Name, digest.NormalizeAddress(pos[1]))
		return nil
	}
}

func (m *Main) digestList(ctx context.Context, d *digests, st store.Store) error {
	ds := st.(digest.Store)
	now := m.Now()
	tw := newTable(m.Stdout)
	fmt.Fprintln(tw, "DIGEST\tSCHEDULE\tNEXT RUN\tLAST SENT\tRECIPIENTS\tUNFINISHED\tFAILED")
	for _, dg := range d.list {
		next := d.scheds[dg.Name].Next(now)
		nextS := next.In(zoneOf(dg)).Format("Mon 2 Jan 15:04 MST") + " (" + relTime(now, next) + ")"
		last := "never"
		if sent, err := ds.Deliveries(ctx, store.DeliveryFilter{Digest: dg.Name, States: []store.DeliveryState{store.DeliverySent}, Limit: 1}); err != nil {
			return err
		} else if len(sent) > 0 {
			last = relTime(now, sent[0].Sent)
		}
		unsub, err := ds.Unsubscribed(ctx, dg.Name)
		if err != nil {
			return err
		}
		open, err := ds.Deliveries(ctx, store.DeliveryFilter{Digest: dg.Name, States: []store.DeliveryState{store.DeliveryPending, store.DeliverySending, store.DeliveryRetry}})
		if err != nil {
			return err
		}
		failed, err := ds.Deliveries(ctx, store.DeliveryFilter{Digest: dg.Name, States: []store.DeliveryState{store.DeliveryFailed}, Limit: 100})
		if err != nil {
			return err
		}
		recent := 0
		for _, f := range failed {
			if now.Sub(f.Period) < 7*24*time.Hour {
				recent++
			}
		}
		rcpts := fmt.Sprint(len(dg.To))
		if len(unsub) > 0 {
			rcpts += fmt.Sprintf(" (%d unsubscribed)", len(unsub))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%d in 7d\n", dg.Name, d.scheds[dg.Name], nextS, last, rcpts, len(open), recent)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	switch mb := d.mailer.(type) {
	case *outbox.Outbox:
		fmt.Fprintf(m.Stdout, "\nNo smtp: section: digests are written to %s as .eml files.\n", mb.Dir())
	}
	return nil
}

func zoneOf(d digest.Digest) *time.Location {
	if d.Location != nil {
		return d.Location
	}
	return time.UTC
}

func (m *Main) digestPreview(ctx context.Context, d *digests, dg digest.Digest, html, text bool, out, to string) error {
	if html && text {
		return &exitError{code: exitUsage, msg: "digest preview: --html and --text are exclusive"}
	}
	if !html && !text && out != "" {
		switch strings.ToLower(filepath.Ext(out)) {
		case ".html", ".htm":
			html = true
		case ".txt":
			text = true
		}
	}
	msg, err := d.svc.Preview(ctx, dg, to)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	switch {
	case html:
		b.WriteString(msg.HTML)
	case text:
		b.WriteString(msg.Text)
	default:
		if err := smtp.WriteMessage(&b, msg); err != nil {
			return err
		}
	}
	if out == "" {
		_, err := io.Copy(m.Stdout, &b)
		return err
	}
	if err := os.WriteFile(out, b.Bytes(), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(m.Stderr, "wrote %s (%q for %s)\n", out, msg.Subject, msg.To)
	return nil
}

func (m *Main) digestSend(ctx context.Context, st store.Store, d *digests, dg digest.Digest, period time.Time) error {
	rep, runErr := d.svc.Send(ctx, dg, period)
	if rep == nil {
		return runErr
	}
	w := m.Stdout
	sent, retry, failed := rep.Count(store.DeliverySent), rep.Count(store.DeliveryRetry), rep.Count(store.DeliveryFailed)
	for _, r := range rep.Results {
		switch r.State {
		case store.DeliverySent:
			fmt.Fprintf(w, "sent      %s\n", r.Recipient)
		case store.DeliveryRetry:
			fmt.Fprintf(w, "retry     %s: %v\n", r.Recipient, r.Err)
		case store.DeliveryFailed:
			fmt.Fprintf(w, "FAILED    %s: %v\n", r.Recipient, r.Err)
		case store.DeliveryCancelled:
			fmt.Fprintf(w, "cancelled %s: %v\n", r.Recipient, r.Err)
		}
	}
	var notes []string
	if rep.Empty > 0 {
		why, err := emptyReason(ctx, st, d, dg, rep.Period)
		if err != nil {
			return err
		}
		notes = append(notes, fmt.Sprintf("%d not sent, as there was nothing to send: %s; send_empty: true sends empty digests", rep.Empty, why))
	}
	if rep.Already > 0 {
		notes = append(notes, fmt.Sprintf("%d already had this period's digest", rep.Already))
	}
	if rep.Unsubscribed > 0 {
		notes = append(notes, fmt.Sprintf("%d unsubscribed", rep.Unsubscribed))
	}
	if rep.Busy > 0 {
		notes = append(notes, fmt.Sprintf("%d being sent by another process", rep.Busy))
	}
	summary := fmt.Sprintf("%s: %d sent, %d to retry, %d failed", dg.Name, sent, retry, failed)
	if len(notes) > 0 {
		summary += "; " + strings.Join(notes, "; ")
	}
	fmt.Fprintln(w, summary+".")
	if ob, ok := d.mailer.(*outbox.Outbox); ok && sent > 0 {
		fmt.Fprintf(w, "No smtp: section: the messages are .eml files in %s\n", ob.Dir())
	}
	if runErr != nil {
		return runErr
	}
	if failed > 0 || retry > 0 {
		return &exitError{code: exitFailed, msg: fmt.Sprintf("%s failed and %d left to retry; `broadsheet run` retries them, or run `broadsheet digest send %q` again", plural(failed, "delivery", "deliveries"), retry, dg.Name)}
	}
	return nil
}

// emptyReason says why d's deliveries of period had nothing to send, from
// the window they covered (the items first seen since the recipient's last
// digest): nothing stored at all, nothing new in the window, nothing new
// published within max_age, nothing from the digest's sources or of its
// kinds, or nothing in its topics.
func emptyReason(ctx context.Context, st store.Store, d *digests, dg digest.Digest, period time.Time) (string, error) {
	dels, err := st.Deliveries(ctx, store.DeliveryFilter{Digest: dg.Name, States: []store.DeliveryState{store.DeliveryEmpty}, Limit: 100})
	if err != nil {
		return "", err
	}
	var win *store.Delivery
	for i := range dels {
		if dels[i].Period.UnixMilli() == period.UnixMilli() {
			win = &dels[i]
			break
		}
	}
	if win == nil {
		return "there was nothing new to send", nil
	}
	count := func(f store.ArticleFilter) (int, error) {
		f.SeenSince, f.SeenBefore = win.SeenSince, win.SeenBefore
		arts, err := st.Articles(ctx, f)
		return len(arts), err
	}
	since := win.SeenSince.In(zoneOf(dg)).Format("Mon 2 Jan 15:04 MST")
	n, err := count(store.ArticleFilter{})
	if err != nil {
		return "", err
	}
	if n == 0 {
		stored, err := st.Articles(ctx, store.ArticleFilter{Limit: 1})
		if err != nil {
			return "", err
		}
		if len(stored) == 0 {
			return "no items are stored yet (`broadsheet fetch` polls the sources)", nil
		}
		return fmt.Sprintf("no item was first seen since %s, when the last digest (or the first's window) began (`broadsheet fetch` polls the sources)", since), nil
	}
	maxAge := dg.MaxAge
	if maxAge <= 0 {
		maxAge = digest.DefaultMaxAge
	}
	published := d.now().Add(-maxAge)
	fresh, err := count(store.ArticleFilter{PublishedSince: published})
	if err != nil {
		return "", err
	}
	if fresh == 0 {
		return fmt.Sprintf("the %s first seen since %s were all published more than max_age (%s) ago", plural(n, "item", "items"), since, config.FormatDuration(maxAge)), nil
	}
	f := store.ArticleFilter{PublishedSince: published}
	var which []string
	if len(dg.Sources) > 0 {
		f.Sources = dg.Sources
		which = append(which, "from its sources ("+strings.Join(dg.Sources, ", ")+")")
	}
	if len(dg.Kinds) > 0 {
		f.Kinds = dg.Kinds
		kinds := make([]string, len(dg.Kinds))
		for i, k := range dg.Kinds {
			kinds[i] = string(k)
		}
		which = append(which, "of its kinds ("+strings.Join(kinds, ", ")+")")
	}
	kept, err := count(f)
	if err != nil {
		return "", err
	}
	if kept == 0 {
		return fmt.Sprintf("of the %s first seen since %s, none is %s", plural(fresh, "new item", "new items"), since, strings.Join(which, " and ")), nil
	}
	return fmt.Sprintf("none of the %s first seen since %s is in its topics (%s)", plural(kept, "new item", "new items"), since, strings.Join(dg.Topics, ", ")), nil
}
