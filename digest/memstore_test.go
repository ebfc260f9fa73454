package digest

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/broadsheet/broadsheet/feeds"
	"github.com/broadsheet/broadsheet/store"
)

// memStore is an in-memory Store with the contract's semantics, for the
// tests of this package; store/storetest checks the real ones.
type memStore struct {
	mu     sync.Mutex
	arts   []feeds.Article
	dels   map[store.DeliveryKey]*store.Delivery
	unsub  map[string]map[string]time.Time
	secret []byte
	// failFinish, if set, is returned by FinishDelivery once.
	failFinish error
}

func newMemStore(arts ...feeds.Article) *memStore {
	return &memStore{arts: arts, dels: map[store.DeliveryKey]*store.Delivery{}, unsub: map[string]map[string]time.Time{}}
}

func (m *memStore) add(arts ...feeds.Article) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.arts = append(m.arts, arts...)
}

func ms(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return time.UnixMilli(t.UnixMilli()).UTC()
}

func (m *memStore) Articles(ctx context.Context, f store.ArticleFilter) ([]feeds.Article, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []feeds.Article
	for _, a := range m.arts {
		switch {
		case f.IDs != nil && !slices.Contains(f.IDs, a.ID),
			f.Sources != nil && !slices.Contains(f.Sources, a.Source),
			f.Kinds != nil && !slices.Contains(f.Kinds, a.Kind),
			!f.PublishedSince.IsZero() && a.Published.Before(f.PublishedSince),
			!f.SeenSince.IsZero() && a.FirstSeen.Before(f.SeenSince),
			!f.SeenBefore.IsZero() && !a.FirstSeen.Before(f.SeenBefore):
			continue
		}
		out = append(out, a)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Published.After(out[j].Published) })
	if f.Limit > 0 && len(out) > f.Limit {
		out = out[:f.Limit]
	}
	return out, nil
}

func unfinished(s store.DeliveryState) bool {
	return s == store.DeliveryPending || s == store.DeliverySending || s == store.DeliveryRetry
}

func (m *memStore) DigestCursor(ctx context.Context, digest, rcpt string) (store.DigestCursor, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var c store.DigestCursor
	for k, d := range m.dels {
		if k.Digest != digest || k.Recipient != rcpt {
			continue
		}
		if d.Period.After(c.LastPeriod) {
			c.LastPeriod = d.Period
		}
		if (d.State == store.DeliverySent || unfinished(d.State)) && d.SeenBefore.After(c.CoveredUntil) {
			c.CoveredUntil = d.SeenBefore
		}
	}
	return c, nil
}

func (m *memStore) PlanDelivery(ctx context.Context, d store.Delivery) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	d.Period = ms(d.Period)
	for k := range m.dels {
		if k.Digest == d.Digest && k.Recipient == d.Recipient && !k.Period.Before(d.Period) {
			return false, nil
		}
	}
	d.SeenSince, d.SeenBefore, d.Created = ms(d.SeenSince), ms(d.SeenBefore), ms(d.Created)
	d.Owner, d.LeaseUntil, d.Attempts, d.LastError, d.Sent, d.NextAttempt = "", time.Time{}, 0, "", time.Time{}, time.Time{}
	d.Articles = slices.Clone(d.Articles)
	m.dels[d.DeliveryKey] = &d
	return true, nil
}

func (m *memStore) ClaimDelivery(ctx context.Context, digest, owner string, now time.Time, lease time.Duration) (store.Delivery, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var due []*store.Delivery
	for k, d := range m.dels {
		if k.Digest != digest {
			continue
		}
		if d.State == store.DeliveryPending ||
			d.State == store.DeliveryRetry && !d.NextAttempt.After(now) ||
			d.State == store.DeliverySending && d.LeaseUntil.Before(now) {
			due = append(due, d)
		}
	}
	if len(due) == 0 {
		return store.Delivery{}, fmt.Errorf("claim: %w", feeds.ErrNotFound)
	}
	sort.Slice(due, func(i, j int) bool {
		if !due[i].Period.Equal(due[j].Period) {
			return due[i].Period.Before(due[j].Period)
		}
		return due[i].Recipient < due[j].Recipient
	})
	d := due[0]
	d.State, d.Owner, d.LeaseUntil = store.DeliverySending, owner, ms(now.Add(lease))
	d.Attempts++
	return *d, nil
}

func (m *memStore) FinishDelivery(ctx context.Context, k store.DeliveryKey, owner string, o store.DeliveryOutcome) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.failFinish; err != nil {
		m.failFinish = nil
		return err
	}
	k.Period = ms(k.Period)
	d, ok := m.dels[k]
	if !ok {
		return fmt.Errorf("finish: %w", feeds.ErrNotFound)
	}
	if d.State != store.DeliverySending || d.Owner != owner {
		return fmt.Errorf("finish: %w", store.ErrLeaseLost)
	}
	d.State, d.Owner, d.LeaseUntil = o.State, "", time.Time{}
	d.LastError = o.Error
	d.NextAttempt = ms(o.NextAttempt)
	if o.State == store.DeliverySent {
		d.Sent = ms(o.At)
	}
	return nil
}

func (m *memStore) Deliveries(ctx context.Context, f store.DeliveryFilter) ([]store.Delivery, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []store.Delivery
	for k, d := range m.dels {
		if f.Digest != "" && k.Digest != f.Digest || f.Recipient != "" && k.Recipient != f.Recipient ||
			len(f.States) > 0 && !slices.Contains(f.States, d.State) {
			continue
		}
		out = append(out, *d)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Period.Equal(out[j].Period) {
			return out[i].Period.After(out[j].Period)
		}
		return out[i].Recipient < out[j].Recipient
	})
	if f.Limit > 0 && len(out) > f.Limit {
		out = out[:f.Limit]
	}
	return out, nil
}

func (m *memStore) Unsubscribe(ctx context.Context, digest, addr string, at time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.unsub[digest] == nil {
		m.unsub[digest] = map[string]time.Time{}
	}
	if _, ok := m.unsub[digest][addr]; !ok {
		m.unsub[digest][addr] = at
	}
	return nil
}

func (m *memStore) Resubscribe(ctx context.Context, digest, addr string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.unsub[digest][addr]
	delete(m.unsub[digest], addr)
	return ok, nil
}

func (m *memStore) Unsubscribed(ctx context.Context, digest string) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for a := range m.unsub[digest] {
		out = append(out, a)
	}
	sort.Strings(out)
	return out, nil
}

func (m *memStore) DigestSecret(ctx context.Context, cand []byte) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.secret == nil {
		m.secret = slices.Clone(cand)
	}
	return m.secret, nil
}

// delivery returns the delivery with key k, or nil.
func (m *memStore) delivery(digest, rcpt string, period time.Time) *store.Delivery {
	m.mu.Lock()
	defer m.mu.Unlock()
	d := m.dels[store.DeliveryKey{Digest: digest, Recipient: rcpt, Period: ms(period)}]
	if d == nil {
		return nil
	}
	c := *d
	return &c
}
