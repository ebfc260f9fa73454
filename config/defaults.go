package config

import "time"

// Defaults, as Default fills them in.
const (
	DefaultStorageDriver = DriverSQLite
	DefaultSQLitePath    = "./data/broadsheet.db"
	DefaultSchedule      = "@every 30m"
	DefaultListen        = "127.0.0.1:8080"
	DefaultTitle         = "broadsheet"
	DefaultFeedItems     = 100
	// DefaultMaxConnections bounds the HTTP server's open connections,
	// well under the usual 1024 file descriptors, leaving room for polls.
	DefaultMaxConnections = 512
	DefaultWorkers        = 8
	DefaultPerHost        = 2
	DefaultTimeout        = 30 * time.Second
	DefaultMaxBodyBytes   = 16 << 20
	DefaultMaxItems       = 1000
	DefaultLogLevel       = "info"
	DefaultLogFormat      = "text"
	DefaultWindow         = 72 * time.Hour
	DefaultOutbox         = "./outbox"
	DefaultDigestMaxAge   = 7 * 24 * time.Hour
	DefaultSMTPPort       = 587
	DefaultRetention      = 90 * 24 * time.Hour
)

// Enumerated values.
const (
	DriverSQLite   = "sqlite"
	DriverPostgres = "postgres"

	KindNews      = "news"
	KindEditorial = "editorial"

	TLSStartTLS = "starttls"
	TLSImplicit = "tls"
	TLSNone     = "none"

	// AllTopics in a digest's topics means every topic, configured or
	// found by clustering.
	AllTopics = "all"
)

// Default returns a Config with every default filled in. It is valid as it
// is, with no sources.
func Default() *Config {
	yes, no := true, false
	return &Config{
		Storage:  Storage{Driver: DefaultStorageDriver, Path: DefaultSQLitePath},
		Schedule: DefaultSchedule,
		Server: Server{
			Listen:         DefaultListen,
			Title:          DefaultTitle,
			FeedItems:      DefaultFeedItems,
			MaxConnections: DefaultMaxConnections,
		},
		Fetch: Fetch{
			Workers:              DefaultWorkers,
			PerHost:              DefaultPerHost,
			Timeout:              DefaultTimeout,
			MaxBodyBytes:         DefaultMaxBodyBytes,
			MaxItems:             DefaultMaxItems,
			AllowPrivateNetworks: &no,
		},
		Log:        Log{Level: DefaultLogLevel, Format: DefaultLogFormat},
		Clustering: Clustering{Enabled: &yes, Window: DefaultWindow},
		Outbox:     DefaultOutbox,
		Retention:  DefaultRetention,
	}
}

// AllowPrivateNetworks reports whether sources may resolve to loopback and
// private addresses; false unless the configuration says true, so that a
// redirect from a public feed cannot reach an internal service.
func (c *Config) AllowPrivateNetworks() bool {
	return c.Fetch.AllowPrivateNetworks != nil && *c.Fetch.AllowPrivateNetworks
}

// ClusteringEnabled reports whether articles are grouped into stories; true
// unless the configuration says false.
func (c *Config) ClusteringEnabled() bool {
	return c.Clustering.Enabled == nil || *c.Clustering.Enabled
}

// fillDerived sets the defaults that belong to list elements or depend on
// other values, for a Config built in code as much as for one read from a
// file: a source's kind, a topic's slug, a digest's max_age, and smtp's
// port and tls.
func (c *Config) fillDerived() {
	for i := range c.Sources {
		if c.Sources[i].Kind == "" {
			c.Sources[i].Kind = KindNews
		}
	}
	for i := range c.Topics {
		if c.Topics[i].Slug == "" {
			c.Topics[i].Slug = slugify(c.Topics[i].Name)
		}
	}
	for i := range c.Digests {
		if c.Digests[i].MaxAge == 0 {
			c.Digests[i].MaxAge = DefaultDigestMaxAge
		}
	}
	if c.SMTP != nil {
		if c.SMTP.Port == 0 {
			c.SMTP.Port = DefaultSMTPPort
		}
		if c.SMTP.TLS == "" {
			c.SMTP.TLS = TLSStartTLS
		}
	}
}
