package fetch

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/broadsheet/broadsheet/feeds"
)

func rssItems(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "<item><title>Item %d</title><guid>g%d</guid></item>", i, i)
	}
	return b.String()
}

// wellFormed reports whether s is well-formed XML, and returns the names
// of its elements in order.
func wellFormed(s string) ([]string, error) {
	d := xml.NewDecoder(strings.NewReader(s))
	d.Strict = true
	var names []string
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return names, nil
		}
		if err != nil {
			return names, err
		}
		if se, ok := tok.(xml.StartElement); ok {
			names = append(names, se.Name.Local)
		}
	}
}

func count(names []string, name string) int {
	n := 0
	for _, x := range names {
		if x == name {
			n++
		}
	}
	return n
}

func TestCutXML(t *testing.T) {
	tests := []struct {
		name      string
		in        string
		maxItems  int
		maxNodes  int
		wantItems int // items left in the part
		dropped   int
		wantEnd   string // the part's suffix, when cut
	}{
		{"UnderTheCap", `<rss><channel><title>t</title>` + rssItems(5) + `</channel></rss>`, 5, 100, 5, 0, ""},
		{"RSSOverTheCap", `<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>` + rssItems(12) + `</channel></rss>`, 5, 1000, 5, 7, "</item></channel></rss>"},
		{"AtomPrefixed", `<a:feed xmlns:a="http://www.w3.org/2005/Atom"><a:title>t</a:title>` + strings.Repeat(`<a:entry><a:id>x</a:id></a:entry>`, 4) + `</a:feed>`, 2, 1000, 2, 2, "</a:entry></a:feed>"},
		{"RDFItemsBesideChannel", `<rdf:RDF xmlns:rdf="r"><channel><title>t</title><items><rdf:Seq><rdf:li/></rdf:Seq></items></channel>` + rssItems(3) + `<textinput><title>x</title></textinput></rdf:RDF>`, 1, 1000, 1, 2, "</item></rdf:RDF>"},
		{"UpperCase", `<RSS><CHANNEL>` + strings.Repeat(`<ITEM><TITLE>x</TITLE></ITEM>`, 3) + `</CHANNEL></RSS>`, 2, 1000, 2, 1, "</ITEM></CHANNEL></RSS>"},
		{"SelfClosingItems", `<rss><channel>` + strings.Repeat(`<item/>`, 4) + `</channel></rss>`, 3, 1000, 3, 1, "<item/></channel></rss>"},
		{"NestedItemsAreOne", `<rss><channel><item><title>a</title><x:item xmlns:x="x"><item/></x:item></item><item><title>b</title></item></channel></rss>`, 1, 1000, 1, 1, ""},
		{"MarkupInCDATAAndComments", `<rss><channel><!-- <item> --><item><description><![CDATA[<item><item>]]></description></item>` + rssItems(1) + `</channel></rss>`, 1, 1000, 1, 1, ""},
		{"QuotedGreaterThan", `<rss><channel><item><x a="x>y" b='>'/></item>` + rssItems(2) + `</channel></rss>`, 2, 1000, 2, 1, ""},
		{"VoidAndStrayTagsBeforeItems", `<rss><channel><description>a<br>b</p></description>` + rssItems(3) + `</channel></rss>`, 1, 1000, 1, 2, "</item></channel></rss>"},
		{"NodeBudgetInAnItem", `<rss xmlns:x="x"><channel>` + rssItems(2) + `<item><title>big</title>` + strings.Repeat(`<x:y a="1" b="2"/>`, 100) + `</item>` + rssItems(1) + `</channel></rss>`, 1000, 50, 2, 2, "</item></channel></rss>"},
		{"NodeBudgetBeforeItems", `<rss xmlns:x="x"><channel>` + strings.Repeat(`<x:y/>`, 100) + rssItems(2) + `</channel></rss>`, 1000, 50, 0, 2, "<x:y/></channel></rss>"},
		{"AttributesCount", `<rss xmlns:x="x"><channel><item>` + strings.Repeat(`<x:y a="1" b="2" c="3"/>`, 10) + `</item></channel></rss>`, 1000, 35, 0, 1, "<channel></channel></rss>"},
		{"NotXML", "plain text, no markup", 1, 1, 0, 0, ""},
		{"TruncatedTag", `<rss><channel>` + rssItems(2) + `<item a="unterminated`, 1, 1000, 1, 1, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			part, dropped := cutXML([]byte(tt.in), tt.maxItems, tt.maxNodes)
			if dropped != tt.dropped {
				t.Errorf("dropped = %d, want %d", dropped, tt.dropped)
			}
			if tt.dropped == 0 {
				if string(part) != tt.in {
					t.Errorf("part = %q, want the input unchanged", part)
				}
				return
			}
			if tt.wantEnd != "" && !strings.HasSuffix(string(part), tt.wantEnd) {
				t.Errorf("part = %q, want it to end %q", part, tt.wantEnd)
			}
			names, err := wellFormed(string(part))
			if _, inErr := wellFormed(tt.in); inErr != nil {
				return // the input was not well-formed either
			}
			if err != nil {
				t.Fatalf("part %q is not well-formed: %v", part, err)
			}
			if got := count(names, "item") + count(names, "entry") + count(names, "ITEM"); got < tt.wantItems {
				t.Errorf("part has %d item elements, want at least %d: %q", got, tt.wantItems, part)
			}
		})
	}
}

