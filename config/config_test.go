package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/goccy/go-yaml"
)

func envOf(m map[string]string) envFunc {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

var noEnv = envOf(nil)

// problemsOf returns the problems in err, failing the test if err is not
// an *Error.
func problemsOf(t *testing.T, err error) []Problem {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not a *config.Error", err, err)
	}
	return e.Problems
}

func boolp(b bool) *bool { return &b }

func TestLoad_Full(t *testing.T) {
	env := envOf(map[string]string{"PGPASSWORD": "pg-secret", "SMTP_PASSWORD": `p@ss: "word" # not a comment`})
	got, err := load("testdata/full.yaml", env)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	want := &Config{
		Path: "testdata/full.yaml",
		Storage: Storage{
			Driver: "postgres",
			Path:   "/var/lib/broadsheet/broadsheet.db",
			DSN:    "postgres://broadsheet:pg-secret@db.internal:5432/broadsheet?sslmode=disable",
		},
		Schedule: "CRON_TZ=Europe/Paris */15 6-23 * * *",
		Server: Server{
			Listen:         "0.0.0.0:9090",
			BaseURL:        "https://news.example.org/broadsheet/",
			Title:          "Morning Paper",
			FeedItems:      250,
			MaxConnections: 300,
			Secret:         "0123456789abcdef0123456789abcdef",
			Timezone:       "Asia/Seoul",
		},
		Fetch: Fetch{
			Workers:              4,
			PerHost:              1,
			Timeout:              90 * time.Second,
			MaxBodyBytes:         4 << 20,
			MaxItems:             200,
			UserAgent:            "broadsheet/1.0 (+https://news.example.org/)",
			AllowPrivateNetworks: boolp(true),
		},
		Log: Log{Level: "debug", Format: "json"},
		Sources: []Source{
			{Name: "Example News", URL: "https://example.com/feed.xml", Kind: "news", Tags: []string{"world", "front page"}, Schedule: "0 * * * *",
				Keep: []string{"category:^(World|Politics)$"}, Block: []string{"title:(?i)^sponsored", "live blog"}},
			{Name: "Example Opinion", URL: "http://opinion.example.net/rss?section=editorials", Kind: "editorial", Tags: []string{"opinion"}, Schedule: "@every 2h", Private: true},
		},
		Topics: []Topic{
			{Name: "Climate", Slug: "climate-change", Match: Match{
				Any:        []string{"climate", "global warming"},
				All:        []string{"emissions"},
				None:       []string{"political climate"},
				Categories: []string{"Environment"},
				Sources:    []string{"Example News"},
			}},
			{Name: "Élections 2026", Slug: "élections-2026", Match: Match{Any: []string{"election"}}},
		},
		Clustering: Clustering{Enabled: boolp(false), Window: 72 * time.Hour, Threshold: 0.35},
		SMTP: &SMTP{
			Host:     "smtp.example.org",
			Port:     465,
			Username: "broadsheet@example.org",
			Password: `p@ss: "word" # not a comment`,
			TLS:      "tls",
			From:     "Broadsheet <broadsheet@example.org>",
			Timeout:  45 * time.Second,
		},
		Outbox:    "/var/spool/broadsheet",
		Retention: 180 * 24 * time.Hour,
		Templates: "./templates",
		Digests: []Digest{{
			Name:      "morning",
			Schedule:  "TZ=Asia/Seoul 0 7 * * 1-5",
			To:        []string{"reader@example.com", "Second Reader <second@example.com>"},
			Topics:    []string{"climate-change", "élections-2026"},
			Sources:   []string{"Example Opinion"},
			Kinds:     []string{"editorial"},
			MaxItems:  30,
			MaxAge:    36 * time.Hour,
			Subject:   "Editorials for {{.Date}}",
			Template:  "digest.html",
			SendEmpty: true,
			Timezone:  "Asia/Tokyo",
		}},
	}
	got.meta = nil
	// Validate parsed each schedule once, for cmd to pass on.
	for _, tc := range []struct{ name, got, want string }{
		{"PollSchedule(Example News)", got.PollSchedule("Example News").String(), "0 * * * *"},
		{"PollSchedule(Example Opinion)", got.PollSchedule("Example Opinion").String(), "@every 2h"},
		{"PollSchedule(unknown)", got.PollSchedule("unknown").String(), "CRON_TZ=Europe/Paris */15 6-23 * * *"},
		{"DigestSchedule(morning)", got.DigestSchedule("morning").Location().String(), "Asia/Seoul"},
	} {
		if tc.got != tc.want {
			t.Errorf("%s = %q, want %q", tc.name, tc.got, tc.want)
		}
	}
	got.parsed = schedules{}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("load full.yaml:\n got %+v\nwant %+v", got, want)
		gv, wv := reflect.ValueOf(*got), reflect.ValueOf(*want)
		for i := range gv.NumField() {
			if gv.Type().Field(i).IsExported() && !reflect.DeepEqual(gv.Field(i).Interface(), wv.Field(i).Interface()) {
				t.Errorf("field %s:\n got %+v\nwant %+v", gv.Type().Field(i).Name, gv.Field(i).Interface(), wv.Field(i).Interface())
			}
		}
	}
	if !got.AllowPrivateNetworks() || got.ClusteringEnabled() {
		t.Errorf("AllowPrivateNetworks, ClusteringEnabled = %v, %v; want true, false", got.AllowPrivateNetworks(), got.ClusteringEnabled())
	}
}

// schemaKeys lists every key path of the schema, with [] for list indexes:
// "sources[].url".
func schemaKeys(t reflect.Type, prefix string) []string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Struct {
		return schemaKeys(t.Elem(), prefix+"[]")
	}
	if t.Kind() != reflect.Struct || t == durationType {
		return []string{prefix}
	}
	var out []string
	names, index := fieldsOf(t)
	for _, n := range names {
		out = append(out, schemaKeys(t.Field(index[n]).Type, join(prefix, n))...)
	}
	return out
}

