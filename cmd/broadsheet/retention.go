package main

import (
	"context"
	"fmt"
	"time"

	"github.com/broadsheet/broadsheet/schedule"
)

// retentionLock is the store lock the replica running retention holds, so
// that one replica does it.
const retentionLock = "retention"

// retentionTimeout bounds one run, and is how long its lock is held at
// most: a crashed replica's lock lapses in time for the next day's run.
const retentionTimeout = time.Hour

// retentionSpec is when retention runs: daily, at night, off the hour
// when scheduled digests and polls bunch up.
const retentionSpec = "17 4 * * *"

// retentionJob is the daily job that deletes what is older than the
// configured retention.
func (a *app) retentionJob() schedule.Job {
	sched, err := schedule.Parse(retentionSpec)
	if err != nil {
		panic(fmt.Sprintf("retention schedule %q: %v", retentionSpec, err)) // a constant; TestApp_Retain parses it
	}
	return schedule.Job{Name: "retention", Schedule: sched, Timeout: retentionTimeout, Run: a.retain}
}

// retain runs retention once, if the configuration asks for it and no
// other replica is running it, and logs and counts what it deleted.
func (a *app) retain(ctx context.Context) error {
	keep := a.cfg.Load().Retention
	if keep <= 0 {
		return nil
	}
	now := a.now()
	ok, err := a.store.AcquireLock(ctx, retentionLock, a.owner, now, retentionTimeout)
	if err != nil {
		return fmt.Errorf("retention: take the %q lock: %w", retentionLock, err)
	}
	if !ok {
		a.log.Info("retention: another replica is running it")
		return nil
	}
	defer func() {
		if err := a.store.ReleaseLock(context.WithoutCancel(ctx), retentionLock, a.owner); err != nil {
			a.log.Warn("retention: release the lock (it lapses within the hour)", "err", err)
		}
	}()
	cutoff := now.Add(-keep)
	st, err := a.store.Retain(ctx, cutoff)
	// What was deleted before an error stays deleted: count it either way.
	if a.metrics != nil {
		a.metrics.Retained(st.Articles, st.Deliveries, st.Topics)
	}
	if err != nil {
		a.log.Error("retention stopped; the next run carries on", "cutoff", cutoff, "deleted_articles", st.Articles, "err", err)
		return err
	}
	a.log.Info("retention", "cutoff", cutoff, "deleted_articles", st.Articles, "kept_for_digests", st.Held,
		"deleted_stories", st.Topics, "deleted_deliveries", st.Deliveries, "took", a.now().Sub(now).Round(time.Millisecond))
	return nil
}
