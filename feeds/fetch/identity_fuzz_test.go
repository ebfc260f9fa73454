package fetch

import (
	"encoding/json"
	"encoding/xml"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/broadsheet/broadsheet/feeds"
)

// identityItem is the fuzzed item: the fields identities derive from.
type identityItem struct {
	guid, link, title, date, text string
}

// feed renders items as a JSON Feed or an RSS feed, the fields escaped as
// the format needs (RSS loses what XML cannot carry at all).
func (identityItem) feed(jsonFeed bool, items ...identityItem) (body, contentType string) {
	if jsonFeed {
		var list []map[string]string
		for _, it := range items {
			list = append(list, map[string]string{"id": it.guid, "url": it.link, "title": it.title, "date_published": it.date, "content_html": it.text})
		}
		b, _ := json.Marshal(map[string]any{"version": "https://jsonfeed.org/version/1.1", "title": "f", "items": list})
		return string(b), "application/feed+json"
	}
	esc := func(s string) string {
		var b strings.Builder
		xml.EscapeText(&b, []byte(notXML.ReplaceAllString(s, "")))
		return b.String()
	}
	var b strings.Builder
	b.WriteString(`<rss version="2.0"><channel><title>f</title><link>https://identity.example/</link>`)
	for _, it := range items {
		b.WriteString("<item><guid>" + esc(it.guid) + "</guid><link>" + esc(it.link) + "</link><title>" + esc(it.title) +
			"</title><pubDate>" + esc(it.date) + "</pubDate><description>" + esc(it.text) + "</description></item>")
	}
	b.WriteString("</channel></rss>")
	return b.String(), "application/rss+xml"
}

// notXML matches what an XML document cannot hold, even escaped.
var notXML = regexp.MustCompile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]|[^\x00-\U0010ffff]")

// plainWords reports whether s has letters or digits and no markup or
// entities, so that it is a title as it stands.
func plainWords(s string) bool {
	return !strings.ContainsAny(s, "<>&") && strings.IndexFunc(s, func(r rune) bool {
		return r < utf8.RuneSelf && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
	}) >= 0
}

var hexID = regexp.MustCompile(`^[0-9a-f]{20}$`)

// FuzzIdentity checks the identity of items, which decides whether a
// re-polled item is the same one: it must be the guid when there is one,
// else the canonical link, else a hash; the same at any time of polling,
// whatever the order of the items and whatever the item's text when
// anything else identifies it (a guid, a link or a title: an item with
// none is known by its text); and the id must be ArticleID of it.
func FuzzIdentity(f *testing.F) {
	f.Add("urn:uuid:1", "https://example.com/a?utm_source=x#top", "Title", "Mon, 02 Jan 2006 15:04:05 GMT", "<p>text</p>", false)
	f.Add("", "/relative/path", "Title", "2006-01-02T15:04:05Z", "text", true)
	f.Add("", "", "Only a title", "", "", false)
	f.Add("", "", "", "", "<p>only text</p>", true)
	f.Add("  spaced guid  ", "javascript:alert(1)", "t", "yesterday", "x", false)
	f.Add("", "", "", "2026-08-15", "", true)
	f.Add("https://example.com/guid-as-link", "", "", "", "", false)
	f.Fuzz(func(t *testing.T, guid, link, title, date, text string, jsonFeed bool) {
		it := identityItem{guid, link, title, date, text}
		other := identityItem{guid: "urn:fixed:other", link: "https://identity.example/other", title: "Other", text: "other"}
		src := feeds.Source{Name: "identity", URL: "https://identity.example/feed"}
		parse := func(now time.Time, items ...identityItem) []feeds.Article {
			body, ct := it.feed(jsonFeed, items...)
			c := newTestClient(Options{Now: func() time.Time { return now }, SanitizeCacheBytes: -1})
			arts, _, err := c.Parse(src, strings.NewReader(body), ct)
			if err != nil {
				return nil
			}
			return arts
		}
		first := parse(testNow, it, other)
		if first == nil {
			return // not a feed gofeed reads: nothing to identify
		}
		byID := map[string]feeds.Article{}
		for _, a := range first {
			if a.ID != feeds.ArticleID(src.Name, a.Identity) || !hexID.MatchString(a.ID) {
				t.Fatalf("id %q is not ArticleID of identity %q", a.ID, a.Identity)
			}
			if a.Identity == "" || !utf8.ValidString(a.Identity) {
				t.Fatalf("identity %q is empty or not UTF-8", a.Identity)
			}
			if _, dup := byID[a.ID]; dup {
				t.Fatalf("id %s given twice in one parse", a.ID)
			}
			byID[a.ID] = a
		}
		// Which identity the fuzzed item has, if it was kept: the one that
		// is not the other item's (unless they collide, which is fine).
		var mine *feeds.Article
		for i := range first {
			if first[i].Identity != other.guid {
				mine = &first[i]
			}
		}
		if mine != nil {
			switch g := strings.TrimSpace(mine.Identity); {
			case strings.HasPrefix(mine.Identity, "sha256:"):
				if mine.Link != "" {
					t.Fatalf("hash identity %q for an item with link %q", mine.Identity, mine.Link)
				}
			case mine.Identity == mine.Link:
			case g == mine.Identity:
				// A guid: taken as given, trimmed.
			default:
				t.Fatalf("identity %q is neither a guid, the link %q nor a hash", mine.Identity, mine.Link)
			}
		}

		same := func(what string, arts []feeds.Article) {
			t.Helper()
			if len(arts) != len(first) {
				t.Fatalf("%s: %d articles, want %d", what, len(arts), len(first))
			}
			for _, a := range arts {
				if b, ok := byID[a.ID]; !ok || b.Identity != a.Identity {
					t.Fatalf("%s: id %s (identity %q) not as before", what, a.ID, a.Identity)
				}
			}
		}
		same("an hour later", parse(testNow.Add(time.Hour), it, other))
		same("in the other order", parse(testNow, other, it))
		// Text may identify only an item with no guid, no link and no
		// title (one made up from its text counts as none).
		if mine != nil && (!strings.HasPrefix(mine.Identity, "sha256:") || plainWords(title)) {
			edited := it
			edited.text = text + " (edited)"
			same("with its text edited", parse(testNow, edited, other))
		}
	})
}
