// Package config owns broadsheet's configuration: the Config type read from
// config.yaml, its defaults, ${VAR} expansion and validation with errors that
// name the file, line, column and key. Only cmd/ imports it; every other
// package receives plain values.
//
// Load reads a file in this order: Default(), then the file (with ${VAR}
// expanded), then these environment variables, then Validate. An empty
// variable counts as unset.
//
//	Variable                    Sets
//	BROADSHEET_STORAGE_DRIVER   storage.driver
//	BROADSHEET_STORAGE_PATH     storage.path
//	BROADSHEET_STORAGE_DSN      storage.dsn
//	DATABASE_URL                storage.dsn, when the driver is postgres and no dsn is set otherwise
//	BROADSHEET_LISTEN           server.listen
//	BROADSHEET_BASE_URL         server.base_url
//	BROADSHEET_LOG_LEVEL        log.level
//
// In values, ${NAME} is replaced by the environment variable NAME (an error
// if it is unset), ${NAME:-default} by NAME or, if NAME is unset or empty,
// by default; $$ is a literal $, and a $ followed by anything else is kept.
// Expansion happens inside each YAML value after parsing, so a secret
// containing quotes, colons or # cannot change the file's structure, and
// line numbers stay those of the file.
//
// Durations are Go durations or whole days first ("7d", "1d12h"); sizes
// are bytes or a number and a unit ("16MiB", "512KB"). A key with no value
// keeps its default (an empty smtp: means no smtp); a single text value may
// stand for a one-item list (to: reader@example.com). Top-level keys
// starting with "x-" are ignored, to hold YAML anchors for reuse; "<<"
// merge keys work.
package config

import "time"

// Config is the whole of config.yaml. Durations are written as Go durations
// ("90s", "15m", "72h") or in days ("7d").
type Config struct {
	// Path is the file the configuration was read from, for messages.
	Path string `yaml:"-"`
	// meta records where each value came from (file position or
	// environment variable), for Validate's messages. Added by the config
	// package; nil for a Config built in code.
	meta *meta
	// parsed holds the schedules, parsed by Validate.
	parsed schedules

	Storage    Storage    `yaml:"storage"`
	Schedule   string     `yaml:"schedule"` // default poll schedule (cron)
	Server     Server     `yaml:"server"`
	Fetch      Fetch      `yaml:"fetch"`
	Log        Log        `yaml:"log"`
	Sources    []Source   `yaml:"sources"`
	Topics     []Topic    `yaml:"topics"`
	Clustering Clustering `yaml:"clustering"`
	SMTP       *SMTP      `yaml:"smtp"`   // nil: digests go to Outbox as .eml files
	Outbox     string     `yaml:"outbox"` // folder for .eml files without smtp
	Templates  string     `yaml:"templates"`
	Digests    []Digest   `yaml:"digests"`
	// Retention is how long articles are kept (default 90d); 0, written
	// 0 or "forever", keeps them for ever.
	Retention time.Duration `yaml:"retention"`
}

// Storage selects the store backend.
type Storage struct {
	Driver string `yaml:"driver"` // sqlite (default) or postgres
	Path   string `yaml:"path"`   // sqlite database file
	DSN    string `yaml:"dsn"`    // postgres connection string
}

// Server is the HTTP server that republishes feeds and serves the page.
type Server struct {
	Listen    string `yaml:"listen"`
	BaseURL   string `yaml:"base_url"` // public URL, for self links and unsubscribe links
	Title     string `yaml:"title"`
	FeedItems int    `yaml:"feed_items"` // entries per republished feed
	// MaxConnections bounds the connections open at once; more wait to be
	// accepted, so that held-open connections cannot use up the file
	// descriptors polls need.
	MaxConnections int `yaml:"max_connections"`
	// Secret signs unsubscribe tokens; generated and stored if empty.
	Secret string `yaml:"secret"`
	// Timezone is the IANA zone the page and the CLI show times in;
	// empty means UTC.
	Timezone string `yaml:"timezone"`
}

