// Package schedule parses broadsheet's schedules (Parse: the one parser,
// CRON_TZ included) and runs its periodic jobs (digests, topic upkeep) on
// them, each run with its own context and deadline, never overlapping
// itself, and — given a Locker such as LeaseLocker over store.Locks — on
// one replica at a time.
package schedule

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/robfig/cron/v3"
)

// Locker takes named locks shared by every replica, such as PostgreSQL
// advisory locks. TryLock returns ok=false, without error, when another
// holder has the lock.
type Locker interface {
	TryLock(ctx context.Context, name string) (unlock func(), ok bool, err error)
}

// Job is one periodic task.
type Job struct {
	Name     string
	Schedule cron.Schedule
	Timeout  time.Duration // deadline of one run; default 10 minutes
	Run      func(ctx context.Context) error
}

// Scheduler runs jobs until stopped. Its methods are safe for concurrent use.
type Scheduler struct {
	cron   *cron.Cron
	locker Locker
	log    *slog.Logger

	mu      sync.Mutex
	ctx     context.Context
	entries map[string]cron.EntryID
	running map[string]bool
}

// New returns a stopped Scheduler. locker may be nil for a single process.
func New(locker Locker, log *slog.Logger) *Scheduler {
	if log == nil {
		log = slog.Default()
	}
	return &Scheduler{
		cron:    cron.New(),
		locker:  locker,
		log:     log,
		ctx:     context.Background(),
		entries: map[string]cron.EntryID{},
		running: map[string]bool{},
	}
}

// Set replaces the scheduled jobs with jobs, keyed by name. Runs under way
// finish; a replaced job's next run follows its new schedule.
func (s *Scheduler) Set(jobs []Job) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range s.entries {
		s.cron.Remove(id)
	}
	s.entries = map[string]cron.EntryID{}
	for _, j := range jobs {
		s.entries[j.Name] = s.cron.Schedule(j.Schedule, cron.FuncJob(func() { s.RunNow(j) }))
	}
}

// Next reports when the named job runs next, or the zero time if it is not
// scheduled or the scheduler is stopped.
func (s *Scheduler) Next(name string) time.Time {
	s.mu.Lock()
	id, ok := s.entries[name]
	s.mu.Unlock()
	if !ok {
		return time.Time{}
	}
	return s.cron.Entry(id).Next
}

// Start runs the scheduled jobs in the background until ctx is done or Stop
// is called. Runs get contexts derived from ctx.
func (s *Scheduler) Start(ctx context.Context) {
	s.mu.Lock()
	s.ctx = ctx
	s.mu.Unlock()
	s.cron.Start()
}

// Stop stops scheduling and waits, until ctx is done, for runs under way.
func (s *Scheduler) Stop(ctx context.Context) {
	done := s.cron.Stop().Done()
	select {
	case <-done:
	case <-ctx.Done():
	}
}

// RunNow runs j at once in the caller's goroutine, unless a run of the same
// job is under way here or, with a Locker, on another replica. It reports
// whether the job ran.
func (s *Scheduler) RunNow(j Job) bool {
	s.mu.Lock()
	if s.running[j.Name] {
		s.mu.Unlock()
		s.log.Warn("job still running, skipping this run", "job", j.Name)
		return false
	}
	s.running[j.Name] = true
	parent := s.ctx
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.running, j.Name)
		s.mu.Unlock()
	}()

	timeout := j.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Minute
	}
	ctx, cancel := context.WithTimeout(parent, timeout)
	defer cancel()
	if s.locker != nil {
		unlock, ok, err := s.locker.TryLock(ctx, "job:"+j.Name)
		if err != nil {
			s.log.Error("take job lock", "job", j.Name, "err", err)
			return false
		}
		if !ok {
			s.log.Debug("job runs on another replica", "job", j.Name)
			return false
		}
		defer unlock()
	}
	start := time.Now()
	if err := j.Run(ctx); err != nil {
		s.log.Error("job failed", "job", j.Name, "err", err, "took", time.Since(start).Round(time.Millisecond))
		return true
	}
	s.log.Debug("job done", "job", j.Name, "took", time.Since(start).Round(time.Millisecond))
	return true
}
