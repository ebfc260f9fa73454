package publish

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"strings"
	"time"

	"github.com/broadsheet/broadsheet/feeds"
	"github.com/broadsheet/broadsheet/sanitize"
	"github.com/broadsheet/broadsheet/topics"
)

//go:embed page.html
var pageHTML string

// pageTmpl is parsed once: a broken template fails every test at once.
var pageTmpl = template.Must(template.New("page.html").Parse(pageHTML))

// pageCSS is the page's only style sheet, inline so that the page is one
// request, and allowed by hash in the Content-Security-Policy.
const pageCSS = `
:root{color-scheme:light dark;--bg:#fbfaf7;--fg:#1d1d1f;--muted:#5f6368;--rule:#e3e0d8;--card:#fff;--accent:#8b1e1e;--badge:#efe9dd;--badge-many:#8b1e1e;--badge-many-fg:#fff;--sans:system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","Noto Sans CJK KR","Apple SD Gothic Neo","Malgun Gothic","Hiragino Sans","PingFang SC","Microsoft YaHei",sans-serif;--serif:Georgia,"Times New Roman","Noto Serif CJK KR","Nanum Myeongjo","AppleMyungjo","Hiragino Mincho ProN","Songti SC",serif}
@media (prefers-color-scheme:dark){:root{--bg:#121212;--fg:#e8e6e3;--muted:#a0a0a0;--rule:#2e2e2e;--card:#1b1b1b;--accent:#f08a8a;--badge:#2a2620;--badge-many:#f08a8a;--badge-many-fg:#1b1b1b}}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--fg);font:1rem/1.55 var(--sans);overflow-wrap:break-word}
:lang(ko){word-break:keep-all}
a{color:var(--accent)}
a:hover{text-decoration-thickness:2px}
.wrap{max-width:72rem;margin:0 auto;padding:0 1rem}
.masthead{border-bottom:3px double var(--rule);padding:1.25rem 0 .75rem;margin-bottom:1.25rem}
.masthead h1{margin:0;font:700 clamp(1.8rem,5vw,2.8rem)/1.1 var(--serif);letter-spacing:-.01em}
.masthead h1 a{color:inherit;text-decoration:none}
.lede{margin:.35rem 0 .6rem;color:var(--muted)}
.subscribe{display:flex;flex-wrap:wrap;gap:.35rem .9rem;font-size:.9rem}
.subscribe span{color:var(--muted)}
.layout{display:grid;gap:1.5rem}
@media (min-width:60rem){.layout{grid-template-columns:minmax(0,1fr) 17rem}}
.topic{background:var(--card);border:1px solid var(--rule);border-radius:.6rem;padding:1rem 1.1rem;margin-bottom:1.25rem}
.topic-head h2,.page-head h2{margin:0;font:700 1.35rem/1.25 var(--serif)}
.page-head h2{font-size:1.7rem}
.topic-head h2 a{color:inherit;text-decoration:none}
.topic-head h2 a:hover{color:var(--accent);text-decoration:underline}
.back{margin:0 0 .75rem;font-size:.9rem}
.meta{margin:.25rem 0 .5rem;font-size:.85rem;color:var(--muted)}
.badge{display:inline-block;padding:0 .5rem;border-radius:1rem;background:var(--badge);color:var(--fg);font-weight:600}
.badge.many{background:var(--badge-many);color:var(--badge-many-fg)}
.stories,.items,.outlets{list-style:none;margin:0;padding:0}
.stories>li,.item{padding:.7rem 0;border-top:1px solid var(--rule)}
.stories>li:first-child,.item:first-child{border-top:0}
.story h3,.item h3{margin:0;font-size:1.05rem;line-height:1.35}
.story h3 a,.item h3 a{color:var(--fg);text-decoration:none}
.story h3 a:hover,.item h3 a:hover{color:var(--accent);text-decoration:underline}
.outlets>li{padding:.35rem 0 .35rem .75rem;border-left:3px solid var(--rule);margin:.35rem 0}
.headline{margin:.1rem 0 0;font-weight:600}
.headline a{color:var(--fg);text-decoration:none}
.headline a:hover{color:var(--accent);text-decoration:underline}
.byline{margin:.15rem 0 0;font-size:.85rem;color:var(--muted)}
.outlet{font-weight:600;color:var(--fg)}
a.outlet{text-decoration:none}
a.outlet:hover{text-decoration:underline}
.kind{font-size:.75rem;text-transform:uppercase;letter-spacing:.05em;color:var(--accent)}
.excerpt{margin:.3rem 0 0;color:var(--fg);opacity:.9}
.more{margin:.5rem 0 0;font-size:.9rem}
.extra-head{margin:1rem 0 .25rem;font-size:1rem}
.empty{color:var(--muted)}
.sidebar h2{margin:0 0 .5rem;font:700 1.1rem/1.2 var(--serif)}
.sources{list-style:none;margin:0;padding:0;font-size:.9rem}
.sources li{padding:.4rem 0;border-top:1px solid var(--rule)}
.sources .name{font-weight:600}
.sources .links{display:block;font-size:.8rem}
.sources .links a{margin-right:.5rem}
.updated{font-size:.8rem;color:var(--muted)}
.foot{border-top:1px solid var(--rule);margin-top:1rem;font-size:.8rem;color:var(--muted)}
@media (max-width:30rem){.topic{padding:.8rem;border-radius:0;border-left:0;border-right:0;margin-left:-1rem;margin-right:-1rem}}
`

