package fetch

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/broadsheet/broadsheet/feeds"
)

func date(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestClient_Parse_Formats(t *testing.T) {
	tests := []struct {
		name    string
		fixture string
		src     feeds.Source
		want    []feeds.Article
	}{
		{
			name:    "RSS 2.0",
			fixture: "rss20.xml",
			src:     feeds.Source{Name: "Daily", URL: "https://www.daily.example/feed.xml"},
			want: []feeds.Article{
				{
					Identity:   "daily-example-1001",
					Link:       "https://www.daily.example/news/2026/08/14/budget.html?id=7#comments",
					LinkKey:    "daily.example/news/2026/08/14/budget.html?id=7#comments",
					Title:      "Council approves new budget & tax plan",
					Summary:    `<p>The council <a href="https://www.daily.example/council" rel="nofollow noreferrer">voted</a> 7–2.</p>`,
					Content:    `<p>The council <a href="https://www.daily.example/council?utm_medium=x" rel="nofollow noreferrer">voted</a> 7–2 on Thursday.</p><img src="https://www.daily.example/img/budget.png"><p>More.</p>`,
					Excerpt:    "The council voted 7–2 on Thursday. More.",
					Author:     "Jane Reporter",
					Categories: []string{"Politics", "City Hall"},
					Language:   "en-us",
					Published:  date("2026-08-14T07:30:00Z"),
				},
				{
					Identity:  "https://www.daily.example/opinion/2026/08/13/why-budgets-matter",
					Link:      "https://www.daily.example/opinion/2026/08/13/why-budgets-matter",
					LinkKey:   "daily.example/opinion/2026/08/13/why-budgets-matter",
					Title:     "Opinion piece",
					Summary:   "Plain text description &amp; more.",
					Excerpt:   "Plain text description & more.",
					Language:  "en-us",
					Kind:      feeds.KindEditorial,
					Published: date("2026-08-13T18:00:00Z"),
				},
				{
					Identity:  "https://www.daily.example/news/untitled-item",
					Link:      "https://www.daily.example/news/untitled-item",
					LinkKey:   "daily.example/news/untitled-item",
					Title:     "An item without a title still gets one from its first words, which are these.",
					Summary:   "<p>An item without a title still gets one from its first words, which are these.</p>",
					Excerpt:   "An item without a title still gets one from its first words, which are these.",
					Language:  "en-us",
					Published: testNow,
				},
			},
		},
		{
			name:    "RSS 0.91",
			fixture: "rss091.xml",
			src:     feeds.Source{Name: "Old", URL: "http://oldschool.example/rss.xml"},
			want: []feeds.Article{{
				Identity:  "http://oldschool.example/stories/1999/12/31/first-light.html",
				Link:      "http://oldschool.example/stories/1999/12/31/first-light.html",
				LinkKey:   "oldschool.example/stories/1999/12/31/first-light.html",
				Title:     "First light",
				Summary:   "The first story of the feed.",
				Excerpt:   "The first story of the feed.",
				Language:  "en",
				Published: date("1999-12-31T00:00:00Z"),
			}},
		},
		{
			name:    "RSS 0.90",
			fixture: "rss090.xml",
			src:     feeds.Source{Name: "NS", URL: "http://netscape.example/rss.rdf"},
			want: []feeds.Article{{
				Identity:  "http://netscape.example/news/1999/03/15/mozilla.html",
				Link:      "http://netscape.example/news/1999/03/15/mozilla.html",
				LinkKey:   "netscape.example/news/1999/03/15/mozilla.html",
				Title:     "Mozilla & friends",
				Published: date("1999-03-15T00:00:00Z"),
			}},
		},
		{
			name:    "RDF",
			fixture: "rdf.xml",
			src:     feeds.Source{Name: "RDF", URL: "https://rdf.example/index.rdf"},
			want: []feeds.Article{{
				Identity:   "https://rdf.example/a/1",
				Link:       "https://rdf.example/a/1",
				LinkKey:    "rdf.example/a/1",
				Title:      "Ein Artikel",
				Summary:    "Beschreibung",
				Excerpt:    "Beschreibung",
				Author:     "Max Muster",
				Categories: []string{"Politik"},
				Language:   "de",
				Published:  date("2026-08-12T08:00:00Z"),
				Updated:    date("2026-08-12T08:00:00Z"),
			}},
		},
		{
			name:    "Atom 0.3",
			fixture: "atom03.xml",
			src:     feeds.Source{Name: "A03", URL: "https://atom03.example/atom.xml"},
			want: []feeds.Article{{
				Identity:  "tag:atom03.example,2026:1",
				Link:      "https://atom03.example/2026/08/legacy",
				LinkKey:   "atom03.example/2026/08/legacy",
				Title:     "Legacy entry",
				Summary:   "A summary in Atom 0.3.",
				Excerpt:   "A summary in Atom 0.3.",
				Author:    "Feed Author",
				Published: date("2026-08-10T11:00:00Z"),
				Updated:   date("2026-08-10T12:00:00Z"),
			}},
		},
		{
			name:    "Atom 1.0",
			fixture: "atom10.xml",
			src:     feeds.Source{Name: "Atom", URL: "https://atom.example/feed.atom"},
			want: []feeds.Article{
				{
					Identity:   "urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a",
					Link:       "https://atom.example/editorial/2026/08/12/rentree",
					LinkKey:    "atom.example/editorial/2026/08/12/rentree",
					Title:      "Éditorial : la rentrée",
					Summary:    "<p>Résumé piège</p>",
					Content:    "<p>Le <strong>texte</strong> complet.</p>",
					Excerpt:    "Le texte complet.",
					Author:     "Marie Dupont",
					Categories: []string{"Opinion"},
					Language:   "fr",
					Kind:       feeds.KindEditorial,
					Published:  date("2026-08-12T06:00:00Z"),
					Updated:    date("2026-08-12T09:00:00Z"),
				},
				{
					Identity:  "tag:atom.example,2026:2",
					Link:      "https://atom.example/news/only-updated",
					LinkKey:   "atom.example/news/only-updated",
					Title:     "Only updated",
					Summary:   "Updated only.",
					Excerpt:   "Updated only.",
					Author:    "La Rédaction",
					Language:  "fr",
					Published: date("2026-08-11T07:00:00Z"),
					Updated:   date("2026-08-11T07:00:00Z"),
				},
			},
		},
		{
			name:    "JSON Feed",
			fixture: "feed.json",
			src:     feeds.Source{Name: "JSON", URL: "https://json.example/feed.json"},
			want: []feeds.Article{
				{
					Identity:   "json-1",
					Link:       "https://json.example/posts/1",
					LinkKey:    "json.example/posts/1",
					Title:      "Hello <JSON>", // plain text in JSON Feed, kept as text
					Summary:    "<p>A short summary</p>",
					Content:    `<p>Hi <img src="https://json.example/a.png"> there</p>`,
					Excerpt:    "Hi there",
					Author:     "JSON Desk",
					Categories: []string{"Tech"},
					Language:   "en-GB",
					Published:  date("2026-08-11T12:00:00Z"),
					Updated:    date("2026-08-11T13:00:00Z"),
				},
				{
					Identity:  "json-2",
					Link:      "https://json.example/posts/2",
					LinkKey:   "json.example/posts/2",
					Title:     "Text only item without a title.",
					Content:   "<p>Text only item without a title.</p>",
					Excerpt:   "Text only item without a title.",
					Author:    "JSON Desk",
					Language:  "en-GB",
					Published: testNow,
				},
				{
					// content_text and summary are plain text: escaped, not stripped.
					Identity:  "json-3",
					Link:      "https://json.example/posts/3",
					LinkKey:   "json.example/posts/3",
					Title:     "Plain text everywhere",
					Summary:   "<p>Why &lt;b&gt; is not bold here</p>",
					Content:   "<p>First line: if a &lt; b<br>second line</p><p>Second paragraph &amp; more</p>",
					Excerpt:   "First line: if a < b second line Second paragraph & more",
					Author:    "JSON Desk",
					Language:  "en-GB",
					Published: date("2026-08-12T06:00:00Z"),
				},
			},
		},
		{
			name:    "Hankyoreh style: no dates, [Editorial] titles",
			fixture: "hani.xml",
			src:     feeds.Source{Name: "Hankyoreh", URL: "https://english.hani.co.kr/rss/english_edition"},
			want: []feeds.Article{
				{
					Identity:  "https://english.hani.co.kr/arti/english_edition/e_editorial/1153393.html",
					Link:      "https://english.hani.co.kr/arti/english_edition/e_editorial/1153393.html",
					LinkKey:   "english.hani.co.kr/arti/english_edition/e_editorial/1153393.html",
					Title:     "[Editorial] Seoul must answer for the heat wave deaths",
					Summary:   `<table><tr><td><img src="https://flexible.img.hani.co.kr/flexible/normal/800/533/imgdb/original/2026/0813/20260813500123.jpg"/></td></tr></table>The government should have acted sooner.`,
					Excerpt:   "The government should have acted sooner.",
					Language:  "en",
					Kind:      feeds.KindEditorial,
					Published: date("2026-08-13T00:00:00Z"), // from the image's /2026/0813/
				},
				{
					Identity:  "https://english.hani.co.kr/arti/english_edition/e_national/1153390.html",
					Link:      "https://english.hani.co.kr/arti/english_edition/e_national/1153390.html",
					LinkKey:   "english.hani.co.kr/arti/english_edition/e_national/1153390.html",
					Title:     "Court rules on labor case",
					Summary:   `<img src="https://flexible.img.hani.co.kr/flexible/normal/800/533/imgdb/resize/2026/0812/53_17231234567890_20260812503501.jpg"/>A ruling.`,
					Excerpt:   "A ruling.",
					Language:  "en",
					Published: date("2026-08-12T00:00:00Z"),
				},
				{
					Identity:  "https://english.hani.co.kr/arti/english_edition/e_national/1153380.html",
					Link:      "https://english.hani.co.kr/arti/english_edition/e_national/1153380.html",
					LinkKey:   "english.hani.co.kr/arti/english_edition/e_national/1153380.html",
					Title:     "Parliament debates budget",
					Summary:   "No picture, no date.",
					Excerpt:   "No picture, no date.",
					Language:  "en",
					Published: testNow, // first seen
				},
			},
		},
	}
	c := newTestClient(Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, dropped, err := c.Parse(tt.src, bytes.NewReader(readFixture(t, tt.fixture)), "")
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if dropped != 0 {
				t.Errorf("dropped = %d, want 0", dropped)
			}
			want := make([]feeds.Article, len(tt.want))
			for i, a := range tt.want {
				want[i] = complete(tt.src.Name, a)
			}
			diffArticles(t, got, want)
		})
	}
}

