package digest

import (
	"fmt"
	"strings"
	"time"
)

// Schedule is when a digest runs: cron.Schedule satisfies it.
type Schedule interface {
	Next(time.Time) time.Time
}

// LastTick returns the latest time at or before now that sched fires: the
// period a run at now belongs to. However many ticks were missed, a run
// after downtime belongs to the last one only. It returns the zero time
// if sched has not fired in the past year.
func LastTick(sched Schedule, now time.Time) time.Time {
	// Walk forward from a little before now, reaching further back only
	// if there was no tick in between, so that frequent schedules take
	// few steps and rare ones are still found.
	for _, back := range []time.Duration{time.Hour, 25 * time.Hour, 8 * 24 * time.Hour, 32 * 24 * time.Hour, 367 * 24 * time.Hour} {
		var last time.Time
		t := now.Add(-back)
		for i := 0; i < 100000; i++ {
			n := sched.Next(t)
			if n.IsZero() || n.After(now) {
				break
			}
			last, t = n, n
		}
		if !last.IsZero() {
			return last
		}
	}
	return time.Time{}
}

// Period returns the period a run at now belongs to: LastTick for a
// schedule of clock times (cron fields, @daily), or now to the second for
// an interval (@every 6h), whose ticks are not anchored to the clock and
// so cannot be recomputed later.
func Period(sched Schedule, now time.Time) time.Time {
	if !Anchored(sched, now) {
		return now.Truncate(time.Second)
	}
	if t := LastTick(sched, now); !t.IsZero() {
		return t
	}
	return now.Truncate(time.Second)
}

// Anchored reports whether sched fires at clock times (cron fields), as
// opposed to at intervals from whenever it was started (@every).
func Anchored(sched Schedule, now time.Time) bool {
	// Cron fields have minute resolution, so no tick falls between
	// hh:mm:17.5 and hh:mm:18.5; an interval's next tick moves with t.
	t := now.Truncate(time.Minute).Add(17500 * time.Millisecond)
	return sched.Next(t).Equal(sched.Next(t.Add(time.Second)))
}

// Location returns the zone of a schedule's CRON_TZ= or TZ= prefix, or nil
// when there is none.
func Location(spec string) (*time.Location, error) {
	s := strings.TrimSpace(spec)
	if !strings.HasPrefix(s, "CRON_TZ=") && !strings.HasPrefix(s, "TZ=") {
		return nil, nil
	}
	_, rest, _ := strings.Cut(s, "=")
	zone := strings.FieldsFunc(rest, func(r rune) bool { return r == ' ' || r == '\t' })
	if len(zone) == 0 {
		return nil, fmt.Errorf("schedule %q: empty time zone", spec)
	}
	loc, err := time.LoadLocation(zone[0])
	if err != nil {
		return nil, fmt.Errorf("schedule %q: %w", spec, err)
	}
	return loc, nil
}
