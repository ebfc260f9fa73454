package opml

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"
)

func parseFile(t *testing.T, name string) *Document {
	t.Helper()
	f, err := os.Open("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := Parse(f)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return doc
}

// Exports of the readers people come from, as each writes them.
func TestParse_Exports(t *testing.T) {
	type feed struct{ title, url, folders string }
	tests := []struct {
		file, version, title string
		n                    int
		some                 []feed
		skipped              []string
	}{
		{"miniflux.opml", "2.0", "Miniflux", 150, []feed{
			{"Brendan Gregg", "https://www.brendan-gregg.example.org/feeds/all.atom.xml", "Blogs"},
			{"Money & Banking", "", "Economy"},
			{"한겨레 사설", "", "Korea"},
		}, nil},
		{"feedly.opml", "1.0", "Jane subscriptions in feedly Cloud", 5, []feed{
			{"Ars Technica", "http://feeds.arstechnica.com/arstechnica/index", "Tech"},
			{"Ars Technica", "http://feeds.arstechnica.com/arstechnica/index", "Must Read"},
			{"The Verge - All Posts", "https://www.theverge.com/rss/index.xml", "Tech"},
		}, nil},
		{"inoreader.opml", "1.0", "Subscriptions of Jane Doe from Inoreader [https://www.inoreader.com]", 6, []feed{
			{"Google News - World", "https://news.google.com/rss/headlines/section/topic/WORLD?hl=en-US&gl=US&ceid=US:en", "World News"},
			{"Unfiled feed", "https://xkcd.com/atom.xml", ""},
		}, nil},
		{"freshrss.opml", "2.0", "FreshRSS", 3, []feed{
			{"The Guardian view", "https://www.theguardian.com/profile/editorial/rss", "Opinion"},
			{"FreshRSS releases", "https://github.com/FreshRSS/FreshRSS/releases.atom", "Uncategorized"},
		}, []string{`Scraped opinion page (type="HTML+XPath" is not a feed)`}},
		{"netnewswire.opml", "1.1", "Subscriptions-OnMyMac.opml", 5, []feed{
			{"Daring Fireball", "https://daringfireball.net/feeds/main", ""},
			{"MacStories", "https://www.macstories.net/feed/", "Blogs/Apps & Tools"},
		}, nil},
		{"newsboat.opml", "1.0", "newsboat - Exported Feeds", 4, []feed{
			{"", "https://www.theguardian.com/world/rss", ""},
			{"LWN.net", "https://lwn.net/headlines/rss", ""},
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			doc := parseFile(t, tt.file)
			if doc.Version != tt.version || doc.Title != tt.title || len(doc.Feeds) != tt.n {
				t.Errorf("version %q, title %q, %d feeds; want %q, %q, %d", doc.Version, doc.Title, len(doc.Feeds), tt.version, tt.title, tt.n)
			}
			for _, w := range tt.some {
				found := false
				for _, f := range doc.Feeds {
					if f.Title == w.title && (w.url == "" || f.URL == w.url) && strings.Join(f.Folders, "/") == w.folders {
						found = true
						if f.Line <= 0 {
							t.Errorf("%q has no line", f.Title)
						}
					}
				}
				if !found {
					t.Errorf("no feed %+v in %+v", w, doc.Feeds)
				}
			}
			if strings.Join(doc.Skipped, "|") != strings.Join(tt.skipped, "|") {
				t.Errorf("skipped %q, want %q", doc.Skipped, tt.skipped)
			}
		})
	}
}

func TestParse_Attributes(t *testing.T) {
	const doc = `<?xml version="1.0"?>
<opml version="2.0"><head><title>  Mine
 </title></head><body>
<outline text="Top"><outline text="" title="Only a title" xmlurl=" https://a.example/feed " category="/Tech/Go,news, ,/Korea"/></outline>
<outline type="link" text="A page" url="https://b.example/"/>
<outline type="include" url="https://c.example/more.opml"/>
<outline text="Site with feeds in it" xmlUrl="https://d.example/feed"><outline text="Sub" xmlUrl="https://d.example/sub"/></outline>
<outline text="after"><outline text="E &amp; F&nbsp;&#x1F600;" xmlUrl="https://e.example/"/></outline>
</body></opml>`
	d, err := Parse(strings.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	if d.Title != "Mine" {
		t.Errorf("title %q", d.Title)
	}
	got := []string{}
	for _, f := range d.Feeds {
		got = append(got, f.Title+"|"+f.URL+"|"+strings.Join(f.Folders, "/")+"|"+strings.Join(f.Categories, ","))
	}
	want := []string{
		"Only a title|https://a.example/feed|Top|Tech,Go,news,Korea",
		"Site with feeds in it|https://d.example/feed||",
		"Sub|https://d.example/sub|Site with feeds in it|",
		"E & F 😀|https://e.example/|after|",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("feeds:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if want := `A page (type="link" is not a feed)|https://c.example/more.opml (type="include" is not a feed)`; strings.Join(d.Skipped, "|") != want {
		t.Errorf("skipped %q", d.Skipped)
	}
}

// An export in another encoding than UTF-8 is read as it declares.
func TestParse_Latin1(t *testing.T) {
	doc := []byte("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><opml version=\"1.0\"><body><outline text=\"Caf\xe9 Cr\xe8me\" xmlUrl=\"https://a.example/\"/></body></opml>")
	d, err := Parse(bytes.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Feeds) != 1 || d.Feeds[0].Title != "Café Crème" {
		t.Errorf("feeds %+v", d.Feeds)
	}
}

// Hostile or wrong files are errors that say what they are, quickly and
// in bounded memory.
func TestParse_Errors(t *testing.T) {
	deep := "<opml><body>" + strings.Repeat("<outline text=\"x\">", MaxDepth+1) + strings.Repeat("</outline>", MaxDepth+1) + "</body></opml>"
	deepOther := "<opml><head>" + strings.Repeat("<a>", 1_000_000) + "</head></opml>"
	many := "<opml><body>" + strings.Repeat("<outline text=\"x\" xmlUrl=\"https://a.example/\"/>", MaxOutlines+1) + "</body></opml>"
	laughs := `<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<opml version="1.0"><body><outline text="&lol3;" xmlUrl="https://a.example/"/></body></opml>`
	tests := []struct {
		name, doc, want string
		line            int
	}{
		{"Empty", "", "the file is empty or not XML", 0},
		{"RSS", `<?xml version="1.0"?><rss version="2.0"><channel/></rss>`, "it starts with <rss>, not <opml>: it is a feed; add it with `broadsheet sources add URL`", 1},
		{"HTML", "<html><body>hi</body></html>", "it is a web page", 1},
		{"Broken", "<opml version=\"1.0\">\n<body>\n<outline text=\"a\" xmlUrl=\"https://a.example/\">\n</body></opml>", "not well-formed XML", 4},
		{"Entities", laughs, "not well-formed XML: invalid character entity &lol3;", 2},
		{"Deep", deep, "nested more than 64 deep", 1},
		{"DeepOther", deepOther, "nested more than 64 deep", 1},
		{"Many", many, "more than 100000 outlines", 1},
		{"Huge", "<opml><body><outline text=\"" + strings.Repeat("x", MaxBytes) + "\"/></body></opml>", "larger than 16 MiB", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(strings.NewReader(tt.doc))
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v (%T), want an *Error", err, err)
			}
			if !strings.Contains(e.Msg, tt.want) || e.Line != tt.line {
				t.Errorf("error %q at line %d, want %q at line %d", e.Msg, e.Line, tt.want, tt.line)
			}
		})
	}
}
