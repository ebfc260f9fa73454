package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/broadsheet/broadsheet/assign"
	"github.com/broadsheet/broadsheet/config"
	"github.com/broadsheet/broadsheet/feeds"
	"github.com/broadsheet/broadsheet/feeds/fetch"
	"github.com/broadsheet/broadsheet/filter"
	"github.com/broadsheet/broadsheet/metrics"
	"github.com/broadsheet/broadsheet/publish"
	"github.com/broadsheet/broadsheet/schedule"
	"github.com/broadsheet/broadsheet/store"
	"github.com/broadsheet/broadsheet/store/postgres"
	"github.com/broadsheet/broadsheet/store/sqlite"
)

// configFlag registers --config on fs.
func configFlag(fs *flag.FlagSet) *string {
	return fs.String("config", "", "configuration file (default $BROADSHEET_CONFIG, else ./config.yaml)")
}

// configPath resolves the configuration file: --config, else the
// environment, else ./config.yaml.
func (m *Main) configPath() string {
	if m.config != nil && *m.config != "" {
		return *m.config
	}
	if p := m.Getenv("BROADSHEET_CONFIG"); p != "" {
		return p
	}
	return "config.yaml"
}

// loadConfig reads and validates the configuration; any problem is a usage
// error (exit status 2) whose message lists every problem found.
func (m *Main) loadConfig(path string) (*config.Config, error) {
	cfg, err := config.Load(path)
	if err != nil {
		return nil, &exitError{code: exitUsage, msg: err.Error()}
	}
	return cfg, nil
}

// open loads the configuration (see configPath) and opens the app over
// it; the caller closes it.
func (m *Main) open(ctx context.Context) (*app, *config.Config, error) {
	return m.openLogging(ctx, slog.LevelDebug)
}

// openQuiet is open for commands that print what they read (items,
// topics, sources): their output is the answer, so the log says only what
// went wrong (warnings and errors), whatever log.level allows besides.
func (m *Main) openQuiet(ctx context.Context) (*app, *config.Config, error) {
	return m.openLogging(ctx, slog.LevelWarn)
}

// openLogging is open, logging at least at level min.
func (m *Main) openLogging(ctx context.Context, min slog.Level) (*app, *config.Config, error) {
	return m.openMode(ctx, min, readWrite)
}

// openRead is openQuiet for commands that only read (items, sources
// list, digest list): the store is opened read-only, so that they work on
// a database this process may not write. A file that does not exist yet,
// or a schema this version has not migrated, is opened as open would.
func (m *Main) openRead(ctx context.Context) (*app, *config.Config, error) {
	return m.openMode(ctx, slog.LevelWarn, readOnly)
}

// openReadMostly is openQuiet for commands that write only to bring what
// they show up to date (topics, digest preview assign pending items): on a
// database this process may not write, they show what is stored, read-only,
// and app.readOnly is set.
func (m *Main) openReadMostly(ctx context.Context) (*app, *config.Config, error) {
	return m.openMode(ctx, slog.LevelWarn, readMostly)
}

// storeMode says how a command opens the store.
type storeMode int

const (
	readWrite  storeMode = iota
	readOnly             // open read-only
	readMostly           // read-write, else read-only
)

func (m *Main) openMode(ctx context.Context, min slog.Level, mode storeMode) (*app, *config.Config, error) {
	path := m.configPath()
	cfg, err := m.loadConfig(path)
	if err != nil {
		return nil, nil, err
	}
	a, err := m.openApp(ctx, path, cfg, min, mode)
	if err != nil {
		return nil, nil, err
	}
	return a, cfg, nil
}

// app holds what a command needs, built from one configuration.
type app struct {
	cfgPath string
	cfg     atomic.Pointer[config.Config]
	log     *slog.Logger
	logOut  *logSink // where log writes
	store   store.Store
	fetcher *fetch.Client
	poller  *feeds.Poller
	pub     *publish.Handler // set by run
	topics  *assign.Assigner
	sched   *schedule.Scheduler
	digests atomic.Pointer[digests]
	now     func() time.Time
	// schedules maps a source name to its poll schedule; replaced on reload.
	schedules atomic.Pointer[map[string]*schedule.Schedule]
	owner     string
	// changed are called after a poll that stored new or edited articles;
	// set them before polling starts.
	changed []func()
	// onPoll are called after every poll; set them before polling starts.
	onPoll []func(feeds.Report)
	// metrics, set by newMetrics before the daemon's parts start, counts
	// what they do; nil for the one-shot commands.
	metrics *metrics.Metrics
	// readOnly is set when the store was opened read-only.
	readOnly bool
}

