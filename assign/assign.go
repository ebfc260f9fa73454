// Package assign keeps the topics of stored articles up to date: it takes
// each new or edited article once, matches it against the configured topics
// (topics.Matcher), puts it into a story (topics.Clusterer) and saves the
// result through the store, batch by batch.
//
// Replicas sharing a database take turns through a lease (the "topics"
// lock), so there is one writer at a time, and every saved batch moves the
// store's topic epoch on. A replica whose in-memory clusterer was not the
// last writer rebuilds it from the stored stories (Clusterer.Restore) before
// adding anything, so story ids and members stay those in the database
// whichever replica does the work.
package assign

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/broadsheet/broadsheet/feeds"
	"github.com/broadsheet/broadsheet/store"
	"github.com/broadsheet/broadsheet/topics"
)

// Store is what the Assigner needs of a store.
type Store interface {
	store.TopicStore
	store.Locks
	// Articles lists articles matching f, newest published first.
	Articles(ctx context.Context, f store.ArticleFilter) ([]feeds.Article, error)
}

// LockName is the lease the Assigner holds while it assigns topics.
const LockName = "topics"

// Defaults for Options.
const (
	DefaultLockTTL   = 2 * time.Minute
	DefaultBatchSize = 500
)

// Options configure an Assigner. Zero values take the defaults noted.
type Options struct {
	// Rules are the configured topics.
	Rules []topics.Rule
	// Clustering tunes the story clusterer. Its Window (default
	// topics.DefaultWindow) is also how far back SetRules matches again; a
	// rebuild reads the stories of the last two windows and of
	// RebuildBackground before them.
	Clustering topics.Options
	// Enabled turns story clustering on; off, only configured topics are
	// assigned.
	Enabled bool
	// Owner names this process in the lease; default host:pid:random.
	Owner string
	// LockTTL is how long the lease lasts unless extended; each batch
	// extends it. The lease is kept between passes, so that one replica
	// keeps the work (and its clusterer) while it lives; passes should
	// come more often than LockTTL. Default DefaultLockTTL.
	LockTTL time.Duration
	// BatchSize is how many articles one saved batch holds; default
	// DefaultBatchSize.
	BatchSize int
	Now       func() time.Time
	Logger    *slog.Logger
	// OnPass, if set, is called after each pass that held the lease, with
	// what Pass returns and how long the pass took (for metrics).
	OnPass func(assigned int, took time.Duration, err error)
}

// Assigner assigns stored articles to topics. Its methods are safe for
// concurrent use; passes run one at a time.
type Assigner struct {
	st     Store
	opts   Options
	window time.Duration

	rmu      sync.Mutex // guards matcher, rules, rulesGen and reset
	matcher  *topics.Matcher
	rules    []topics.Rule
	rulesGen int  // counts changes of rules, for DataVersion
	reset    bool // the rules changed: match the window's articles again

	mu        sync.Mutex        // serializes passes; guards what follows
	clusterer *topics.Clusterer // nil until rebuilt, and after a failed save
	epoch     int64             // the store's epoch the clusterer matches
}

// New returns an Assigner over st. It returns a *topics.RuleError for an
// invalid rule.
func New(st Store, opts Options) (*Assigner, error) {
	m, err := topics.NewMatcher(opts.Rules)
	if err != nil {
		return nil, err
	}
	if opts.Owner == "" {
		opts.Owner = defaultOwner()
	}
	if opts.LockTTL <= 0 {
		opts.LockTTL = DefaultLockTTL
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = DefaultBatchSize
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	window := opts.Clustering.Window
	if window <= 0 {
		window = topics.DefaultWindow
	}
	return &Assigner{st: st, opts: opts, window: window, matcher: m, rules: slices.Clone(opts.Rules)}, nil
}

func defaultOwner() string {
	host, _ := os.Hostname()
	var b [3]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s:%d:%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}

// SetRules replaces the configured topics, as after a configuration
// reload. If they changed, the next pass that gets the lease matches the
// articles of the last window again (configured topics only; stories
// stay). It returns a *topics.RuleError for an invalid rule, keeping the
// old rules.
func (a *Assigner) SetRules(rules []topics.Rule) error {
	m, err := topics.NewMatcher(rules)
	if err != nil {
		return err
	}
	a.rmu.Lock()
	defer a.rmu.Unlock()
	if reflect.DeepEqual(a.rules, rules) {
		return nil
	}
	a.matcher, a.rules, a.reset = m, slices.Clone(rules), true
	a.rulesGen++
	return nil
}

// ConfiguredTopics lists the configured topics, in the order of the rules.
func (a *Assigner) ConfiguredTopics() []topics.Topic {
	a.rmu.Lock()
	defer a.rmu.Unlock()
	return a.matcher.Topics()
}

// Owner is the name this Assigner holds the lease under.
func (a *Assigner) Owner() string { return a.opts.Owner }

// Run passes until ctx ends: at once, then whenever wake receives and at
// least every every. Errors are logged and the next pass tries again. On
// return it releases the lease, so that another replica can take over at
// once.
func (a *Assigner) Run(ctx context.Context, wake <-chan struct{}, every time.Duration) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	defer func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if err := a.Release(rctx); err != nil {
			a.opts.Logger.Warn("release the topics lease", "err", err)
		}
	}()
	for {
		if _, err := a.Pass(ctx); err != nil && ctx.Err() == nil {
			a.opts.Logger.Error("assign topics", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-wake:
		case <-tick.C:
		}
	}
}

