package digest

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/broadsheet/broadsheet/sanitize"
	"github.com/broadsheet/broadsheet/topics"
)

// Data is what the templates (digest.html, digest.txt and the subject)
// receive. Every string is plain text: html/template escapes it in the HTML
// part.
//
// Besides the standard functions, templates may call:
//
//	date                  the period's date, e.g. "Monday 3 March 2025"
//	date LAYOUT           the period in a Go time layout: {{date "Mon 2 Jan"}}
//	date LAYOUT TIME      another time (such as .Published) in the digest's zone
//	plural N ONE MANY     ONE if N is 1, else MANY: {{plural .TopicCount "topic" "topics"}}
//	join LIST SEP         the strings of LIST joined by SEP: {{join .Also ", "}}
//	upper S, lower S, trim S
//	wrap WIDTH S          S re-flowed into lines of at most WIDTH columns
//	indent N S            every line of S indented by N spaces
//	repeat S N            S repeated N times: {{repeat "=" 72}}
//	truncate N S          S cut to N characters at a word boundary, with "…"
//
// An example subject: "Editorials for {{date}}: {{.TopicCount}} topics".
type Data struct {
	Title     string    // the site's title (server.title)
	Digest    string    // the digest's name
	Subject   string    // the rendered subject; empty while rendering the subject
	Date      string    // the period's date in the digest's zone: "Monday 3 March 2025"
	Time      time.Time // the period, in the digest's zone
	Since     time.Time // the articles were first seen from Since…
	Until     time.Time // …until Until
	Recipient string    // the recipient's address

	Topics      []Topic
	TopicCount  int // topics, "Other stories" included
	StoryCount  int
	ItemCount   int // items: a story carried by 3 outlets counts 3
	OutletCount int // distinct outlets

	Preheader      string // a line for the inbox preview: the first headlines
	UnsubscribeURL string // the unsubscribe page (https:) or a mailto: link
	SiteURL        string // server.base_url; empty if unset
	// LeftOut is how many items were left out (whole stories) to keep the
	// message within the mail server's size limit; they are on the site.
	LeftOut int
}

// Topic is one section of a digest: a configured topic with the stories
// in it, a story several outlets carry, or the other stories.
type Topic struct {
	Slug        string // empty for "Other stories"
	Label       string
	Kind        string // configured, story or other (topics.Kind)
	Stories     []Story
	StoryCount  int
	ItemCount   int // the stories' items: a story carried by 3 outlets counts 3
	OutletCount int // distinct outlets among them
}

// Story is one story, with the article of each outlet that carried it.
// Label is its representative headline, the title of Items[0] (the lead):
// a template shows it once and the lead's outlet, time and excerpt under
// it, then the other outlets' items with their own headlines. Title, Link,
// Excerpt, Outlet, Time and Published are the lead's.
type Story struct {
	Number      int // 1, 2, … through the whole digest
	Label       string
	Title       string
	Link        string
	Excerpt     string
	Outlet      string
	Time        string
	Published   time.Time
	Editorial   bool   // every item is an editorial or opinion piece: marked once
	Items       []Item // one per outlet (or per link several outlets share), the lead first
	More        []Item // Items but the lead
	Outlets     []string
	OutletCount int // "3 outlets on this story"
}

// Item is one article.
type Item struct {
	Title     string
	Outlet    string   // the source's name
	Also      []string // other outlets carrying the same link
	Link      string   // http(s) only; empty otherwise
	Excerpt   string   // at most sanitize.ExcerptRunes characters
	Author    string
	Kind      string    // news or editorial
	Lang      string    // the feed's language (BCP 47), empty if unknown
	Time      string    // "07:40 KST", "Sun 18:05 KST" or "2 Mar 18:05 KST", in the digest's zone
	Published time.Time // in the digest's zone
}

// dateLayout is how Data.Date and {{date}} show the period.
const dateLayout = "Monday 2 January 2006"

