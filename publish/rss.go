package publish

import (
	gfeeds "github.com/gorilla/feeds"
)

// rssDoc extends gorilla's RSS document with the namespaces of the elements
// added below.
type rssDoc struct {
	*gfeeds.RssFeedXml
	AtomNS  string      `xml:"xmlns:atom,attr"`
	DCNS    string      `xml:"xmlns:dc,attr"`
	Channel *rssChannel `xml:"channel"`
}

// rssChannel adds the atom:link rel="self" that RSS readers and validators
// expect, which gorilla cannot write.
type rssChannel struct {
	*gfeeds.RssFeed
	AtomLink rssAtomLink `xml:"atom:link"`
	Items    []*rssItem  `xml:"item"`
}

type rssAtomLink struct {
	Href string `xml:"href,attr"`
	Rel  string `xml:"rel,attr"`
	Type string `xml:"type,attr"`
}

// rssItem replaces what gorilla writes as bare text: the source (RSS wants
// its url attribute), several categories, the author (RSS's author element
// must be an email address, so names go in dc:creator), and a link element
// only when there is a link.
type rssItem struct {
	*gfeeds.RssItem
	Link       string        `xml:"link,omitempty"`
	Categories []rssCategory `xml:"category"`
	Source     *rssSource    `xml:"source"`
	Creator    string        `xml:"dc:creator,omitempty"`
}

type rssCategory struct {
	Domain string `xml:"domain,attr,omitempty"`
	Name   string `xml:",chardata"`
}

type rssSource struct {
	URL  string `xml:"url,attr"`
	Name string `xml:",chardata"`
}

func (h *Handler) rss(f feedDoc) ([]byte, error) {
	self := h.abs(f.Name + ".rss")
	ch := (&gfeeds.Rss{Feed: h.gorillaFeed(f)}).RssFeed()
	// gorilla writes the feed's author as " (name)" without an email,
	// which is not the email address managingEditor must be.
	ch.ManagingEditor = ""
	if len(f.Entries) == 0 {
		// No entries, no dates: an empty feed has no time to tell.
		ch.PubDate, ch.LastBuildDate = "", ""
	}
	doc := &rssDoc{
		RssFeedXml: ch.FeedXml().(*gfeeds.RssFeedXml),
		AtomNS:     "http://www.w3.org/2005/Atom",
		DCNS:       "http://purl.org/dc/elements/1.1/",
		Channel: &rssChannel{
			RssFeed:  ch,
			AtomLink: rssAtomLink{Href: self, Rel: "self", Type: "application/rss+xml"},
		},
	}
	for i, ri := range ch.Items {
		e := f.Entries[i]
		ri.Author = ""
		if ri.Description == "" {
			// description is required: fall back to the content, then the
			// excerpt.
			ri.Description = firstNonEmpty(e.Content, e.Excerpt)
		}
		if ri.Content != nil && ri.Content.Content == ri.Description {
			ri.Content = nil
		}
		ri.Enclosure = rssEnclosure(e.Media)
		x := &rssItem{RssItem: ri, Link: e.Link, Creator: e.author()}
		for _, t := range e.Topics {
			x.Categories = append(x.Categories, rssCategory{Domain: h.abs("topics/"), Name: t.Label})
		}
		if e.Outlet.URL != "" {
			// RSS requires the url attribute, so a source without a usable
			// URL is named in dc:creator only.
			x.Source = &rssSource{URL: e.Outlet.URL, Name: e.Outlet.Name}
		}
		doc.Channel.Items = append(doc.Channel.Items, x)
	}
	return marshalXML(doc)
}
