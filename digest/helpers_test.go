package digest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/broadsheet/broadsheet/feeds"
	"github.com/broadsheet/broadsheet/store"
	"github.com/broadsheet/broadsheet/topics"
)

// seoul is the zone of the fixtures' digest.
var seoul = mustZone("Asia/Seoul")

func mustZone(name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return l
}

// t0 is the fixtures' "now": 07:00 in Seoul on Monday 3 March 2025.
var t0 = time.Date(2025, 3, 3, 7, 0, 0, 0, seoul)

// clock is a fake time source; Sleep advances it instead of sleeping.
type clock struct {
	mu    sync.Mutex
	now   time.Time
	slept []time.Duration
}

func newClock(t time.Time) *clock { return &clock{now: t} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func (c *clock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.slept = append(c.slept, d)
	c.mu.Unlock()
	return nil
}

// art makes an article of source first seen at seen and published pub.
func art(source, title string, seen, pub time.Time) feeds.Article {
	a := feeds.Article{
		Source:    source,
		Identity:  title,
		Link:      "https://" + feeds.Slugify(source) + ".example/" + feeds.Slugify(title),
		Title:     title,
		Excerpt:   "Excerpt of " + title + ".",
		Kind:      feeds.KindEditorial,
		Published: pub,
		FirstSeen: seen,
	}
	a.ID = feeds.ArticleID(a.Source, a.Identity)
	return a
}

// fakeMailer records messages; errs scripts failures by recipient.
type fakeMailer struct {
	mu      sync.Mutex
	sent    []*Message
	opens   int
	closes  int
	errs    map[string][]error // address → errors for its next attempts, in order
	openErr []error
	// onSend, if set, runs before each send (a test's crash point).
	onSend func(m *Message)
}

func (f *fakeMailer) Open(ctx context.Context) (Conn, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.opens++
	if len(f.openErr) > 0 {
		err := f.openErr[0]
		f.openErr = f.openErr[1:]
		return nil, err
	}
	return fakeConn{f}, nil
}

type fakeConn struct{ f *fakeMailer }

func (c fakeConn) Send(ctx context.Context, m *Message) error {
	if c.f.onSend != nil {
		c.f.onSend(m)
	}
	c.f.mu.Lock()
	defer c.f.mu.Unlock()
	to := NormalizeAddress(m.To)
	if errs := c.f.errs[to]; len(errs) > 0 {
		c.f.errs[to] = errs[1:]
		return errs[0]
	}
	c.f.sent = append(c.f.sent, m)
	return nil
}

func (c fakeConn) Close() error {
	c.f.mu.Lock()
	c.f.closes++
	c.f.mu.Unlock()
	return nil
}

// to counts the messages sent to addr.
func (f *fakeMailer) to(addr string) []*Message {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*Message
	for _, m := range f.sent {
		if NormalizeAddress(m.To) == NormalizeAddress(addr) {
			out = append(out, m)
		}
	}
	return out
}

func tempErr(code int) error {
	return &SendError{Temporary: true, Code: code, Err: fmt.Errorf("%d try again later", code)}
}

func permErr(code int) error {
	return &SendError{Temporary: false, Code: code, Err: fmt.Errorf("%d no such user", code)}
}

// fakeGroups is the read model (topics.Build) over the env's store, with
// fixed memberships: article id → slugs of topics, configured ones (in
// the order of topics) and stored stories, as the clusterer would have
// found them.
type fakeGroups struct {
	topics []topics.Topic
	of     map[string][]string
	err    error
	st     Store // set by newEnv
}

func (g *fakeGroups) Groups(ctx context.Context, q topics.Query) ([]topics.Group, error) {
	if g.err != nil {
		return nil, g.err
	}
	arts, err := g.st.Articles(ctx, store.ArticleFilter{})
	if err != nil {
		return nil, err
	}
	var members []topics.Members
	for _, t := range g.topics {
		m := topics.Members{Topic: t}
		for _, a := range arts {
			if slices.Contains(g.of[a.ID], t.Slug) {
				m.ArticleIDs = append(m.ArticleIDs, a.ID)
			}
		}
		members = append(members, m)
	}
	var conf []topics.Topic
	for _, t := range g.topics {
		if t.Kind == topics.KindConfigured {
			conf = append(conf, t)
		}
	}
	return topics.Build(arts, members, conf, q), nil
}

// env is a Service over a memStore, a fakeMailer and a clock.
type env struct {
	t   *testing.T
	st  *memStore
	m   *fakeMailer
	clk *clock
	svc *Service
	ctx context.Context
}

func newEnv(t *testing.T, o Options, g Grouper, arts ...feeds.Article) *env {
	t.Helper()
	e := &env{t: t, st: newMemStore(arts...), m: &fakeMailer{errs: map[string][]error{}}, clk: newClock(t0), ctx: t.Context()}
	o.Now, o.Sleep = e.clk.Now, e.clk.Sleep
	if o.Owner == "" {
		o.Owner = "test-owner"
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.Secret == nil {
		o.Secret = []byte("test secret")
	}
	if fg, ok := g.(*fakeGroups); ok {
		fg.st = e.st
	}
	svc, err := New(e.st, e.m, nil, g, o)
	if err != nil {
		t.Fatal(err)
	}
	e.svc = svc
	return e
}

func (e *env) send(d Digest, period time.Time) *Report {
	e.t.Helper()
	rep, err := e.svc.Send(e.ctx, d, period)
	if err != nil {
		e.t.Fatalf("Send(%s, %v): %v", d.Name, period, err)
	}
	return rep
}

var errBoom = errors.New("boom")
