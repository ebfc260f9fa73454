package fetch

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/broadsheet/broadsheet/feeds"
)

func TestCanonicalLink(t *testing.T) {
	base, _ := url.Parse("https://www.news.example/section/feed.xml")
	tests := []struct {
		name, in, want, linkKey string
	}{
		{"absolute", "https://news.example/a/b", "https://news.example/a/b", "news.example/a/b"},
		{"relative", "../story/1.html", "https://www.news.example/story/1.html", "news.example/story/1.html"},
		{"root relative", "/story/2", "https://www.news.example/story/2", "news.example/story/2"},
		{"protocol relative", "//cdn.news.example/x", "https://cdn.news.example/x", "cdn.news.example/x"},
		{"case", "HTTPS://WWW.News.EXAMPLE/Path/Case", "https://www.news.example/Path/Case", "news.example/Path/Case"},
		{"default https port", "https://news.example:443/x", "https://news.example/x", "news.example/x"},
		{"default http port", "http://news.example:80/x", "http://news.example/x", "news.example/x"},
		{"other port kept", "http://news.example:8080/x", "http://news.example:8080/x", "news.example:8080/x"},
		{"fragment", "https://news.example/x#comments", "https://news.example/x", "news.example/x"},
		{"utm", "https://news.example/x?utm_source=rss&utm_medium=feed&UTM_Campaign=c", "https://news.example/x", "news.example/x"},
		{"trackers", "https://news.example/x?fbclid=1&gclid=2&mc_cid=3&mc_eid=4&ocid=5&cmpid=6&msclkid=7", "https://news.example/x", "news.example/x"},
		{"query kept in order", "https://news.example/x?b=2&utm_source=rss&a=1", "https://news.example/x?b=2&a=1", "news.example/x?b=2&a=1"},
		{"empty path", "https://news.example", "https://news.example/", "news.example/"},
		{"empty query mark", "https://news.example/x?", "https://news.example/x", "news.example/x"},
		{"user info dropped", "https://user:pw@news.example/x", "https://news.example/x", "news.example/x"},
		{"trailing dot host", "https://news.example./x", "https://news.example/x", "news.example/x"},
		{"dot segments", "https://news.example/a/./b/../c", "https://news.example/a/c", "news.example/a/c"},
		{"http and www", "http://www.news.example/x", "http://www.news.example/x", "news.example/x"},
		{"spaces", " https://news.example/a b ", "https://news.example/a%20b", "news.example/a%20b"},
		{"ipv6", "http://[::1]:80/x", "http://[::1]/x", "[::1]/x"},
		{"javascript", "javascript:alert(1)", "", ""},
		{"mailto", "mailto:desk@news.example", "", ""},
		{"ftp", "ftp://news.example/x", "", ""},
		{"empty", "", "", ""},
		{"garbage", "http://[::1", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := canonicalLink(resolveLink(tt.in, base))
			if got != tt.want {
				t.Errorf("canonical(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if got == "" {
				return
			}
			if k := linkKey(got); k != tt.linkKey {
				t.Errorf("linkKey(%q) = %q, want %q", got, k, tt.linkKey)
			}
			if again := canonicalLink(resolveLink(got, base)); again != got {
				t.Errorf("canonical is not idempotent: %q → %q", got, again)
			}
		})
	}
}

// parseItems parses an RSS channel made of items with the test client.
func parseItems(t *testing.T, src feeds.Source, channel, items string) []feeds.Article {
	t.Helper()
	body := `<rss version="2.0"><channel>` + channel + items + `</channel></rss>`
	arts, _, err := newTestClient(Options{}).Parse(src, strings.NewReader(body), "")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return arts
}