// Fetch tunes how sources are polled.
type Fetch struct {
	Workers              int           `yaml:"workers"`  // fetches at once
	PerHost              int           `yaml:"per_host"` // fetches at once per host; 0: no limit
	Timeout              time.Duration `yaml:"timeout"`  // whole request, body included
	MaxBodyBytes         int64         `yaml:"max_body_bytes"`
	MaxItems             int           `yaml:"max_items"` // items kept per fetch
	UserAgent            string        `yaml:"user_agent"`
	AllowPrivateNetworks *bool         `yaml:"allow_private_networks"` // default false
}

// Log sets up logging.
type Log struct {
	Level  string `yaml:"level"`  // debug, info, warn, error
	Format string `yaml:"format"` // text or json
}

// Source is one feed to poll.
type Source struct {
	Name     string   `yaml:"name"`
	URL      string   `yaml:"url"`
	Kind     string   `yaml:"kind"` // news (default) or editorial
	Tags     []string `yaml:"tags"`
	Schedule string   `yaml:"schedule"` // overrides the default schedule
	// Private keeps the URL out of every public output (OPML, the
	// republished feeds, the page); credentials and secret-looking query
	// parameters are redacted from the others' URLs anyway.
	Private bool `yaml:"private"`
	// Keep and Block are the source's filter rules (see package filter):
	// with keep rules only items matching one are stored, and items
	// matching a block rule never are.
	Keep  []string `yaml:"keep"`
	Block []string `yaml:"block"`
}

// Topic is a topic the user defines by matching rules.
type Topic struct {
	Name  string `yaml:"name"`
	Slug  string `yaml:"slug"` // derived from Name if empty
	Match Match  `yaml:"match"`
}

// Match holds a configured topic's rules: phrases are matched case- and
// accent-insensitively on title, summary and categories.
type Match struct {
	Any        []string `yaml:"any"`        // at least one of these phrases
	All        []string `yaml:"all"`        // every one of these phrases
	None       []string `yaml:"none"`       // none of these phrases
	Categories []string `yaml:"categories"` // at least one of these categories
	Sources    []string `yaml:"sources"`    // only items from these sources
}

// Clustering tunes automatic story grouping.
type Clustering struct {
	Enabled   *bool         `yaml:"enabled"` // default true
	Window    time.Duration `yaml:"window"`  // default 72h
	Threshold float64       `yaml:"threshold"`
}

// SMTP is the mail server digests are sent through.
type SMTP struct {
	Host     string `yaml:"host"`
	Port     int    `yaml:"port"`
	Username string `yaml:"username"`
	Password string `yaml:"password"`
	TLS      string `yaml:"tls"` // starttls (default), tls or none
	From     string `yaml:"from"`
	// Timeout bounds connecting and sending one message (default 30s). A
	// digest delivery being sent is leased for three times as long, after
	// which another process may take it over.
	Timeout time.Duration `yaml:"timeout"`
}

// Digest is one scheduled email digest.
type Digest struct {
	Name      string        `yaml:"name"`
	Schedule  string        `yaml:"schedule"` // cron, CRON_TZ= allowed
	To        []string      `yaml:"to"`
	Topics    []string      `yaml:"topics"` // slugs; empty or [all] for every topic
	Sources   []string      `yaml:"sources"`
	Kinds     []string      `yaml:"kinds"` // e.g. [editorial]
	MaxItems  int           `yaml:"max_items"`
	MaxAge    time.Duration `yaml:"max_age"` // default 7d
	Subject   string        `yaml:"subject"` // a template
	Template  string        `yaml:"template"`
	SendEmpty bool          `yaml:"send_empty"`
	// Timezone is the IANA zone the digest shows times in; empty means
	// the schedule's CRON_TZ, else UTC.
	Timezone string `yaml:"timezone"`
}
