package publish

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"path"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"
	"golang.org/x/net/html"

	"github.com/broadsheet/broadsheet/feeds"
	"github.com/broadsheet/broadsheet/feeds/fetch"
	"github.com/broadsheet/broadsheet/topics"
)

// allPaths lists every path the fixture handler serves.
func allPaths(h *Handler) []string {
	s := h.snap.Load()
	var ps []string
	for p := range s.paths {
		ps = append(ps, p)
	}
	for p := range s.lazy {
		ps = append(ps, p)
	}
	slices.Sort(ps)
	return ps
}

// TestHandler_Stable checks that ids, bytes and ETags do not change across
// Refreshes of the same data, nor between two handlers (two replicas) on
// the same store, even when their clocks differ.
func TestHandler_Stable(t *testing.T) {
	h1, st := newFixture(t)
	first := map[string]string{}
	for _, p := range allPaths(h1) {
		first[p] = get(t, h1, "GET", p, nil).Header.Get("ETag")
	}
	ids := entryIDs(t, get(t, h1, "GET", "/feed.atom", nil))

	if err := h1.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	opts := fixtureOptions()
	opts.Groups = fixtureGroups(st)
	opts.Now = func() time.Time { return now.Add(17 * time.Minute) } // another replica, another moment
	h2 := New(st, opts)
	if err := h2.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	for name, h := range map[string]*Handler{"AfterRefresh": h1, "OtherReplica": h2} {
		t.Run(name, func(t *testing.T) {
			if got, want := allPaths(h), allPaths(h1); !slices.Equal(got, want) {
				t.Fatalf("paths %q, want %q", got, want)
			}
			for _, p := range allPaths(h) {
				for _, ae := range []string{"", "gzip"} {
					res := get(t, h, "GET", p, map[string]string{"Accept-Encoding": ae})
					if ae == "" && res.Header.Get("ETag") != first[p] {
						t.Errorf("%s: ETag %s, want %s", p, res.Header.Get("ETag"), first[p])
					}
					// A validator from one replica is good at the other.
					res = get(t, h, "GET", p, map[string]string{"If-None-Match": first[p]})
					if res.StatusCode != http.StatusNotModified {
						t.Errorf("%s with the first ETag: status %d, want 304", p, res.StatusCode)
					}
				}
			}
			if got := entryIDs(t, get(t, h, "GET", "/feed.atom", nil)); !slices.Equal(got, ids) {
				t.Errorf("entry ids %q, want %q", got, ids)
			}
		})
	}
}

func entryIDs(t *testing.T, res *http.Response) []string {
	t.Helper()
	f, err := gofeed.NewParser().Parse(bytes.NewReader(body(t, res)))
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, it := range f.Items {
		ids = append(ids, it.GUID)
	}
	return ids
}