func TestNormalize_Identity(t *testing.T) {
	src := feeds.Source{Name: "Ident", URL: "https://ident.example/feed"}
	tests := []struct {
		name  string
		item  string
		want  string // identity; "hash" for a content hash
		other string // a second item whose identity must differ, if set
	}{
		{"guid", `<item><guid>abc-123</guid><link>https://ident.example/1</link><title>t</title></item>`, "abc-123", ""},
		{"guid trimmed", `<item><guid>  abc-123 </guid><title>t</title></item>`, "abc-123", ""},
		{"canonical link", `<item><link>https://IDENT.example/1?utm_source=x#top</link><title>t</title></item>`, "https://ident.example/1", ""},
		{"permalink guid as link", `<item><guid isPermaLink="true">https://ident.example/p/9</guid><title>t</title></item>`, "https://ident.example/p/9", ""},
		{"hash of title and date", `<item><title>Same</title><pubDate>Fri, 14 Aug 2026 10:00:00 GMT</pubDate></item>`, "hash",
			`<item><title>Same</title><pubDate>Fri, 14 Aug 2026 11:00:00 GMT</pubDate></item>`},
		{"hash of title alone", `<item><title>Only a title</title></item>`, "hash", `<item><title>Another title</title></item>`},
		{"hash of text alone", `<item><description>Just text</description></item>`, "hash", `<item><description>Other text</description></item>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			arts := parseItems(t, src, "", tt.item+tt.item+tt.other)
			// The repeated item is stored once.
			wantN := 1
			if tt.other != "" {
				wantN = 2
			}
			if len(arts) != wantN {
				t.Fatalf("got %d articles, want %d", len(arts), wantN)
			}
			a := arts[0]
			if tt.want == "hash" {
				if !strings.HasPrefix(a.Identity, "sha256:") {
					t.Errorf("identity = %q, want a content hash", a.Identity)
				}
				if a.LinkKey != a.ID {
					t.Errorf("LinkKey = %q, want the ID %q for an item without a link", a.LinkKey, a.ID)
				}
			} else if a.Identity != tt.want {
				t.Errorf("identity = %q, want %q", a.Identity, tt.want)
			}
			if a.ID != feeds.ArticleID(src.Name, a.Identity) {
				t.Errorf("ID = %q, want ArticleID(%q, %q)", a.ID, src.Name, a.Identity)
			}
			// Stable across parses, even for hashes of items without a date.
			again := parseItems(t, src, "", tt.item)
			if again[0].ID != a.ID {
				t.Errorf("ID changed between parses: %q, %q", a.ID, again[0].ID)
			}
			if tt.other != "" && arts[1].ID == a.ID {
				t.Errorf("distinct items share ID %q", a.ID)
			}
		})
	}
	t.Run("empty items are skipped", func(t *testing.T) {
		arts := parseItems(t, src, "", `<item></item><item><title>  </title></item><item><title>real</title></item>`)
		if len(arts) != 1 || arts[0].Title != "real" {
			t.Errorf("got %d articles, want only the real one", len(arts))
		}
	})
	t.Run("same guid in two sources", func(t *testing.T) {
		a := parseItems(t, src, "", `<item><guid>1</guid><title>t</title></item>`)[0]
		b := parseItems(t, feeds.Source{Name: "Other", URL: src.URL}, "", `<item><guid>1</guid><title>t</title></item>`)[0]
		if a.ID == b.ID {
			t.Errorf("two sources' guid 1 share the ID %q", a.ID)
		}
	})
}

func TestNormalize_Dates(t *testing.T) {
	src := feeds.Source{Name: "Dates", URL: "https://dates.example/feed"}
	tests := []struct {
		name, item string
		published  time.Time
		updated    time.Time
	}{
		{"pubDate", `<pubDate>Thu, 13 Aug 2026 10:00:00 +0900</pubDate>`, date("2026-08-13T01:00:00Z"), time.Time{}},
		{"dc:date only", `<dc:date>2026-08-10T10:00:00Z</dc:date>`, date("2026-08-10T10:00:00Z"), date("2026-08-10T10:00:00Z")},
		{"future clamped", `<pubDate>Sat, 15 Aug 2027 10:00:00 GMT</pubDate>`, testNow, time.Time{}},
		{"slightly ahead kept", `<pubDate>Sat, 15 Aug 2026 20:00:00 GMT</pubDate>`, date("2026-08-15T20:00:00Z"), time.Time{}},
		{"epoch zero is no date", `<pubDate>Thu, 01 Jan 1970 00:00:00 GMT</pubDate>`, testNow, time.Time{}},
		{"url /2026/0814/", `<link>https://dates.example/arti/2026/0814/story.html</link>`, date("2026-08-14T00:00:00Z"), time.Time{}},
		{"url /2026/08/14/", `<link>https://dates.example/2026/08/14/story</link>`, date("2026-08-14T00:00:00Z"), time.Time{}},
		{"url /20260814/", `<link>https://dates.example/news/20260814/story</link>`, date("2026-08-14T00:00:00Z"), time.Time{}},
		{"url /2026-08-14-slug", `<link>https://dates.example/blog/2026-08-14-slug</link>`, date("2026-08-14T00:00:00Z"), time.Time{}},
		{"url date today is not after now", `<link>https://dates.example/2026/08/15/today</link>`, date("2026-08-15T00:00:00Z"), time.Time{}},
		{"url date in the future ignored", `<link>https://dates.example/2026/09/01/x</link>`, testNow, time.Time{}},
		{"url date not a calendar day", `<link>https://dates.example/2026/02/30/x</link>`, testNow, time.Time{}},
		{"url date before 1995", `<link>https://dates.example/1994/01/01/x</link>`, testNow, time.Time{}},
		{"url number that is no date", `<link>https://dates.example/arti/12345678.html</link>`, testNow, time.Time{}},
		{"enclosure url", `<link>https://dates.example/a</link><enclosure url="https://cdn.dates.example/2026/0812/photo.jpg" type="image/jpeg" length="1"/>`, date("2026-08-12T00:00:00Z"), time.Time{}},
		{"media thumbnail url", `<link>https://dates.example/a</link><media:thumbnail url="https://cdn.dates.example/img/2026/08/11/t.jpg"/>`, date("2026-08-11T00:00:00Z"), time.Time{}},
		{"missing", `<link>https://dates.example/a</link>`, testNow, time.Time{}},
		{"localized pubDate", `<pubDate>lun, 10 ago 2026 10:00:00 GMT</pubDate>`, date("2026-08-10T10:00:00Z"), time.Time{}},
		{"unreadable pubDate falls through", `<pubDate>yesterday-ish</pubDate><link>https://dates.example/2026/08/01/x</link>`, date("2026-08-01T00:00:00Z"), time.Time{}},
	}
	channel := ""
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := `<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:media="http://search.yahoo.com/mrss/"><channel>` + channel +
				`<item><title>t</title>` + tt.item + `</item></channel></rss>`
			arts, _, err := newTestClient(Options{}).Parse(src, strings.NewReader(body), "")
			if err != nil {
				t.Fatal(err)
			}
			if len(arts) != 1 {
				t.Fatalf("got %d articles, want 1", len(arts))
			}
			a := arts[0]
			if !a.Published.Equal(tt.published) || a.Published.Location() != time.UTC {
				t.Errorf("Published = %v, want %v in UTC", a.Published, tt.published)
			}
			if !a.Updated.Equal(tt.updated) {
				t.Errorf("Updated = %v, want %v", a.Updated, tt.updated)
			}
		})
	}
}

