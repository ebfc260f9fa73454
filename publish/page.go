package publish

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"strings"

	"github.com/broadsheet/broadsheet/feeds"
)

//go:embed page.html
var pageHTML string

// pageTmpl is parsed once: a broken template fails every test at once.
var pageTmpl = template.Must(template.New("page").Parse(pageHTML))

// Page limits: the page is a front page, the feeds hold the rest.
const (
	pageItemsPerTopic = 6
	pageLatest        = 30
)

// pageCSS is the page's only style sheet, inline so that the page is one
// request, and allowed by hash in the Content-Security-Policy.
const pageCSS = `
:root{color-scheme:light dark;--bg:#fbfaf7;--fg:#1d1d1f;--muted:#5f6368;--rule:#e3e0d8;--card:#fff;--accent:#8b1e1e;--badge:#efe9dd;--badge-many:#8b1e1e;--badge-many-fg:#fff}
@media (prefers-color-scheme:dark){:root{--bg:#121212;--fg:#e8e6e3;--muted:#a0a0a0;--rule:#2e2e2e;--card:#1b1b1b;--accent:#f08a8a;--badge:#2a2620;--badge-many:#f08a8a;--badge-many-fg:#1b1b1b}}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--fg);font:1rem/1.55 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",sans-serif;overflow-wrap:break-word}
a{color:var(--accent)}
a:hover{text-decoration-thickness:2px}
.wrap{max-width:72rem;margin:0 auto;padding:0 1rem}
.masthead{border-bottom:3px double var(--rule);padding:1.25rem 0 .75rem;margin-bottom:1.25rem}
.masthead h1{margin:0;font:700 clamp(1.8rem,5vw,2.8rem)/1.1 Georgia,"Times New Roman",serif;letter-spacing:-.01em}
.masthead h1 a{color:inherit;text-decoration:none}
.lede{margin:.35rem 0 .6rem;color:var(--muted)}
.subscribe{display:flex;flex-wrap:wrap;gap:.35rem .9rem;font-size:.9rem}
.subscribe span{color:var(--muted)}
.layout{display:grid;gap:1.5rem}
@media (min-width:60rem){.layout{grid-template-columns:minmax(0,1fr) 17rem}}
.topic{background:var(--card);border:1px solid var(--rule);border-radius:.6rem;padding:1rem 1.1rem;margin-bottom:1.25rem}
.topic-head h2{margin:0;font:700 1.35rem/1.25 Georgia,"Times New Roman",serif}
.meta{margin:.25rem 0 .5rem;font-size:.85rem;color:var(--muted)}
.badge{display:inline-block;padding:0 .5rem;border-radius:1rem;background:var(--badge);color:var(--fg);font-weight:600}
.badge.many{background:var(--badge-many);color:var(--badge-many-fg)}
.items{list-style:none;margin:0;padding:0}
.item{padding:.7rem 0;border-top:1px solid var(--rule)}
.item:first-child{border-top:0}
.item h3{margin:0;font-size:1.05rem;line-height:1.35}
.item h3 a{color:var(--fg);text-decoration:none}
.item h3 a:hover{color:var(--accent);text-decoration:underline}
.byline{margin:.15rem 0 0;font-size:.85rem;color:var(--muted)}
.outlet{font-weight:600;color:var(--fg)}
.kind{font-size:.75rem;text-transform:uppercase;letter-spacing:.05em;color:var(--accent)}
.excerpt{margin:.3rem 0 0;color:var(--fg);opacity:.9}
.more{margin:.5rem 0 0;font-size:.9rem}
.empty{color:var(--muted)}
.sidebar h2{margin:0 0 .5rem;font:700 1.1rem/1.2 Georgia,"Times New Roman",serif}
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
	Groups                            []pageGroup
	Latest                            []pageItem
	Sources                           []pageSource
	Updated, UpdatedISO               string
	// Empty says why there is no item yet, when there is none, and
	// Failing lists the sources whose last poll failed.
	Empty   string
	Failing []pageFailing
}

type pageFailing struct {
	Name, Reason, Status, Next string
	Failures                   int
}

type pageGroup struct {
	Slug, Label, OutletsText, Feed string
	Outlets, More                  int
	Story                          bool
	Items                          []pageItem
}

type pageItem struct {
	Title, Link, Outlet, Also, Excerpt string
	When, ISO                          string
	Editorial                          bool
}

type pageSource struct {
	Name, Slug, Atom, RSS, JSON string
	Editorial                   bool
}

const (
	pageTime = "Mon 2 Jan 2006, 15:04 UTC"
	isoTime  = "2006-01-02T15:04:05Z07:00"
)

// page renders the front page: topics covered by most outlets first, then
// the latest items no topic holds, and the sources with their feeds.
func (h *Handler) page(d *data) ([]byte, error) {
	p := pageData{
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
	shown := map[string]bool{}
	for _, g := range d.Groups {
		if len(g.Entries) == 0 {
			continue
		}
		pg := pageGroup{
			Slug:        g.Slug,
			Label:       g.Label,
			Outlets:     g.Outlets,
			OutletsText: plural(g.Outlets, "outlet"),
			Feed:        h.abs("topics/" + g.Slug + ".atom"),
			Story:       g.Kind == GroupStory,
		}
		for i, e := range g.Entries {
			if i == pageItemsPerTopic {
				pg.More = len(g.Entries) - i
				break
			}
			pg.Items = append(pg.Items, pageEntry(e))
			shown[e.ArticleID] = true
		}
		p.Groups = append(p.Groups, pg)
	}
	for _, e := range d.Combined {
		if len(p.Latest) == pageLatest {
			break
		}
		if !shown[e.ArticleID] {
			p.Latest = append(p.Latest, pageEntry(e))
		}
	}
	for _, sf := range d.Sources {
		p.Sources = append(p.Sources, pageSource{
			Name:      sf.Source.Name,
			Slug:      sf.Slug,
			Atom:      h.abs("sources/" + sf.Slug + ".atom"),
			RSS:       h.abs("sources/" + sf.Slug + ".rss"),
			JSON:      h.abs("sources/" + sf.Slug + ".json"),
			Editorial: sf.Source.Kind == feeds.KindEditorial,
		})
	}
	if t := newest(d.Combined); !t.IsZero() {
		p.Updated, p.UpdatedISO = t.Format(pageTime), t.Format(isoTime)
	}
	if len(p.Groups) == 0 && len(p.Latest) == 0 {
		p.Empty, p.Failing = emptyState(d.States)
	}
	var b bytes.Buffer
	if err := pageTmpl.Execute(&b, p); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// emptyState says, in plain words, why the page has no item yet, and
// lists the sources whose last poll failed, with why (as `broadsheet
// sources` says it) and when they are tried again.
func emptyState(states []feeds.SourceState) (string, []pageFailing) {
	var polled, ok int
	var failing []pageFailing
	for _, st := range states {
		if st.LastAttempt.IsZero() {
			continue
		}
		polled++
		if st.Failures == 0 {
			ok++
			continue
		}
		f := pageFailing{Name: st.Source, Reason: st.LastError, Failures: st.Failures}
		if f.Reason == "" {
			f.Reason = "the last poll failed"
		}
		if st.LastStatus != 0 {
			f.Status = fmt.Sprintf("HTTP %d", st.LastStatus)
		}
		if !st.NextDue.IsZero() {
			f.Next = st.NextDue.UTC().Format(pageTime)
		}
		failing = append(failing, f)
	}
	n := len(states)
	switch {
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

// allOf is "its one source" or "all 5 sources".
func allOf(n int, word string) string {
	if n == 1 {
		return "its one " + word
	}
	return fmt.Sprintf("all %d %ss", n, word)
}

func pageEntry(e *entry) pageItem {
	return pageItem{
		Title:     e.Title,
		Link:      e.Link,
		Outlet:    e.Outlet.Name,
		Also:      strings.Join(e.Also, ", "),
		Excerpt:   e.Excerpt,
		When:      e.Published.Format(pageTime),
		ISO:       e.Published.Format(isoTime),
		Editorial: e.Kind == feeds.KindEditorial,
	}
}
