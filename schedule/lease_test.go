package schedule

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// memLeases is store.Locks' contract in memory, for the renewal timing;
// lease_backend_test.go runs LeaseLocker over the real backends.
type memLeases struct {
	mu        sync.Mutex
	owner     map[string]string
	until     map[string]time.Time
	fail      bool   // AcquireLock fails
	failOwner string // AcquireLock fails for this owner
	ttls      []time.Duration
	renews    int
}

func newMemLeases() *memLeases {
	return &memLeases{owner: map[string]string{}, until: map[string]time.Time{}}
}

func (m *memLeases) AcquireLock(ctx context.Context, name, owner string, now time.Time, ttl time.Duration) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail || owner == m.failOwner {
		return false, errors.New("database down")
	}
	if o, ok := m.owner[name]; ok && o != owner && now.Before(m.until[name]) {
		return false, nil
	}
	if m.owner[name] == owner {
		m.renews++
	}
	m.owner[name], m.until[name] = owner, now.Add(ttl)
	m.ttls = append(m.ttls, ttl)
	return true, nil
}

func (m *memLeases) ReleaseLock(ctx context.Context, name, owner string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.owner[name] == owner {
		delete(m.owner, name)
		delete(m.until, name)
	}
	return nil
}

func TestLeaseLocker_TryLock(t *testing.T) {
	t.Run("RenewedWhileHeld", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			m := newMemLeases()
			a := NewLeaseLocker(m, "a", 30*time.Second, nil, nil)
			b := NewLeaseLocker(m, "b", 30*time.Second, nil, nil)
			ctx := context.Background()
			unlock, ok, err := a.TryLock(ctx, "job:x")
			if err != nil || !ok {
				t.Fatalf("a.TryLock = %v, %v; want true, nil", ok, err)
			}
			time.Sleep(5 * time.Minute) // ten ttls: held only if renewed
			synctest.Wait()
			if _, ok, err := b.TryLock(ctx, "job:x"); err != nil || ok {
				t.Fatalf("b.TryLock while a holds it = %v, %v; want false, nil", ok, err)
			}
			if m.renews < 10 {
				t.Errorf("renewals in ten ttls = %d, want at least 10", m.renews)
			}
			unlock()
			unlock() // a second call does nothing
			u, ok, err := b.TryLock(ctx, "job:x")
			if err != nil || !ok {
				t.Fatalf("b.TryLock after unlock = %v, %v; want true, nil", ok, err)
			}
			u()
		})
	})
	t.Run("HeldHere", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			a := NewLeaseLocker(newMemLeases(), "a", 0, nil, nil)
			unlock, ok, _ := a.TryLock(context.Background(), "job:x")
			if !ok {
				t.Fatal("first TryLock: not ok")
			}
			if _, ok, err := a.TryLock(context.Background(), "job:x"); err != nil || ok {
				t.Errorf("TryLock held by this process = %v, %v; want false, nil", ok, err)
			}
			if u, ok, _ := a.TryLock(context.Background(), "job:y"); !ok {
				t.Error("TryLock of another name: not ok")
			} else {
				u()
			}
			unlock()
			if u, ok, _ := a.TryLock(context.Background(), "job:x"); !ok {
				t.Error("TryLock after unlock: not ok")
			} else {
				u()
			}
		})
	})
	t.Run("Lapses", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			m := newMemLeases()
			a := NewLeaseLocker(m, "a", 30*time.Second, nil, nil)
			b := NewLeaseLocker(m, "b", 30*time.Second, nil, nil)
			ctx := context.Background()
			unlockA, ok, _ := a.TryLock(ctx, "job:x")
			if !ok {
				t.Fatal("a.TryLock: not ok")
			}
			// a's renewals fail, as from a replica cut off from the
			// database: b gets the lease once a's lapses, not before.
			m.mu.Lock()
			m.failOwner = "a"
			m.mu.Unlock()
			time.Sleep(29 * time.Second)
			if _, ok, _ := b.TryLock(ctx, "job:x"); ok {
				t.Fatal("b.TryLock before a's lease lapsed: ok, want not ok")
			}
			time.Sleep(2 * time.Second)
			unlockB, ok, err := b.TryLock(ctx, "job:x")
			if err != nil || !ok {
				t.Fatalf("b.TryLock after a's lease lapsed = %v, %v; want true, nil", ok, err)
			}
			m.mu.Lock()
			m.failOwner = ""
			m.mu.Unlock()
			time.Sleep(time.Minute) // a's next renewal finds b holding it
			unlockA()
			if _, ok, _ := a.TryLock(ctx, "job:x"); ok {
				t.Error("a's unlock released b's lease")
			}
			unlockB()
		})
	})
	t.Run("Err", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			m := newMemLeases()
			m.fail = true
			a := NewLeaseLocker(m, "a", 0, nil, nil)
			if _, ok, err := a.TryLock(context.Background(), "job:x"); err == nil || ok {
				t.Fatalf("TryLock with the database down = %v, %v; want false and an error", ok, err)
			}
			m.fail = false
			if u, ok, err := a.TryLock(context.Background(), "job:x"); err != nil || !ok {
				t.Errorf("TryLock once it is back = %v, %v; want true, nil (a failed take holds nothing)", ok, err)
			} else {
				u()
			}
		})
	})
}
