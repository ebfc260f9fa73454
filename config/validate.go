package config

import (
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"text/template/parse"
	"time"
	"unicode"

	"github.com/broadsheet/broadsheet/filter"
	"github.com/broadsheet/broadsheet/schedule"
)

// minPollInterval is the shortest @every a poll schedule may use: feeds
// rarely change faster, and polling harder is impolite to their hosts.
const minPollInterval = time.Minute

// minSecretLen is the shortest server.secret accepted, since it signs
// unsubscribe links.
const minSecretLen = 16

var (
	drivers    = []string{DriverSQLite, DriverPostgres}
	kinds      = []string{KindNews, KindEditorial}
	tlsModes   = []string{TLSStartTLS, TLSImplicit, TLSNone}
	logLevels  = []string{"debug", "info", "warn", "error"}
	logFormats = []string{"text", "json"}
)

// Validate checks c and returns an *Error listing every problem found,
// sorted by position, or nil. Before checking it fills in the defaults
// that belong to list elements or depend on other values (a source's kind,
// a topic's slug from its name, a digest's max_age, smtp's port and tls),
// so a Config built in code gets them too; it is not safe to call while c
// is being read elsewhere. For a Config read by Load or Parse, each problem
// carries the position of the offending value; for one built in code,
// positions are zero.
func (c *Config) Validate() error {
	return c.errorOf(c.validate(), nil)
}

// errorOf wraps problems in an *Error, leaving out validation problems on
// keys that already failed to decode, so one mistake is reported once.
func (c *Config) errorOf(probs []Problem, decodeProbs []Problem) error {
	all := append([]Problem(nil), decodeProbs...)
	for _, p := range probs {
		if c.meta != nil && c.underBad(p.Key) {
			continue
		}
		all = append(all, p)
	}
	if len(all) == 0 {
		return nil
	}
	sortProblems(all)
	return &Error{File: c.Path, Problems: all}
}

func (c *Config) underBad(key string) bool {
	for k := key; k != ""; k = parentPath(k) {
		if c.meta.bad[k] {
			return true
		}
	}
	return false
}

// parentPath strips the last ".key" or "[i]" from a key path.
func parentPath(k string) string {
	i := strings.LastIndexAny(k, ".[")
	if i < 0 {
		return ""
	}
	return k[:i]
}

// where finds the position of key, or of its nearest ancestor that was in
// the file, or the environment variable that set it.
func (c *Config) where(key string) (pos, string) {
	if c.meta == nil {
		return pos{}, ""
	}
	if e, ok := c.meta.env[key]; ok {
		return pos{}, e
	}
	for k := key; ; k = parentPath(k) {
		if p, ok := c.meta.pos[k]; ok {
			return p, ""
		}
		if k == "" {
			return pos{}, ""
		}
	}
}

type validator struct {
	c     *Config
	probs []Problem
}

func (v *validator) add(key, format string, args ...any) {
	p, env := v.c.where(key)
	msg := fmt.Sprintf(format, args...)
	if env != "" {
		msg += " (set by " + env + ")"
	}
	v.probs = append(v.probs, Problem{Line: p.line, Col: p.col, Key: key, Msg: msg})
}

// at describes where key is, as " (line N)", for messages that refer to
// another value.
func (v *validator) at(key string) string {
	if p, _ := v.c.where(key); p.line > 0 {
		return fmt.Sprintf(" (line %d)", p.line)
	}
	return ""
}

// oneOf reports val at key unless it is in valid.
func (v *validator) oneOf(key, val string, valid []string, what string) bool {
	if slices.Contains(valid, val) {
		return true
	}
	msg := fmt.Sprintf("%q is not a %s: use %s", val, what, quoteList(valid, "or"))
	if s := suggest(val, valid); s != "" && val != "" {
		msg = fmt.Sprintf("%q is not a %s; did you mean %q? (one of %s)", val, what, s, quoteList(valid, "or"))
	}
	v.add(key, "%s", msg)
	return false
}

