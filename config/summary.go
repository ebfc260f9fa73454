package config

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// Summary describes c in a few lines for `broadsheet check`: the file,
// storage, schedule, server, sources, topics, digests and where mail goes.
// Secrets (passwords in a DSN, the smtp password, server.secret) are never
// shown.
func (c *Config) Summary() string {
	var b strings.Builder
	line := func(label, format string, args ...any) {
		fmt.Fprintf(&b, "%-9s %s\n", label+":", fmt.Sprintf(format, args...))
	}
	if c.Path != "" {
		line("config", "%s", c.Path)
	}
	switch c.Storage.Driver {
	case DriverPostgres:
		line("storage", "postgres %s", redactDSN(c.Storage.DSN))
	default:
		line("storage", "%s %s", c.Storage.Driver, c.Storage.Path)
	}
	line("schedule", "%s", c.Schedule)
	server := c.Server.Listen
	if c.Server.BaseURL != "" {
		server += " as " + c.Server.BaseURL
	}
	line("server", "%s", server)

	editorial, own := 0, 0
	for _, s := range c.Sources {
		if s.Kind == KindEditorial {
			editorial++
		}
		if s.Schedule != "" {
			own++
		}
	}
	src := fmt.Sprintf("%d (%d editorial)", len(c.Sources), editorial)
	if own > 0 {
		src += fmt.Sprintf(", %d on their own schedule", own)
	}
	line("sources", "%s", src)

	slugs := make([]string, len(c.Topics))
	for i, t := range c.Topics {
		slugs[i] = t.Slug
		if slugs[i] == "" {
			slugs[i] = slugify(t.Name)
		}
	}
	line("topics", "%s", countList(slugs))
	if c.ClusteringEnabled() {
		line("stories", "clustering over %s", FormatDuration(c.Clustering.Window))
	} else {
		line("stories", "clustering off")
	}

	digests := make([]string, len(c.Digests))
	for i, d := range c.Digests {
		rcpts := "1 recipient"
		if len(d.To) != 1 {
			rcpts = fmt.Sprintf("%d recipients", len(d.To))
		}
		digests[i] = fmt.Sprintf("%s (%s, %s)", d.Name, d.Schedule, rcpts)
	}
	line("digests", "%s", countList(digests))
	if c.SMTP != nil {
		line("mail", "smtp %s:%d (%s) from %s", c.SMTP.Host, c.SMTP.Port, c.SMTP.TLS, c.SMTP.From)
	} else {
		line("mail", "no smtp: digests are written to %s as .eml files", c.Outbox)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// countList writes "0" or "N: a, b, c", eliding past six names.
func countList(names []string) string {
	if len(names) == 0 {
		return "0"
	}
	shown := names
	more := ""
	if len(names) > 6 {
		shown, more = names[:6], fmt.Sprintf(" and %d more", len(names)-6)
	}
	return fmt.Sprintf("%d: %s%s", len(names), strings.Join(shown, ", "), more)
}

var dsnPassword = regexp.MustCompile(`(?i)(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)`)

// redactDSN hides the password in a postgres URL or key=value DSN.
func redactDSN(dsn string) string {
	if strings.Contains(dsn, "://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return "(unparsable dsn)"
		}
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
		}
		q := u.Query()
		if q.Has("password") {
			q.Set("password", "xxxxx")
			u.RawQuery = q.Encode()
		}
		return u.String()
	}
	return dsnPassword.ReplaceAllString(dsn, "${1}xxxxx")
}
