package publish

import (
	"encoding/xml"
	"sort"
	"strings"

	"github.com/broadsheet/broadsheet/feeds"
	"github.com/broadsheet/broadsheet/sanitize"
)

// opmlDoc is an OPML 2.0 subscription list (http://opml.org/spec2.opml).
type opmlDoc struct {
	XMLName xml.Name `xml:"opml"`
	Version string   `xml:"version,attr"`
	Title   string   `xml:"head>title"`
	Docs    string   `xml:"head>docs"`
	Body    opmlBody `xml:"body"`
}

type opmlBody struct {
	Groups []opmlGroup `xml:"outline"`
}

// opmlGroup is a folder of subscriptions, one per kind of source.
type opmlGroup struct {
	Text     string        `xml:"text,attr"`
	Outlines []opmlOutline `xml:"outline"`
}

type opmlOutline struct {
	Type     string `xml:"type,attr"`
	Text     string `xml:"text,attr"`
	Title    string `xml:"title,attr"`
	XMLURL   string `xml:"xmlUrl,attr"`
	Category string `xml:"category,attr,omitempty"`
}

// opml lists the configured sources' own feeds, grouped by kind, so that a
// reader can subscribe to them directly.
func (h *Handler) opml() ([]byte, error) {
	doc := &opmlDoc{Version: "2.0", Title: h.opts.Title + " sources", Docs: "http://opml.org/spec2.opml"}
	byKind := map[feeds.Kind][]opmlOutline{}
	for _, s := range h.opts.Sources {
		// A private source is listed by its republished feed, so that
		// its URL never appears and a reader can still subscribe.
		u := h.abs("sources/" + s.Slug() + ".atom")
		if !s.Private {
			u = sanitize.RedactURL(s.URL)
		}
		if u == "" {
			continue
		}
		kind := s.Kind
		if kind != feeds.KindEditorial {
			kind = feeds.KindNews
		}
		cats := append([]string{string(kind)}, s.Tags...)
		byKind[kind] = append(byKind[kind], opmlOutline{
			Type:     "rss",
			Text:     outletName(s.Name),
			Title:    outletName(s.Name),
			XMLURL:   u,
			Category: strings.Join(cats, ","),
		})
	}
	for _, k := range []struct {
		kind feeds.Kind
		text string
	}{{feeds.KindNews, "News"}, {feeds.KindEditorial, "Editorials and opinion"}} {
		os := byKind[k.kind]
		if len(os) == 0 {
			continue
		}
		sort.SliceStable(os, func(i, j int) bool { return strings.ToLower(os[i].Text) < strings.ToLower(os[j].Text) })
		doc.Body.Groups = append(doc.Body.Groups, opmlGroup{Text: k.text, Outlines: os})
	}
	return marshalXML(doc)
}