// TestLoad_FullCoversSchema keeps testdata/full.yaml complete: every key
// of the schema must be read from it, so a new field needs a line there.
func TestLoad_FullCoversSchema(t *testing.T) {
	c, err := load("testdata/full.yaml", envOf(map[string]string{"PGPASSWORD": "x", "SMTP_PASSWORD": "y"}))
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	index := regexp.MustCompile(`\[\d+\]`)
	read := map[string]bool{}
	for k := range c.meta.pos {
		read[index.ReplaceAllString(k, "[]")] = true
	}
	keys := schemaKeys(reflect.TypeFor[Config](), "")
	if len(keys) < 50 {
		t.Fatalf("schema has %d keys; the walk is broken", len(keys))
	}
	for _, k := range keys {
		if !read[k] {
			t.Errorf("key %s is not set in testdata/full.yaml", k)
		}
	}
}

func TestDefault(t *testing.T) {
	c := Default()
	checks := []struct {
		name      string
		got, want any
	}{
		{"storage.driver", c.Storage.Driver, "sqlite"},
		{"storage.path", c.Storage.Path, "./data/broadsheet.db"},
		{"schedule", c.Schedule, "@every 30m"},
		{"server.listen", c.Server.Listen, "127.0.0.1:8080"},
		{"server.title", c.Server.Title, "broadsheet"},
		{"server.feed_items", c.Server.FeedItems, 100},
		{"server.max_connections", c.Server.MaxConnections, 512},
		{"fetch.workers", c.Fetch.Workers, 8},
		{"fetch.per_host", c.Fetch.PerHost, 2},
		{"fetch.timeout", c.Fetch.Timeout, 30 * time.Second},
		{"fetch.max_body_bytes", c.Fetch.MaxBodyBytes, int64(16 << 20)},
		{"fetch.max_items", c.Fetch.MaxItems, 1000},
		{"AllowPrivateNetworks", c.AllowPrivateNetworks(), false},
		{"log.level", c.Log.Level, "info"},
		{"log.format", c.Log.Format, "text"},
		{"ClusteringEnabled", c.ClusteringEnabled(), true},
		{"clustering.window", c.Clustering.Window, 72 * time.Hour},
		{"clustering.threshold", c.Clustering.Threshold, 0.0},
		{"outbox", c.Outbox, "./outbox"},
		{"smtp", c.SMTP, (*SMTP)(nil)},
		{"retention", c.Retention, 90 * 24 * time.Hour},
	}
	for _, tc := range checks {
		if !reflect.DeepEqual(tc.got, tc.want) {
			t.Errorf("%s = %#v, want %#v", tc.name, tc.got, tc.want)
		}
	}
	if err := c.Validate(); err != nil {
		t.Errorf("Default().Validate() = %v, want nil", err)
	}
	// Nil *bool means the default: false for private networks, true for
	// clustering.
	var zero Config
	if zero.AllowPrivateNetworks() || !zero.ClusteringEnabled() {
		t.Errorf("zero Config: AllowPrivateNetworks, ClusteringEnabled = %v, %v; want false, true", zero.AllowPrivateNetworks(), zero.ClusteringEnabled())
	}
}

func TestParse_Defaults(t *testing.T) {
	t.Run("EmptyFile", func(t *testing.T) {
		got, err := parseWith("empty.yaml", nil, noEnv)
		if err != nil {
			t.Fatal(err)
		}
		want := Default()
		want.Path = "empty.yaml"
		got.meta = nil
		if got.PollSchedule("any source").String() != DefaultSchedule {
			t.Errorf("PollSchedule = %v, want the default %s", got.PollSchedule("any source"), DefaultSchedule)
		}
		got.parsed = schedules{}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("got %+v, want %+v", got, want)
		}
	})
	t.Run("Elements", func(t *testing.T) {
		src := `
sources:
  - name: A
    url: https://a.example/feed
topics:
  - name: Foreign Affairs & Trade
    match: {any: [trade]}
smtp:
  host: mail.example.com
  from: a@example.com
digests:
  - name: d
    schedule: "@daily"
    to: a@example.com
`
		c, err := parseWith("t.yaml", []byte(src), noEnv)
		if err != nil {
			t.Fatal(err)
		}
		checks := []struct {
			name      string
			got, want any
		}{
			{"sources[0].kind", c.Sources[0].Kind, "news"},
			{"topics[0].slug", c.Topics[0].Slug, "foreign-affairs-trade"},
			{"smtp.port", c.SMTP.Port, 587},
			{"smtp.tls", c.SMTP.TLS, "starttls"},
			{"digests[0].max_age", c.Digests[0].MaxAge, 7 * 24 * time.Hour},
			{"digests[0].to (a lone address)", c.Digests[0].To, []string{"a@example.com"}},
			{"fetch.workers (untouched)", c.Fetch.Workers, 8},
		}
		for _, tc := range checks {
			if !reflect.DeepEqual(tc.got, tc.want) {
				t.Errorf("%s = %#v, want %#v", tc.name, tc.got, tc.want)
			}
		}
	})
	t.Run("EmptySMTPIsOff", func(t *testing.T) {
		c, err := parseWith("t.yaml", []byte("smtp:\n"), noEnv)
		if err != nil {
			t.Fatal(err)
		}
		if c.SMTP != nil {
			t.Errorf("smtp = %+v, want nil", c.SMTP)
		}
	})
	t.Run("NullKeepsDefault", func(t *testing.T) {
		c, err := parseWith("t.yaml", []byte("fetch:\n  workers:\n  timeout: ~\n"), noEnv)
		if err != nil {
			t.Fatal(err)
		}
		if c.Fetch.Workers != 8 || c.Fetch.Timeout != 30*time.Second {
			t.Errorf("workers, timeout = %d, %s; want 8, 30s", c.Fetch.Workers, c.Fetch.Timeout)
		}
	})
	t.Run("AnchorsAndMerge", func(t *testing.T) {
		src := `
x-common: &common
  kind: editorial
  tags: [opinion]
sources:
  - <<: *common
    name: A
    url: https://a.example/feed
  - <<: *common
    name: B
    url: https://b.example/feed
    kind: news
`
		c, err := parseWith("t.yaml", []byte(src), noEnv)
		if err != nil {
			t.Fatal(err)
		}
		if got := []string{c.Sources[0].Kind, c.Sources[1].Kind}; !slices.Equal(got, []string{"editorial", "news"}) {
			t.Errorf("kinds = %v, want [editorial news] (own keys win over merged ones)", got)
		}
		if !slices.Equal(c.Sources[1].Tags, []string{"opinion"}) {
			t.Errorf("sources[1].tags = %v, want [opinion]", c.Sources[1].Tags)
		}
	})
}

