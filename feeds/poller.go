package feeds

import (
	"context"
	"errors"
	"log/slog"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"
)

// PollStore is what the Poller needs from a store.
type PollStore interface {
	// SourceState returns the remembered state of a source, or an error
	// wrapping ErrNotFound if it was never polled.
	SourceState(ctx context.Context, source string) (SourceState, error)
	// SavePoll records one poll atomically: the articles (inserted, updated in
	// place or left alone) and the source's new state, releasing Owner's lease.
	SavePoll(ctx context.Context, p Poll) (SaveStats, error)
}

// Claimer hands out due sources to one replica at a time.
type Claimer interface {
	// ClaimDue leases up to limit active sources whose NextDue is not after
	// now and which no live lease holds, for owner until now+lease, and
	// returns their names.
	ClaimDue(ctx context.Context, owner string, now time.Time, limit int, lease time.Duration) ([]string, error)
}

// Poll is one finished poll of one source, to be stored.
type Poll struct {
	State    SourceState
	Articles []Article
	Owner    string // the lease holder; empty for an unleased poll
}

// SaveStats counts what SavePoll did with a poll's articles.
type SaveStats struct {
	New       int
	Updated   int
	Unchanged int
	// Rejected are the articles the store could not keep; the others are
	// stored all the same.
	Rejected []Rejected
}

// Rejected is one article of a poll that a store refused, and why.
type Rejected struct {
	Identity string
	Err      error
}

// Report is the outcome of polling one source.
type Report struct {
	Source      string
	Status      int
	NotModified bool
	New         int
	Updated     int
	Unchanged   int
	Dropped     int
	Filtered    int // articles the source's keep and block rules left out
	Skipped     int // items that could not be read; the others were stored
	Err         error
	Duration    time.Duration
	Rejected    []Rejected // articles the store refused; the rest are stored
}

// PollerOptions tune a Poller. Zero values take the defaults noted.
type PollerOptions struct {
	Workers int // fetches at once, all hosts together; default 8
	PerHost int // fetches at once to one host; 0 means no limit
	// Next returns when src is next due after t, by its schedule, with any
	// jitter to spread polls that share a schedule. Required.
	Next       func(src Source, t time.Time) time.Time
	MaxBackoff time.Duration // cap on a failing source's backoff; default 12h
	Now        func() time.Time
	Logger     *slog.Logger
	// OnPoll, if set, is called after each poll has been stored.
	OnPoll func(ctx context.Context, r Report)
}

// Poller polls sources with a global worker pool and a per-host limit, and
// stores what it gets. Its methods are safe for concurrent use.
type Poller struct {
	fetcher Fetcher
	store   PollStore
	opts    PollerOptions
	global  chan struct{}

	mu      sync.Mutex
	sources map[string]Source
	hosts   map[string]chan struct{}
	running map[string]bool
	wake    chan struct{}
}

