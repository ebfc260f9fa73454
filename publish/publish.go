// Package publish republishes what broadsheet stored: the combined feed, a
// feed per topic and per source (Atom, RSS and JSON Feed, through
// gorilla/feeds), the sources as OPML, an HTML page and a health check.
//
// Paths, each feed in the three formats .atom, .rss and .json:
//
//	/feed.*              every source, newest first; a story several sources
//	                     carry (same Article.LinkKey) appears once
//	/editorials.*        the same, editorials and opinion pieces only
//	/topics/{slug}.*     one topic (a configured topic or a story)
//	/topics/{slug}       its page (also .html): a topic's stories, or a story's
//	                     outlets
//	/sources/{slug}.*    one configured source, feeds.Slugify(name)
//	/opml, /opml.xml     the configured sources as OPML 2.0
//	/, /index.html       the page: configured topics with their stories, then
//	                     the stories several outlets cover, then the others
//	/healthz             JSON status: ok, degraded (sources failing) or unavailable (503)
//
// Editorial-only feeds are paths rather than a ?kind= parameter, so that the
// static copy written by WriteDir has them too.
//
// Entry ids are "tag:broadsheet,2026:article/" + Article.ID: the same in
// every feed, on every replica, across restarts and changes of address.
// Titles and author names are text that reads the same as HTML; summaries
// and contents are republished as ingest stored them, sanitized once. JSON Feed items carry an
// "_broadsheet" extension object: outlet {name, feed_url}, kind, topics
// [{slug, label, kind, feed_url}] and also_in (the other outlets carrying
// the story, in the combined feeds).
//
// Everything is rendered once, when the data changes (Refresh), into an
// immutable snapshot that requests only look up: serving a feed costs no
// query and no rendering. Renderings are deterministic (no render time in
// them, ETags are hashes of the bytes), so replicas that share a database
// serve identical bytes and validators.
package publish

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/broadsheet/broadsheet/feeds"
	"github.com/broadsheet/broadsheet/store"
	"github.com/broadsheet/broadsheet/topics"
)

// Store is what the handler reads: store.Store meets it.
type Store interface {
	// Articles lists articles matching f, newest published first.
	Articles(ctx context.Context, f store.ArticleFilter) ([]feeds.Article, error)
	// SourceStates lists every known source's polling state, with its
	// article count and ArticlesVersion. Refresh reads a source's articles
	// again only when one of these two differs from the last Refresh's, so
	// they must change with every change to the source's articles.
	SourceStates(ctx context.Context) ([]feeds.SourceState, error)
	// Ping checks that the database answers.
	Ping(ctx context.Context) error
}

// Versioner is an optional capability of a Store or a Grouper: a cheap
// stamp that changes whenever what it returns may have changed, also when
// another replica changed it. Run polls it to notice such changes.
// *sqldb.DB (so both SQL backends) implements it.
type Versioner interface {
	DataVersion(ctx context.Context) (string, error)
}

// Grouper answers the groups query that every output shares: the topic
// groups (configured topics holding their stories, and stories several
// outlets cover) of the articles a query selects. *assign.Assigner
// implements it. Groups should return every configured topic, even one
// with no story, so that its feeds exist.
type Grouper interface {
	Groups(ctx context.Context, q topics.Query) ([]topics.Group, error)
}

// Options configure a Handler. Zero values take the defaults noted.
type Options struct {
	Title       string // feeds' and page's title; default "broadsheet"
	Description string // a sentence under the title; a default is derived
	// BaseURL is the public address of the server (or of the static copy),
	// for self links and ids of feeds; default "http://localhost:8080/".
	BaseURL   string
	FeedItems int // entries per feed; default 100
	// MaxAge is the Cache-Control max-age of feeds and the page: about how
	// often the data can change, derived by the caller from the poll
	// schedule; default 5 minutes.
	MaxAge time.Duration
	// Window is how far back the page and the topic groups reach; default
	// 72 hours.
	Window time.Duration
	// Sources are the configured sources: they make the OPML and the
	// per-source feeds. Sources no longer configured have no feed.
	// SetSources replaces them.
	Sources []feeds.Source
	// Groups assigns articles to topics; nil means no topics.
	Groups Grouper
	// Location is the time zone the page shows times in; nil is UTC.
	Location *time.Location
	// CheckEvery is how often Run asks the store whether the data changed;
	// default 5 seconds.
	CheckEvery time.Duration
	// MinInterval is the least time between the starts of two Refreshes
	// that Changed asks Run for: during a burst of polls, Run refreshes at
	// most this often rather than back to back; default 1 second.
	MinInterval time.Duration
	// RefreshEvery is how often Run refreshes whatever the version says;
	// default 5 minutes.
	RefreshEvery time.Duration
	Now          func() time.Time
	Logger       *slog.Logger
}