func TestLoad_Shipped(t *testing.T) {
	// config.yaml at the repository root is a required file: the
	// integrator ships it, and it must always load as it is.
	const path = "../config.yaml"
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("%s is missing: the repository must ship a config.yaml at its root", path)
	}
	c, err := load(path, noEnv)
	if err != nil {
		t.Fatalf("Load(%s):\n%v", path, err)
	}
	if len(c.Sources) == 0 {
		t.Errorf("%s lists no sources", path)
	}
	// The shipped file must keep the safe default: it states the key only
	// in a comment.
	if c.AllowPrivateNetworks() {
		t.Errorf("%s allows private networks; the shipped default must be false", path)
	}
}

func TestLoad_Missing(t *testing.T) {
	_, err := Load("testdata/does-not-exist.yaml")
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load(missing) = %v, want an error wrapping fs.ErrNotExist", err)
	}
}

// problem is an expected Problem: position and key exactly, message by a
// fragment it must contain.
type problem struct {
	line, col int
	key, msg  string
}

func checkProblems(t *testing.T, got []Problem, want []problem) {
	t.Helper()
	for i := range max(len(got), len(want)) {
		switch {
		case i >= len(got):
			t.Errorf("missing problem %d:%d: %s: ...%s...", want[i].line, want[i].col, want[i].key, want[i].msg)
		case i >= len(want):
			t.Errorf("unexpected problem %s", got[i])
		default:
			g, w := got[i], want[i]
			if g.Line != w.line || g.Col != w.col || g.Key != w.key || !strings.Contains(g.Msg, w.msg) {
				t.Errorf("problem %d:\n got %s\nwant %d:%d: %s: ...%s...", i, g, w.line, w.col, w.key, w.msg)
			}
		}
	}
}

