package schedule

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/robfig/cron/v3"
)

type denyLocker struct{ mu sync.Mutex }

func (l *denyLocker) TryLock(ctx context.Context, name string) (func(), bool, error) {
	if l.mu.TryLock() {
		return l.mu.Unlock, true, nil
	}
	return nil, false, nil
}

func TestScheduler_Set(t *testing.T) {
	t.Run("RunsOnSchedule", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			s := New(nil, nil)
			var n atomic.Int32
			s.Set([]Job{{Name: "tick", Schedule: cron.Every(time.Minute), Run: func(context.Context) error {
				n.Add(1)
				return nil
			}}})
			ctx, cancel := context.WithCancel(context.Background())
			s.Start(ctx)
			time.Sleep(5*time.Minute + time.Second)
			synctest.Wait()
			cancel()
			s.Stop(context.Background())
			if got, want := n.Load(), int32(5); got != want {
				t.Fatalf("runs = %d, want %d", got, want)
			}
		})
	})
	t.Run("NoOverlap", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			s := New(nil, nil)
			var runs, concurrent, maxConcurrent atomic.Int32
			s.Set([]Job{{Name: "slow", Schedule: cron.Every(time.Minute), Run: func(context.Context) error {
				runs.Add(1)
				c := concurrent.Add(1)
				if c > maxConcurrent.Load() {
					maxConcurrent.Store(c)
				}
				time.Sleep(150 * time.Second) // longer than two periods
				concurrent.Add(-1)
				return nil
			}}})
			s.Start(context.Background())
			time.Sleep(10*time.Minute + time.Second)
			s.Stop(context.Background())
			if got := maxConcurrent.Load(); got != 1 {
				t.Fatalf("max concurrent runs = %d, want 1", got)
			}
			if got := runs.Load(); got < 3 || got > 4 {
				t.Fatalf("runs = %d, want 3 or 4 (every other tick skipped)", got)
			}
		})
	})
	t.Run("ReplacesJobs", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			s := New(nil, nil)
			var a, b atomic.Int32
			s.Set([]Job{{Name: "a", Schedule: cron.Every(time.Minute), Run: func(context.Context) error { a.Add(1); return nil }}})
			s.Start(context.Background())
			time.Sleep(time.Minute + time.Second)
			s.Set([]Job{{Name: "b", Schedule: cron.Every(time.Minute), Run: func(context.Context) error { b.Add(1); return nil }}})
			time.Sleep(2*time.Minute + time.Second)
			s.Stop(context.Background())
			if got, want := a.Load(), int32(1); got != want {
				t.Errorf("a runs = %d, want %d", got, want)
			}
			if got, want := b.Load(), int32(2); got != want {
				t.Errorf("b runs = %d, want %d", got, want)
			}
			if !s.Next("a").IsZero() {
				t.Errorf("removed job a still has a next run")
			}
		})
	})
}

func TestScheduler_RunNow(t *testing.T) {
	t.Run("LockHeldElsewhere", func(t *testing.T) {
		l := &denyLocker{}
		l.mu.Lock() // another replica holds it
		s := New(l, nil)
		ran := false
		if s.RunNow(Job{Name: "x", Run: func(context.Context) error { ran = true; return nil }}) || ran {
			t.Fatalf("job ran while another replica held its lock")
		}
		l.mu.Unlock()
		if !s.RunNow(Job{Name: "x", Run: func(context.Context) error { ran = true; return nil }}) || !ran {
			t.Fatalf("job did not run with the lock free")
		}
	})
	t.Run("Deadline", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			s := New(nil, nil)
			var err error
			s.RunNow(Job{Name: "x", Timeout: time.Second, Run: func(ctx context.Context) error {
				<-ctx.Done()
				err = ctx.Err()
				return err
			}})
			if err != context.DeadlineExceeded {
				t.Fatalf("err = %v, want deadline exceeded", err)
			}
		})
	})
}
