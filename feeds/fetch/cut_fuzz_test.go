package fetch

import (
	"bytes"
	"encoding/xml"
	"io"
	"regexp"
	"testing"
)

// xmlItems returns the number of item and entry elements of a well-formed
// XML document not nested in another, or ok false if it is not
// well-formed.
func xmlItems(data []byte) (n int, ok bool) {
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = true
	depth := 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return n, true
		}
		if err != nil {
			return 0, false
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			if isItem([]byte(tok.Name.Local)) {
				if depth == 0 {
					n++
				}
				depth++
			}
		case xml.EndElement:
			if isItem([]byte(tok.Name.Local)) {
				depth--
			}
		}
	}
}

// closersOnly matches a run of end tags.
var closersOnly = regexp.MustCompile(`^(</[^>/ \t\r\n]+>)*$`)

// cutOf reports whether part is data cut before one of its tags, then
// end tags only.
func cutOf(data, part []byte) bool {
	p := 0
	for p < len(data) && p < len(part) && data[p] == part[p] {
		p++
	}
	for k := p; k >= 0 && k >= p-1; k-- {
		if k < len(data) && data[k] == '<' && bytes.Equal(data[:k], part[:k]) && closersOnly.Match(part[k:]) {
			return true
		}
	}
	return false
}

// FuzzCutXML checks cutXML on any input: no panic; either the input
// whole, or the input cut before a tag and closed with end tags; and for a well-formed document a well-formed
// part with no more items than allowed, which a second cut leaves alone.
func FuzzCutXML(f *testing.F) {
	f.Add([]byte(`<rss><channel><title>t</title>`+rssItems(4)+`</channel></rss>`), uint8(2), uint8(40))
	f.Add([]byte(`<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>1</id><entry/></entry><entry><id>2</id></entry></feed>`), uint8(1), uint8(40))
	f.Add([]byte(`<rdf:RDF xmlns:rdf="r"><channel/><item a="1" b='2'><title><![CDATA[<item>]]></title></item><!-- <item> --><item/></rdf:RDF>`), uint8(1), uint8(3))
	f.Add([]byte(`<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "<item>">]><x:rss xmlns:x="x"><x:item>&e;</x:item><x:ITEM/></x:rss>`), uint8(1), uint8(10))
	f.Fuzz(func(t *testing.T, data []byte, maxItems, maxNodes uint8) {
		mi, mn := 1+int(maxItems%8), 3+int(maxNodes)
		part, dropped := cutXML(data, mi, mn)
		if dropped < 0 {
			t.Fatalf("dropped %d", dropped)
		}
		if !bytes.Equal(part, data) && !cutOf(data, part) {
			t.Fatalf("part %q is not %q cut at a tag and closed", part, data)
		}
		if dropped > 0 && bytes.Equal(part, data) {
			t.Fatalf("%d items dropped, but the part is all of %q", dropped, data)
		}
		total, ok := xmlItems(data)
		if !ok {
			return
		}
		kept, ok := xmlItems(part)
		if !ok {
			t.Fatalf("cut of well-formed %q is not: %q", data, part)
		}
		if kept > mi {
			t.Fatalf("part keeps %d items, over %d: %q", kept, mi, part)
		}
		if dropped > 0 && kept+dropped != total {
			t.Fatalf("kept %d + dropped %d, but %q has %d items", kept, dropped, data, total)
		}
		if _, again := cutXML(part, mi, mn); again != 0 {
			t.Fatalf("a second cut of %q drops %d more", part, again)
		}
	})
}