func TestParse_Errors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		env  map[string]string
		want []problem
	}{
		{
			name: "UnknownKeySuggestion",
			src:  "sourcs:\n  - name: a\n",
			want: []problem{{1, 1, "sourcs", `unknown key; did you mean "sources"?`}},
		},
		{
			name: "UnknownNestedKey",
			src:  "fetch:\n  worker: 3\n  maxBodyBytes: 1MiB\n",
			want: []problem{
				{2, 3, "fetch.worker", `did you mean "workers"?`},
				{3, 3, "fetch.maxBodyBytes", `did you mean "max_body_bytes"?`},
			},
		},
		{
			name: "UnknownKeySynonym",
			src:  "feeds: []\n",
			want: []problem{{1, 1, "feeds", `did you mean "sources"?`}},
		},
		{
			name: "UnknownKeyNoSuggestion",
			src:  "server:\n  zzzzzz: 1\n",
			want: []problem{{2, 3, "server.zzzzzz", "valid keys here are base_url, feed_items, listen, max_connections, secret, timezone, title"}},
		},
		{
			name: "UnknownKeyInList",
			src:  "sources:\n  - name: a\n    url: https://a.example/\n    knd: news\n",
			want: []problem{{4, 5, "sources[0].knd", `did you mean "kind"?`}},
		},
		{
			name: "ByteOrderMarkAndCRLF",
			src:  "\xef\xbb\xbflog:\r\n  levle: info\r\n",
			want: []problem{{2, 3, "log.levle", `did you mean "level"?`}},
		},
		{
			name: "DuplicateKey",
			src:  "log:\n  level: info\n  level: debug\n",
			want: []problem{{3, 3, "log.level", "is set twice in the same block (first at line 2)"}},
		},
		{
			name: "WrongTypes",
			src: `fetch:
  workers: many
  allow_private_networks: yes
  timeout: [1]
clustering:
  threshold: high
sources: {name: a}
storage: sqlite
`,
			want: []problem{
				{2, 12, "fetch.workers", `"many" is not a whole number`},
				{3, 27, "fetch.allow_private_networks", `"yes" is not true or false`},
				{4, 12, "fetch.timeout", "must be a duration"},
				{6, 14, "clustering.threshold", `"high" is not a number`},
				{7, 10, "sources", "must be a list"},
				{8, 10, "storage", "must be a block of keys"},
			},
		},
		{
			name: "BadDuration",
			src:  "fetch:\n  timeout: 30\nclustering:\n  window: 3 days\n",
			want: []problem{
				{2, 12, "fetch.timeout", "30 has no unit"},
				{4, 11, "clustering.window", `"3 days" is not a duration`},
			},
		},
		{
			name: "BadSize",
			src:  "fetch:\n  max_body_bytes: 16 megabytes\n",
			want: []problem{{2, 19, "fetch.max_body_bytes", `"16 megabytes" is not a size`}},
		},
		{
			name: "SyntaxError",
			src:  "sources:\n  - name: a\n    url: [https://a.example/\n",
			want: []problem{{3, 10, "", "invalid YAML: sequence end token ']' not found"}},
		},
		{
			name: "TopLevelNotMapping",
			src:  "- a\n- b\n",
			want: []problem{{1, 1, "", "the file must be a block of keys"}},
		},
		{
			name: "TwoDocuments",
			src:  "log: {level: info}\n---\nlog: {level: debug}\n",
			want: []problem{{3, 1, "", "holds one YAML document"}},
		},
		{
			name: "UnsetVariable",
			src:  "smtp:\n  host: mail.example.com\n  from: a@example.com\n  password: ${SMTP_PASSWORD}\n  username: \"u-${USER_SUFFIX}\"\n",
			want: []problem{
				{4, 13, "smtp.password", "SMTP_PASSWORD is not set in the environment"},
				{5, 16, "smtp.username", "USER_SUFFIX is not set in the environment"},
			},
		},
		{
			name: "FilterRules",
			src:  "sources:\n  - name: A\n    url: https://a.example/feed\n    keep: [\"title:(oops\", fine]\n    block:\n      - \"\"\n      - \"author:\"\n",
			want: []problem{
				{4, 12, "sources[0].keep[0]", `"title:(oops": the part after title: is not a valid regular expression (Go RE2 syntax): missing closing )`},
				{6, 9, "sources[0].block[0]", "is empty: write a phrase, or field:regexp"},
				{7, 9, "sources[0].block[1]", `"author:" has no regular expression after author:`},
			},
		},
		{
			name: "BadReference",
			src:  "server:\n  title: a ${1X} b ${OPEN\n",
			want: []problem{
				{2, 12, "server.title", "${1X} is not a valid variable reference"},
				{2, 12, "server.title", "without its closing }"},
			},
		},
		{
			name: "Sources",
			src: `sources:
  - name: BBC News
    url: "htp://example.com/rss"
  - name: bbc  news!
    url: example.com/rss
    kind: opinion
  - url: https://a.example/feed
    schedule: "@every 10s"
  - name: "???"
    url: https://a.example/feed
    tags: [""]
  - name: Last
    url: https://
    schedule: "0 7 * *"
`,
			want: []problem{
				{3, 10, "sources[0].url", `"htp://example.com/rss" is not an http or https URL`},
				{4, 11, "sources[1].name", `"bbc  news!" is the same name as sources[0] "BBC News" (line 2)`},
				{5, 10, "sources[1].url", `"example.com/rss" is not an absolute URL`},
				{6, 11, "sources[1].kind", `"opinion" is not a source kind: use "news" or "editorial"`},
				{7, 5, "sources[2].name", "is required"},
				{8, 15, "sources[2].schedule", "polls more often than once a minute"},
				{9, 11, "sources[3].name", `"???" has no letters or digits`},
				{10, 10, "sources[3].url", `is already the url of sources[2] "" (line 7)`},
				{11, 12, "sources[3].tags[0]", "is empty"},
				{13, 10, "sources[4].url", `"https://" has no host`},
				{14, 15, "sources[4].schedule", "expected exactly 5 fields, found 4"},
			},
		},
		{
			name: "SourceNameBidi",
			src:  "sources:\n  - name: \"Daily \\u202Etenalp\"\n    url: https://a.example/feed\n  - name: \"نی\u200cوز\"\n    url: https://b.example/feed\n",
			want: []problem{{2, 11, "sources[0].name", `"Daily \u202etenalp" holds the bidi control U+202E`}},
		},
		{
			name: "Storage",
			src:  "storage:\n  driver: postgres\n",
			want: []problem{{2, 3, "storage.dsn", "is required for the postgres driver"}}, // missing: the storage block
		},
		{
			name: "StorageDriver",
			src:  "storage:\n  driver: mysql\n",
			want: []problem{{2, 11, "storage.driver", `"mysql" is not a storage driver: use "sqlite" or "postgres"`}},
		},
		{
			name: "StorageSQLite",
			src:  "storage:\n  path: \"\"\n  dsn: postgres://localhost/x\n",
			want: []problem{
				{2, 9, "storage.path", "is required for the sqlite driver"},
				{3, 8, "storage.dsn", "is set but the driver is sqlite"},
			},
		},
		{
			name: "Schedule",
			src:  "schedule: \"0 0 30 2 *\"\n",
			want: []problem{{1, 11, "schedule", "never fires"}},
		},
		{
			name: "ScheduleZone",
			src:  "schedule: CRON_TZ=Mars/Olympus 0 7 * * *\n",
			want: []problem{{1, 11, "schedule", `"Mars/Olympus" is not a known time zone`}},
		},
		{
			name: "Timezone",
			src:  "server:\n  timezone: Asia/Seol\ndigests:\n  - name: m\n    schedule: \"0 7 * * *\"\n    to: [a@example.com]\n    timezone: Local\n",
			want: []problem{
				{2, 13, "server.timezone", `"Asia/Seol" is not a known time zone: use an IANA name`},
				{7, 15, "digests[0].timezone", `"Local" is not a known time zone`},
			},
		},
		{
			name: "MaxConnections",
			src:  "server:\n  max_connections: 0\n",
			want: []problem{{2, 20, "server.max_connections", "is 0: the server needs at least 1"}},
		},
		{
			name: "ServerAndFetch",
			src: `server:
  listen: localhost
  base_url: /news
  feed_items: 0
  secret: short
fetch:
  workers: 0
  per_host: -1
  timeout: 0s
  max_body_bytes: 0
  max_items: -5
log:
  level: verbose
  format: xml
clustering:
  window: -1h
  threshold: 2
`,
			want: []problem{
				{2, 11, "server.listen", `"localhost" is not host:port`},
				{3, 13, "server.base_url", `"/news" is not an absolute URL`},
				{4, 15, "server.feed_items", "is 0"},
				{5, 11, "server.secret", "is too short"},
				{7, 12, "fetch.workers", "is 0: at least 1 worker"},
				{8, 13, "fetch.per_host", "is -1"},
				{9, 12, "fetch.timeout", "is 0s: it must be positive"},
				{10, 19, "fetch.max_body_bytes", "is 0"},
				{11, 14, "fetch.max_items", "is -5"},
				{13, 10, "log.level", `"verbose" is not a log level`},
				{14, 11, "log.format", `"xml" is not a log format: use "text" or "json"`},
				{16, 11, "clustering.window", "is -1h0m0s"},
				{17, 14, "clustering.threshold", "is 2"},
			},
		},
		{
			name: "Retention",
			src:  "retention: 12h\n",
			want: []problem{{1, 12, "retention", "is 12h0m0s: keep articles at least 1d"}},
		},
		{
			name: "RetentionNegative",
			src:  "retention: -1d\n",
			want: []problem{{1, 12, "retention", `or 0 or "forever" to keep articles for ever`}},
		},
		{
			name: "RetentionNotADuration",
			src:  "retention: always\n",
			want: []problem{{1, 12, "retention", `"always" is not a duration`}},
		},
		{
			name: "RetentionShorterThanReaders",
			src: `clustering:
  window: 3d
retention: 5d
sources:
  - name: A
    url: https://a.example/feed
digests:
  - name: weekly
    schedule: "@weekly"
    to: [r@example.com]
    max_age: 7d
`,
			want: []problem{
				{3, 12, "retention", "less than twice clustering.window (3d)"},
				{3, 12, "retention", `less than digests[0].max_age (7d (line 11)): the digest "weekly"`},
			},
		},
		{
			name: "Topics",
			src: `sources:
  - name: Example News
    url: https://example.com/feed
topics:
  - name: Climate
    match: {any: [climate]}
  - name: climate!
    match: {none: [x]}
  - name: Trade
    slug: Trade Talks
    match: {sources: [Exmple News, Nowhere]}
  - slug: all
    match: {any: [""]}
`,
			want: []problem{
				{7, 11, "topics[1].name", `"climate" is already the slug of topics[0] "Climate" (line 5)`},
				{8, 12, "topics[1].match", "needs at least one of any, all, categories or sources"},
				{10, 11, "topics[2].slug", `"Trade Talks" is not a valid slug`},
				{11, 23, "topics[2].match.sources[0]", `"Exmple News" is not the name of a configured source; did you mean "Example News"?`},
				{11, 36, "topics[2].match.sources[1]", `"Nowhere" is not the name of a configured source`},
				{12, 5, "topics[3].name", "is required"},
				{12, 11, "topics[3].slug", `"all" is reserved`},
				{13, 19, "topics[3].match.any[0]", "is empty"},
			},
		},
		{
			name: "Digests",
			src: `topics:
  - name: Climate
    match: {any: [climate]}
digests:
  - name: Morning
    schedule: "61 7 * * *"
    to: [a@example.com, "bad address", "a@example.com, b@example.com"]
    topics: [climat, all]
    kinds: [editorial, opinion]
    sources: [Nope]
    max_items: -1
    max_age: -1d
    subject: "{{.Date"
  - name: morning
`,
			want: []problem{
				{6, 15, "digests[0].schedule", "not a valid schedule"},
				{7, 25, "digests[0].to[1]", `"bad address" is not a valid email address`},
				{7, 40, "digests[0].to[2]", "list several recipients as separate items"},
				{8, 14, "digests[0].topics[0]", `"climat" is not a configured topic: a digest's topics are "all"`},
				{9, 24, "digests[0].kinds[1]", `"opinion" is not a source kind`},
				{10, 15, "digests[0].sources[0]", "no sources are configured"},
				{11, 16, "digests[0].max_items", "is -1"},
				{12, 14, "digests[0].max_age", "is -24h0m0s"},
				{13, 14, "digests[0].subject", "is not a valid template: unclosed action"},
				{14, 5, "digests[1].schedule", "is required"}, // missing: the digest's first key
				{14, 5, "digests[1].to", "is required"},
				{14, 11, "digests[1].name", `"morning" is the same name as digests[0] (line 5)`},
			},
		},
		{
			name: "SMTP",
			src:  "smtp:\n  port: 70000\n  tls: ssl\n  from: nobody\n  password: x\n",
			want: []problem{
				{2, 3, "smtp.host", "is required"},
				{2, 3, "smtp.username", "is empty but a password is set"},
				{2, 9, "smtp.port", "is 70000"},
				{3, 8, "smtp.tls", `"ssl" is not a tls mode`},
				{4, 9, "smtp.from", `"nobody" is not a valid email address`},
			},
		},
		{
			name: "Outbox",
			src:  "outbox: \"\"\ndigests:\n  - name: d\n    schedule: \"@daily\"\n    to: [a@example.com]\n",
			want: []problem{{1, 9, "outbox", "is empty and no smtp server is configured"}},
		},
		{
			name: "TypeErrorNotRepeated",
			src:  "sources:\n  - name: [a]\n    url: https://a.example/\n",
			want: []problem{{2, 11, "sources[0].name", "must be text, not a list"}},
		},
		{
			name: "UndefinedAlias",
			src:  "server:\n  title: *nothing\n",
			want: []problem{{2, 10, "server.title", "*nothing refers to no anchor"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseWith("config.yaml", []byte(tc.src), envOf(tc.env))
			if err == nil {
				t.Fatalf("no error, want %d problems", len(tc.want))
			}
			checkProblems(t, problemsOf(t, err), tc.want)
		})
	}
}

