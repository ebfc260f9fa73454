// Package digest picks, groups and renders the articles each recipient of an
// email digest gets, and delivers them through a Mailer exactly once per
// (digest, recipient, period), as far as SMTP allows (see below).
//
// # Content
//
// A recipient's digest holds the articles first seen by broadsheet since
// that recipient's previous digest was chosen (the first time: the last
// FirstWindow, 24 hours), leaving out those published before now − MaxAge,
// filtered by source, kind and topic: the read model's groups (Grouper,
// the query the page shares), each story once with each outlet's item.
// Templates (package templates, overridable from a folder) render
// it as a subject, a plain-text part and an HTML part.
//
// # Periods
//
// Each run of a digest belongs to a period: the scheduled time it is for
// (the schedule's tick, which the caller computes), or the moment of a
// manual `digest send`.
// A period is planned for a recipient only if none of that recipient's
// deliveries has the same or a later period, so replicas firing on the same
// tick, or a catch-up after downtime, make one digest, not one per replica
// or per missed tick.
//
// # Delivery, and what is guaranteed
//
// A run first plans: for every subscribed recipient it records a delivery
// keyed by (digest, recipient, period) in state pending, holding the chosen
// groups with their items' text (the layout), the window they came from and a Message-ID
// derived from the key. The store's unique key makes this happen once.
// Then it delivers: it claims one due delivery at a time (pending, retry
// that is due, or sending whose lease expired) with a lease, renders it from
// the recorded layout alone, so that an edit in between changes nothing, hands it to the Mailer, and records the outcome: sent;
// retry (a temporary failure: 4xx reply, refused or dropped connection,
// timeout), retried with backoff up to MaxAttempts within the run and then
// left for a later run, until GiveUp has passed; or failed (a 5xx reply),
// recorded and reported, never retried. When the server refused the message
// or the recipient (SendError.Refused), that recipient's next window starts
// where the refused one ended: its items are not offered, and refused, again
// every period (see windowStart). A failed recipient does not hold
// back the others. Claims are leases taken in one statement (FOR UPDATE
// SKIP LOCKED on PostgreSQL), so replicas never send the same delivery at
// the same time, and a sent delivery is never claimed again.
//
// The only window for a duplicate is between the mail server accepting the
// message (its reply to the end of DATA) and the "sent" record committing:
// if the process dies there, or the database is unreachable then, the
// delivery is still "sending"; once its lease expires it is sent again.
// broadsheet chooses at-least-once over at-most-once for that window,
// because a lost digest is worse than a repeated one, and makes the repeat
// recognisable: every attempt of a delivery carries the same Message-ID,
// Date and content, so receiving servers and clients that deduplicate by
// Message-ID (Gmail, for one) show it once. A connection dropped after the
// end of DATA but before the server's reply is the same window. Nothing else
// resends: a crash before the message was handed over sends it once later
// (same content), and a crash after the record commits sends nothing more.
// With the outbox Mailer there is no window at all: the file name derives
// from the Message-ID, so a repeat overwrites the same file.
package digest

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"net"
	"net/mail"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/broadsheet/broadsheet/feeds"
	"github.com/broadsheet/broadsheet/store"
	"github.com/broadsheet/broadsheet/topics"
)

// Digest is one configured digest, as plain values.
type Digest struct {
	Name     string
	To       []string     // addresses; "Name <addr>" is allowed
	Topics   []string     // topic slugs; empty or "all" for every topic
	Sources  []string     // source names; empty for all
	Kinds    []feeds.Kind // empty for all
	MaxItems int          // stories at most; 0 for no limit
	MaxAge   time.Duration
	// Subject is a text/template for the subject line; empty uses the
	// subject.txt template.
	Subject string
	// Template names the template set: NAME.html and NAME.txt in the
	// templates folder. Empty is "digest", the default set.
	Template  string
	SendEmpty bool
	// Location is the zone times are shown in: the schedule's CRON_TZ.
	// Nil is UTC.
	Location *time.Location
}

// DefaultMaxAge is the max_age of a digest that sets none.
const DefaultMaxAge = 7 * 24 * time.Hour

// AllTopics in Digest.Topics selects every topic.
const AllTopics = topics.AllTopics

func (d Digest) maxAge() time.Duration {
	if d.MaxAge > 0 {
		return d.MaxAge
	}
	return DefaultMaxAge
}

func (d Digest) loc() *time.Location {
	if d.Location != nil {
		return d.Location
	}
	return time.UTC
}

// Store is what the digest package needs of a store.
type Store interface {
	Articles(ctx context.Context, f store.ArticleFilter) ([]feeds.Article, error)
	store.DigestStore
}

// Grouper answers the read model's one query (assign.Assigner.Groups):
// the groups of the articles q selects, in the order a digest shows them.
type Grouper interface {
	Groups(ctx context.Context, q topics.Query) ([]topics.Group, error)
}