// NewPoller returns a Poller that fetches with f and stores into s.
func NewPoller(f Fetcher, s PollStore, opts PollerOptions) *Poller {
	if opts.Workers <= 0 {
		opts.Workers = 8
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 12 * time.Hour
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Poller{
		fetcher: f,
		store:   s,
		opts:    opts,
		global:  make(chan struct{}, opts.Workers),
		sources: map[string]Source{},
		hosts:   map[string]chan struct{}{},
		running: map[string]bool{},
		wake:    make(chan struct{}, 1),
	}
}

// SetSources replaces the set of sources the daemon polls, as after a
// configuration reload, and wakes Run so that new sources are polled at once.
func (p *Poller) SetSources(srcs []Source) {
	m := make(map[string]Source, len(srcs))
	for _, s := range srcs {
		m[s.Name] = s
	}
	p.mu.Lock()
	p.sources = m
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// Run polls due sources until ctx is done, claiming them from c as owner so
// that several replicas share the work. Polls under way when ctx ends are
// finished (each is bounded by the fetcher's timeout) before Run returns.
func (p *Poller) Run(ctx context.Context, c Claimer, owner string, lease, every time.Duration) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	// Polls started here outlive ctx so that shutdown never cuts one in half.
	pollCtx := context.WithoutCancel(ctx)
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		p.mu.Lock()
		free := 2*p.opts.Workers - len(p.running)
		p.mu.Unlock()
		if free > 0 {
			names, err := c.ClaimDue(ctx, owner, p.opts.Now(), free, lease)
			if err != nil && ctx.Err() == nil {
				p.opts.Logger.Error("claim due sources", "err", err)
			}
			for _, name := range names {
				p.mu.Lock()
				src, ok := p.sources[name]
				busy := p.running[name]
				if ok && !busy {
					p.running[name] = true
				}
				p.mu.Unlock()
				if !ok || busy {
					// Removed from the configuration since the claim, or
					// still running here: the lease lapses on its own.
					continue
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					defer p.done(name)
					if _, err := p.poll(pollCtx, src, owner); err != nil {
						p.opts.Logger.Error("store poll", "source", name, "err", err)
					}
				}()
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		case <-p.wake:
		}
	}
}

func (p *Poller) done(name string) {
	p.mu.Lock()
	delete(p.running, name)
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// PollNow polls srcs at once, whatever their schedule or backoff, and returns
// a report for each, in the order given. progress, if set, is called as each
// finishes. If ctx ends, sources not yet started are reported with ctx's error.
func (p *Poller) PollNow(ctx context.Context, srcs []Source, progress func(Report)) []Report {
	reports := make([]Report, len(srcs))
	var wg sync.WaitGroup
	var mu sync.Mutex
	for i, src := range srcs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := p.poll(ctx, src, "")
			if err != nil && r.Err == nil {
				r.Err = err
			}
			reports[i] = r
			if progress != nil {
				mu.Lock()
				progress(r)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return reports
}

// poll fetches one source within the worker limits and stores the outcome.
// The error is about storing; a failed fetch is recorded and reported in
// Report.Err.
func (p *Poller) poll(ctx context.Context, src Source, owner string) (Report, error) {
	rep := Report{Source: src.Name}
	release, err := p.acquire(ctx, hostOf(src.URL))
	if err != nil {
		rep.Err = err
		return rep, nil
	}
	defer release()

	prev, err := p.store.SourceState(ctx, src.Name)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return rep, err
	}
	start := p.opts.Now()
	res, ferr := p.fetcher.Fetch(ctx, src, prev)
	now := p.opts.Now()
	rep.Duration = now.Sub(start)

	st := prev
	st.Source, st.URL, st.Active = src.Name, src.URL, true
	st.LastAttempt = now
	next := p.opts.Next(src, now)
	var arts []Article
	if ferr != nil {
		if ctx.Err() != nil {
			// Cancelled by the caller, not the source's fault: record nothing.
			rep.Err = ferr
			return rep, nil
		}
		rep.Err = ferr
		st.Failures++
		st.LastError = ferr.Error()
		st.LastStatus = 0
		var fe *FetchError
		if errors.As(ferr, &fe) {
			st.LastStatus = fe.Status
			st.LastError = fe.Reason
			if st.LastError == "" {
				st.LastError = ferr.Error()
			}
			if fe.RetryAfter > 0 {
				next = later(next, now.Add(min(fe.RetryAfter, p.opts.MaxBackoff)))
			}
		}
		next = later(next, now.Add(p.backoff(st.Failures)))
	} else {
		rep.Status, rep.NotModified, rep.Dropped, rep.Skipped = res.Status, res.NotModified, res.Dropped, res.Skipped
		for _, r := range res.SkipReasons {
			p.opts.Logger.Warn("item skipped", "source", src.Name, "reason", r)
		}
		st.Failures, st.LastError, st.LastStatus = 0, "", res.Status
		st.LastSuccess = now
		if !res.NotModified {
			st.ETag, st.LastModified = res.ETag, res.LastModified
			arts = res.Articles
			if src.Keep != nil {
				arts = make([]Article, 0, len(res.Articles))
				for _, a := range res.Articles {
					if src.Keep(a) {
						arts = append(arts, a)
					}
				}
				rep.Filtered = len(res.Articles) - len(arts)
			}
		}
	}
	st.NextDue = next

	stats, err := p.store.SavePoll(ctx, Poll{State: st, Articles: arts, Owner: owner})
	if err != nil {
		return rep, err
	}
	rep.New, rep.Updated, rep.Unchanged = stats.New, stats.Updated, stats.Unchanged
	rep.Rejected = stats.Rejected
	for _, r := range rep.Rejected {
		p.opts.Logger.Warn("article not stored", "source", src.Name, "identity", r.Identity, "err", r.Err)
	}
	if rep.Err != nil {
		p.opts.Logger.Warn("poll failed", "source", src.Name, "failures", st.Failures, "next", st.NextDue.Format(time.RFC3339), "err", st.LastError)
	} else {
		p.opts.Logger.Info("polled", "source", src.Name, "status", rep.Status, "new", rep.New, "updated", rep.Updated, "dropped", rep.Dropped, "filtered", rep.Filtered, "rejected", len(rep.Rejected), "skipped", rep.Skipped, "took", rep.Duration.Round(time.Millisecond))
	}
	if p.opts.OnPoll != nil {
		p.opts.OnPoll(ctx, rep)
	}
	return rep, nil
}

// acquire takes a slot for host first, then a global one, so that a fetch
// waiting on a busy host never holds a worker that another host could use.
func (p *Poller) acquire(ctx context.Context, host string) (func(), error) {
	var hs chan struct{}
	if p.opts.PerHost > 0 {
		p.mu.Lock()
		hs = p.hosts[host]
		if hs == nil {
			hs = make(chan struct{}, p.opts.PerHost)
			p.hosts[host] = hs
		}
		p.mu.Unlock()
		select {
		case hs <- struct{}{}:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	select {
	case p.global <- struct{}{}:
	case <-ctx.Done():
		if hs != nil {
			<-hs
		}
		return nil, ctx.Err()
	}
	return func() {
		<-p.global
		if hs != nil {
			<-hs
		}
	}, nil
}

// backoff is how long a source that failed n times in a row waits at least.
func (p *Poller) backoff(n int) time.Duration {
	d := 5 * time.Minute
	for i := 1; i < n && d < p.opts.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, p.opts.MaxBackoff)
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	return strings.ToLower(u.Hostname())
}

// SortReports orders reports by source name, for stable tables.
func SortReports(rs []Report) {
	sort.Slice(rs, func(i, j int) bool { return rs[i].Source < rs[j].Source })
}