func TestClient_Parse_Charsets(t *testing.T) {
	tests := []struct {
		fixture     string
		contentType string
		title, desc string
	}{
		{"charset/euc-kr.xml", "", "한국어 제목: 사설", "본문 내용입니다"},
		{"charset/euc-kr.xml", "text/xml; charset=utf-8", "한국어 제목: 사설", "본문 내용입니다"},
		{"charset/euc-kr-nodecl.xml", "text/xml; charset=EUC-KR", "한국어 제목: 사설", "본문 내용입니다"},
		{"charset/big5.xml", "", "臺灣新聞標題", "繁體中文內容"},
		{"charset/big5-nodecl.xml", "application/rss+xml; charset=big5", "臺灣新聞標題", "繁體中文內容"},
		{"charset/windows-1252.xml", "", "Élection présidentielle – “résultats”", "Déjà vu € 5"},
		{"charset/windows-1252-nodecl.xml", `application/xml; charset="windows-1252"`, "Élection présidentielle – “résultats”", "Déjà vu € 5"},
		{"charset/windows-1252-nodecl.xml", "", "Élection présidentielle – “résultats”", "Déjà vu € 5"},
		{"charset/latin1-as-utf8.xml", "text/xml; charset=utf-8", "Crème brûlée", "Façade"},
		{"charset/invalid-utf8.xml", "", "Broken \uFFFD title", "ok"},
		{"charset/utf-16.xml", "", "Grüße aus Köln", "x"},
	}
	c := newTestClient(Options{})
	for _, tt := range tests {
		t.Run(tt.fixture+" "+tt.contentType, func(t *testing.T) {
			arts, _, err := c.Parse(feeds.Source{Name: "cs", URL: "https://charset.example/feed"}, bytes.NewReader(readFixture(t, tt.fixture)), tt.contentType)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if len(arts) != 1 {
				t.Fatalf("got %d articles, want 1", len(arts))
			}
			if got := arts[0].Title; got != tt.title {
				t.Errorf("title = %q, want %q", got, tt.title)
			}
			if got := arts[0].Summary; got != tt.desc {
				t.Errorf("summary = %q, want %q", got, tt.desc)
			}
		})
	}
}

