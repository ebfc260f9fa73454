package fetch

import (
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/broadsheet/broadsheet/feeds"
)

// FuzzNormalizeLink checks that canonical links are absolute http(s) URLs
// without fragments or tracking parameters, valid UTF-8, and idempotent.
func FuzzNormalizeLink(f *testing.F) {
	for _, s := range []string{
		"https://WWW.Example.com:443/a/../b?utm_source=x&id=1#frag",
		"/relative/path?fbclid=1",
		"//cdn.example/x",
		"http://[::1]:80/",
		"javascript:alert(1)",
		"https://user:pw@host./p?%zz",
	} {
		f.Add(s)
	}
	base, _ := url.Parse("https://www.news.example/section/feed.xml")
	f.Fuzz(func(t *testing.T, raw string) {
		for _, b := range []*url.URL{base, nil} {
			c := canonicalLink(resolveLink(raw, b))
			if c == "" {
				continue
			}
			if !utf8.ValidString(c) {
				t.Fatalf("canonical(%q) = %q: invalid UTF-8", raw, c)
			}
			if !strings.HasPrefix(c, "http://") && !strings.HasPrefix(c, "https://") {
				t.Fatalf("canonical(%q) = %q: not http(s)", raw, c)
			}
			u, err := url.Parse(c)
			if err != nil {
				t.Fatalf("canonical(%q) = %q does not parse: %v", raw, c, err)
			}
			if u.Fragment != "" || u.User != nil || u.Host == "" {
				t.Fatalf("canonical(%q) = %q keeps a fragment or user info, or has no host", raw, c)
			}
			for _, kv := range strings.Split(u.RawQuery, "&") {
				key, _, _ := strings.Cut(kv, "=")
				if k, err := url.QueryUnescape(key); err == nil && isTrackingParam(k) {
					t.Fatalf("canonical(%q) = %q keeps tracking parameter %q", raw, c, k)
				}
			}
			for _, b2 := range []*url.URL{base, nil} {
				if again := canonicalLink(resolveLink(c, b2)); again != c {
					t.Fatalf("not idempotent: %q → %q → %q", raw, c, again)
				}
			}
			if k := linkKey(c); strings.HasPrefix(k, "http") && strings.Contains(k, "://") {
				t.Fatalf("linkKey(%q) = %q keeps the scheme", c, k)
			}
		}
	})
}

// FuzzParseDate checks that parseDate never panics and only returns sane
// UTC dates, the same way every time.
func FuzzParseDate(f *testing.F) {
	for _, s := range []string{
		"lun, 17 ago 2026 10:00:00 GMT",
		"mer., 12 août 2026",
		"Mi, 12 Mär 2026 10:00:00 +0200",
		"2026년 8월 14일 오후 3시",
		"2026.08.14 10:00",
		"04/05/2026 10:00 PM EDT",
		"20260814",
	} {
		f.Add(s, true)
	}
	kst := time.FixedZone("KST", 9*3600)
	f.Fuzz(func(t *testing.T, s string, dayFirst bool) {
		for _, loc := range []*time.Location{time.UTC, kst} {
			got, ok := parseDate(s, loc, dayFirst)
			if !ok {
				if !got.IsZero() {
					t.Fatalf("parseDate(%q) = %v with ok false", s, got)
				}
				continue
			}
			if got.Location() != time.UTC {
				t.Fatalf("parseDate(%q) = %v, not UTC", s, got)
			}
			if y := got.Year(); y < 1969 || y > 2201 {
				t.Fatalf("parseDate(%q) = %v: year out of range", s, got)
			}
			if again, _ := parseDate(s, loc, dayFirst); !again.Equal(got) {
				t.Fatalf("parseDate(%q) gave %v then %v", s, got, again)
			}
		}
	})
}

// FuzzParse feeds arbitrary bodies through the whole pipeline: it must not
// panic, and every article must hold valid UTF-8, plain-text titles and a
// usable date.
func FuzzParse(f *testing.F) {
	f.Add([]byte(smallFeed), "")
	f.Add([]byte(`<?xml version="1.0" encoding="EUC-KR"?><rss><channel><item><title>`+"\xc7\xd1"+`</title></item></channel></rss>`), "text/xml")
	f.Add([]byte(`{"version":"https://jsonfeed.org/version/1.1","items":[{"id":"1","title":"t"}]}`), "application/feed+json")
	f.Add([]byte(`<feed xmlns="http://www.w3.org/2005/Atom"><entry><title type="html">&lt;b&gt;x</title><link href="/a"/></entry></feed>`), "")
	c := newTestClient(Options{MaxBodyBytes: 1 << 20})
	src := feeds.Source{Name: "fuzz", URL: "https://fuzz.example/feed"}
	f.Fuzz(func(t *testing.T, body []byte, contentType string) {
		arts, _, err := c.Parse(src, strings.NewReader(string(body)), contentType)
		if err != nil {
			if _, ok := err.(*feeds.FetchError); !ok {
				t.Fatalf("error %T is not a *feeds.FetchError", err)
			}
			return
		}
		for _, a := range arts {
			for _, s := range []string{a.Title, a.Summary, a.Content, a.Excerpt, a.Author, a.Link} {
				if !utf8.ValidString(s) {
					t.Fatalf("invalid UTF-8 in %+v", a)
				}
			}
			if strings.Contains(strings.ToLower(a.Summary+a.Content), "<script") {
				t.Fatalf("script survived: %q %q", a.Summary, a.Content)
			}
			if a.Published.IsZero() || a.Published.After(testNow.Add(24*time.Hour)) || a.ID == "" {
				t.Fatalf("bad article: %+v", a)
			}
		}
	})
}