// Release gives up the lease if this Assigner holds it, so that another
// replica need not wait for it to expire.
func (a *Assigner) Release(ctx context.Context) error {
	return a.st.ReleaseLock(ctx, LockName, a.opts.Owner)
}

// Pass assigns every pending article, in batches, and returns how many it
// assigned. If another process holds the lease it does nothing and returns
// 0, nil: that process is doing the work. The lease is kept after the pass
// (see Options.LockTTL); Release gives it up.
func (a *Assigner) Pass(ctx context.Context) (n int, err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	start := time.Now()
	now := a.opts.Now()
	ok, err := a.st.AcquireLock(ctx, LockName, a.opts.Owner, now, a.opts.LockTTL)
	if err != nil || !ok {
		return 0, err
	}
	if a.opts.OnPass != nil {
		defer func() { a.opts.OnPass(n, time.Since(start), err) }()
	}

	a.rmu.Lock()
	m, reset := a.matcher, a.reset
	a.reset = false
	a.rmu.Unlock()
	if reset {
		n, err := a.st.ResetTopics(ctx, now.Add(-a.window))
		if err != nil {
			a.rmu.Lock()
			a.reset = true
			a.rmu.Unlock()
			return 0, fmt.Errorf("assign topics: match again after a change of topics: %w", err)
		}
		a.opts.Logger.Info("configured topics changed: matching recent articles again", "articles", n)
	}
	if err := a.sync(ctx, now); err != nil {
		return 0, err
	}
	if a.clusterer != nil {
		// Close what left the window, before adding, so that a clusterer
		// rebuilt at this pass holds what the running one holds.
		a.clusterer.Evict(now.Add(-a.window))
	}

	total, stories, merges := 0, 0, 0
	for {
		if total > 0 {
			// Extend the lease for the next batch; SaveTopics checks it.
			ok, err := a.st.AcquireLock(ctx, LockName, a.opts.Owner, a.opts.Now(), a.opts.LockTTL)
			if err != nil || !ok {
				a.clusterer = nil
				if err == nil {
					err = store.ErrLeaseLost
				}
				return total, fmt.Errorf("assign topics: extend the lease: %w", err)
			}
		}
		arts, err := a.st.PendingTopicArticles(ctx, a.opts.BatchSize)
		if err != nil {
			return total, fmt.Errorf("assign topics: %w", err)
		}
		if len(arts) == 0 {
			break
		}
		b, st, err := a.batch(ctx, m, arts, now)
		if err != nil {
			a.clusterer = nil
			return total, fmt.Errorf("assign topics: %w", err)
		}
		epoch, err := a.st.SaveTopics(ctx, b)
		if err != nil {
			// The clusterer holds what was not saved: rebuild it.
			a.clusterer = nil
			return total, fmt.Errorf("assign topics: %w", err)
		}
		a.epoch = epoch
		total += len(arts)
		stories += st.stories
		merges += st.merges
		if len(arts) < a.opts.BatchSize {
			break
		}
	}
	if total > 0 {
		a.opts.Logger.Info("assigned topics", "articles", total, "new_stories", stories, "merges", merges,
			"epoch", a.epoch, "duration", time.Since(start).Round(time.Millisecond))
	}
	return total, nil
}

// The clusterer's clock.
//
// The clusterer's state is a function of the items in its window (IDF is
// applied when scoring, not when an item arrives), and its window is cut
// by item time. So each pass first evicts to its time minus the window,
// then adds its articles in (item time, ID) order, never in the order
// they were fetched: the articles a pass takes give the same stories
// whatever order the sources were polled in. A rebuild restores the stored
// members of two windows (and RebuildBackground before them, which only
// feed the background) and evicts the same way, so that it holds what
// the running clusterer held.

// RebuildBackground is how much older history than its two windows a
// rebuild replays, for the clusterer's background word counts (see
// topics' background.go): a quiet window weighs words by them. A running
// clusterer keeps months of them; two weeks of articles are most of what
// a thin window needs and cost one read at start.
const RebuildBackground = 14 * 24 * time.Hour