// pageCSP allows the inline style sheet by its hash and nothing else: no
// script, no frames, no forms, no images.
var pageCSP = func() string {
	sum := sha256.Sum256([]byte(pageCSS))
	return "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
}()

type pageData struct {
	Title, Description                string
	CSS                               template.CSS
	Home, Atom, RSS, JSON, Editorials string
	OPML                              string
	Cards                             []pageCard
	Sources                           []pageSource
	Updated, UpdatedISO               string
	// Topic is set on a topic's or a story's own page.
	Topic *topicPage
	// Empty says why there is no item yet, when there is none, and
	// Failing lists the sources whose last poll failed.
	Empty   string
	Failing []pageFailing
}

type pageFailing struct {
	Name, Reason, Status, Next string
	Failures                   int
}

// pageCard is one card of the front page: a configured topic with its
// stories, one story, or the other stories.
type pageCard struct {
	ID, Kind, Label string
	URL, Feed       string // the topic's page and Atom feed; empty for none
	Count           string // what the card holds: "4 stories from 3 outlets"
	Many            bool   // more than one outlet
	Opinion         bool   // a story of opinion pieces only
	Stories         []pageStory
	More            int // stories left for the topic's page
	Lang            string
}

// pageStory is one story: its label once, then each outlet's item.
type pageStory struct {
	Label, URL, Lang, Feed string
	Outlets                int
	OutletsText            string
	Opinion                bool // every item is an opinion piece: marked once
	Items                  []pageItem
	More                   int        // outlets left for the story's page
	Extra                  []pageItem // on the story's page: the outlets' other items
}

type pageItem struct {
	Title              string // empty when it is the story's label, shown above it
	Link, Outlet, Lang string
	// OutletLink links the outlet's name to the item, when neither its
	// headline nor the story's heading does.
	OutletLink    string
	Also, Excerpt string // Also: the other outlets carrying the same link
	When, ISO     string
	Opinion       bool        // marked on the item when its story is not all opinion
	Media         []mediaLink // its enclosures: "audio, 34 MB"
}

type pageSource struct {
	Name, Slug, Atom, RSS, JSON string
	Editorial                   bool
}

// topicPage is the head of a topic's or a story's own page.
type topicPage struct {
	Label, Lang, Count, Kind string
	Atom, RSS, JSON          string
	In                       []pageLink // configured topics holding the story
}

type pageLink struct{ Label, URL string }

// Page limits: the page is a front page, the topics' pages and the feeds
// hold the rest.
const (
	pageStoriesPerTopic = 6
	pageOutletsPerStory = 8
	pageOther           = 30
)

const (
	// pageTime shows times in the page's zone, named.
	pageTime = "Mon 2 Jan 2006, 15:04 MST"
	isoTime  = "2006-01-02T15:04:05Z07:00"
)

// when formats t for the page, in its zone.
func (h *Handler) when(t time.Time) (text, iso string) {
	return t.In(h.opts.Location).Format(pageTime), t.UTC().Format(isoTime)
}

// frame is what every page shares.
func (h *Handler) frame() pageData {
	return pageData{
		Title:       h.opts.Title,
		Description: h.description(),
		CSS:         template.CSS(pageCSS),
		Home:        h.abs(""),
		Atom:        h.abs("feed.atom"),
		RSS:         h.abs("feed.rss"),
		JSON:        h.abs("feed.json"),
		Editorials:  h.abs("editorials.atom"),
		OPML:        h.abs("opml.xml"),
	}
}