func TestToUTF8(t *testing.T) {
	tests := []struct {
		name, in, contentType, want string
	}{
		{"utf8 unchanged", `<?xml version="1.0" encoding="utf-8"?><a>é</a>`, "", `<?xml version="1.0" encoding="utf-8"?><a>é</a>`},
		{"utf8 labelled latin1 by http", "<a>é</a>", "text/xml; charset=iso-8859-1", "<a>é</a>"},
		{"declaration rewritten", "<?xml version='1.0' encoding='ISO-8859-1'?><a>\xe9</a>", "", "<?xml version='1.0' encoding='UTF-8'?><a>é</a>"},
		{"unknown label rewritten", `<?xml version="1.0" encoding="x-bogus"?><a>b</a>`, "", `<?xml version="1.0" encoding="UTF-8"?><a>b</a>`},
		{"utf-16 label without BOM", `<?xml version="1.0" encoding="utf-16"?><a>b</a>`, "", `<?xml version="1.0" encoding="UTF-8"?><a>b</a>`},
		{"utf8 BOM stripped", "\xef\xbb\xbf<a/>", "", "<a/>"},
		{"U+FFFE dropped", "<a>x\uFFFEy\uFFFF</a>", "", "<a>xy</a>"},
		{"iso-2022-jp", "<a>\x1b$B$3$s$K$A$O\x1b(B</a>", "text/xml; charset=iso-2022-jp", "<a>こんにちは</a>"},
		{"mixed invalid kept as utf8", "<a>é\xff</a>", "", "<a>é\uFFFD</a>"},
		{"utf-16le without BOM", "<\x00?\x00x\x00m\x00l\x00?\x00>\x00<\x00a\x00/\x00>\x00", "", "<?xml?><a/>"},
		{"utf-16be without BOM", "\x00<\x00?\x00x\x00m\x00l\x00?\x00>\x00\xe9", "", "<?xml?>é"},
		{"utf-32le without BOM", "<\x00\x00\x00a\x00\x00\x00/\x00\x00\x00>\x00\x00\x00", "", "<a/>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(toUTF8([]byte(tt.in), tt.contentType))
			if got != tt.want {
				t.Errorf("toUTF8(%q, %q) = %q, want %q", tt.in, tt.contentType, got, tt.want)
			}
			if !utf8.ValidString(got) {
				t.Errorf("toUTF8(%q) is not valid UTF-8", tt.in)
			}
		})
	}
}