// Handler serves the republished feeds, the OPML, the page and /healthz. It
// is an http.Handler; its methods are safe for concurrent use.
type Handler struct {
	store   Store
	opts    Options
	base    *url.URL
	maxAge  string // the Cache-Control value
	snap    atomic.Pointer[snapshot]
	mu      sync.Mutex   // serializes Refresh, so an older snapshot never replaces a newer
	cache   refreshCache // what the last Refresh read and prepared; guarded by mu
	changed chan struct{}
	sources *sourceCache  // rendered source feeds, bounded
	lazyIDs atomic.Uint64 // numbers lazyFeeds
	// started dates the empty feeds when no source was ever polled: not
	// the render time, so that rendering them again changes nothing.
	started time.Time
}

// New returns a Handler over st. It serves 503 until the first Refresh.
func New(st Store, opts Options) *Handler {
	if opts.Title == "" {
		opts.Title = "broadsheet"
	}
	if opts.BaseURL == "" {
		opts.BaseURL = "http://localhost:8080/"
	}
	if !strings.HasSuffix(opts.BaseURL, "/") {
		opts.BaseURL += "/"
	}
	if opts.FeedItems <= 0 {
		opts.FeedItems = 100
	}
	if opts.MaxAge <= 0 {
		opts.MaxAge = 5 * time.Minute
	}
	if opts.Window <= 0 {
		opts.Window = 72 * time.Hour
	}
	if opts.CheckEvery <= 0 {
		opts.CheckEvery = 5 * time.Second
	}
	if opts.MinInterval <= 0 {
		opts.MinInterval = time.Second
	}
	if opts.RefreshEvery <= 0 {
		opts.RefreshEvery = 5 * time.Minute
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Location == nil {
		opts.Location = time.UTC
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	base, err := url.Parse(opts.BaseURL)
	if err != nil || !base.IsAbs() {
		// Config validation rejects such a base_url; fall back to a
		// relative root rather than fail at serving time.
		base = &url.URL{Path: "/"}
	}
	return &Handler{
		store:   st,
		opts:    opts,
		base:    base,
		maxAge:  fmt.Sprintf("public, max-age=%d", int(opts.MaxAge/time.Second)),
		changed: make(chan struct{}, 1),
		sources: newSourceCache(sourceCacheBytes),
		started: opts.Now().UTC().Truncate(time.Second),
	}
}

// abs is the public URL of a path under BaseURL ("feed.atom").
func (h *Handler) abs(path string) string {
	return h.base.ResolveReference(&url.URL{Path: path}).String()
}

// Refresh reads the store once and renders every output into a new
// snapshot, which requests see from then on. On error the previous
// snapshot stays in force. A source's articles are read again only when
// its ArticlesVersion or article count moved since the last Refresh (see
// Store); the others' are kept from then.
func (h *Handler) Refresh(ctx context.Context) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	// The version is read before the data, so that a change made while
	// rendering shows up as a newer version on Run's next check.
	ver, err := h.version(ctx)
	if err != nil && !errors.Is(err, errNoVersion) {
		return fmt.Errorf("refresh: %w", err)
	}
	d, err := h.load(ctx)
	if err != nil {
		return fmt.Errorf("refresh: %w", err)
	}
	s, err := h.render(d)
	if err != nil {
		return fmt.Errorf("refresh: %w", err)
	}
	s.version = ver
	h.snap.Store(s)
	return nil
}

// SetSources replaces the configured sources, as after a configuration
// reload, and has Run refresh soon: new sources get their feeds and the
// OPML lists them. It waits for a Refresh under way to finish.
func (h *Handler) SetSources(srcs []feeds.Source) {
	h.mu.Lock()
	h.opts.Sources = slices.Clone(srcs)
	h.mu.Unlock()
	h.Changed()
}

// Changed tells Run that the data changed (after a poll stored something,
// or topics were assigned), so that it refreshes soon. It never blocks, and
// bursts of calls cause one Refresh.
func (h *Handler) Changed() {
	select {
	case h.changed <- struct{}{}:
	default:
	}
}

var errNoVersion = errors.New("no version")

// version is the store's (and grouper's) change stamp, or errNoVersion
// when neither can tell.
func (h *Handler) version(ctx context.Context) (string, error) {
	var parts []string
	for _, x := range []any{h.store, h.opts.Groups} {
		v, ok := x.(Versioner)
		if !ok {
			continue
		}
		s, err := v.DataVersion(ctx)
		if err != nil {
			return "", fmt.Errorf("version: %w", err)
		}
		parts = append(parts, s)
	}
	if len(parts) == 0 {
		return "", errNoVersion
	}
	return strings.Join(parts, "|"), nil
}

// Run keeps the snapshot current until ctx is done: it refreshes when
// Changed is called, but not sooner than MinInterval after the start of the
// last Refresh it ran (later Changed calls are served together at the end
// of that time); when the data version (see Versioner) differs from the
// snapshot's, checked every CheckEvery; and in any case every RefreshEvery,
// which catches what a version cannot see. It refreshes at once if no
// snapshot exists yet. Errors are logged and Run carries on; it returns nil
// when ctx ends.
func (h *Handler) Run(ctx context.Context) error {
	check := time.NewTicker(h.opts.CheckEvery)
	defer check.Stop()
	full := time.NewTicker(h.opts.RefreshEvery)
	defer full.Stop()
	// held fires when a Changed that came too soon may be served.
	held := time.NewTimer(time.Hour)
	held.Stop()
	holding := false
	var last time.Time // when the last Refresh started
	force, checkNow := h.snap.Load() == nil, true
	for {
		if force || checkNow && h.stale(ctx) {
			if holding {
				// This Refresh covers the change held back.
				held.Stop()
				holding = false
			}
			last = time.Now()
			if err := h.Refresh(ctx); err != nil && ctx.Err() == nil {
				h.opts.Logger.Error("refresh published feeds", "err", err)
			}
		}
		force, checkNow = false, false
		select {
		case <-ctx.Done():
			return nil
		case <-h.changed:
			// Refreshing costs about the same however few polls it covers:
			// in a burst of polls, back-to-back Refreshes would keep a core
			// busy rendering the combined feeds and the page over and over.
			if wait := h.opts.MinInterval - time.Since(last); wait > 0 {
				if !holding {
					held.Reset(wait)
					holding = true
				}
			} else {
				force = true
			}
		case <-held.C:
			holding = false
			force = true
		case <-full.C:
			force = true
		case <-check.C:
			checkNow = true
		}
	}
}

// stale reports whether the data version differs from the snapshot's,
// or, while the page shows no item but the sources' states, whether those
// changed (polls that fail store no article, here or on another replica).
// Without a Versioner it cannot tell the first, and says no.
func (h *Handler) stale(ctx context.Context) bool {
	s := h.snap.Load()
	if s == nil {
		return true
	}
	v, err := h.version(ctx)
	switch {
	case errors.Is(err, errNoVersion):
	case err != nil:
		if ctx.Err() == nil {
			h.opts.Logger.Warn("check published feeds for changes", "err", err)
		}
		return false
	case v != s.version:
		return true
	}
	if !s.empty {
		return false
	}
	sc, ok := h.store.(sourceCounter)
	if !ok {
		return false
	}
	c, err := sc.SourceCounts(ctx)
	if err != nil {
		if ctx.Err() == nil {
			h.opts.Logger.Warn("check published feeds for changes", "err", err)
		}
		return false
	}
	return !sameCounts(c, s.counts)
}