func TestCutJSON(t *testing.T) {
	items := func(n int) string {
		var b []string
		for i := range n {
			b = append(b, fmt.Sprintf(`{"id":"%d","title":"t%d","tags":["a",{"x":[1,2]}]}`, i, i))
		}
		return strings.Join(b, ", ")
	}
	tests := []struct {
		name      string
		in        string
		max       int
		wantItems int // -1: the input unchanged
		dropped   int
	}{
		{"UnderTheCap", `{"version":"https://jsonfeed.org/version/1.1","items":[` + items(3) + `]}`, 3, -1, 0},
		{"OverTheCap", `{"version":"https://jsonfeed.org/version/1.1","title":"t","items":[` + items(10) + `],"next_url":"https://x.example/2"}`, 4, 4, 6},
		{"KeyCase", `{"Items":[` + items(3) + `]}`, 1, 1, 2},
		{"ItemsNotAnArray", `{"items":{"a":1}}`, 1, -1, 0},
		{"Invalid", `{"items":[{"id":1},`, 1, -1, 0},
		{"NotAnObject", `[1,2,3]`, 1, -1, 0},
		{"TooDeep", strings.Repeat(`{"a":`, 20000) + "1" + strings.Repeat("}", 20000), 1, -1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			part, dropped := cutJSON([]byte(tt.in), tt.max)
			if dropped != tt.dropped {
				t.Errorf("dropped = %d, want %d", dropped, tt.dropped)
			}
			if tt.wantItems < 0 {
				if string(part) != tt.in {
					t.Errorf("part = %.80q, want the input unchanged", part)
				}
				return
			}
			var f struct {
				Version string            `json:"version"`
				Items   []json.RawMessage `json:"items"`
			}
			if err := json.Unmarshal(part, &f); err != nil {
				t.Fatalf("part %q is not JSON: %v", part, err)
			}
			if len(f.Items) != tt.wantItems {
				t.Errorf("part has %d items, want %d", len(f.Items), tt.wantItems)
			}
			if strings.Contains(tt.in, `"version"`) && f.Version == "" {
				t.Error("the keys before the items were lost")
			}
		})
	}
}

// TestClient_Parse_CutBeforeParsing shows that items over the cap are cut
// before gofeed parses the document, not after (which took 600 MiB for
// 16 MiB of small items): a broken tail after the kept items no longer
// fails the feed, and the items cut are reported as dropped.
func TestClient_Parse_CutBeforeParsing(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		ctype   string
		max     int
		kept    int
		dropped int
	}{
		// A download cut short: the tail is not even XML.
		{"RSSTruncated", `<rss version="2.0"><channel><title>t</title>` + rssItems(6) + `<item><title>cut off in the mid`, "", 5, 5, 2},
		{"AtomTruncated", `<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><entry><id>urn:1</id></entry><entry><id>urn:2</id></entry><entry><id>urn:3</id></entry><entry><id>urn:4</id><title>cut off`, "", 2, 2, 2},
		{"JSONBrokenTail", `{"version":"https://jsonfeed.org/version/1.1","title":"t","items":[{"id":"1","title":"a"},{"id":"2","title":"b"},{"id":3,"title":["wrong type"]}]}`, "application/feed+json", 2, 2, 1},
		{"MaxDensity", `<rss version="2.0"><channel><title>t</title>` + strings.Repeat(`<item><guid>x</guid></item>`, 200000) + `</channel></rss>`, "", 1000, 1, 199000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newTestClient(Options{MaxItems: tt.max})
			arts, dropped, err := c.Parse(feeds.Source{Name: "cut", URL: "https://cut.example/feed"}, bytes.NewReader([]byte(tt.body)), tt.ctype)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if len(arts) != tt.kept || dropped != tt.dropped {
				t.Errorf("got %d articles, %d dropped; want %d, %d", len(arts), dropped, tt.kept, tt.dropped)
			}
		})
	}
}