func TestClient_Parse_Errors(t *testing.T) {
	laughs := `<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<rss version="2.0"><channel><title>&lol9;</title><item><title>&lol9;</title><link>https://x.example/1</link><description>&lol9;</description></item></channel></rss>`

	tests := []struct {
		name        string
		body        string
		contentType string
		reason      []string // parts the error's reason must contain; none: no error
	}{
		{"HTML page advertising its feed", string(readFixture(t, "page.html")), "application/rss+xml",
			[]string{"this is a web page, not a feed; its feed seems to be at https://src.example/feed/: use that url"}},
		{"HTML login page", string(readFixture(t, "login.html")), "text/html",
			[]string{"this is a web page, not a feed", "check the source's url"}},
		{"HTML with base and atom link", `<html><head><base href="https://cdn.example/site/"><link rel="Alternate feed" type="application/atom+xml; charset=utf-8" href="atom.xml"></head></html>`, "",
			[]string{"its feed seems to be at https://cdn.example/site/atom.xml: use that url"}},
		{"XHTML page", `<?xml version="1.0"?><!DOCTYPE html><html xmlns="http://www.w3.org/1999/xhtml"><head><title>x</title></head></html>`, "application/xml",
			[]string{"this is a web page"}},
		{"plain text", "Service temporarily unavailable", "text/plain",
			[]string{"the response is not a feed gofeed can read (", "text/plain"}},
		{"broken XML", `<rss version="2.0"><channel><item><title>x</titl`, "",
			[]string{"the response is not a feed gofeed can read ("}},
		{"empty", "  \n ", "", []string{"empty response"}},
		{"JSON that is no feed", `{"error": "not found"}`, "application/json", []string{"JSON but not a JSON Feed"}},
		{"deep nesting", `<rss version="2.0"><channel><item><title>t</title><x:y xmlns:x="urn:x">` + strings.Repeat("<a>", maxDepth+10) + `</x:y></item></channel></rss>`, "",
			[]string{"nests elements more than"}},
		{"billion laughs are not expanded", laughs, "", nil},
		{"deeply nested JSON", strings.Repeat(`{"a":`, 200000) + "1" + strings.Repeat("}", 200000), "application/feed+json",
			[]string{"the response is not a feed gofeed can read (", "depth"}},
	}
	c := newTestClient(Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			arts, _, err := c.Parse(feeds.Source{Name: "e", URL: "https://src.example/feed"}, strings.NewReader(tt.body), tt.contentType)
			if tt.reason == nil {
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				for _, a := range arts {
					if len(a.Title)+len(a.Summary) > 1000 {
						t.Errorf("entity expanded: title %d bytes, summary %d bytes", len(a.Title), len(a.Summary))
					}
				}
				return
			}
			if err != nil && arts != nil {
				t.Errorf("got %d articles with the error", len(arts))
			}
			wantReason(t, err, tt.reason...)
		})
	}
}

