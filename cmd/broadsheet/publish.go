package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/broadsheet/broadsheet/config"
	"github.com/broadsheet/broadsheet/publish"
	"github.com/broadsheet/broadsheet/schedule"
)

// cmdServe runs only the HTTP server: the republished feeds, the OPML, the
// page and /healthz, from the store that `run` (here or on another
// replica) fills. It polls nothing.
func (m *Main) cmdServe(ctx context.Context, fs *flag.FlagSet, args []string) error {
	listen := fs.String("listen", "", "address to listen on (default server.listen)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	a, cfg, err := m.open(ctx)
	if err != nil {
		return err
	}
	defer a.Close()
	if *listen != "" {
		cfg.Server.Listen = *listen
	}
	h := a.publisher(cfg)
	if err := h.Refresh(ctx); err != nil {
		return err
	}
	go h.Run(ctx)
	return m.serveHTTP(ctx, cfg.Server.Listen, h, a.log, nil)
}

// cmdPublish writes the republished feeds, the OPML and the page into a
// folder, for static hosting.
func (m *Main) cmdPublish(ctx context.Context, fs *flag.FlagSet, args []string) error {
	out := fs.String("out", "", "folder to write the files into (required)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return &exitError{code: exitUsage, msg: "publish: --out DIR is required"}
	}
	a, cfg, err := m.open(ctx)
	if err != nil {
		return err
	}
	defer a.Close()
	if err := a.assignTopics(ctx); err != nil {
		return err
	}
	h := a.publisher(cfg)
	if err := h.WriteDir(ctx, *out); err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "wrote feed.atom, feed.rss, feed.json, editorials.*, topics/, sources/, opml.xml and index.html to %s\n", *out)
	if cfg.Server.BaseURL == "" {
		fmt.Fprintln(m.Stderr, "broadsheet: server.base_url is not set: the files' self links point at", publishBaseURL(cfg))
	}
	return nil
}

// publishOptions are the publish handler's options from cfg. Topic groups
// are left to the caller (Options.Groups), since they come from the topics
// package.
func publishOptions(cfg *config.Config, now func() time.Time, log *slog.Logger) publish.Options {
	return publish.Options{
		Title:     cfg.Server.Title,
		BaseURL:   publishBaseURL(cfg),
		FeedItems: cfg.Server.FeedItems,
		MaxAge:    feedMaxAge(cfg.PollSchedules()),
		Window:    cfg.Clustering.Window,
		Sources:   sources(cfg),
		Now:       now,
		Logger:    log,
	}
}

// publishBaseURL is server.base_url, else the listen address over http.
func publishBaseURL(cfg *config.Config) string {
	if cfg.Server.BaseURL != "" {
		return cfg.Server.BaseURL
	}
	host, port, err := net.SplitHostPort(cfg.Server.Listen)
	if err != nil || port == "0" {
		return "http://localhost:8080/"
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port) + "/"
}

// feedMaxAge is the Cache-Control max-age of the feeds: the shortest poll
// period among the schedules, since the feeds cannot change more often,
// kept between a minute and an hour so that readers neither hammer the
// server nor miss a day's news.
func feedMaxAge(scheds []*schedule.Schedule) time.Duration {
	shortest := time.Hour
	ref := time.Date(2026, 1, 5, 12, 0, 0, 0, time.UTC) // any fixed time: the period is what counts
	for _, sched := range scheds {
		next := sched.Next(ref)
		shortest = min(shortest, sched.Next(next).Sub(next))
	}
	return max(shortest, time.Minute)
}

// serveHTTP serves h on addr until ctx ends, then shuts down gracefully.
// Once it listens, it says where, closes listening (if not nil) and sends
// the address to m.Ready, if set.
func (m *Main) serveHTTP(ctx context.Context, addr string, h http.Handler, log *slog.Logger, listening chan<- struct{}) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s (server.listen): %w", addr, err)
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("serving feeds", "addr", ln.Addr().String())
	fmt.Fprintf(m.Stdout, "broadsheet is serving %s: open it in a browser, or subscribe to %sfeed.atom. Ctrl-C stops it.\n", browseURL(ln.Addr().String()), browseURL(ln.Addr().String()))
	if listening != nil {
		close(listening)
	}
	if m.Ready != nil {
		m.Ready <- ln.Addr().String()
	}
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("shut down the server: %w", err)
	}
	return nil
}