func (c *Config) validate() []Problem {
	c.fillDerived()
	v := &validator{c: c}
	v.storage()
	c.parsed = schedules{sources: map[string]*schedule.Schedule{}, digests: map[string]*schedule.Schedule{}, zones: map[string]*time.Location{}}
	c.parsed.poll = v.pollSchedule("schedule", c.Schedule, true)
	v.server()
	v.fetch()
	v.log()
	v.clustering()
	sources := v.sources()
	topics := v.topics(sources)
	v.smtp()
	v.digests(sources, topics)
	v.retention()
	return v.probs
}

func (v *validator) storage() {
	s := v.c.Storage
	if !v.oneOf("storage.driver", s.Driver, drivers, "storage driver") {
		return
	}
	switch s.Driver {
	case DriverSQLite:
		if strings.TrimSpace(s.Path) == "" {
			v.add("storage.path", "is required for the sqlite driver: give a database file such as %s", DefaultSQLitePath)
		}
		if s.DSN != "" {
			v.add("storage.dsn", "is set but the driver is sqlite: set driver: postgres to use it, or remove dsn")
		}
	case DriverPostgres:
		if strings.TrimSpace(s.DSN) == "" {
			v.add("storage.dsn", "is required for the postgres driver: give a connection string such as postgres://user:password@localhost:5432/broadsheet, or set BROADSHEET_STORAGE_DSN or DATABASE_URL")
			return
		}
		if strings.Contains(s.DSN, "://") {
			u, err := url.Parse(s.DSN)
			if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
				v.add("storage.dsn", "is not a postgres:// URL nor a key=value connection string (such as \"host=localhost dbname=broadsheet\")")
			}
		}
	}
}

// schedule parses a schedule, reporting it at key; nil if it is empty or
// invalid.
func (v *validator) schedule(key, spec string, required bool) *schedule.Schedule {
	if strings.TrimSpace(spec) == "" {
		if required {
			v.add(key, "is required: use 5 cron fields such as \"0 7 * * *\", a descriptor such as @daily, or @every 30m")
		}
		return nil
	}
	s, err := schedule.Parse(spec)
	if err != nil {
		v.add(key, "%v", err)
		return nil
	}
	return s
}

// pollSchedule is schedule for a poll schedule, which must not run more
// often than minPollInterval.
func (v *validator) pollSchedule(key, spec string, required bool) *schedule.Schedule {
	s := v.schedule(key, spec, required)
	if s != nil && s.Interval() > 0 && s.Interval() < minPollInterval {
		v.add(key, "%q polls more often than once a minute, which feeds' hosts may treat as abuse: use at least @every 1m", spec)
	}
	return s
}

func (v *validator) server() {
	s := v.c.Server
	if host, port, err := net.SplitHostPort(s.Listen); err != nil {
		v.add("server.listen", "%q is not host:port: write e.g. \"127.0.0.1:8080\", or \":8080\" for every interface", s.Listen)
	} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		v.add("server.listen", "%q has no valid port: the port is a number from 0 to 65535", s.Listen)
	} else if strings.ContainsAny(host, " /") {
		v.add("server.listen", "%q has no valid host: write an IP address or a host name, or leave it empty for every interface", s.Listen)
	}
	if s.BaseURL != "" {
		if msg := checkHTTPURL(s.BaseURL); msg != "" {
			v.add("server.base_url", "%s: base_url is the public address of this server, such as https://news.example.com/", msg)
		} else if u, _ := url.Parse(s.BaseURL); u.RawQuery != "" || u.Fragment != "" {
			v.add("server.base_url", "%q has a query or fragment: give only the scheme, host and path prefix", s.BaseURL)
		}
	}
	if s.FeedItems < 1 {
		v.add("server.feed_items", "is %d: republished feeds need at least 1 entry (default %d)", s.FeedItems, DefaultFeedItems)
	}
	if s.MaxConnections < 1 {
		v.add("server.max_connections", "is %d: the server needs at least 1 connection (default %d)", s.MaxConnections, DefaultMaxConnections)
	}
	v.c.parsed.zone = v.zone("server.timezone", s.Timezone)
	if s.Secret != "" && len(s.Secret) < minSecretLen {
		v.add("server.secret", "is too short (%d characters) to sign unsubscribe links safely: use at least %d random characters, or leave it out to have one generated", len(s.Secret), minSecretLen)
	}
}