// TestHandler_Dedup checks that a story carried by two sources appears once
// in the combined feeds and the page, and in each source's own feed.
func TestHandler_Dedup(t *testing.T) {
	h, _ := newFixture(t)
	arts := fixtureArticles()
	dp, bugle := arts[3], arts[4] // the storm wire story
	tests := []struct {
		path string
		want []string // ids of the storm story expected
	}{
		{"/feed.atom", []string{dp.ID}},
		{"/feed.rss", []string{dp.ID}},
		{"/feed.json", []string{dp.ID}},
		{"/sources/daily-planet.atom", []string{dp.ID}},
		{"/sources/the-bugle.atom", []string{bugle.ID}},
		{"/sources/the-bugle.json", []string{bugle.ID}},
	}
	for _, tt := range tests {
		t.Run(strings.TrimPrefix(tt.path, "/"), func(t *testing.T) {
			f, err := gofeed.NewParser().Parse(bytes.NewReader(body(t, get(t, h, "GET", tt.path, nil))))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, it := range f.Items {
				if it.Link == dp.Link {
					got = append(got, strings.TrimPrefix(it.GUID, idPrefix))
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("storm entries %q, want %q", got, tt.want)
			}
		})
	}
	t.Run("Page", func(t *testing.T) {
		doc := parseHTML(t, body(t, get(t, h, "GET", "/", nil)))
		n := 0
		walk(doc, func(n2 *html.Node) {
			if n2.Type == html.ElementNode && n2.Data == "a" && attr(n2, "href") == dp.Link {
				n++
			}
		})
		if n != 1 {
			t.Errorf("page links the storm story %d times, want 1", n)
		}
	})
	t.Run("AlsoIn", func(t *testing.T) {
		var f struct {
			Items []struct {
				ID  string `json:"id"`
				Ext struct {
					AlsoIn []string `json:"also_in"`
				} `json:"_broadsheet"`
			} `json:"items"`
		}
		if err := json.Unmarshal(body(t, get(t, h, "GET", "/feed.json", nil)), &f); err != nil {
			t.Fatal(err)
		}
		for _, it := range f.Items {
			if it.ID == idPrefix+dp.ID && !slices.Equal(it.Ext.AlsoIn, []string{"The Bugle"}) {
				t.Errorf("also_in = %q, want [The Bugle]", it.Ext.AlsoIn)
			}
		}
	})
	t.Run("StableAsOutletsJoin", func(t *testing.T) {
		// A third outlet carries the story later: the combined feed keeps
		// the first copy's id, so readers do not see it again.
		st := &memStore{arts: fixtureArticles()}
		late := article("Opinion Weekly", "ow-storm", "Storm hits the coast", dp.Link, at(11, 45))
		st.arts = append(st.arts, late)
		h := New(st, fixtureOptions())
		if err := h.Refresh(context.Background()); err != nil {
			t.Fatal(err)
		}
		ids := entryIDs(t, get(t, h, "GET", "/feed.atom", nil))
		if !slices.Contains(ids, idPrefix+dp.ID) || slices.Contains(ids, idPrefix+late.ID) || slices.Contains(ids, idPrefix+bugle.ID) {
			t.Errorf("ids %q: want the first copy %s only", ids, dp.ID)
		}
	})
}

// hostile is an article from a feed that tries every injection. Its
// summary and content are as ingest stores them: publish does not
// sanitize stored HTML again (ingest cleans once), so they go through
// fetch here, and the test checks what a hostile feed can get through
// ingest and publish together. Its title, author and excerpt are left raw,
// as a writer other than ingest might leave them: publish's text
// functions escape those (sanitize.Plain), cheaply, on every output.
func hostile() feeds.Article {
	a := article("Daily Planet", "evil-1", `<script>alert("title")</script>Breaking &lt;script&gt;alert(2)&lt;/script&gt; news <img src=x onerror=alert(3)>`, "javascript:alert(4)", at(11, 50))
	a.LinkKey = "evil"
	a.Author = `<img src=x onerror=alert(5)>Eve "the hacker"`
	a.Summary, a.Content = ingestHTML(
		`<p onclick="alert(6)">Hi<script>alert(7)</script></p><a href="javascript:alert(8)">click</a><img src="x" onerror="alert(9)"><iframe src="https://evil.example/"></iframe>`,
		`<div style="background:url(javascript:alert(10))"><a href="  JaVaScRiPt:alert(11)">x</a><svg onload=alert(12)></svg><object data="evil.swf"></object></div><p>Body text.</p>`)
	a.Excerpt = `<script>alert(13)</script>excerpt`
	return a
}

// ingestHTML returns summary and content as fetch stores them, read from
// an RSS item's description and content:encoded.
func ingestHTML(summary, content string) (string, string) {
	var b strings.Builder
	b.WriteString(`<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>t</title><item><guid>x</guid><description>`)
	xml.EscapeText(&b, []byte(summary))
	b.WriteString(`</description><content:encoded>`)
	xml.EscapeText(&b, []byte(content))
	b.WriteString(`</content:encoded></item></channel></rss>`)
	arts, _, err := fetch.New(fetch.Options{}).Parse(feeds.Source{Name: "ingest", URL: "https://ingest.example/feed"}, strings.NewReader(b.String()), "application/rss+xml")
	if err != nil || len(arts) != 1 {
		panic(fmt.Sprintf("ingest: %d articles, %v", len(arts), err))
	}
	return arts[0].Summary, arts[0].Content
}

// TestHandler_XSS renders an article whose every field carries script and
// parses each output to check that none survives: no script or active
// element, no event handler attribute, no javascript: URL, neither in the
// feeds' XML or JSON nor in the HTML they carry, nor in the page.
func TestHandler_XSS(t *testing.T) {
	// A second outlet on the story, so that it has a feed and a page.
	also := hostile()
	also.Source, also.ID, also.LinkKey = "The Bugle", feeds.ArticleID("The Bugle", "evil-2"), "evil-2"
	also.Published = also.Published.Add(-time.Minute)
	st := &memStore{arts: append(fixtureArticles(), hostile(), also)}
	opts := fixtureOptions()
	opts.Groups = newGroups(st,
		members("evil-topic", `<script>alert("topic")</script>Evil <b onmouseover=alert(15)>topic</b>`, topics.KindConfigured, hostile().ID),
		members("evil", `<script>alert("label")</script>Evil <b onmouseover=alert(14)>topic</b>`, topics.KindStory, hostile().ID, also.ID))
	h := New(st, opts)
	if err := h.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, p := range allPaths(h) {
		t.Run(strings.TrimPrefix(p, "/"), func(t *testing.T) {
			b := body(t, get(t, h, "GET", p, nil))
			switch {
			case p == "/" || strings.HasSuffix(p, ".html") || strings.HasPrefix(p, "/topics/") && path.Ext(p) == "":
				checkHTML(t, "page", string(b))
			case strings.HasSuffix(p, ".json"):
				var v any
				if err := json.Unmarshal(b, &v); err != nil {
					t.Fatal(err)
				}
				walkJSON(v, "", func(key, s string) {
					checkText(t, key, s)
					if key == "content_html" || key == "summary" {
						checkHTML(t, key, s)
					}
				})
			default:
				checkXML(t, b)
			}
		})
	}
	t.Run("TitleKeepsItsText", func(t *testing.T) {
		f, err := gofeed.NewParser().Parse(bytes.NewReader(body(t, get(t, h, "GET", "/topics/evil.atom", nil))))
		if err != nil {
			t.Fatal(err)
		}
		i := slices.IndexFunc(f.Items, func(it *gofeed.Item) bool { return it.GUID == idPrefix+hostile().ID })
		if i < 0 {
			t.Fatalf("the story's feed lacks the hostile item")
		}
		f.Items[0] = f.Items[i]
		if got, want := f.Items[0].Title, "Breaking news"; got != want {
			t.Errorf("title = %q, want %q", got, want)
		}
		if got, want := f.Items[0].Authors[0].Name, `Eve "the hacker" · Daily Planet`; got != want {
			t.Errorf("author = %q, want %q", got, want)
		}
		if f.Items[0].Link != "" {
			t.Errorf("link = %q, want none", f.Items[0].Link)
		}
		if !strings.Contains(f.Items[0].Content, "Body text.") {
			t.Errorf("content %q lost the article's text", f.Items[0].Content)
		}
	})
}

// htmlFields are the XML elements whose text is HTML.
var htmlFields = map[string]bool{"summary": true, "content": true, "description": true, "encoded": true}

// checkXML walks every element, attribute and text of an XML document.
func checkXML(t *testing.T, b []byte) {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(b))
	var stack []string
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("XML: %v", err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			stack = append(stack, tok.Name.Local)
			if tok.Name.Local == "script" {
				t.Errorf("script element in the XML")
			}
			for _, a := range tok.Attr {
				checkAttr(t, tok.Name.Local, a.Name.Local, a.Value)
			}
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) == 0 {
				continue
			}
			s := string(tok)
			el := stack[len(stack)-1]
			if htmlFields[el] {
				checkHTML(t, el, s)
			} else {
				checkText(t, el, s)
			}
		}
	}
}