func TestParseDate(t *testing.T) {
	kst := time.FixedZone("KST", 9*3600)
	tests := []struct {
		in       string
		loc      *time.Location
		dayFirst bool
		want     string // RFC 3339 in UTC; "" when unreadable
	}{
		{"lun, 17 ago 2026 10:00:00 GMT", time.UTC, false, "2026-08-17T10:00:00Z"},     // Spanish, Italian
		{"mar, 18 ago 2026 10:00:00 +0200", time.UTC, false, "2026-08-18T08:00:00Z"},   // "mar" is Tuesday here, not March
		{"mer., 12 août 2026 10:00:00 +0200", time.UTC, false, "2026-08-12T08:00:00Z"}, // French
		{"mer. 12 août 2026 à 10h30", time.UTC, false, "2026-08-12T10:30:00Z"},         // French, 10h30
		{"Mi, 12 Aug 2026 10:00:00 +0200", time.UTC, false, "2026-08-12T08:00:00Z"},    // German
		{"Do, 12 Mär 2026 10:00:00 MEZ", time.UTC, false, "2026-03-12T09:00:00Z"},      // German March, German zone
		{"12. März 2026 10:00 Uhr", time.UTC, false, "2026-03-12T10:00:00Z"},           // German long form
		{"qua, 12 ago 2026 10:00:00 -0300", time.UTC, false, "2026-08-12T13:00:00Z"},   // Portuguese
		{"12 de agosto de 2026 10:00", time.UTC, false, "2026-08-12T10:00:00Z"},        // Spanish/Portuguese long form
		{"terça-feira, 3 de março de 2026 08:15:00 GMT", time.UTC, false, "2026-03-03T08:15:00Z"},
		{"wo, 12 mei 2026 10:00:00 +0200", time.UTC, false, "2026-05-12T08:00:00Z"},  // Dutch
		{"vr 3 okt 2026 09:00:00 CEST", time.UTC, false, "2026-10-03T07:00:00Z"},     // Dutch October
		{"gio, 17 dic 2026 10:00:00 GMT", time.UTC, false, "2026-12-17T10:00:00Z"},   // Italian
		{"2026년 8월 14일", kst, false, "2026-08-13T15:00:00Z"},                         // Korean, zone from the language
		{"2026년 8월 14일 오후 3시 20분", kst, false, "2026-08-14T06:20:00Z"},               // Korean afternoon
		{"2026.08.14 10:00", kst, false, "2026-08-14T01:00:00Z"},                     // Korean dotted
		{"2026.08.14 10:00", time.UTC, false, "2026-08-14T10:00:00Z"},                // …without a language
		{"2026年8月14日 10:00", time.UTC, false, "2026-08-14T10:00:00Z"},                // Chinese/Japanese
		{"14.08.2026 10:00", time.UTC, true, "2026-08-14T10:00:00Z"},                 // German numeric
		{"04/05/2026", time.UTC, true, "2026-05-04T00:00:00Z"},                       // day first
		{"04/05/2026", time.UTC, false, "2026-04-05T00:00:00Z"},                      // month first
		{"08/14/2026 10:00 PM", time.UTC, true, "2026-08-14T22:00:00Z"},              // unambiguous
		{"Fri, 14 Aug 2026 12:30 am EDT", time.UTC, false, "2026-08-14T04:30:00Z"},   // midnight hour, US zone
		{"Friday, August 14, 2026 - 10:00", time.UTC, false, "2026-08-14T10:00:00Z"}, // English long
		{"2026-08-14 10:00:00 GMT+9", time.UTC, false, "2026-08-14T01:00:00Z"},       // GMT+9
		{"2026-08-14T10:00:00.123+05:30", time.UTC, false, "2026-08-14T04:30:00Z"},   // ISO fraction
		{"20260814", time.UTC, false, "2026-08-14T00:00:00Z"},                        // compact
		{"14 Aug 26 10:00 GMT", time.UTC, false, "2026-08-14T10:00:00Z"},             // two-digit year
		{"31 Feb 2026", time.UTC, false, ""},                                         // no such day
		{"2026-13-01", time.UTC, false, ""},                                          // no such month
		{"25:00 14 Aug 2026", time.UTC, false, ""},                                   // no such hour
		{"8월 14일", kst, false, ""},                                                   // no year
		{"soon", time.UTC, false, ""},                                                // words
		{"", time.UTC, false, ""},                                                    // nothing
		{"1 2", time.UTC, false, ""},                                                 // too few numbers
		{strings.Repeat("2026 ", 100), time.UTC, false, ""},                          // too long
		{"Fri, 14 Aug 2026 10:00:00 +9999", time.UTC, false, ""},                     // bogus offset
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := parseDate(tt.in, tt.loc, tt.dayFirst)
			if tt.want == "" {
				if ok {
					t.Errorf("parseDate(%q) = %v, want no date", tt.in, got)
				}
				return
			}
			if !ok {
				t.Fatalf("parseDate(%q) found no date, want %s", tt.in, tt.want)
			}
			if s := got.Format(time.RFC3339); s != tt.want || got.Location() != time.UTC {
				t.Errorf("parseDate(%q) = %s (%v), want %s in UTC", tt.in, s, got.Location(), tt.want)
			}
		})
	}
}

