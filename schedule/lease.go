package schedule

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// Leases hands out named leases shared by every replica: store.Locks meets
// it, on SQLite and PostgreSQL alike, so that the scheduler's lock is the
// same mechanism as the source and topic leases.
type Leases interface {
	AcquireLock(ctx context.Context, name, owner string, now time.Time, ttl time.Duration) (bool, error)
	ReleaseLock(ctx context.Context, name, owner string) error
}

// DefaultLeaseTTL is how long a job's lease lasts between renewals: a
// replica that dies holding it blocks the job elsewhere for at most this
// long.
const DefaultLeaseTTL = 30 * time.Second

// LeaseLocker is a Locker over Leases: TryLock takes a lease named after
// the job, renews it every third of its ttl while the job runs, and
// releases it on unlock. Within one process a name held is refused too, as
// another replica's would be. Its methods are safe for concurrent use.
type LeaseLocker struct {
	leases Leases
	owner  string
	ttl    time.Duration
	now    func() time.Time
	log    *slog.Logger

	mu   sync.Mutex
	held map[string]bool
}

// NewLeaseLocker returns a LeaseLocker taking leases from l as owner (this
// process's lease owner id, not empty). ttl <= 0 is DefaultLeaseTTL; now
// nil is time.Now; log nil is slog.Default.
func NewLeaseLocker(l Leases, owner string, ttl time.Duration, now func() time.Time, log *slog.Logger) *LeaseLocker {
	if ttl <= 0 {
		ttl = DefaultLeaseTTL
	}
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.Default()
	}
	return &LeaseLocker{leases: l, owner: owner, ttl: ttl, now: now, log: log, held: map[string]bool{}}
}

// TryLock takes the lease called name, or reports ok=false without error
// when another replica, or this one, holds it. unlock stops the renewals
// and releases the lease; it is safe to call more than once. ctx bounds
// taking the lease only.
func (l *LeaseLocker) TryLock(ctx context.Context, name string) (unlock func(), ok bool, err error) {
	l.mu.Lock()
	if l.held[name] {
		l.mu.Unlock()
		return nil, false, nil
	}
	l.held[name] = true
	l.mu.Unlock()
	free := func() {
		l.mu.Lock()
		delete(l.held, name)
		l.mu.Unlock()
	}
	ok, err = l.leases.AcquireLock(ctx, name, l.owner, l.now(), l.ttl)
	if err != nil || !ok {
		free()
		if err != nil {
			return nil, false, fmt.Errorf("lock %s: %w", name, err)
		}
		return nil, false, nil
	}
	stop, done := make(chan struct{}), make(chan struct{})
	go l.renew(name, stop, done)
	var once sync.Once
	return func() {
		once.Do(func() {
			close(stop)
			<-done
			// The job's ctx may have ended: the release gets its own.
			ctx, cancel := context.WithTimeout(context.Background(), l.ttl)
			defer cancel()
			if err := l.leases.ReleaseLock(ctx, name, l.owner); err != nil {
				l.log.Warn("release job lease: it lapses by itself within its ttl", "lock", name, "ttl", l.ttl, "err", err)
			}
			free()
		})
	}, true, nil
}

// renew extends the lease every third of its ttl until stop is closed, so
// that a renewal or two may fail before it lapses.
func (l *LeaseLocker) renew(name string, stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(l.ttl / 3)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), l.ttl/3)
		ok, err := l.leases.AcquireLock(ctx, name, l.owner, l.now(), l.ttl)
		cancel()
		switch {
		case err != nil:
			l.log.Warn("renew job lease: retrying at the next third of its ttl", "lock", name, "err", err)
		case !ok:
			// It lapsed and another replica took it: the job may now run
			// there too. Say so; stopping a job midway is not safer.
			l.log.Error("job lease lost to another replica: check the database's latency against the lease ttl", "lock", name, "ttl", l.ttl)
			return
		}
	}
}