// Options tunes a Service. Zero values take the defaults given.
type Options struct {
	// From is the sender, "Name <address>". Default: broadsheet at the
	// host of BaseURL, else at localhost.
	From string
	// BaseURL is the public URL of the HTTP server, with the unsubscribe
	// handler mounted at BaseURL + "unsubscribe/". Empty: unsubscribing is
	// by mail to From.
	BaseURL string
	// Title is the site's name, shown in digests. Default "broadsheet".
	Title string
	// Secret signs unsubscribe links. Empty: the store's, generated once.
	Secret []byte
	// Owner names this process in leases. Default host:pid.
	Owner string
	// Lease is how long a claimed delivery is held; it must outlast one
	// message's sending, which the Mailer's context deadline enforces.
	// Default 2 minutes.
	Lease time.Duration
	// MaxAttempts bounds the attempts at one delivery within one run.
	// Default 3.
	MaxAttempts int
	// Backoff is the wait before attempt n+1 within a run (n ≥ 1).
	// Default 2s·4^(n-1): 2s, 8s, 32s…
	Backoff func(n int) time.Duration
	// RetryLater is when a delivery whose attempts in a run are spent is
	// due again. Default 10 minutes.
	RetryLater time.Duration
	// GiveUp is how long after planning a delivery that keeps failing
	// temporarily is recorded as failed. Default 48 hours.
	GiveUp time.Duration
	// FirstWindow is how far back a recipient's first digest reaches.
	// Default 24 hours.
	FirstWindow time.Duration
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Sleep waits for d or until ctx is done. Default: a timer.
	Sleep func(ctx context.Context, d time.Duration) error
	// Logger receives a line per delivery. Default slog.Default().
	Logger *slog.Logger
}

// Service plans, renders and delivers digests. Its methods are safe for
// concurrent use.
type Service struct {
	st     Store
	mailer Mailer
	tmpl   *Templates
	groups Grouper
	o      Options
	from   *mail.Address

	// keyMu guards key: a mutex rather than a sync.Once, so that a failed
	// read of the secret is tried again by the next caller.
	keyMu sync.Mutex
	key   []byte
}

// New returns a Service over st that sends through m, renders with t and
// groups with g (nil: the read model without stored topics, stories by
// shared links only). m may be nil for a Service
// that only previews and unsubscribes; t nil uses the default templates.
func New(st Store, m Mailer, t *Templates, g Grouper, o Options) (*Service, error) {
	if t == nil {
		var err error
		if t, err = LoadTemplates(""); err != nil {
			return nil, err
		}
	}
	if o.Title == "" {
		o.Title = "broadsheet"
	}
	if o.From == "" {
		o.From = "broadsheet <broadsheet@" + hostOf(o.BaseURL) + ">"
	}
	from, err := mail.ParseAddress(o.From)
	if err != nil {
		return nil, fmt.Errorf("digest sender %q: %w", o.From, err)
	}
	if o.BaseURL != "" && !strings.HasSuffix(o.BaseURL, "/") {
		o.BaseURL += "/"
	}
	if o.Owner == "" {
		host, _ := os.Hostname()
		var b [3]byte
		_, _ = rand.Read(b[:])
		o.Owner = fmt.Sprintf("%s:%d:%x", host, os.Getpid(), b)
	}
	if o.Lease <= 0 {
		o.Lease = 2 * time.Minute
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 3
	}
	if o.Backoff == nil {
		o.Backoff = func(n int) time.Duration {
			d := 2 * time.Second
			for i := 1; i < n && d < time.Hour; i++ {
				d *= 4
			}
			return d
		}
	}
	if o.RetryLater <= 0 {
		o.RetryLater = 10 * time.Minute
	}
	if o.GiveUp <= 0 {
		o.GiveUp = 48 * time.Hour
	}
	if o.FirstWindow <= 0 {
		o.FirstWindow = 24 * time.Hour
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Sleep == nil {
		o.Sleep = sleep
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if len(o.Secret) > 0 {
		o.Secret = append([]byte(nil), o.Secret...)
	}
	if g == nil {
		g = ungrouped{st}
	}
	return &Service{st: st, mailer: m, tmpl: t, groups: g, o: o, from: from, key: o.Secret}, nil
}

// Templates returns the templates the Service renders with.
func (s *Service) Templates() *Templates { return s.tmpl }

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// secret returns the key that signs unsubscribe links, from Options or,
// once, from the store.
func (s *Service) secret(ctx context.Context) ([]byte, error) {
	s.keyMu.Lock()
	defer s.keyMu.Unlock()
	if len(s.key) > 0 {
		return s.key, nil
	}
	cand := make([]byte, 32)
	if _, err := rand.Read(cand); err != nil {
		return nil, err
	}
	k, err := s.st.DigestSecret(ctx, cand)
	if err != nil {
		return nil, fmt.Errorf("unsubscribe secret: %w", err)
	}
	s.key = k
	return k, nil
}

// recipient is a parsed address of Digest.To.
type recipient struct {
	display string // as configured, for the To header
	addr    string // the bare address, lower-cased: the key in the store
}

// recipients parses d.To, dropping repeats.
func recipients(d Digest) ([]recipient, error) {
	var out []recipient
	seen := map[string]bool{}
	for _, to := range d.To {
		a, err := mail.ParseAddress(to)
		if err != nil {
			return nil, fmt.Errorf("digest %q: recipient %q: %w", d.Name, to, err)
		}
		key := NormalizeAddress(a.Address)
		if seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, recipient{display: a.String(), addr: key})
	}
	return out, nil
}

// NormalizeAddress is the form of an address that deliveries and
// unsubscriptions are keyed by: the bare address, lower-cased.
func NormalizeAddress(addr string) string {
	if a, err := mail.ParseAddress(addr); err == nil {
		addr = a.Address
	}
	return strings.ToLower(strings.TrimSpace(addr))
}

// hostOf is the host name of a URL, or "localhost" when it has none or
// it is an IP address, which an address's domain cannot be as it is.
func hostOf(raw string) string {
	if u, err := url.Parse(raw); err == nil && u.Hostname() != "" && net.ParseIP(u.Hostname()) == nil {
		return u.Hostname()
	}
	return "localhost"
}