// buildData turns the groups recorded with a delivery into what templates
// render.
func buildData(title string, d Digest, gs []topics.Group, period, since, until time.Time, rcpt string) *Data {
	loc := d.loc()
	period = period.In(loc)
	data := &Data{
		Title:     title,
		Digest:    d.Name,
		Date:      period.Format(dateLayout),
		Time:      period,
		Since:     since.In(loc),
		Until:     until.In(loc),
		Recipient: rcpt,
	}
	outlets := map[string]bool{}
	var heads []string
	n := 0
	for _, g := range gs {
		t := Topic{Slug: g.Slug, Label: g.Label, Kind: string(g.Kind)}
		if t.Label == "" {
			t.Label = t.Slug
		}
		topicOutlets := map[string]bool{}
		for _, gs := range g.Stories {
			if len(gs.Items) == 0 {
				continue
			}
			var st Story
			for _, x := range gs.Items {
				it := item(x, period)
				st.Items = append(st.Items, it)
				for _, o := range append([]string{it.Outlet}, it.Also...) {
					st.Outlets = append(st.Outlets, o)
					outlets[o] = true
					topicOutlets[o] = true
				}
			}
			n++
			lead := st.Items[0]
			st.Number = n
			st.Label = lead.Title
			st.Title, st.Link, st.Excerpt, st.Outlet, st.Time, st.Published = lead.Title, lead.Link, lead.Excerpt, lead.Outlet, lead.Time, lead.Published
			st.Editorial = gs.Editorial()
			st.More = st.Items[1:]
			st.OutletCount = len(st.Outlets)
			t.Stories = append(t.Stories, st)
			t.ItemCount += st.OutletCount
			if len(heads) < 3 {
				heads = append(heads, st.Label)
			}
		}
		if len(t.Stories) == 0 {
			continue
		}
		t.StoryCount = len(t.Stories)
		t.OutletCount = len(topicOutlets)
		data.Topics = append(data.Topics, t)
		data.StoryCount += t.StoryCount
		data.ItemCount += t.ItemCount
	}
	// The other stories alone are simply the latest.
	if len(data.Topics) == 1 && data.Topics[0].Kind == string(topics.KindOther) {
		data.Topics[0].Label = "Latest"
	}
	data.TopicCount = len(data.Topics)
	data.OutletCount = len(outlets)
	data.Preheader = truncate(140, strings.Join(heads, " · "))
	return data
}

func item(x topics.Item, period time.Time) Item {
	pub := x.Published.In(period.Location())
	title := sanitize.Line(x.Title, sanitize.TitleRunes)
	if title == "" {
		title = "(untitled)"
	}
	ex := sanitize.Line(x.Excerpt, sanitize.ExcerptRunes)
	if ex == title {
		ex = ""
	}
	var also []string
	for _, o := range x.Also {
		also = append(also, sanitize.Line(o, sanitize.NameRunes))
	}
	return Item{
		Title:     title,
		Outlet:    sanitize.Line(x.Source, sanitize.NameRunes),
		Also:      also,
		Link:      sanitize.Link(x.Link),
		Excerpt:   ex,
		Author:    sanitize.Line(x.Author, sanitize.NameRunes),
		Kind:      string(x.Kind),
		Lang:      x.Language,
		Time:      itemTime(pub, period),
		Published: pub,
	}
}

// itemTime shows t briefly relative to the period, with the zone it is
// in (the digest's): the time alone on the same day, the weekday within a
// week before, else the date.
func itemTime(t, period time.Time) string {
	y1, m1, d1 := t.Date()
	y2, m2, d2 := period.Date()
	switch {
	case y1 == y2 && m1 == m2 && d1 == d2:
		return t.Format("15:04 MST")
	case t.Before(period) && period.Sub(t) < 6*24*time.Hour:
		return t.Format("Mon 15:04 MST")
	case y1 == y2:
		return t.Format("2 Jan 15:04 MST")
	default:
		return t.Format("2 Jan 2006 15:04 MST")
	}
}

// oneLine collapses runs of white space, control characters included,
// into single spaces.
func oneLine(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

// truncate cuts s to at most n characters, at a word boundary when there
// is one in the last third, ending with "…".
func truncate(n int, s string) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)[:n-1]
	cut := len(r)
	for i := len(r) - 1; i > len(r)*2/3; i-- {
		if unicode.IsSpace(r[i]) {
			cut = i
			break
		}
	}
	return strings.TrimRightFunc(string(r[:cut]), func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsPunct(r) && r != ')' && r != '"'
	}) + "…"
}