func TestParse_SyntaxErrorWraps(t *testing.T) {
	_, err := parseWith("config.yaml", []byte("a: [\n"), noEnv)
	var se *yaml.SyntaxError
	if !errors.As(err, &se) {
		t.Fatalf("error %v does not wrap *yaml.SyntaxError", err)
	}
	if got, want := err.Error(), "config.yaml:1:4: invalid YAML: sequence end token ']' not found"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestParse_MultipleErrorsSorted(t *testing.T) {
	c, err := load("testdata/errors/multi.yaml", envOf(map[string]string{"BROADSHEET_LOG_LEVEL": "loud"}))
	if err == nil {
		t.Fatalf("load succeeded: %+v", c)
	}
	want := strings.Join([]string{
		`testdata/errors/multi.yaml:3:11: storage.driver: "postgress" is not a storage driver; did you mean "postgres"? (one of "sqlite" or "postgres")`,
		`testdata/errors/multi.yaml:6:3: fetch.workrs: unknown key; did you mean "workers"?`,
		`testdata/errors/multi.yaml:7:12: fetch.timeout: "soon" is not a duration: use a number and a unit, as in "90s", "15m", "72h" or "7d"`,
		`testdata/errors/multi.yaml:11:10: sources[0].url: "htp://example.com/rss" is not an http or https URL: give the feed's full address, such as https://example.com/feed.xml`,
		`testdata/errors/multi.yaml:12:5: sources[1].name: is required: give each source a short unique name, such as "Example News"`,
		`testdata/errors/multi.yaml:13:11: sources[1].kind: "editorial " is not a source kind; did you mean "editorial"? (one of "news" or "editorial")`,
		`testdata/errors/multi.yaml:17:13: smtp.password: SMTP_PASSWORD is not set in the environment: set it, or write ${SMTP_PASSWORD:-default} to give a default`,
		`testdata/errors/multi.yaml: log.level: "loud" is not a log level: use "debug", "info", "warn" or "error" (set by BROADSHEET_LOG_LEVEL)`,
	}, "\n")
	if got := err.Error(); got != want {
		t.Errorf("Error() =\n%s\nwant\n%s", got, want)
	}
}

func TestExpand(t *testing.T) {
	env := envOf(map[string]string{"A": "alpha", "EMPTY": "", "SPECIAL": `x: "y" # z`})
	tests := []struct {
		name, in, want string
		errs           []string
	}{
		{"Plain", "no references", "no references", nil},
		{"Var", "${A}", "alpha", nil},
		{"Inside", "pre-${A}-post", "pre-alpha-post", nil},
		{"Twice", "${A}${A}", "alphaalpha", nil},
		{"DefaultUnused", "${A:-beta}", "alpha", nil},
		{"DefaultUnset", "${NOPE:-beta}", "beta", nil},
		{"DefaultEmpty", "${EMPTY:-beta}", "beta", nil},
		{"DefaultWithColon", "${NOPE:-postgres://h:5432/db}", "postgres://h:5432/db", nil},
		{"SetEmpty", "[${EMPTY}]", "[]", nil},
		{"Escape", "$${A} costs $$5", "${A} costs $5", nil},
		{"LoneDollar", "pa$word $ and $A", "pa$word $ and $A", nil},
		{"TrailingDollar", "cost$", "cost$", nil},
		{"Special", "${SPECIAL}", `x: "y" # z`, nil},
		{"Unset", "a ${NOPE} b", "a  b", []string{"NOPE is not set in the environment"}},
		{"BadName", "${A-B}", "", []string{"${A-B} is not a valid variable reference"}},
		{"Unterminated", "x ${A", "x ${A", []string{"without its closing }"}},
		{"UnsetTwice", "${X1}${X2}", "", []string{"X1 is not set", "X2 is not set"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, errs := expand(tc.in, env)
			if got != tc.want {
				t.Errorf("expand(%q) = %q, want %q", tc.in, got, tc.want)
			}
			if len(errs) != len(tc.errs) {
				t.Fatalf("expand(%q) errors = %v, want %d", tc.in, errs, len(tc.errs))
			}
			for i, e := range errs {
				if !strings.Contains(e.msg, tc.errs[i]) {
					t.Errorf("error %d = %q, want it to contain %q", i, e.msg, tc.errs[i])
				}
			}
		})
	}
}

func TestParse_ExpandTypes(t *testing.T) {
	src := `fetch:
  workers: ${WORKERS}
  timeout: ${TIMEOUT:-45s}
  max_body_bytes: ${MAXBODY}
  allow_private_networks: ${PRIVATE}
clustering:
  threshold: ${THRESHOLD}
server:
  title: "$$5 news, ${TITLE}"
smtp:
  host: mail.example.com
  from: a@example.com
  port: ${SMTP_PORT}
  username: u
  password: ${SMTP_PASSWORD}
`
	env := envOf(map[string]string{
		"WORKERS": "3", "MAXBODY": "2MiB", "PRIVATE": "true", "THRESHOLD": "0.5",
		"TITLE": "daily", "SMTP_PORT": "2525", "SMTP_PASSWORD": "a'b\"c: #d\ne",
	})
	c, err := parseWith("t.yaml", []byte(src), env)
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"workers", c.Fetch.Workers, 3},
		{"timeout", c.Fetch.Timeout, 45 * time.Second},
		{"max_body_bytes", c.Fetch.MaxBodyBytes, int64(2 << 20)},
		{"allow_private_networks", c.AllowPrivateNetworks(), true},
		{"threshold", c.Clustering.Threshold, 0.5},
		{"title", c.Server.Title, "$5 news, daily"},
		{"port", c.SMTP.Port, 2525},
		{"password", c.SMTP.Password, "a'b\"c: #d\ne"},
	}
	for _, tc := range checks {
		if !reflect.DeepEqual(tc.got, tc.want) {
			t.Errorf("%s = %#v, want %#v", tc.name, tc.got, tc.want)
		}
	}
	// A multi-line secret must not shift the positions of later problems.
	src += "log:\n  level: loud\n"
	_, err = parseWith("t.yaml", []byte(src), env)
	checkProblems(t, problemsOf(t, err), []problem{{17, 10, "log.level", `"loud" is not a log level`}})
}

