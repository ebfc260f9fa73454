package publish

import (
	"strconv"
	"strings"

	"github.com/broadsheet/broadsheet/feeds"
	"github.com/broadsheet/broadsheet/sanitize"
	gfeeds "github.com/gorilla/feeds"
)

// enclosures are a's media files that outputs may link: http(s) only,
// as ingest stored them (checked again, as every published link is).
func enclosures(a feeds.Article) []feeds.Enclosure {
	var out []feeds.Enclosure
	for _, e := range a.Enclosures {
		if u := sanitize.Link(e.URL); u != "" {
			out = append(out, feeds.Enclosure{URL: u, Type: e.Type, Length: e.Length})
		}
	}
	return out
}

// rssEnclosure is the one enclosure RSS gives an item (RSS 2.0 allows one,
// and readers play the first): the first audio or video file, else the
// first of any type. RSS requires all three attributes: an unknown length
// is 0 and an unknown type application/octet-stream, as the RSS Best
// Practices Profile says.
func rssEnclosure(es []feeds.Enclosure) *gfeeds.RssEnclosure {
	if len(es) == 0 {
		return nil
	}
	pick := es[0]
	for _, e := range es {
		if strings.HasPrefix(e.Type, "audio/") || strings.HasPrefix(e.Type, "video/") {
			pick = e
			break
		}
	}
	typ := pick.Type
	if typ == "" {
		typ = "application/octet-stream"
	}
	return &gfeeds.RssEnclosure{Url: pick.URL, Type: typ, Length: strconv.FormatInt(pick.Length, 10)}
}

// atomEnclosures are es as Atom links rel="enclosure", all of them.
func atomEnclosures(es []feeds.Enclosure) []gfeeds.AtomLink {
	var out []gfeeds.AtomLink
	for _, e := range es {
		l := gfeeds.AtomLink{Href: e.URL, Rel: "enclosure", Type: e.Type}
		if e.Length > 0 {
			l.Length = strconv.FormatInt(e.Length, 10)
		}
		out = append(out, l)
	}
	return out
}

// jsonAttachment is a JSON Feed attachment. gorilla's own names the size
// "size", not the spec's "size_in_bytes", and holds it in an int32.
type jsonAttachment struct {
	URL      string `json:"url"`
	MIMEType string `json:"mime_type"`
	Size     int64  `json:"size_in_bytes,omitempty"`
}

// jsonAttachments are es as JSON Feed attachments, all of them; mime_type
// is required, so an unknown type is application/octet-stream.
func jsonAttachments(es []feeds.Enclosure) []jsonAttachment {
	var out []jsonAttachment
	for _, e := range es {
		typ := e.Type
		if typ == "" {
			typ = "application/octet-stream"
		}
		out = append(out, jsonAttachment{URL: e.URL, MIMEType: typ, Size: e.Length})
	}
	return out
}

// mediaLink is an enclosure as the page links it: "audio, 34 MB".
type mediaLink struct{ Label, URL string }

func mediaLinks(es []feeds.Enclosure) []mediaLink {
	var out []mediaLink
	for _, e := range es {
		out = append(out, mediaLink{Label: e.Label(), URL: e.URL})
	}
	return out
}
