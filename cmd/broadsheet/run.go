package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/broadsheet/broadsheet/config"
	"github.com/broadsheet/broadsheet/schedule"
)

func (m *Main) cmdRun(ctx context.Context, fs *flag.FlagSet, args []string) error {
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	a, cfg, err := m.open(ctx)
	if err != nil {
		return err
	}
	defer a.Close()
	mx := a.newMetrics()
	a.log.Info("broadsheet starting", "version", Version, "config", absPath(a.cfgPath), "storage", cfg.Storage.Driver, "sources", len(cfg.Sources), "owner", a.owner)

	if err := a.applySources(ctx, cfg); err != nil {
		return err
	}
	// What is due now, to say how the first poll went once it is done.
	states, err := a.store.SourceStates(ctx)
	if err != nil {
		return fmt.Errorf("read the sources' states: %w", err)
	}
	first := watchFirstPoll(m.Now(), states)
	a.onPoll = append(a.onPoll, first.polled)

	var wg sync.WaitGroup
	defer wg.Wait()
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	goPart := func(f func()) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f()
		}()
	}

	// The republished feeds and the page: rendered once per change, served
	// from memory.
	pub := a.publisher(cfg)
	a.pub = pub
	a.changed = append(a.changed, pub.Changed)
	if err := pub.Refresh(ctx); err != nil {
		a.log.Error("render feeds", "err", err)
	}
	goPart(func() { pub.Run(ctx) })

	// Topics: articles are assigned soon after each poll that stored some,
	// by one replica at a time (the one holding the "topics" lease).
	wake := make(chan struct{}, 1)
	a.changed = append(a.changed, func() {
		select {
		case wake <- struct{}{}:
		default:
		}
	})
	goPart(func() { a.topics.Run(ctx, wake, 30*time.Second) })

	// Digests, on their schedules; on PostgreSQL each job runs on one
	// replica at a time (deliveries are claimed one by one anyway).
	a.sched = schedule.New(a.locker(), a.log)
	if err := a.applyDigests(cfg); err != nil {
		return &exitError{code: exitUsage, msg: err.Error()}
	}
	a.sched.Start(ctx)
	defer a.sched.Stop(context.Background())
	goPart(func() {
		if err := a.digests.Load().catchUp(ctx); err != nil && ctx.Err() == nil {
			a.log.Error("catch up on digests", "err", err)
		}
	})

	// Watched before the server reports ready: an edit made as soon as the
	// daemon is up is not missed.
	cw := m.watchConfig(a)
	goPart(func() { cw.run(ctx, m, a) })

	listening := make(chan struct{})
	mux := withMetrics(mx, httpHandler(cfg, pub, func() http.Handler { return a.digests.Load().unsubscribeHandler() }))
	goPart(func() {
		if err := m.serveHTTP(ctx, cfg, mux, a.log, listening); err != nil {
			cancel(err)
		}
	})

	// A lease outlives the longest fetch, so that a live replica's polls are
	// never taken over, while a dead one's are within minutes.
	lease := 2*cfg.Fetch.Timeout + 30*time.Second
	goPart(func() { a.poller.Run(ctx, a.store, a.owner, lease, time.Second) })
	goPart(func() {
		// After the address, which comes first on a terminal.
		select {
		case <-listening:
			first.run(ctx, a, m.Stdout, lease)
		case <-ctx.Done():
		}
	})

	<-ctx.Done()
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	a.log.Info("shutting down: finishing polls under way")
	return nil
}

// applySources makes cfg's sources the ones polled.
func (a *app) applySources(ctx context.Context, cfg *config.Config) error {
	if err := a.setSchedules(cfg); err != nil {
		return err
	}
	srcs := sources(cfg)
	if err := a.store.SyncSources(ctx, srcs); err != nil {
		return fmt.Errorf("record sources: %w", err)
	}
	a.poller.SetSources(srcs)
	if a.pub != nil {
		a.pub.SetSources(srcs)
	}
	return nil
}

// applyDigests builds the digests of cfg and schedules them.
func (a *app) applyDigests(cfg *config.Config) error {
	d, err := newDigests(cfg, a.store, a.topics, a.owner, a.now, a.log)
	if err != nil {
		return err
	}
	d.ran = a.digestRan
	a.digests.Store(d)
	if a.sched != nil {
		a.sched.Set(append(d.jobs(), a.retentionJob()))
	}
	return nil
}

// reload reads the configuration again and applies what can change while
// running. On any error the last good configuration stays in force.
func (a *app) reload(ctx context.Context) error {
	cfg, err := config.Load(a.cfgPath)
	if err != nil {
		a.log.Error("configuration not reloaded; the last good configuration stays in force", "err", err)
		return err
	}
	old := a.cfg.Load()
	if old.Storage != cfg.Storage {
		a.log.Warn("storage settings changed: restart broadsheet for them to take effect")
	}
	if err := a.applySources(ctx, cfg); err != nil {
		a.log.Error("configuration not applied", "err", err)
		return err
	}
	if err := a.applyDigests(cfg); err != nil {
		a.log.Error("digests not reloaded; the previous digests stay in force", "err", err)
		return err
	}
	if err := a.topics.SetRules(topicRules(cfg)); err != nil {
		a.log.Error("topics not reloaded; the previous topics stay in force", "err", err)
		return err
	}
	a.cfg.Store(cfg)
	a.log.Info("configuration reloaded", "sources", len(cfg.Sources))
	return nil
}

// configWatcher reloads the configuration when its file changes or on
// SIGHUP. It watches the file's folder, since editors often save by
// replacing the file, and waits for writes to settle before reading.
type configWatcher struct {
	hup    chan os.Signal
	w      *fsnotify.Watcher // nil when the folder cannot be watched
	target string
}

// watchConfig starts watching a's configuration file and SIGHUP; call it
// before reporting the daemon ready, so that no edit made after start-up
// is missed, then run the returned watcher's loop.
func (m *Main) watchConfig(a *app) *configWatcher {
	cw := &configWatcher{hup: make(chan os.Signal, 1), target: absPath(a.cfgPath)}
	signal.Notify(cw.hup, syscall.SIGHUP)
	w, err := fsnotify.NewWatcher()
	if err == nil {
		if err = w.Add(filepath.Dir(cw.target)); err != nil {
			w.Close()
		} else {
			cw.w = w
		}
	}
	if err != nil {
		a.log.Warn("cannot watch the configuration file; send SIGHUP to reload it", "err", err)
	}
	return cw
}

// run reloads a's configuration on each change until ctx ends, then stops
// watching.
func (cw *configWatcher) run(ctx context.Context, m *Main, a *app) {
	defer signal.Stop(cw.hup)
	var events <-chan fsnotify.Event
	var errs <-chan error
	if cw.w != nil {
		defer cw.w.Close()
		events, errs = cw.w.Events, cw.w.Errors
	}
	var settle <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-cw.hup:
			m.reloaded(a.reload(ctx))
		case ev := <-events:
			if absPath(ev.Name) == cw.target && ev.Op&(fsnotify.Write|fsnotify.Create|fsnotify.Rename) != 0 {
				settle = time.After(200 * time.Millisecond)
			}
		case err := <-errs:
			if err != nil && !errors.Is(err, fsnotify.ErrEventOverflow) {
				a.log.Warn("watching the configuration file", "err", err)
			}
		case <-settle:
			settle = nil
			m.reloaded(a.reload(ctx))
		}
	}
}

func (m *Main) reloaded(err error) {
	if m.Reloaded != nil {
		m.Reloaded <- err
	}
}