// polled is the poller's OnPoll: it tells the parts that show articles
// that there are new ones.
func (a *app) polled(ctx context.Context, r feeds.Report) {
	for _, f := range a.onPoll {
		f(r)
	}
	if r.New+r.Updated == 0 {
		return
	}
	for _, f := range a.changed {
		f()
	}
}

// openApp opens the store and builds the fetcher and poller; the log
// shows records at log.level and at least min.
func (m *Main) openApp(ctx context.Context, path string, cfg *config.Config, min slog.Level, mode storeMode) (*app, error) {
	a := &app{cfgPath: path, logOut: &logSink{w: m.Stderr}, owner: ownerID(), now: m.Now}
	a.log = newLogger(a.logOut, cfg.Log, min)
	a.cfg.Store(cfg)
	var st store.Store
	var err error
	if mode == readOnly {
		st, a.readOnly, err = openReadStore(ctx, cfg)
	} else {
		st, err = openStore(ctx, cfg)
		if mode == readMostly && errors.Is(err, store.ErrReadOnly) {
			a.log.Warn("the database is read-only to this process: showing what is stored, without assigning pending items", "err", err)
			st, a.readOnly, err = openReadStore(ctx, cfg)
		}
	}
	if err != nil {
		return nil, err
	}
	a.store = st
	a.fetcher = m.newFetcher(cfg)
	if err := a.setSchedules(cfg); err != nil {
		st.Close()
		return nil, err
	}
	if a.topics, err = newAssigner(cfg, st, a.owner, a.log, a.assigned); err != nil {
		st.Close()
		return nil, &exitError{code: exitUsage, msg: err.Error()}
	}
	a.poller = feeds.NewPoller(a.fetcher, st, feeds.PollerOptions{
		Workers: cfg.Fetch.Workers,
		PerHost: cfg.Fetch.PerHost,
		Next:    a.nextPoll,
		Now:     m.Now,
		Logger:  a.log,
		OnPoll:  a.polled,
	})
	return a, nil
}

// newFetcher returns the fetch client cfg describes.
func (m *Main) newFetcher(cfg *config.Config) *fetch.Client {
	fetch.Version = Version
	return fetch.New(fetch.Options{
		Timeout:              cfg.Fetch.Timeout,
		MaxBodyBytes:         cfg.Fetch.MaxBodyBytes,
		MaxItems:             cfg.Fetch.MaxItems,
		UserAgent:            cfg.Fetch.UserAgent,
		AllowPrivateNetworks: cfg.AllowPrivateNetworks(),
		Now:                  m.Now,
	})
}

func (a *app) Close() error { return a.store.Close() }

// publisher returns the publish handler over the store, with topics.
func (a *app) publisher(cfg *config.Config) *publish.Handler {
	opts := publishOptions(cfg, a.now, a.log)
	opts.Groups = a.topics
	return publish.New(a.store, opts)
}

// locker is the cross-replica lock for scheduled jobs: leases in the store,
// the same mechanism as the source and topic leases, on either backend.
func (a *app) locker() schedule.Locker {
	return schedule.NewLeaseLocker(a.store, a.owner, 0, a.now, a.log)
}

// openStore opens the configured backend. A relative SQLite path is taken
// relative to the working directory.
func openStore(ctx context.Context, cfg *config.Config) (store.Store, error) {
	switch cfg.Storage.Driver {
	case "postgres":
		db, err := postgres.Open(ctx, cfg.Storage.DSN)
		if err != nil {
			return nil, fmt.Errorf("open PostgreSQL store (storage.dsn): %w", err)
		}
		return db, nil
	default:
		db, err := sqlite.Open(ctx, cfg.Storage.Path)
		if err != nil {
			return nil, fmt.Errorf("open SQLite store %s (storage.path): %w", cfg.Storage.Path, err)
		}
		return db, nil
	}
}

