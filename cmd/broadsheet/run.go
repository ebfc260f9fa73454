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
	if err := fs.Parse(args); err != nil {
		return usageErr(err)
	}
	a, cfg, err := m.open(ctx)
	if err != nil {
		return err
	}
	defer a.Close()
	a.log.Info("broadsheet starting", "version", Version, "config", absPath(a.cfgPath), "storage", cfg.Storage.Driver, "sources", len(cfg.Sources), "owner", a.owner)

	if err := a.applySources(ctx, cfg); err != nil {
		return err
	}

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

	mux := http.NewServeMux()
	mux.Handle(unsubscribePattern(cfg), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.digests.Load().unsubscribeHandler().ServeHTTP(w, r)
	}))
	mux.Handle("/", pub)
	goPart(func() {
		if err := m.serveHTTP(ctx, cfg.Server.Listen, mux, a.log); err != nil {
			cancel(err)
		}
	})

	// A lease outlives the longest fetch, so that a live replica's polls are
	// never taken over, while a dead one's are within minutes.
	lease := 2*cfg.Fetch.Timeout + 30*time.Second
	goPart(func() { a.poller.Run(ctx, a.store, a.owner, lease, time.Second) })
	goPart(func() { m.watchConfig(ctx, a) })

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
	d, err := newDigests(cfg, a.store, newDigestGroups(a.store, a.topics), a.owner, a.now, a.log)
	if err != nil {
		return err
	}
	a.digests.Store(d)
	if a.sched != nil {
		a.sched.Set(d.jobs())
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

// watchConfig reloads the configuration when its file changes or on SIGHUP.
// It watches the file's folder, since editors often save by replacing the
// file, and waits for writes to settle before reading.
func (m *Main) watchConfig(ctx context.Context, a *app) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)

	var events <-chan fsnotify.Event
	var errs <-chan error
	w, err := fsnotify.NewWatcher()
	if err == nil {
		defer w.Close()
		err = w.Add(filepath.Dir(absPath(a.cfgPath)))
		events, errs = w.Events, w.Errors
	}
	if err != nil {
		a.log.Warn("cannot watch the configuration file; send SIGHUP to reload it", "err", err)
	}
	target := absPath(a.cfgPath)
	var settle <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			m.reloaded(a.reload(ctx))
		case ev := <-events:
			if absPath(ev.Name) == target && ev.Op&(fsnotify.Write|fsnotify.Create|fsnotify.Rename) != 0 {
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
