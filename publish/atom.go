package publish

import (
	"encoding/xml"
	"time"

	gfeeds "github.com/gorilla/feeds"
)

// feedDoc is one feed to render in each format.
type feedDoc struct {
	Name     string // path without extension: "feed", "topics/climate"
	Title    string
	Subtitle string
	Alt      string // the page showing the same items
	Entries  []*entry
	Updated  time.Time // the newest entry's change; for an empty feed, see render
	sig      string    // see sourceFeed.sig
}

// gorillaFeed is f as gorilla/feeds' generic feed, the common ground of its
// three encoders.
func (h *Handler) gorillaFeed(f feedDoc) *gfeeds.Feed {
	gf := &gfeeds.Feed{
		Title:       f.Title,
		Link:        &gfeeds.Link{Href: f.Alt, Rel: "alternate", Type: "text/html"},
		Description: f.Subtitle,
		Author:      &gfeeds.Author{Name: h.opts.Title},
		Updated:     f.Updated,
	}
	for _, e := range f.Entries {
		it := &gfeeds.Item{
			Title:       e.Title,
			Description: e.Summary,
			Content:     e.Content,
			Id:          e.ID,
			IsPermaLink: "false",
			Created:     e.Published,
			Updated:     e.Updated,
			Author:      &gfeeds.Author{Name: e.author()},
		}
		if e.Link != "" {
			it.Link = &gfeeds.Link{Href: e.Link}
		}
		gf.Items = append(gf.Items, it)
	}
	return gf
}

// author is who an entry is credited to, with its outlet, since most
// readers show the author but not Atom's <source> or RSS's <source>:
// "Lois Lane · Daily Planet", or the outlet alone. (Not "Name (Outlet)":
// readers take that for RSS's "email (name)".)
func (e *entry) author() string {
	if e.Author == "" || e.Author == e.Outlet.Name {
		return e.Outlet.Name
	}
	return e.Author + " · " + e.Outlet.Name
}

// atomFeed extends gorilla's AtomFeed with what it cannot express: several
// feed links (self and alternate). Fields here shadow the embedded ones of
// the same XML name.
type atomFeed struct {
	*gfeeds.AtomFeed
	Links   []gfeeds.AtomLink `xml:"link"`
	Entries []*atomEntry      `xml:"entry"`
}

// atomEntry extends gorilla's AtomEntry with categories that have a term
// (gorilla writes one bare category) and a structured source element
// (gorilla writes text), which Atom requires.
type atomEntry struct {
	*gfeeds.AtomEntry
	Categories []atomCategory `xml:"category"`
	Source     *atomSource    `xml:"source"`
}

type atomCategory struct {
	Term   string `xml:"term,attr"`
	Scheme string `xml:"scheme,attr,omitempty"`
	Label  string `xml:"label,attr,omitempty"`
}

type atomSource struct {
	ID    string            `xml:"id,omitempty"`
	Title string            `xml:"title"`
	Links []gfeeds.AtomLink `xml:"link"`
}

func (h *Handler) atom(f feedDoc) ([]byte, error) {
	self := h.abs(f.Name + ".atom")
	af := (&gfeeds.Atom{Feed: h.gorillaFeed(f)}).AtomFeed()
	af.Id = self
	doc := &atomFeed{
		AtomFeed: af,
		Links: []gfeeds.AtomLink{
			{Href: self, Rel: "self", Type: "application/atom+xml"},
			*af.Link,
		},
	}
	for i, ae := range af.Entries {
		e := f.Entries[i]
		ae.Published = e.Published.Format(time.RFC3339)
		if e.Link == "" {
			// gorilla always writes a link; an entry without one carries
			// its text in content instead, as Atom requires.
			ae.Links = nil
			if ae.Content == nil {
				ae.Content = &gfeeds.AtomContent{Type: "html", Content: e.Summary}
				ae.Summary = nil
			}
		}
		ae.Links = append(ae.Links, atomEnclosures(e.Media)...)
		x := &atomEntry{AtomEntry: ae}
		for _, t := range e.Topics {
			x.Categories = append(x.Categories, atomCategory{Term: t.Slug, Scheme: h.abs("topics/"), Label: t.Label})
		}
		x.Source = &atomSource{ID: e.Outlet.URL, Title: e.Outlet.Name}
		if e.Outlet.URL != "" {
			x.Source.Links = []gfeeds.AtomLink{{Href: e.Outlet.URL, Rel: "self"}}
		}
		doc.Entries = append(doc.Entries, x)
	}
	return marshalXML(doc)
}

// marshalXML writes v as an indented XML document, as gorilla's ToXML does.
func marshalXML(v any) ([]byte, error) {
	b, err := xml.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, err
	}
	return append([]byte(xml.Header), append(b, '\n')...), nil
}