// zone loads the IANA time zone name at key; nil if it is empty or
// unknown (reported).
func (v *validator) zone(key, name string) *time.Location {
	if name == "" {
		return nil
	}
	// LoadLocation also takes "Local" and file paths; a display zone is a
	// name that means the same on every machine.
	loc, err := time.LoadLocation(name)
	if err != nil || name == "Local" || strings.HasPrefix(name, "/") {
		v.add(key, "%q is not a known time zone: use an IANA name such as Asia/Seoul, Europe/Paris or UTC", name)
		return nil
	}
	return loc
}

func (v *validator) fetch() {
	f := v.c.Fetch
	if f.Workers < 1 {
		v.add("fetch.workers", "is %d: at least 1 worker is needed to fetch anything (default %d)", f.Workers, DefaultWorkers)
	}
	if f.PerHost < 0 {
		v.add("fetch.per_host", "is %d: use 0 for no per-host limit or a positive number (default %d)", f.PerHost, DefaultPerHost)
	}
	if f.Timeout <= 0 {
		v.add("fetch.timeout", "is %s: it must be positive, such as 30s", f.Timeout)
	}
	if f.MaxBodyBytes <= 0 {
		v.add("fetch.max_body_bytes", "is %d: it must be positive, such as 16MiB", f.MaxBodyBytes)
	}
	if f.MaxItems < 0 {
		v.add("fetch.max_items", "is %d: use 0 for no limit or a positive number (default %d)", f.MaxItems, DefaultMaxItems)
	}
	if strings.IndexFunc(f.UserAgent, unicode.IsControl) >= 0 {
		v.add("fetch.user_agent", "contains a control character such as a line break: write it on one line")
	}
}

func (v *validator) log() {
	v.oneOf("log.level", v.c.Log.Level, logLevels, "log level")
	v.oneOf("log.format", v.c.Log.Format, logFormats, "log format")
}

func (v *validator) clustering() {
	c := v.c.Clustering
	if c.Window < 0 || (v.c.ClusteringEnabled() && c.Window == 0) {
		v.add("clustering.window", "is %s: it must be positive, such as 72h or 3d", c.Window)
	}
	if c.Threshold < 0 || c.Threshold > 1 {
		v.add("clustering.threshold", "is %g: it is a similarity between 0 and 1, or 0 for the clusterer's default", c.Threshold)
	}
}

// minRetention is the shortest retention accepted: a day's articles are
// the least any output shows.
const minRetention = 24 * time.Hour

// retention checks that articles are kept at least as long as anything
// reads them: the clusterer, which rebuilds its stories from the last two
// windows, and each digest, which picks from its max_age.
func (v *validator) retention() {
	r := v.c.Retention
	switch {
	case r < 0:
		v.add("retention", "is %s: give a duration such as 90d, or 0 or \"forever\" to keep articles for ever", FormatDuration(r))
		return
	case r == 0:
		return
	case r < minRetention:
		v.add("retention", "is %s: keep articles at least 1d (default %s), or write \"forever\"", FormatDuration(r), FormatDuration(DefaultRetention))
		return
	}
	if w := v.c.Clustering.Window; v.c.ClusteringEnabled() && r < 2*w {
		v.add("retention", "is %s, less than twice clustering.window (%s): stories being grouped would lose their articles; keep articles at least %s", FormatDuration(r), FormatDuration(w), FormatDuration(2*w))
	}
	for i, d := range v.c.Digests {
		if r < d.MaxAge {
			key := fmt.Sprintf("digests[%d].max_age", i)
			v.add("retention", "is %s, less than %s (%s%s): the digest %q would pick from articles already deleted; keep articles at least %s", FormatDuration(r), key, FormatDuration(d.MaxAge), v.at(key), d.Name, FormatDuration(d.MaxAge))
		}
	}
}