func TestParse_EnvOverrides(t *testing.T) {
	const src = "storage:\n  driver: sqlite\n  path: ./file.db\nserver:\n  listen: 127.0.0.1:8080\nlog:\n  level: info\n"
	tests := []struct {
		name  string
		env   map[string]string
		check func(c *Config) (got, want any)
	}{
		{"StoragePath", map[string]string{"BROADSHEET_STORAGE_PATH": "/tmp/x.db"},
			func(c *Config) (any, any) { return c.Storage.Path, "/tmp/x.db" }},
		{"EmptyIsUnset", map[string]string{"BROADSHEET_STORAGE_PATH": ""},
			func(c *Config) (any, any) { return c.Storage.Path, "./file.db" }},
		{"Postgres", map[string]string{"BROADSHEET_STORAGE_DRIVER": "postgres", "BROADSHEET_STORAGE_DSN": "postgres://a@b/c"},
			func(c *Config) (any, any) { return c.Storage, Storage{"postgres", "./file.db", "postgres://a@b/c"} }},
		{"DatabaseURL", map[string]string{"BROADSHEET_STORAGE_DRIVER": "postgres", "DATABASE_URL": "postgres://d@e/f"},
			func(c *Config) (any, any) { return c.Storage.DSN, "postgres://d@e/f" }},
		{"DSNBeatsDatabaseURL", map[string]string{"BROADSHEET_STORAGE_DRIVER": "postgres", "BROADSHEET_STORAGE_DSN": "postgres://a@b/c", "DATABASE_URL": "postgres://d@e/f"},
			func(c *Config) (any, any) { return c.Storage.DSN, "postgres://a@b/c" }},
		{"DatabaseURLIgnoredForSQLite", map[string]string{"DATABASE_URL": "postgres://d@e/f"},
			func(c *Config) (any, any) { return c.Storage.DSN, "" }},
		{"Listen", map[string]string{"BROADSHEET_LISTEN": ":9999"},
			func(c *Config) (any, any) { return c.Server.Listen, ":9999" }},
		{"BaseURL", map[string]string{"BROADSHEET_BASE_URL": "https://x.example/"},
			func(c *Config) (any, any) { return c.Server.BaseURL, "https://x.example/" }},
		{"LogLevel", map[string]string{"BROADSHEET_LOG_LEVEL": "debug"},
			func(c *Config) (any, any) { return c.Log.Level, "debug" }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := parseWith("t.yaml", []byte(src), envOf(tc.env))
			if err != nil {
				t.Fatal(err)
			}
			if got, want := tc.check(c); !reflect.DeepEqual(got, want) {
				t.Errorf("got %#v, want %#v", got, want)
			}
		})
	}
	t.Run("ProblemNamesVariable", func(t *testing.T) {
		_, err := parseWith("t.yaml", []byte(src), envOf(map[string]string{"BROADSHEET_STORAGE_DRIVER": "postgres", "BROADSHEET_LISTEN": "nope"}))
		checkProblems(t, problemsOf(t, err), []problem{
			{2, 3, "storage.dsn", "or set BROADSHEET_STORAGE_DSN or DATABASE_URL"},
			{0, 0, "server.listen", `"nope" is not host:port: write e.g. "127.0.0.1:8080", or ":8080" for every interface (set by BROADSHEET_LISTEN)`},
		})
	})
	t.Run("Process", func(t *testing.T) {
		t.Setenv("BROADSHEET_LOG_LEVEL", "warn")
		c, err := Parse("t.yaml", []byte(src))
		if err != nil {
			t.Fatal(err)
		}
		if c.Log.Level != "warn" {
			t.Errorf("log.level = %q, want warn from the process environment", c.Log.Level)
		}
	})
}

