package config

import (
	"time"

	"github.com/broadsheet/broadsheet/schedule"
)

// schedules holds the schedules Validate parsed, so that nothing parses a
// schedule string twice.
type schedules struct {
	poll    *schedule.Schedule
	sources map[string]*schedule.Schedule // by source name: its own schedule
	digests map[string]*schedule.Schedule // by digest name
	zone    *time.Location                // server.timezone
	zones   map[string]*time.Location     // by digest name: its timezone
}

// Zone is the zone the page and the CLI show times in: server.timezone,
// else UTC.
func (c *Config) Zone() *time.Location {
	if c.parsed.zone != nil {
		return c.parsed.zone
	}
	return time.UTC
}

// DigestZone is the zone the digest named name shows times in: its
// timezone, else its schedule's CRON_TZ, else UTC.
func (c *Config) DigestZone(name string) *time.Location {
	if z := c.parsed.zones[name]; z != nil {
		return z
	}
	if s := c.parsed.digests[name]; s != nil && s.Location() != nil {
		return s.Location()
	}
	return time.UTC
}

// PollSchedule is the schedule source is polled on: its own, else the
// default schedule. It is nil until Validate (which Load calls) has
// succeeded.
func (c *Config) PollSchedule(source string) *schedule.Schedule {
	if s := c.parsed.sources[source]; s != nil {
		return s
	}
	return c.parsed.poll
}

// DigestSchedule is the schedule of the digest named name, or nil if there
// is none or Validate has not succeeded.
func (c *Config) DigestSchedule(name string) *schedule.Schedule {
	return c.parsed.digests[name]
}

// PollSchedules lists the default poll schedule and every source's own, in
// the order of the file.
func (c *Config) PollSchedules() []*schedule.Schedule {
	var out []*schedule.Schedule
	if c.parsed.poll != nil {
		out = append(out, c.parsed.poll)
	}
	for _, s := range c.Sources {
		if own := c.parsed.sources[s.Name]; own != nil {
			out = append(out, own)
		}
	}
	return out
}