// sources checks the sources and returns their slugs, for topics and
// digests to refer to.
func (v *validator) sources() map[string]int {
	slugs := map[string]int{}
	urls := map[string]int{}
	for i, s := range v.c.Sources {
		key := fmt.Sprintf("sources[%d]", i)
		switch slug := slugify(s.Name); {
		case strings.TrimSpace(s.Name) == "":
			v.add(key+".name", "is required: give each source a short unique name, such as \"Example News\"")
		case slug == "":
			v.add(key+".name", "%q has no letters or digits: a source's name needs some, since it becomes the source's address /sources/{slug}", s.Name)
		case bidiControl(s.Name) >= 0:
			// Refused, not stripped: a name is the source's identity in the
			// store, and stripping would rename it behind the user's back.
			v.add(key+".name", "%+q holds the bidi control U+%04X, which can make text display in another order than it is written: remove it", s.Name, bidiControl(s.Name))
		default:
			if j, dup := slugs[slug]; dup {
				other := fmt.Sprintf("sources[%d]", j)
				v.add(key+".name", "%q is the same name as %s %q%s once case and punctuation are ignored: source names must be unique", s.Name, other, v.c.Sources[j].Name, v.at(other+".name"))
			} else {
				slugs[slug] = i
			}
		}
		if strings.TrimSpace(s.URL) == "" {
			v.add(key+".url", "is required: give the feed's address, such as https://example.com/feed.xml")
		} else if msg := checkHTTPURL(s.URL); msg != "" {
			v.add(key+".url", "%s: give the feed's full address, such as https://example.com/feed.xml", msg)
		} else if j, dup := urls[s.URL]; dup {
			other := fmt.Sprintf("sources[%d]", j)
			v.add(key+".url", "%q is already the url of %s %q%s: list each feed once", s.URL, other, v.c.Sources[j].Name, v.at(other+".url"))
		} else {
			urls[s.URL] = i
		}
		v.oneOf(key+".kind", s.Kind, kinds, "source kind")
		if own := v.pollSchedule(key+".schedule", s.Schedule, false); own != nil {
			v.c.parsed.sources[s.Name] = own
		}
		for j, t := range s.Tags {
			if strings.TrimSpace(t) == "" {
				v.add(fmt.Sprintf("%s.tags[%d]", key, j), "is empty: remove it or give a tag")
			}
		}
		v.filterRules(key+".keep", s.Keep)
		v.filterRules(key+".block", s.Block)
	}
	return slugs
}

// checkHTTPURL returns why s is not an absolute http or https URL with a
// host, or "".
func checkHTTPURL(s string) string {
	u, err := url.Parse(s)
	switch {
	case err != nil || strings.ContainsAny(s, " \t\r\n"):
		return fmt.Sprintf("%q is not a valid URL", s)
	case u.Scheme == "":
		return fmt.Sprintf("%q is not an absolute URL (no https://)", s)
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Sprintf("%q is not an http or https URL", s)
	case u.Host == "" || u.Hostname() == "":
		return fmt.Sprintf("%q has no host", s)
	}
	return ""
}

// refersTo checks that each name in list (at key) names a configured
// source, matched as source names are compared: by slug.
func (v *validator) refersTo(key string, list []string, sources map[string]int) {
	var names []string
	for _, s := range v.c.Sources {
		names = append(names, s.Name)
	}
	for j, name := range list {
		if _, ok := sources[slugify(name)]; ok {
			continue
		}
		msg := fmt.Sprintf("%q is not the name of a configured source", name)
		if s := suggest(name, names); s != "" {
			msg += fmt.Sprintf("; did you mean %q?", s)
		} else if len(names) == 0 {
			msg += ": no sources are configured"
		}
		v.add(fmt.Sprintf("%s[%d]", key, j), "%s", msg)
	}
}

