// Package sanitize turns untrusted HTML from feeds into safe HTML or plain
// text. It is the only user of bluemonday: HTML filters markup through one
// bluemonday policy, Text and Excerpt reduce markup to plain text. All
// functions are safe for concurrent use and always return valid UTF-8.
package sanitize

import (
	"net/url"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/microcosm-cc/bluemonday"
	"golang.org/x/net/html"
)

// policy is built once; bluemonday policies are safe for concurrent use
// once built.
var policy = newPolicy()

// newPolicy is bluemonday's UGC policy, minus what a news reader does not
// need and what lets one article's markup reach into the page around it:
// no id attributes (DOM clobbering), no inline styles, no data: URLs.
func newPolicy() *bluemonday.Policy {
	p := bluemonday.NewPolicy()

	// Only parseable http, https and mailto URLs, or relative ones (resolved
	// against the article's link afterwards).
	p.RequireParseableURLs(true)
	p.AllowRelativeURLs(true)
	p.AllowURLSchemes("http", "https", "mailto")
	p.RequireNoFollowOnLinks(true)
	p.RequireNoReferrerOnLinks(true)

	p.AllowAttrs("dir").Matching(bluemonday.Direction).Globally()
	p.AllowAttrs("lang").Matching(regexp.MustCompile(`^[a-zA-Z]{2,8}(-[a-zA-Z0-9]{1,8})*$`)).Globally()
	p.AllowAttrs("title").Matching(bluemonday.Paragraph).Globally()

	p.AllowElements("article", "aside", "section", "figure", "figcaption", "details", "summary", "hgroup",
		"h1", "h2", "h3", "h4", "h5", "h6",
		"br", "div", "hr", "p", "span", "wbr", "pre", "blockquote",
		"abbr", "acronym", "cite", "code", "dfn", "em", "mark", "s", "samp", "strong", "sub", "sup", "var",
		"b", "i", "small", "strike", "tt", "u", "ins", "del", "kbd", "q", "time",
		"rp", "rt", "ruby", "bdi", "bdo")
	p.AllowAttrs("href").OnElements("a")
	p.AllowAttrs("cite").OnElements("blockquote", "q", "del", "ins")
	p.AllowAttrs("datetime").Matching(bluemonday.ISO8601).OnElements("time", "del", "ins")
	p.AllowAttrs("open").Matching(regexp.MustCompile(`(?i)^(|open)$`)).OnElements("details")

	p.AllowImages()
	p.AllowLists()
	p.AllowTables()

	// Drawings, templates and form controls carry no article text worth
	// keeping; bluemonday already drops script, style, iframe, object,
	// noscript and title with their content.
	p.SkipElementsContent("svg", "math", "template", "textarea", "select", "button")
	return p
}

// HTML returns s as safe HTML: no scripts, styles, event handlers, forms,
// frames, meta or base elements; links only to http, https or mailto URLs,
// images only from http or https. Relative URLs are resolved against base
// when base is an absolute URL, and left relative otherwise.
func HTML(s string, base *url.URL) string {
	s = validUTF8(s)
	if !strings.ContainsAny(s, "<>&\"'\x00") {
		// Plain text is already safe HTML; skip the tokenizer.
		return strings.TrimSpace(s)
	}
	var b strings.Builder
	b.Grow(len(s))
	if err := policy.SanitizeReaderToWriter(strings.NewReader(s), &b); err != nil {
		// Only a failing reader errs, and a strings.Reader does not.
		return ""
	}
	if base != nil && !base.IsAbs() {
		base = nil
	}
	return strings.TrimSpace(fixURLs(b.String(), base))
}

// fixURLs resolves the relative URLs of href, src and cite attributes in
// bluemonday's output against base, and drops any attribute whose URL is
// then not http(s), or mailto for a link: a mailto: image, or what
// resolving made unparseable. bluemonday writes every attribute as
// ` name="value"`, with quotes in text and in values escaped, so `="`
// occurs only where an attribute value starts. s is returned unchanged
// (and no copy is made) when every URL is already absolute.
func fixURLs(s string, base *url.URL) string {
	var b *strings.Builder
	done := 0 // s[:done] is in b, when b is in use
	for i := 0; ; {
		j := strings.Index(s[i:], `="`)
		if j < 0 {
			break
		}
		nameEnd, valStart := i+j, i+j+2
		valEnd := strings.IndexByte(s[valStart:], '"')
		if valEnd < 0 {
			break
		}
		valEnd += valStart
		i = valEnd + 1
		var mailto bool
		switch name := s[:nameEnd]; {
		case strings.HasSuffix(name, " href"):
			mailto = true
		case strings.HasSuffix(name, " src"), strings.HasSuffix(name, " cite"):
		default:
			continue
		}
		val := s[valStart:valEnd]
		if strings.HasPrefix(val, "https://") || strings.HasPrefix(val, "http://") || (mailto && strings.HasPrefix(val, "mailto:")) {
			continue
		}
		if b == nil {
			b = &strings.Builder{}
			b.Grow(len(s) + 64)
		}
		u, ok := resolve(html.UnescapeString(val), base, mailto)
		if !ok {
			// Drop the whole attribute, from the space before its name.
			b.WriteString(s[done:strings.LastIndexByte(s[:nameEnd], ' ')])
		} else {
			b.WriteString(s[done:valStart])
			b.WriteString(html.EscapeString(u))
			b.WriteByte('"')
		}
		done = i
	}
	if b == nil {
		return s
	}
	b.WriteString(s[done:])
	return b.String()
}

// resolve makes raw absolute against base and reports whether the result is
// acceptable: http or https, or mailto when mailto is true. Without a base a
// relative URL is kept as it is, since it cannot leave the page's origin.
func resolve(raw string, base *url.URL, mailto bool) (string, bool) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return "", false
	}
	if base != nil {
		u = base.ResolveReference(u)
	} else if !u.IsAbs() && u.Host != "" {
		// Protocol-relative "//host/path": assume https.
		u.Scheme = "https"
	}
	ok := false
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
		ok = true
	case "mailto":
		ok = mailto
	case "":
		ok = base == nil && u.Host == "" && u.Opaque == ""
	}
	if !ok {
		return "", false
	}
	s := u.String()
	// Resolving can yield what no browser or url.Parse accepts ("https://::").
	if _, err := url.Parse(s); err != nil {
		return "", false
	}
	return s, true
}

// validUTF8 replaces invalid UTF-8 sequences with U+FFFD and drops NULs.
func validUTF8(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(s, "\x00", "")
	}
	return s
}
