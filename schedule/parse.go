package schedule

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // CRON_TZ= must work in a container without a zoneinfo database

	"github.com/robfig/cron/v3"
)

// Schedule is a parsed schedule: cron fields, a descriptor or an interval,
// in a time zone. It is immutable and safe for concurrent use; it satisfies
// cron.Schedule.
//
// Every time it names is fixed by the clock, intervals included: "@every
// 6h" fires every six hours counted from midnight on 1 January 2000 in the
// schedule's zone (00:00, 06:00, 12:00, 18:00 while that zone keeps its
// offset), not six hours after whenever the process started. So a period
// is the same on every replica and after a restart, and one that went by
// while the process was down can be told (Last).
type Schedule struct {
	spec  string
	cron  cron.Schedule // cron fields or a descriptor; nil for an interval
	every time.Duration // the interval of @every; 0 otherwise
	loc   *time.Location
	zoned bool // loc came from CRON_TZ= or TZ=
}

// epoch is the instant intervals are counted from, in a schedule's zone.
func (s *Schedule) epoch() time.Time { return time.Date(2000, 1, 1, 0, 0, 0, 0, s.loc) }

// ref is the instant schedules are checked against for "never fires",
// fixed so that the check is deterministic.
var ref = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// Parse is the one way broadsheet reads a schedule: standard 5-field cron
// ("0 7 * * 1-5"), descriptors (@hourly, @daily, @weekly, @monthly,
// @yearly), "@every 15m" (days allowed: "@every 1d"), each optionally led
// by "CRON_TZ=Zone " or "TZ=Zone ". Without a zone, times are in the
// process's local time. A schedule that can never fire (such as 30
// February) is an error; errors say what to write instead.
func Parse(spec string) (sched *Schedule, err error) {
	s := strings.TrimSpace(spec)
	if s == "" {
		return nil, fmt.Errorf("empty schedule: use 5 cron fields such as \"0 7 * * *\", a descriptor such as @daily, or @every 30m")
	}
	out := &Schedule{spec: s, loc: time.Local}
	var zone string
	if strings.HasPrefix(s, "TZ=") || strings.HasPrefix(s, "CRON_TZ=") {
		// Split the zone off ourselves: cron v3.0.1 panics on a zone
		// prefix with nothing after it.
		prefix, rest, ok := strings.Cut(s, " ")
		if tab := strings.IndexByte(prefix, '\t'); tab >= 0 {
			prefix, rest, ok = s[:tab], s[tab+1:], true
		}
		_, zone, _ = strings.Cut(prefix, "=")
		rest = strings.TrimSpace(rest)
		if !ok || rest == "" {
			return nil, fmt.Errorf("%q has a time zone but no schedule after it: write e.g. \"CRON_TZ=Europe/Paris 0 7 * * *\"", spec)
		}
		loc, err := time.LoadLocation(zone)
		if err != nil || zone == "" {
			return nil, fmt.Errorf("%q is not a known time zone: use an IANA name such as Europe/Paris or UTC", zone)
		}
		out.loc, out.zoned = loc, true
		s = rest
	}
	if after, ok := strings.CutPrefix(s, "@every"); ok && (after == "" || after[0] == ' ' || after[0] == '\t') {
		d, err := ParseDuration(after)
		if err != nil {
			return nil, fmt.Errorf("%q: %v", spec, err)
		}
		if d < time.Second {
			return nil, fmt.Errorf("%q: @every needs a duration of at least 1s", spec)
		}
		out.every = d
		return out, nil
	}
	full := s
	if zone != "" {
		full = "CRON_TZ=" + zone + " " + s
	}
	defer func() {
		if r := recover(); r != nil {
			sched, err = nil, fmt.Errorf("%q is not a valid schedule", spec)
		}
	}()
	c, err := cron.ParseStandard(full)
	if err != nil {
		return nil, fmt.Errorf("%q is not a valid schedule (%v): use 5 cron fields (minute hour day-of-month month day-of-week) such as \"0 7 * * *\", a descriptor such as @hourly or @daily, or @every 30m", spec, err)
	}
	out.cron = c
	if out.Next(ref).IsZero() {
		return nil, fmt.Errorf("%q never fires: check the day of month and month", spec)
	}
	return out, nil
}