// sync makes the clusterer match the store: rebuilt from the stored stories
// unless it was the last writer.
func (a *Assigner) sync(ctx context.Context, now time.Time) error {
	if !a.opts.Enabled {
		a.clusterer = nil
		return nil
	}
	epoch, err := a.st.TopicEpoch(ctx)
	if err != nil {
		return fmt.Errorf("assign topics: %w", err)
	}
	if a.clusterer == nil || epoch != a.epoch {
		start := time.Now()
		members, err := a.st.StoryMembers(ctx, now.Add(-2*a.window-RebuildBackground))
		if err != nil {
			return fmt.Errorf("assign topics: rebuild stories: %w", err)
		}
		// In the order passes add articles (see batch): what the
		// clusterer learns of names as items come depends on it.
		slices.SortStableFunc(members, func(x, y store.StoryMember) int { return byItemTime(x.Article, y.Article) })
		c := topics.NewClusterer(a.opts.Clustering)
		for _, m := range members {
			if err := c.Restore(m.Article, topics.Assignment{StoryID: m.StoryID, Slug: m.Slug}); err != nil {
				return fmt.Errorf("assign topics: rebuild stories: article %s: %w", m.Article.ID, err)
			}
		}
		a.clusterer, a.epoch = c, epoch
		s := c.Stats()
		a.opts.Logger.Info("rebuilt stories from the store", "epoch", epoch, "articles", s.Items, "stories", s.Groups,
			"duration", time.Since(start).Round(time.Millisecond))
	}
	return nil
}

type batchStats struct{ stories, merges int }

// batch matches and clusters arts.
func (a *Assigner) batch(ctx context.Context, m *topics.Matcher, arts []feeds.Article, now time.Time) (store.TopicBatch, batchStats, error) {
	var bs batchStats
	ids := make([]string, len(arts))
	for i, x := range arts {
		ids[i] = x.ID
	}
	// Articles assigned before (edited since, or matched again after a
	// change of topics) keep their story and have their configured topics
	// computed afresh.
	had, err := a.st.Topics(ctx, store.TopicFilter{ArticleIDs: ids})
	if err != nil {
		return store.TopicBatch{}, bs, err
	}
	inStory, assigned := map[string]bool{}, map[string]bool{}
	for _, g := range had {
		for _, id := range g.ArticleIDs {
			assigned[id] = true
			if g.Kind == topics.KindStory {
				inStory[id] = true
			}
		}
	}
	configured := map[string]topics.Topic{}
	for _, t := range m.Topics() {
		configured[t.Slug] = t
	}
	b := store.TopicBatch{
		Lease: &store.Lease{Name: LockName, Owner: a.opts.Owner, Now: a.opts.Now()},
		At:    now,
	}
	used := map[string]bool{}
	arts = slices.Clone(arts)
	slices.SortStableFunc(arts, byItemTime)
	for _, x := range arts {
		if assigned[x.ID] {
			b.Rematched = append(b.Rematched, x.ID)
		}
		for _, slug := range m.Match(x) {
			b.Members = append(b.Members, store.TopicMember{ArticleID: x.ID, Slug: slug})
			if !used[slug] {
				used[slug] = true
				b.Topics = append(b.Topics, store.TopicRecord{Topic: configured[slug]})
			}
		}
		// An article published a window before it was first seen could
		// only found a story of its own that no other would join.
		if a.clusterer != nil && !inStory[x.ID] && !itemTime(x).Before(x.FirstSeen.Add(-a.window)) {
			as := a.clusterer.Add(x)
			if as.New {
				bs.stories++
			}
			b.Topics = append(b.Topics, store.TopicRecord{
				Topic:   topics.Topic{Slug: as.Slug, Label: as.Label, Kind: topics.KindStory},
				StoryID: as.StoryID,
			})
			b.Members = append(b.Members, store.TopicMember{ArticleID: x.ID, Slug: as.Slug})
			for _, from := range as.Merged {
				b.Merged = append(b.Merged, store.StoryMerge{Into: as.StoryID, From: from})
				bs.merges++
			}
		}
		b.Assigned = append(b.Assigned, store.ArticleVersion{ID: x.ID, Hash: x.Hash})
	}
	return b, bs, nil
}

// byItemTime orders articles by (item time, ID), the order passes add
// them in, whatever the order they were fetched in.
func byItemTime(x, y feeds.Article) int {
	if c := itemTime(x).Compare(itemTime(y)); c != 0 {
		return c
	}
	return strings.Compare(x.ID, y.ID)
}

// itemTime is the article's time as the clusterer's window sees it: when
// it was published, unless that is after it was first seen.
func itemTime(a feeds.Article) time.Time {
	t := a.Published
	if !a.FirstSeen.IsZero() && (t.IsZero() || t.After(a.FirstSeen)) {
		t = a.FirstSeen
	}
	return t
}