func TestValidate_InCode(t *testing.T) {
	c := Default()
	c.Sources = []Source{{Name: "A", URL: "https://a.example/feed"}, {Name: "B", URL: "ftp://b.example/"}}
	c.Topics = []Topic{{Name: "World News", Match: Match{Any: []string{"world"}}}}
	c.SMTP = &SMTP{Host: "mail.example.com", From: "a@example.com"}
	c.Digests = []Digest{{Name: "d", Schedule: "@daily", To: []string{"x@example.com"}, Topics: []string{"world-news"}}}
	err := c.Validate()
	checkProblems(t, problemsOf(t, err), []problem{{0, 0, "sources[1].url", `"ftp://b.example/" is not an http or https URL`}})
	if got, want := err.Error(), `sources[1].url: "ftp://b.example/" is not an http or https URL: give the feed's full address, such as https://example.com/feed.xml`; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	// Validate fills the derived defaults.
	if c.Sources[0].Kind != KindNews || c.Topics[0].Slug != "world-news" || c.SMTP.Port != 587 || c.SMTP.TLS != "starttls" || c.Digests[0].MaxAge != 7*24*time.Hour {
		t.Errorf("derived defaults not filled: kind %q, slug %q, port %d, tls %q, max_age %s",
			c.Sources[0].Kind, c.Topics[0].Slug, c.SMTP.Port, c.SMTP.TLS, c.Digests[0].MaxAge)
	}
	c.Sources[1].URL = "https://b.example/"
	if err := c.Validate(); err != nil {
		t.Errorf("after fixing: %v", err)
	}
}

func TestError_Error(t *testing.T) {
	e := &Error{File: "c.yaml", Problems: []Problem{
		{Line: 14, Col: 7, Key: "sources[2].url", Msg: "bad"},
		{Key: "log.level", Msg: "worse"},
		{Line: 1, Col: 1, Msg: "no key"},
	}}
	want := "c.yaml:14:7: sources[2].url: bad\nc.yaml: log.level: worse\nc.yaml:1:1: no key"
	if got := e.Error(); got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	sortProblems(e.Problems)
	if got := []int{e.Problems[0].Line, e.Problems[1].Line, e.Problems[2].Line}; !slices.Equal(got, []int{1, 14, 0}) {
		t.Errorf("sorted lines = %v, want [1 14 0]", got)
	}
}