// page renders the front page: a card per configured topic holding its
// stories, then one per story several outlets cover, then the other
// stories, and the sources with their feeds. No item is shown twice.
func (h *Handler) page(d *data) ([]byte, error) {
	p := h.frame()
	for _, g := range d.Page {
		c := pageCard{Kind: string(g.Kind), Label: g.Label, Many: g.Outlets > 1}
		switch g.Kind {
		case topics.KindConfigured:
			c.ID = "topic-" + g.Slug
			c.Count = storiesText(len(g.Stories), g.Outlets)
		case topics.KindStory:
			c.ID = "story-" + g.Slug
			c.Count = plural(g.Outlets, "outlet")
			c.Opinion = g.Stories[0].Editorial()
			c.Lang = g.Stories[0].Items[0].Language
		default:
			c.ID = "other"
			c.Count = plural(len(g.Stories), "story")
			if len(p.Cards) == 0 {
				c.Label = "Latest"
			}
		}
		if g.Slug != "" {
			c.URL, c.Feed = h.abs("topics/"+g.Slug), h.abs("topics/"+g.Slug+".atom")
		}
		if g.Kind == topics.KindStory && g.Slug == "" {
			// A story found by its shared link alone has no page: its
			// heading links to the item.
			c.ID = "story-" + g.Stories[0].Items[0].ID
		}
		if g.Kind == topics.KindOther {
			c.Many = false
		}
		limit := pageStoriesPerTopic
		if g.Kind == topics.KindOther {
			limit = pageOther
		}
		for i, st := range g.Stories {
			if i == limit {
				c.More = len(g.Stories) - i
				break
			}
			c.Stories = append(c.Stories, h.pageStory(d, st, pageOutletsPerStory))
		}
		if g.Kind == topics.KindStory {
			c.URL = c.Stories[0].URL
		}
		p.Cards = append(p.Cards, c)
	}
	for _, sf := range d.Sources {
		p.Sources = append(p.Sources, pageSource{
			Name:      outletName(sf.Source.Name),
			Slug:      sf.Slug,
			Atom:      h.abs("sources/" + sf.Slug + ".atom"),
			RSS:       h.abs("sources/" + sf.Slug + ".rss"),
			JSON:      h.abs("sources/" + sf.Slug + ".json"),
			Editorial: sf.Source.Kind == feeds.KindEditorial,
		})
	}
	if t := newest(d.Combined); !t.IsZero() {
		p.Updated, p.UpdatedISO = h.when(t)
	}
	if len(p.Cards) == 0 {
		p.Empty, p.Failing = emptyState(d.States, h.opts.Window, h.opts.Location)
	}
	var b bytes.Buffer
	if err := pageTmpl.ExecuteTemplate(&b, "page", p); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// emptyState says, in plain words, why the page has no item yet, and
// lists the sources whose last poll failed, with why (as `broadsheet
// sources` says it) and when they are tried again.
func emptyState(states []feeds.SourceState, window time.Duration, loc *time.Location) (string, []pageFailing) {
	var polled, ok, stored int
	var failing []pageFailing
	for _, st := range states {
		stored += st.Articles
		if st.LastAttempt.IsZero() {
			continue
		}
		polled++
		if st.Failures == 0 {
			ok++
			continue
		}
		f := pageFailing{Name: outletName(st.Source), Reason: st.LastError, Failures: st.Failures}
		if f.Reason == "" {
			f.Reason = "the last poll failed"
		}
		if st.LastStatus != 0 {
			f.Status = fmt.Sprintf("HTTP %d", st.LastStatus)
		}
		if !st.NextDue.IsZero() {
			f.Next = st.NextDue.In(loc).Format(pageTime)
		}
		failing = append(failing, f)
	}
	n := len(states)
	switch {
	case stored > 0:
		// The page shows the window only; the feeds have the rest.
		return fmt.Sprintf("none of the %s stored was published in the last %s; the feeds list them all.", plural(stored, "item"), formatWindow(window)), failing
	case n == 0:
		return "no sources are configured: add some under sources: in config.yaml.", nil
	case len(failing) == n:
		their := "their"
		if n == 1 {
			their = "its"
		}
		return fmt.Sprintf("broadsheet has stored no items, because %s failed at %s last poll:", allOf(n, "source"), their), failing
	case len(failing) > 0:
		return fmt.Sprintf("broadsheet has stored no items. %d of %s failed at their last poll:", len(failing), plural(n, "source")), failing
	case polled == 0:
		return fmt.Sprintf("broadsheet has not polled its %s yet; their items appear here after the first poll.", plural(n, "source")), nil
	case polled < n:
		return fmt.Sprintf("the first poll is under way (%d of %s polled, no items yet).", polled, plural(n, "source")), nil
	default:
		return fmt.Sprintf("%s answered, but with no items yet.", allOf(n, "source")), nil
	}
}

// formatWindow writes whole hours and days plainly: 72h, 2h30m.
func formatWindow(d time.Duration) string {
	s := d.String()
	for _, suffix := range []string{"m0s", "h0m"} {
		if strings.HasSuffix(s, suffix) {
			s = s[:len(s)-len(suffix)+1]
		}
	}
	return s
}

// allOf is "its one source" or "all 5 sources".
func allOf(n int, word string) string {
	if n == 1 {
		return "its one " + word
	}
	return fmt.Sprintf("all %d %ss", n, word)
}

// topicPage renders the page of one configured topic (its stories, every
// outlet of each) or of one story (every item of it).
func (h *Handler) topicPage(d *data, tf topicFeed) ([]byte, error) {
	p := h.frame()
	g := tf.Group
	base := h.abs("topics/" + tf.Slug)
	tp := &topicPage{Label: tf.Label, Kind: tf.Kind, Atom: base + ".atom", RSS: base + ".rss", JSON: base + ".json"}
	for _, in := range tf.In {
		tp.In = append(tp.In, pageLink{Label: in.Label, URL: h.abs("topics/" + in.Slug)})
	}
	c := pageCard{Kind: string(g.Kind), Label: g.Label}
	if g.Kind == topics.KindStory {
		tp.Count = plural(g.Outlets, "outlet")
		tp.Lang = g.Stories[0].Items[0].Language
	} else {
		tp.Count = storiesText(len(g.Stories), g.Outlets)
	}
	for _, st := range g.Stories {
		ps := h.pageStory(d, st, 0)
		if g.Kind == topics.KindStory {
			for _, it := range st.More {
				ps.Extra = append(ps.Extra, h.pageItem(d, it, st))
			}
		}
		c.Stories = append(c.Stories, ps)
	}
	p.Topic = tp
	p.Cards = []pageCard{c}
	if t := newest(tf.Entries); !t.IsZero() {
		p.Updated, p.UpdatedISO = h.when(t)
	}
	var b bytes.Buffer
	if err := pageTmpl.ExecuteTemplate(&b, "topic", p); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// pageStory prepares st, with at most outlets items (0: all).
func (h *Handler) pageStory(d *data, st topics.Story, outlets int) pageStory {
	ps := pageStory{
		Label:       st.Label,
		Lang:        st.Items[0].Language,
		Outlets:     st.Outlets(),
		OutletsText: plural(st.Outlets(), "outlet"),
		Opinion:     st.Editorial(),
	}
	if st.Slug != "" {
		ps.URL, ps.Feed = h.abs("topics/"+st.Slug), h.abs("topics/"+st.Slug+".atom")
	}
	for i, it := range st.Items {
		if outlets > 0 && i == outlets {
			ps.More = len(st.Items) - i
			break
		}
		pi := h.pageItem(d, it, st)
		if i == 0 || pi.Title == st.Label {
			// The label is shown above, once.
			pi.Title = ""
		}
		ps.Items = append(ps.Items, pi)
	}
	if ps.URL == "" {
		ps.URL = h.pageItem(d, st.Items[0], st).Link
	}
	for i, pi := range ps.Items {
		if pi.Title == "" && pi.Link != ps.URL {
			ps.Items[i].OutletLink = pi.Link
		}
	}
	return ps
}

// pageItem prepares one item of st, through the entry prepared for the
// feeds, so that the page shows the same sanitized text.
func (h *Handler) pageItem(d *data, it topics.Item, st topics.Story) pageItem {
	pi := pageItem{Outlet: outletName(it.Source), Lang: it.Language, Opinion: it.Kind == feeds.KindEditorial && !st.Editorial(),
		Also: strings.Join(outletNames(it.Also), ", ")}
	pi.When, pi.ISO = h.when(it.Published)
	if e := d.entries[it.ID]; e != nil {
		pi.Title, pi.Link, pi.Excerpt = e.Title, e.Link, e.Excerpt
		pi.Media = mediaLinks(e.Media)
		pi.When, pi.ISO = h.when(e.Published)
	} else {
		pi.Title, pi.Link, pi.Excerpt = sanitize.Plain(it.Title, sanitize.TitleRunes), sanitize.Link(it.Link), sanitize.Plain(it.Excerpt, sanitize.ExcerptRunes)
	}
	return pi
}

// storiesText says what a topic holds: "4 stories from 3 outlets".
func storiesText(stories, outlets int) string {
	return plural(stories, "story") + " from " + plural(outlets, "outlet")
}