func TestClient_Parse_DeepButLegal(t *testing.T) {
	// Sloppy unescaped HTML with unclosed void elements does not count as
	// nesting, and moderately deep XHTML parses.
	body := `<rss version="2.0"><channel><item><title>t</title><link>https://x.example/1</link><description>` +
		strings.Repeat("line<br>", 20000) + strings.Repeat("<div>", 100) + "deep" + strings.Repeat("</div>", 100) +
		`</description></item></channel></rss>`
	arts, _, err := newTestClient(Options{}).Parse(feeds.Source{Name: "d", URL: "https://x.example/feed"}, strings.NewReader(body), "")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if len(arts) != 1 {
		t.Fatalf("got %d articles, want 1", len(arts))
	}
}

func TestClient_Parse_MaxItems(t *testing.T) {
	feed := func(n int) string {
		var b strings.Builder
		b.WriteString(`<rss version="2.0"><channel><title>big</title>`)
		for i := range n {
			fmt.Fprintf(&b, "<item><title>Item %d</title><link>https://big.example/%d</link></item>", i, i)
		}
		b.WriteString(`</channel></rss>`)
		return b.String()
	}
	tests := []struct {
		name        string
		items, max  int
		wantN, drop int
	}{
		{"50,000 items, default cap", 50000, 0, 1000, 49000},
		{"custom cap", 100, 10, 10, 90},
		{"cap above count", 100, 200, 100, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newTestClient(Options{MaxItems: tt.max})
			arts, dropped, err := c.Parse(feeds.Source{Name: "big", URL: "https://big.example/feed"}, strings.NewReader(feed(tt.items)), "")
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if len(arts) != tt.wantN || dropped != tt.drop {
				t.Fatalf("got %d articles, %d dropped; want %d, %d", len(arts), dropped, tt.wantN, tt.drop)
			}
			// The first items of the document are the ones kept.
			if arts[0].Title != "Item 0" || arts[len(arts)-1].Title != fmt.Sprintf("Item %d", tt.wantN-1) {
				t.Errorf("kept %q … %q, want Item 0 … Item %d", arts[0].Title, arts[len(arts)-1].Title, tt.wantN-1)
			}
		})
	}
}

func TestClient_Parse_BodyCap(t *testing.T) {
	c := newTestClient(Options{MaxBodyBytes: 1 << 10})
	body := `<rss version="2.0"><channel>` + strings.Repeat("<item><title>x</title></item>", 100) + `</channel></rss>`
	_, _, err := c.Parse(feeds.Source{Name: "cap", URL: "https://cap.example/"}, strings.NewReader(body), "")
	wantReason(t, err, "the feed is larger than the 1 KiB limit (fetch.max_body_bytes)")
}

func TestTooDeep(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want bool
	}{
		{"flat", strings.Repeat("<a>x</a>", 100), false},
		{"nested at the limit", strings.Repeat("<a>", 10) + strings.Repeat("</a>", 10), false},
		{"nested over the limit", strings.Repeat("<a>", 11), true},
		{"self-closing", strings.Repeat("<a/>", 100), false},
		{"void elements", strings.Repeat("<br><img src='x'><HR>", 100), false},
		{"comments", "<!--" + strings.Repeat("<a>", 100) + "-->", false},
		{"cdata", "<![CDATA[" + strings.Repeat("<a>", 100) + "]]>", false},
		{"quoted gt", strings.Repeat(`<a title="<b>">`, 11), true},
		{"quoted gt flat", strings.Repeat(`<a title="x>y"/>`, 100), false},
		{"text lt", strings.Repeat("1 < 2 ", 100), false},
		{"processing instruction", "<?xml version='1.0'?>" + strings.Repeat("<?pi <a>?>", 100), false},
		{"doctype", `<!DOCTYPE x [<!ENTITY a "b">]>` + strings.Repeat("<a/>", 20), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tooDeep([]byte(tt.in), 10); got != tt.want {
				t.Errorf("tooDeep(%.40q…, 10) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}