// checkText fails if plain text would carry markup or a script URL to a
// reader that takes it as HTML.
func checkText(t *testing.T, where, s string) {
	t.Helper()
	l := strings.ToLower(s)
	for _, bad := range []string{"<script", "javascript:", "onerror", "onload", "onclick", "onmouseover", "<img", "<b "} {
		if strings.Contains(l, bad) {
			t.Errorf("%s: text %q carries %q", where, s, bad)
		}
	}
}

// checkHTML parses s as HTML and fails on any active content.
func checkHTML(t *testing.T, where, s string) {
	t.Helper()
	walk(parseHTML(t, []byte(s)), func(n *html.Node) {
		if n.Type == html.TextNode && n.Parent != nil && n.Parent.Data != "style" {
			checkText(t, where+" text", n.Data)
		}
		if n.Type != html.ElementNode {
			return
		}
		switch n.Data {
		case "script", "iframe", "object", "embed", "svg", "math", "form", "base", "meta":
			if !(n.Data == "meta" && where == "page") {
				t.Errorf("%s: <%s> element survived", where, n.Data)
			}
		}
		for _, a := range n.Attr {
			checkAttr(t, n.Data, a.Key, a.Val)
		}
	})
}

func checkAttr(t *testing.T, el, key, val string) {
	t.Helper()
	k := strings.ToLower(key)
	if strings.HasPrefix(k, "on") {
		t.Errorf("<%s %s=%q>: event handler survived", el, key, val)
	}
	if k == "style" && el != "style" {
		t.Errorf("<%s style=%q>: inline style survived", el, val)
	}
	v := strings.ToLower(strings.Join(strings.Fields(val), ""))
	if strings.Contains(v, "javascript:") || strings.Contains(v, "data:text") || strings.Contains(v, "vbscript:") {
		t.Errorf("<%s %s=%q>: script URL survived", el, key, val)
	}
}

