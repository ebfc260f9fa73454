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
	"golang.org/x/net/netutil"
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
	// The unsubscribe links of digests, as `run` serves them: a replica
	// that only serves must honour them too.
	d, err := newDigests(cfg, a.store, nil, a.owner, m.Now, a.log)
	if err != nil {
		return &exitError{code: exitUsage, msg: err.Error()}
	}
	mux := withMetrics(a.newMetrics(), httpHandler(cfg, h, d.unsubscribeHandler))
	return m.serveHTTP(ctx, cfg, mux, a.log, nil)
}

// httpHandler is what `run` and `serve` answer: the unsubscribe links of
// digests (handler, called per request since `run` reloads the digests)
// under base_url's path, and the feeds, page and /healthz for the rest.
func httpHandler(cfg *config.Config, pub http.Handler, unsubscribe func() http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle(unsubscribePattern(cfg), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		unsubscribe().ServeHTTP(w, r)
	}))
	mux.Handle("/", pub)
	return mux
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
		Location:  cfg.Zone(),
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

// connLimit is server.max_connections, lowered when the limit on open
// files (fds; 0 if unknown) would not leave room for polling: a descriptor
// per fetch worker, twice over for redirects, and some for the store, logs
// and the configuration watcher.
func connLimit(cfg *config.Config, fds int, log *slog.Logger) int {
	n := cfg.Server.MaxConnections
	if n < 1 {
		n = config.DefaultMaxConnections
	}
	if fds <= 0 {
		return n
	}
	room := fds - 64 - 2*cfg.Fetch.Workers
	if n > room {
		n = max(room, 8)
		log.Warn("server.max_connections lowered to leave room for polling under the limit on open files (ulimit -n)",
			"max_connections", cfg.Server.MaxConnections, "open_files_limit", fds, "now", n)
	}
	return n
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

// serveHTTP serves h on server.listen until ctx ends, then shuts down
// gracefully, with at most connLimit connections open at once. Once it
// listens, it says where, closes listening (if not nil) and sends the
// address to m.Ready, if set.
func (m *Main) serveHTTP(ctx context.Context, cfg *config.Config, h http.Handler, log *slog.Logger, listening chan<- struct{}) error {
	addr := cfg.Server.Listen
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s (server.listen): %w", addr, err)
	}
	// Connections past the limit wait in the kernel's backlog to be
	// accepted, rather than each taking a file descriptor that a poll, the
	// store or a log file may need.
	ln = netutil.LimitListener(ln, connLimit(cfg, fdLimit(), log))
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
