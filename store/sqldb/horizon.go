package sqldb

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// SeenHorizon returns where a window of FirstSeen times that is read now may
// safely end: a time h, at most now, such that every article whose FirstSeen
// is before h has been committed by the time SeenHorizon returns, so that a
// read started afterwards sees it, and none is stored later.
//
// now must have been read, before the call, from the clock that stamps
// FirstSeen (the Now of this process; other processes' clocks are taken to
// be within the dialect's ClockSkew of it). A digest that chose articles
// first seen before its own clock reading, without this, could miss an
// article that a concurrent poll stamped just before that reading and
// committed just after: the next digest starts where this one ended.
//
// It takes the dialect's SeenBarrier in a transaction of its own, which waits
// for the polls storing new articles to commit and holds back new ones
// until it ends (on SQLite, BEGIN IMMEDIATE does both): those stamp
// FirstSeen after taking a lock the barrier excludes, so either they
// committed before the barrier or they stamp after it, later than now.
func (db *DB) SeenHorizon(ctx context.Context, now time.Time) (time.Time, error) {
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if db.dialect.SeenBarrier == "" {
			return nil
		}
		_, err := tx.ExecContext(ctx, db.dialect.SeenBarrier)
		return err
	})
	if err != nil {
		return time.Time{}, fmt.Errorf("seen horizon: %w", err)
	}
	return roundMS(now.Add(-db.dialect.ClockSkew)), nil
}