// openReadStore opens the configured backend read-only (see
// sqlite.OpenReadOnly, postgres.OpenReadOnly), or read-write where the
// SQLite file does not exist yet or the schema is not migrated, as
// openStore would; it reports whether the store is read-only.
func openReadStore(ctx context.Context, cfg *config.Config) (store.Store, bool, error) {
	var st store.Store
	var err error
	switch cfg.Storage.Driver {
	case "postgres":
		st, err = postgres.OpenReadOnly(ctx, cfg.Storage.DSN)
		if errors.Is(err, store.ErrNotMigrated) {
			st, err = openStore(ctx, cfg)
			return st, false, err
		}
		if err != nil {
			return nil, false, fmt.Errorf("open PostgreSQL store (storage.dsn): %w", err)
		}
	default:
		st, err = sqlite.OpenReadOnly(ctx, cfg.Storage.Path)
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, store.ErrNotMigrated) {
			st, err = openStore(ctx, cfg)
			return st, false, err
		}
		if err != nil {
			return nil, false, fmt.Errorf("open SQLite store %s (storage.path): %w", cfg.Storage.Path, err)
		}
	}
	return st, true, nil
}

// setSchedules takes every source's poll schedule from cfg, which parsed
// them.
func (a *app) setSchedules(cfg *config.Config) error {
	m := make(map[string]*schedule.Schedule, len(cfg.Sources))
	for _, s := range cfg.Sources {
		if m[s.Name] = cfg.PollSchedule(s.Name); m[s.Name] == nil {
			return fmt.Errorf("source %q: no poll schedule: the configuration was not validated", s.Name)
		}
	}
	a.schedules.Store(&m)
	return nil
}

// nextPoll is when src is next due after t: its schedule's next time plus a
// jitter of up to a tenth of the period (at most two minutes), so that
// sources sharing a schedule don't all fire in the same second.
func (a *app) nextPoll(src feeds.Source, t time.Time) time.Time {
	sched := (*a.schedules.Load())[src.Name]
	if sched == nil {
		if sched = a.cfg.Load().PollSchedule(src.Name); sched == nil {
			return t.Add(time.Hour)
		}
	}
	next := sched.Next(t)
	period := sched.Next(next).Sub(next)
	if j := min(period/10, 2*time.Minute); j > 0 {
		next = next.Add(mrand.N(j))
	}
	return next
}

// sources converts the configured sources.
func sources(cfg *config.Config) []feeds.Source {
	out := make([]feeds.Source, 0, len(cfg.Sources))
	for _, s := range cfg.Sources {
		kind := feeds.KindNews
		if s.Kind == string(feeds.KindEditorial) {
			kind = feeds.KindEditorial
		}
		out = append(out, feeds.Source{Name: s.Name, URL: s.URL, Kind: kind, Tags: s.Tags, Schedule: s.Schedule, Private: s.Private, Keep: keepFunc(s)})
	}
	return out
}

// keepFunc is s's keep and block rules as the poller applies them; nil
// when it has none. The configuration was validated by the same parser, so
// the rules compile.
func keepFunc(s config.Source) func(feeds.Article) bool {
	f, err := filter.New(s.Keep, s.Block)
	if err != nil || f.Empty() {
		return nil
	}
	return func(a feeds.Article) bool {
		return f.Allow(filter.Item{Title: a.Title, Author: a.Author, Link: a.Link, Categories: a.Categories})
	}
}

// newLogger logs to w at c's level, and at least at min.
func newLogger(w io.Writer, c config.Log, min slog.Level) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.Level)); err != nil {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: max(level, min)}
	if strings.EqualFold(c.Format, "json") {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// ownerID names this process in leases: host, pid and a random suffix.
func ownerID() string {
	host, _ := os.Hostname()
	var b [3]byte
	rand.Read(b[:])
	return fmt.Sprintf("%s:%d:%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}

// logSink is where the log writes: w, or, while a progress bar is drawn,
// the bar, which prints each line above itself rather than through it.
type logSink struct {
	mu  sync.Mutex
	w   io.Writer
	bar *progressbar.ProgressBar
}

func (l *logSink) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.bar != nil {
		return progressbar.Bprintf(l.bar, "%s", p)
	}
	return l.w.Write(p)
}

// drawing sends the log through bar until it is set to nil.
func (l *logSink) drawing(bar *progressbar.ProgressBar) {
	l.mu.Lock()
	l.bar = bar
	l.mu.Unlock()
}

func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }

// absPath is p made absolute, for messages and file watching.
func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}