// topics checks the topics and returns their slugs in order.
func (v *validator) topics(sources map[string]int) []string {
	var slugs []string
	seen := map[string]int{}
	for i, t := range v.c.Topics {
		key := fmt.Sprintf("topics[%d]", i)
		slugKey := key + ".slug"
		if v.c.meta != nil {
			if _, written := v.c.meta.pos[slugKey]; !written {
				slugKey = key + ".name" // derived from the name: point there
			}
		}
		if strings.TrimSpace(t.Name) == "" {
			v.add(key+".name", "is required: give each topic a name, such as \"Climate\"")
		}
		switch {
		case t.Slug == "":
			if strings.TrimSpace(t.Name) != "" {
				v.add(key+".name", "%q has no letters or digits to make a slug from: add slug: with a short name for its address /topics/{slug}", t.Name)
			}
		case t.Slug != slugify(t.Slug):
			v.add(slugKey, "%q is not a valid slug: use lower-case letters, digits and single dashes, such as %q", t.Slug, slugify(t.Slug))
		case t.Slug == AllTopics:
			v.add(slugKey, "%q is reserved: a digest's topics: [all] means every topic; choose another slug", t.Slug)
		default:
			if j, dup := seen[t.Slug]; dup {
				v.add(slugKey, "%q is already the slug of topics[%d] %q%s: topic slugs must be unique; set slug: to tell them apart", t.Slug, j, v.c.Topics[j].Name, v.at(fmt.Sprintf("topics[%d]", j)))
			} else {
				seen[t.Slug] = i
				slugs = append(slugs, t.Slug)
			}
		}
		m := t.Match
		if len(m.Any) == 0 && len(m.All) == 0 && len(m.Categories) == 0 && len(m.Sources) == 0 {
			mkey := key + ".match"
			v.add(mkey, "needs at least one of any, all, categories or sources, or the topic matches nothing (none only excludes)")
		}
		for _, l := range []struct {
			name string
			list []string
		}{{"any", m.Any}, {"all", m.All}, {"none", m.None}, {"categories", m.Categories}} {
			for j, phrase := range l.list {
				if strings.TrimSpace(phrase) == "" {
					v.add(fmt.Sprintf("%s.match.%s[%d]", key, l.name, j), "is empty: remove it or give a phrase")
				}
			}
		}
		v.refersTo(key+".match.sources", m.Sources, sources)
	}
	return slugs
}

func (v *validator) smtp() {
	s := v.c.SMTP
	if s == nil {
		if len(v.c.Digests) > 0 && strings.TrimSpace(v.c.Outbox) == "" {
			v.add("outbox", "is empty and no smtp server is configured: digests need one or the other; set outbox: %s or add an smtp: block", DefaultOutbox)
		}
		return
	}
	if strings.TrimSpace(s.Host) == "" {
		v.add("smtp.host", "is required: give the mail server's host name, such as smtp.example.com, or remove the smtp block to write digests to the outbox folder")
	}
	if s.Port < 1 || s.Port > 65535 {
		v.add("smtp.port", "is %d: use a port from 1 to 65535, usually 587 (starttls) or 465 (tls)", s.Port)
	}
	v.oneOf("smtp.tls", s.TLS, tlsModes, "tls mode")
	if strings.TrimSpace(s.From) == "" {
		v.add("smtp.from", "is required: give the sender address, such as \"Broadsheet <news@example.com>\"")
	} else if _, err := mail.ParseAddress(s.From); err != nil {
		v.add("smtp.from", "%q is not a valid email address: write it as news@example.com or \"Name <news@example.com>\"", s.From)
	}
	if s.Password != "" && s.Username == "" {
		v.add("smtp.username", "is empty but a password is set: give the username to log in with")
	}
}