func TestNormalize_LocalizedFeed(t *testing.T) {
	// A Korean feed whose dates gofeed cannot read: the feed's language
	// gives the zone.
	src := feeds.Source{Name: "KR", URL: "https://kr.example/rss"}
	arts := parseItems(t, src, `<language>ko</language>`,
		`<item><title>기사</title><link>https://kr.example/1</link><pubDate>2026.08.14 10:00</pubDate></item>`)
	if want := date("2026-08-14T01:00:00Z"); !arts[0].Published.Equal(want) {
		t.Errorf("Published = %v, want %v", arts[0].Published, want)
	}
}

func TestNormalize_Kind(t *testing.T) {
	tests := []struct {
		name string
		src  feeds.Source
		item string
		want feeds.Kind
	}{
		{"news", feeds.Source{Name: "n"}, `<title>Storm hits coast</title><link>https://k.example/news/1</link>`, feeds.KindNews},
		{"Hankyoreh title", feeds.Source{Name: "n"}, `<title>[Editorial] On the storm</title><link>https://k.example/arti/1</link>`, feeds.KindEditorial},
		{"HTML in the title is stripped first", feeds.Source{Name: "n"}, `<title>&lt;b&gt;[Editorial]&lt;/b&gt; On the storm</title><link>https://k.example/arti/2</link>`, feeds.KindEditorial},
		{"opinion path", feeds.Source{Name: "n"}, `<title>Why storms</title><link>https://k.example/opinion/2026/why</link>`, feeds.KindEditorial},
		{"category", feeds.Source{Name: "n"}, `<title>Why storms</title><link>https://k.example/x/3</link><category>Opinion</category>`, feeds.KindEditorial},
		{"editorial source", feeds.Source{Name: "n", Kind: feeds.KindEditorial}, `<title>Anything</title><link>https://k.example/x/4</link>`, feeds.KindEditorial},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.src.URL = "https://k.example/feed"
			arts := parseItems(t, tt.src, "", "<item>"+tt.item+"</item>")
			if arts[0].Kind != tt.want {
				t.Errorf("Kind = %q, want %q", arts[0].Kind, tt.want)
			}
		})
	}
}

