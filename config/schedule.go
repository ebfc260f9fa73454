package config

import (
	"fmt"
	"strings"
	"time"
	_ "time/tzdata" // CRON_TZ= must work in a container without a zoneinfo database

	"github.com/robfig/cron/v3"
)

// scheduleRef is the instant schedules are checked against for "never
// fires", fixed so that the check is deterministic.
var scheduleRef = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// ParseSchedule is the one way broadsheet parses a schedule: standard
// 5-field cron ("0 7 * * 1-5"), descriptors (@hourly, @daily, @weekly,
// @monthly, @yearly), "@every 15m" (days allowed: "@every 1d"), each
// optionally led by "CRON_TZ=Zone " or "TZ=Zone ". Without a zone, cron
// times are in the process's local time. A schedule that can never fire
// (such as 30 February) is an error.
func ParseSchedule(spec string) (sched cron.Schedule, err error) {
	s := strings.TrimSpace(spec)
	if s == "" {
		return nil, fmt.Errorf("empty schedule: use 5 cron fields such as \"0 7 * * *\", a descriptor such as @daily, or @every 30m")
	}
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
		if _, err := time.LoadLocation(zone); err != nil || zone == "" {
			return nil, fmt.Errorf("%q is not a known time zone: use an IANA name such as Europe/Paris or UTC", zone)
		}
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
		return cron.Every(d), nil
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
	sched, err = cron.ParseStandard(full)
	if err != nil {
		return nil, fmt.Errorf("%q is not a valid schedule (%v): use 5 cron fields (minute hour day-of-month month day-of-week) such as \"0 7 * * *\", a descriptor such as @hourly or @daily, or @every 30m", spec, err)
	}
	if sched.Next(scheduleRef).IsZero() {
		return nil, fmt.Errorf("%q never fires: check the day of month and month", spec)
	}
	return sched, nil
}