func parseHTML(t *testing.T, b []byte) *html.Node {
	t.Helper()
	doc, err := html.Parse(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func walk(n *html.Node, f func(*html.Node)) {
	f(n)
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		walk(c, f)
	}
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// walkJSON calls f with every string in v and the key it is under.
func walkJSON(v any, key string, f func(key, s string)) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			walkJSON(x, k, f)
		}
	case []any:
		for _, x := range v {
			walkJSON(x, key, f)
		}
	case string:
		f(key, v)
	}
}

// TestHandler_PageStories checks the front page against the read model:
// the configured topic's card holds the story of three outlets as one
// block with every outlet, the story has no card of its own, and no item's
// headline or link appears twice.
func TestHandler_PageStories(t *testing.T) {
	h, _ := newFixture(t)
	doc := parseHTML(t, body(t, get(t, h, "GET", "/", nil)))
	arts := fixtureArticles()
	links, texts := map[string]int{}, map[string]int{}
	var climate *html.Node
	cards := 0
	walk(doc, func(n *html.Node) {
		if n.Type != html.ElementNode {
			return
		}
		switch {
		case n.Data == "a":
			links[attr(n, "href")]++
		case n.Data == "section" && strings.Contains(attr(n, "class"), "topic"):
			cards++
			if attr(n, "id") == "topic-climate" {
				climate = n
			}
		case n.Data == "h2" || n.Data == "h3" || n.Data == "p" && attr(n, "class") == "headline":
			texts[textOf(n)]++
		}
	})
	for _, a := range arts {
		if a.Link != "" && links[a.Link] > 1 {
			t.Errorf("page links %s %d times, want once", a.Link, links[a.Link])
		}
		if texts[a.Title] > 1 {
			t.Errorf("page shows the headline %q %d times, want once", a.Title, texts[a.Title])
		}
	}
	if climate == nil {
		t.Fatal("no card for the configured topic climate")
	}
	var outlets []string
	walk(climate, func(n *html.Node) {
		if n.Type == html.ElementNode && slices.Contains(strings.Fields(attr(n, "class")), "outlet") {
			outlets = append(outlets, textOf(n))
		}
	})
	slices.Sort(outlets)
	if want := []string{"Daily Planet", "Opinion Weekly", "The Bugle"}; !slices.Equal(outlets, want) {
		t.Errorf("the climate card's story shows outlets %q, want %q", outlets, want)
	}
	if links[h.abs("topics/summit-talks")] != 1 {
		t.Errorf("page links the story's page %d times, want once (from its block in the topic)", links[h.abs("topics/summit-talks")])
	}
	// Climate, the storm story, the other stories.
	if cards != 3 {
		t.Errorf("%d cards, want 3", cards)
	}
}

// textOf is n's text, spaces collapsed.
func textOf(n *html.Node) string {
	var b strings.Builder
	walk(n, func(c *html.Node) {
		if c.Type == html.TextNode {
			b.WriteString(c.Data)
		}
	})
	return strings.Join(strings.Fields(b.String()), " ")
}
