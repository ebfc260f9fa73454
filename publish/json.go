package publish

import (
	"encoding/json"

	gfeeds "github.com/gorilla/feeds"
)

// jsonFeed extends gorilla's JSON Feed with items that carry broadsheet's
// extension, and always writes "items", which JSON Feed requires.
type jsonFeed struct {
	*gfeeds.JSONFeed
	Items []*jsonItem `json:"items"`
}

// jsonItem adds the "_broadsheet" extension object (JSON Feed's way of
// extending items) naming the outlet, kind and topics.
type jsonItem struct {
	*gfeeds.JSONItem
	Attachments []jsonAttachment `json:"attachments,omitempty"` // shadows gorilla's
	Broadsheet  *jsonExt         `json:"_broadsheet,omitempty"`
}

type jsonExt struct {
	About  string      `json:"about"`
	Outlet jsonOutlet  `json:"outlet"`
	Kind   string      `json:"kind,omitempty"`
	Topics []jsonTopic `json:"topics,omitempty"`
	AlsoIn []string    `json:"also_in,omitempty"` // other outlets carrying the story
}

type jsonOutlet struct {
	Name    string `json:"name"`
	FeedURL string `json:"feed_url,omitempty"`
}

type jsonTopic struct {
	Slug  string `json:"slug"`
	Label string `json:"label"`
	Kind  string `json:"kind"`
	URL   string `json:"feed_url"`
}

// extAbout documents the extension, as JSON Feed asks extensions to do: the
// package documentation describes it.
const extAbout = "https://pkg.go.dev/github.com/broadsheet/broadsheet/publish"

func (h *Handler) json(f feedDoc) ([]byte, error) {
	jf := (&gfeeds.JSON{Feed: h.gorillaFeed(f)}).JSONFeed()
	jf.HomePageUrl = f.Alt
	jf.FeedUrl = h.abs(f.Name + ".json")
	jf.Author = nil // deprecated in 1.1; authors is set
	doc := &jsonFeed{JSONFeed: jf, Items: []*jsonItem{}}
	for i, ji := range jf.Items {
		e := f.Entries[i]
		// JSON Feed's summary is plain text; the HTML goes in content_html.
		ji.Summary = e.Excerpt
		ji.ContentHTML = firstNonEmpty(e.Content, e.Summary)
		if ji.ContentHTML == "" {
			ji.ContentText = firstNonEmpty(e.Excerpt, e.Title)
		}
		ji.ExternalUrl = ""
		ji.Author = nil
		pub, upd := e.Published, e.Updated
		ji.PublishedDate, ji.ModifiedDate = &pub, &upd
		ext := &jsonExt{
			About:  extAbout,
			Outlet: jsonOutlet{Name: e.Outlet.Name, FeedURL: e.Outlet.URL},
			Kind:   string(e.Kind),
			AlsoIn: outletNames(e.Also),
		}
		for _, t := range e.Topics {
			ji.Tags = append(ji.Tags, t.Label)
			ext.Topics = append(ext.Topics, jsonTopic{Slug: t.Slug, Label: t.Label, Kind: t.Kind, URL: h.abs("topics/" + t.Slug + ".json")})
		}
		doc.Items = append(doc.Items, &jsonItem{JSONItem: ji, Attachments: jsonAttachments(e.Media), Broadsheet: ext})
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