// Every is a schedule firing every d (at least a second), counted from
// midnight UTC, for jobs that are not configured.
func Every(d time.Duration) *Schedule {
	d = max(d, time.Second)
	return &Schedule{spec: "@every " + d.String(), every: d, loc: time.UTC, zoned: true}
}

// String is the schedule as written, without surrounding space.
func (s *Schedule) String() string { return s.spec }

// Location is the zone of the schedule's CRON_TZ= (or TZ=) prefix, or nil
// when it has none (times are then in local time).
func (s *Schedule) Location() *time.Location {
	if !s.zoned {
		return nil
	}
	return s.loc
}

// Interval is the duration of an @every schedule, 0 for cron fields and
// descriptors.
func (s *Schedule) Interval() time.Duration { return s.every }

// Next returns the first time the schedule fires after t, or the zero time
// if it never does within five years.
func (s *Schedule) Next(t time.Time) time.Time {
	if s.cron != nil {
		return s.cron.Next(t)
	}
	e := s.epoch()
	n := t.Sub(e) / s.every
	next := e.Add((n + 1) * s.every)
	if t.Before(e) {
		// Sub truncates towards zero: step back to the first tick after t.
		for next.Add(-s.every).After(t) {
			next = next.Add(-s.every)
		}
	}
	return next.In(t.Location())
}

// Last returns the latest time at or before t that the schedule fires:
// the period a run at t belongs to. However many ticks were missed, it is
// the last one. It returns the zero time if the schedule has not fired in
// the year before t.
func (s *Schedule) Last(t time.Time) time.Time {
	if s.cron == nil {
		e := s.epoch()
		if t.Before(e) {
			return time.Time{}
		}
		return e.Add(t.Sub(e) / s.every * s.every).In(t.Location())
	}
	// Walk forward from a little before t, reaching further back only if
	// there was no tick in between, so that frequent schedules take few
	// steps and rare ones are still found.
	for _, back := range []time.Duration{time.Hour, 25 * time.Hour, 8 * 24 * time.Hour, 32 * 24 * time.Hour, 367 * 24 * time.Hour} {
		var last time.Time
		at := t.Add(-back)
		for i := 0; i < 100000; i++ {
			n := s.cron.Next(at)
			if n.IsZero() || n.After(t) {
				break
			}
			last, at = n, n
		}
		if !last.IsZero() {
			return last
		}
	}
	return time.Time{}
}

const day = 24 * time.Hour

// ParseDuration reads a Go duration ("90s", "15m", "72h") optionally led by
// whole days ("7d", "1d12h"). A day is 24 hours. Schedules (@every 1d) and
// the configuration write durations this way.
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, errors.New("empty duration")
	}
	neg := false
	rest := s
	if rest[0] == '-' || rest[0] == '+' {
		neg = rest[0] == '-'
		rest = rest[1:]
	}
	var d time.Duration
	if i := strings.IndexByte(rest, 'd'); i >= 0 {
		digits := rest[:i]
		if digits == "" || strings.IndexFunc(digits, func(r rune) bool { return r < '0' || r > '9' }) >= 0 {
			return 0, fmt.Errorf("%q is not a duration: days come first as a whole number, as in \"7d\" or \"1d12h\"", s)
		}
		n, err := strconv.ParseInt(digits, 10, 64)
		if err != nil || n > int64(math.MaxInt64/day) {
			return 0, fmt.Errorf("%q is too long a duration", s)
		}
		d = time.Duration(n) * day
		rest = rest[i+1:]
		if rest == "" {
			if neg {
				d = -d
			}
			return d, nil
		}
		if rest[0] == '-' || rest[0] == '+' {
			return 0, fmt.Errorf("%q is not a duration: write a sign only at the start", s)
		}
	}
	r, err := time.ParseDuration(rest)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration: use a number and a unit, as in \"90s\", \"15m\", \"72h\" or \"7d\"", s)
	}
	if d > math.MaxInt64-r {
		return 0, fmt.Errorf("%q is too long a duration", s)
	}
	d += r
	if neg {
		d = -d
	}
	return d, nil
}