func TestSuggest(t *testing.T) {
	valid := []string{"name", "url", "kind", "tags", "schedule"}
	tests := []struct{ in, want string }{
		{"nmae", "name"},
		{"URL", "url"},
		{"Schedule", "schedule"},
		{"shedule", "schedule"},
		{"link", "url"},
		{"type", "kind"},
		{"zzz", ""},
		{"description", ""},
	}
	for _, tc := range tests {
		if got := suggest(tc.in, valid); got != tc.want {
			t.Errorf("suggest(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestSummary(t *testing.T) {
	c, err := load("testdata/full.yaml", envOf(map[string]string{"PGPASSWORD": "pg-secret", "SMTP_PASSWORD": "smtp-secret"}))
	if err != nil {
		t.Fatal(err)
	}
	got := c.Summary()
	for _, want := range []string{
		"config:   testdata/full.yaml",
		"storage:  postgres postgres://broadsheet:xxxxx@db.internal:5432/broadsheet?sslmode=disable",
		"schedule: CRON_TZ=Europe/Paris */15 6-23 * * *",
		"sources:  2 (1 editorial), 2 on their own schedule",
		"topics:   2: climate-change, élections-2026",
		"stories:  clustering off",
		"digests:  1: morning (TZ=Asia/Seoul 0 7 * * 1-5, 2 recipients)",
		"mail:     smtp smtp.example.org:465 (tls) from Broadsheet <broadsheet@example.org>",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("Summary() lacks %q:\n%s", want, got)
		}
	}
	for _, secret := range []string{"pg-secret", "smtp-secret", c.Server.Secret} {
		if strings.Contains(got, secret) {
			t.Errorf("Summary() shows secret %q:\n%s", secret, got)
		}
	}
	m, err := load("testdata/minimal.yaml", noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Summary(); !strings.Contains(got, "mail:     no smtp: digests are written to ./outbox as .eml files") || !strings.Contains(got, "storage:  sqlite ./data/broadsheet.db") {
		t.Errorf("minimal Summary():\n%s", got)
	}
}

func TestRedactDSN(t *testing.T) {
	tests := []struct{ in, want string }{
		{"postgres://u:pw@h/db", "postgres://u:xxxxx@h/db"},
		{"postgres://u@h/db?password=pw&sslmode=disable", "postgres://u@h/db?password=xxxxx&sslmode=disable"},
		{"host=h password=pw dbname=d", "host=h password=xxxxx dbname=d"},
		{"host=h password = 'p w' dbname=d", "host=h password = xxxxx dbname=d"},
		{"host=h dbname=d", "host=h dbname=d"},
	}
	for _, tc := range tests {
		if got := redactDSN(tc.in); got != tc.want {
			t.Errorf("redactDSN(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestParse_AliasBombs checks that nested aliases cannot make a small file
// expand without bound: decoding stops at maxNodes values with a problem.
// Without the budget, each of these takes minutes and gigabytes.
func TestParse_AliasBombs(t *testing.T) {
	var merge strings.Builder
	merge.WriteString("x-0: &a0 {workers: 1}\n")
	for i := 1; i <= 9; i++ {
		refs := strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*a%d, ", i-1), 10), ", ")
		fmt.Fprintf(&merge, "x-%d: &a%d {<<: [%s]}\n", i, i, refs)
	}
	merge.WriteString("fetch: *a9\n")

	var list strings.Builder
	list.WriteString("x-t: &t [" + strings.TrimSuffix(strings.Repeat("tag, ", 1000), ", ") + "]\n")
	list.WriteString("x-s: &s {name: a, url: 'https://a.example/', tags: *t}\n")
	list.WriteString("sources: [" + strings.TrimSuffix(strings.Repeat("*s, ", 1000), ", ") + "]\n")

	for name, src := range map[string]string{"Merge": merge.String(), "List": list.String()} {
		t.Run(name, func(t *testing.T) {
			_, err := parseWith("bomb.yaml", []byte(src), noEnv)
			if err == nil || !strings.Contains(err.Error(), "too large once aliases are expanded") {
				t.Fatalf("error = %v, want the document to be too large", err)
			}
		})
	}
}

func TestParse_Retention(t *testing.T) {
	for _, tc := range []struct {
		src  string
		want time.Duration
	}{
		{"", DefaultRetention},
		{"retention: 30d\n", 30 * 24 * time.Hour},
		{"retention: 2160h\n", 90 * 24 * time.Hour},
		{"retention: 0\n", 0},
		{"retention: forever\n", 0},
		{"retention: Forever\n", 0},
		{"retention: ${KEEP:-forever}\n", 0},
	} {
		c, err := parseWith("r.yaml", []byte(tc.src), noEnv)
		if err != nil {
			t.Errorf("%q: %v", tc.src, err)
			continue
		}
		if c.Retention != tc.want {
			t.Errorf("%q: retention = %v, want %v", tc.src, c.Retention, tc.want)
		}
	}
}

func TestConfig_Zone(t *testing.T) {
	src := `server:
  timezone: Asia/Seoul
digests:
  - name: own
    schedule: "CRON_TZ=Europe/Paris 0 7 * * *"
    to: [a@example.com]
    timezone: America/New_York
  - name: cron
    schedule: "CRON_TZ=Europe/Paris 0 7 * * *"
    to: [a@example.com]
  - name: plain
    schedule: "0 7 * * *"
    to: [a@example.com]
`
	c, err := parseWith("zones.yaml", []byte(src), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ what, got, want string }{
		{"Zone", c.Zone().String(), "Asia/Seoul"},
		{"DigestZone(own)", c.DigestZone("own").String(), "America/New_York"},
		{"DigestZone(cron)", c.DigestZone("cron").String(), "Europe/Paris"},
		{"DigestZone(plain)", c.DigestZone("plain").String(), "UTC"},
	} {
		if tt.got != tt.want {
			t.Errorf("%s = %s, want %s", tt.what, tt.got, tt.want)
		}
	}
	empty, err := parseWith("empty.yaml", nil, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if got := empty.Zone(); got != time.UTC {
		t.Errorf("Zone() with no server.timezone = %s, want UTC", got)
	}
}