func TestNormalize_TextFields(t *testing.T) {
	src := feeds.Source{Name: "T", URL: "https://t.example/feed"}
	long := strings.Repeat("word ", 100)
	arts := parseItems(t, src, `<title>T</title><dc:creator xmlns:dc="http://purl.org/dc/elements/1.1/">Feed Person</dc:creator>`, fmt.Sprintf(`
<item><title><![CDATA[<script>alert(1)</script>Safe &amp; <i>sound</i>]]></title><link>https://t.example/1</link>
<author>desk@t.example (Desk &lt;b&gt;Writer&lt;/b&gt;)</author>
<category>  A  </category><category>a</category><category></category><category>&lt;b&gt;B&lt;/b&gt;</category>
<description>%s</description></item>`, long))
	a := arts[0]
	tests := []struct{ field, got, want string }{
		{"Title", a.Title, "Safe & sound"},
		{"Author", a.Author, "Desk Writer"},
		{"Categories", strings.Join(a.Categories, "|"), "A|B"},
		{"Excerpt", a.Excerpt, strings.TrimSpace(strings.Repeat("word ", 56)) + "…"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s = %q, want %q", tt.field, tt.got, tt.want)
		}
	}
	if a.FirstSeen != (time.Time{}) {
		t.Errorf("FirstSeen = %v, want zero (the store sets it)", a.FirstSeen)
	}
	if a.Hash != feeds.ContentHash(a) {
		t.Errorf("Hash = %q, want ContentHash %q", a.Hash, feeds.ContentHash(a))
	}
}

func TestNormalize_Fragment(t *testing.T) {
	src := feeds.Source{Name: "Frag", URL: "https://frag.example/feed"}
	for _, tc := range []struct {
		name, link, wantLink, wantIdentity string
	}{
		{"kept", "https://frag.example/2002/09/29#When:6:56:02PM", "https://frag.example/2002/09/29#When:6:56:02PM", "https://frag.example/2002/09/29"},
		{"tracking dropped", "https://frag.example/a#xtor=RSS-3208&utm_source=rss", "https://frag.example/a", "https://frag.example/a"},
		{"tracking among others kept", "https://frag.example/a#xtor=RSS-1&p=2", "https://frag.example/a#xtor=RSS-1&p=2", "https://frag.example/a"},
		{"none", "https://frag.example/b", "https://frag.example/b", "https://frag.example/b"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			arts := parseItems(t, src, "", "<item><title>T</title><link>"+tc.link+"</link></item>")
			if len(arts) != 1 {
				t.Fatalf("got %d articles, want 1", len(arts))
			}
			a := arts[0]
			// Items without a guid keep the identity they had before
			// links kept their fragment, so that no stored item repeats.
			if a.Link != tc.wantLink || a.Identity != tc.wantIdentity || a.LinkKey != linkKey(tc.wantLink) {
				t.Errorf("link %q, identity %q, story key %q; want %q, %q, %q", a.Link, a.Identity, a.LinkKey,
					tc.wantLink, tc.wantIdentity, linkKey(tc.wantLink))
			}
		})
	}
}
