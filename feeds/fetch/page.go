package fetch

import (
	"bytes"
	"net/url"
	"slices"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// looksLikeHTML reports whether a body that is not a feed is a web page:
// an error or login page, or a site's home page served in place of its feed.
func looksLikeHTML(data []byte) bool {
	head := bytes.ToLower(data[:min(len(data), 4096)])
	for _, marker := range []string{"<!doctype html", "<html", "<head", "<body"} {
		if bytes.Contains(head, []byte(marker)) {
			return true
		}
	}
	return false
}

// feedTypes are the link types that advertise a feed.
var feedTypes = map[string]bool{
	"application/rss+xml":   true,
	"application/atom+xml":  true,
	"application/feed+json": true,
	"application/rdf+xml":   true,
}

// discoverFeed returns the absolute URL of the first feed that an HTML page
// advertises with <link rel="alternate" type="application/rss+xml" …> (or
// Atom, JSON Feed, RDF), resolved against the page's <base> or pageURL, or
// "" if there is none.
func discoverFeed(data []byte, pageURL *url.URL) string {
	if l := advertisedFeeds(data, pageURL, 1); len(l) > 0 {
		return l[0]
	}
	return ""
}

// advertisedFeeds returns the absolute URLs of the feeds an HTML page
// advertises, as discoverFeed finds them, in the page's order, without
// repeats, at most max of them.
func advertisedFeeds(data []byte, pageURL *url.URL, max int) []string {
	var found []string
	base := pageURL
	z := html.NewTokenizer(bytes.NewReader(data))
	for len(found) < max {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return found
		case html.StartTagToken, html.SelfClosingTagToken:
		default:
			continue
		}
		name, hasAttr := z.TagName()
		switch atom.Lookup(name) {
		case atom.Body:
			// Feeds are advertised in the head; don't read a long page.
			return found
		case atom.Base:
			if href := attrs(z, hasAttr)["href"]; href != "" {
				if u := resolveLink(href, pageURL); u != nil {
					base = u
				}
			}
		case atom.Link:
			a := attrs(z, hasAttr)
			typ := strings.ToLower(strings.TrimSpace(a["type"]))
			if i := strings.IndexByte(typ, ';'); i >= 0 {
				typ = strings.TrimSpace(typ[:i])
			}
			if !feedTypes[typ] || !hasToken(a["rel"], "alternate") || a["href"] == "" {
				continue
			}
			if u := resolveLink(a["href"], base); u != nil && !slices.Contains(found, u.String()) {
				found = append(found, u.String())
			}
		}
	}
	return found
}

func attrs(z *html.Tokenizer, more bool) map[string]string {
	m := map[string]string{}
	for more {
		var k, v []byte
		k, v, more = z.TagAttr()
		m[string(k)] = string(v)
	}
	return m
}

func hasToken(list, tok string) bool {
	for _, f := range strings.Fields(list) {
		if strings.EqualFold(f, tok) {
			return true
		}
	}
	return false
}
