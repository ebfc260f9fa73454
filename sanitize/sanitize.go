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
	out := policy.Sanitize(s)
	if needsURLRewrite(out) {
		out = rewriteURLs(out, base)
	}
	return strings.TrimSpace(out)
}

// urlAttrs are the URL-valued attributes the policy lets through.
var urlAttrs = []string{` href="`, ` src="`, ` cite="`}

// needsURLRewrite reports whether any URL attribute in bluemonday's output
// is not already an absolute http(s) or mailto URL. bluemonday writes every
// attribute as ` name="value"` and escapes quotes in text, so a substring
// search finds exactly the attributes.
func needsURLRewrite(s string) bool {
	for _, a := range urlAttrs {
		rest := s
		for {
			i := strings.Index(rest, a)
			if i < 0 {
				break
			}
			rest = rest[i+len(a):]
			if strings.HasPrefix(rest, "https://") || strings.HasPrefix(rest, "http://") {
				continue
			}
			if a == ` href="` && strings.HasPrefix(rest, "mailto:") {
				continue
			}
			return true
		}
	}
	return false
}

// rewriteURLs resolves relative URLs in already sanitized HTML against base,
// and drops any URL that is not http(s) (or mailto for links) afterwards:
// images from mailto: or scheme-less URLs without a base.
func rewriteURLs(s string, base *url.URL) string {
	if base != nil && !base.IsAbs() {
		base = nil
	}
	var b strings.Builder
	b.Grow(len(s) + 64)
	z := html.NewTokenizer(strings.NewReader(s))
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			break
		}
		if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
			b.Write(z.Raw())
			continue
		}
		tok := z.Token()
		keep := tok.Attr[:0]
		drop := false
		for _, a := range tok.Attr {
			switch a.Key {
			case "href", "src", "cite":
				u, ok := resolve(a.Val, base, a.Key == "href" && tok.Data != "img")
				if !ok {
					if tok.Data == "img" && a.Key == "src" {
						drop = true
					}
					continue
				}
				a.Val = u
			}
			keep = append(keep, a)
		}
		if drop {
			continue
		}
		tok.Attr = keep
		if tok.Data == "a" && !hasAttr(tok.Attr, "href") {
			// An anchor whose link went away keeps its text but not its rel.
			tok.Attr = tok.Attr[:0]
		}
		b.WriteString(tok.String())
	}
	return b.String()
}

func hasAttr(attrs []html.Attribute, key string) bool {
	for _, a := range attrs {
		if a.Key == key {
			return true
		}
	}
	return false
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