func (v *validator) digests(sources map[string]int, topics []string) {
	names := map[string]int{}
	for i, d := range v.c.Digests {
		key := fmt.Sprintf("digests[%d]", i)
		switch slug := slugify(d.Name); {
		case strings.TrimSpace(d.Name) == "":
			v.add(key+".name", "is required: give each digest a unique name, such as \"morning\"")
		case slug == "":
			v.add(key+".name", "%q has no letters or digits: a digest's name needs some", d.Name)
		default:
			if j, dup := names[slug]; dup {
				v.add(key+".name", "%q is the same name as digests[%d]%s once case and punctuation are ignored: digest names must be unique", d.Name, j, v.at(fmt.Sprintf("digests[%d].name", j)))
			} else {
				names[slug] = i
			}
		}
		if sched := v.schedule(key+".schedule", d.Schedule, true); sched != nil {
			v.c.parsed.digests[d.Name] = sched
		}
		if z := v.zone(key+".timezone", d.Timezone); z != nil {
			v.c.parsed.zones[d.Name] = z
		}
		if len(d.To) == 0 {
			v.add(key+".to", "is required: list at least one recipient address")
		}
		for j, to := range d.To {
			if _, err := mail.ParseAddress(to); err != nil {
				hint := ""
				if strings.Contains(to, ",") {
					hint = "; list several recipients as separate items"
				}
				v.add(fmt.Sprintf("%s.to[%d]", key, j), "%q is not a valid email address: write it as reader@example.com or \"Name <reader@example.com>\"%s", to, hint)
			}
		}
		for j, k := range d.Kinds {
			v.oneOf(fmt.Sprintf("%s.kinds[%d]", key, j), k, kinds, "source kind")
		}
		for j, t := range d.Topics {
			if t == AllTopics || slices.Contains(topics, t) {
				continue
			}
			valid := append([]string{AllTopics}, topics...)
			msg := fmt.Sprintf("%q is not a configured topic: a digest's topics are \"all\" (every topic, including stories found by clustering) or slugs of the topics under topics: (%s)", t, quoteList(valid, "or"))
			if s := suggest(t, valid); s != "" {
				msg += fmt.Sprintf("; did you mean %q?", s)
			}
			v.add(fmt.Sprintf("%s.topics[%d]", key, j), "%s", msg)
		}
		v.refersTo(key+".sources", d.Sources, sources)
		if d.MaxItems < 0 {
			v.add(key+".max_items", "is %d: use 0 for no limit or a positive number", d.MaxItems)
		}
		if d.MaxAge < 0 {
			v.add(key+".max_age", "is %s: it must be positive, such as 1d or 7d", d.MaxAge)
		}
		if d.Subject != "" {
			if err := checkTemplate(d.Subject); err != nil {
				v.add(key+".subject", "is not a valid template: %v", err)
			}
		}
	}
}

// checkTemplate parses a text/template for syntax only: the functions the
// digest package provides are not known here.
func checkTemplate(text string) error {
	t := parse.New("subject")
	t.Mode = parse.SkipFuncCheck
	_, err := t.Parse(text, "", "", map[string]*parse.Tree{})
	if err != nil {
		// Drop the "template: subject:1: " prefix; the position is the key's.
		msg := err.Error()
		if i := strings.LastIndex(msg, ": "); i >= 0 {
			msg = msg[i+2:]
		}
		return fmt.Errorf("%s", msg)
	}
	return nil
}

// slugify lower-cases s and joins its runs of letters and digits with
// single dashes: "BBC News — World" becomes "bbc-news-world". It gives the
// same result as feeds.Slugify, which config may not import; source and
// digest names are compared, and topic slugs derived, through it.
func slugify(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
		} else {
			dash = true
		}
	}
	return b.String()
}

// filterRules checks a source's keep or block rules with the filter
// package, the one parser of their syntax.
func (v *validator) filterRules(key string, rules []string) {
	for j, r := range rules {
		if _, err := filter.Parse(r); err != nil {
			v.add(fmt.Sprintf("%s[%d]", key, j), "%v", err)
		}
	}
}

// bidiControl returns the first bidi embedding, override or isolate
// (U+202A–U+202E, U+2066–U+2069) in s, or -1. The joiners and marks that
// scripts need (ZWJ, ZWNJ, LRM, RLM) are not among them.
func bidiControl(s string) rune {
	for _, r := range s {
		if r >= 0x202A && r <= 0x202E || r >= 0x2066 && r <= 0x2069 {
			return r
		}
	}
	return -1
}
