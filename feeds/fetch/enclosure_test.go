package fetch

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/broadsheet/broadsheet/feeds"
)

func TestClient_Parse_Enclosures(t *testing.T) {
	atom := `<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>Pod</title><id>urn:pod</id><updated>2026-08-13T06:00:00Z</updated>
  <link href="https://pod.example/"/>
  <entry>
    <title>Episode 1</title><id>urn:pod:ep1</id><updated>2026-08-13T06:00:00Z</updated>
    <link rel="alternate" href="https://pod.example/ep1"/>
    <link rel="enclosure" href="audio/ep1.m4a" type="audio/mp4" length="2048"/>
    <link rel="related" href="https://pod.example/not-an-enclosure.mp3" type="audio/mpeg"/>
  </entry>
</feed>`
	jsonFeed := `{"version": "https://jsonfeed.org/version/1.1", "title": "Pod",
  "home_page_url": "https://pod.example/",
  "items": [{"id": "ep1", "url": "https://pod.example/ep1", "title": "Episode 1",
    "content_text": "Talk.", "date_published": "2026-08-13T06:00:00Z",
    "attachments": [
      {"url": "https://cdn.pod.example/ep1.mp3", "mime_type": "audio/mpeg", "size_in_bytes": 34567890},
      {"url": "https://cdn.pod.example/ep1.vtt", "mime_type": "text/vtt"},
      {"url": "ftp://cdn.pod.example/ep1.mp3", "mime_type": "audio/mpeg"}
    ]}]}`
	many := make([]feeds.Enclosure, maxEnclosures)
	for i := range many {
		many[i] = feeds.Enclosure{URL: fmt.Sprintf("https://cdn.pod.example/many/%d.mp3", i), Type: "audio/mpeg", Length: int64(i + 1)}
	}
	tests := []struct {
		name string
		body []byte
		want [][]feeds.Enclosure // per item
	}{
		{
			name: "RSS",
			body: readFixture(t, "enclosures.rss"),
			want: [][]feeds.Enclosure{
				{
					// Resolved against the site, type lower-cased without
					// parameters; the repeat, javascript:, data: and the
					// URL with a password are dropped; a bad type or length
					// is dropped, the file kept.
					{URL: "https://pod.example/audio/ep1.mp3", Type: "audio/mpeg", Length: 34567890},
					{URL: "https://cdn.pod.example/ep1.mp4"},
					{URL: "https://cdn.pod.example/ep1.pdf", Type: "application/pdf"},
				},
				many, // 10 in the feed
				nil,  // a 3 KB URL
			},
		},
		{
			name: "Atom",
			body: []byte(atom),
			want: [][]feeds.Enclosure{{{URL: "https://pod.example/audio/ep1.m4a", Type: "audio/mp4", Length: 2048}}},
		},
		{
			name: "JSON Feed",
			body: []byte(jsonFeed),
			want: [][]feeds.Enclosure{{
				{URL: "https://cdn.pod.example/ep1.mp3", Type: "audio/mpeg", Length: 34567890},
				{URL: "https://cdn.pod.example/ep1.vtt", Type: "text/vtt"},
			}},
		},
	}
	c := newTestClient(Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			arts, _, err := c.Parse(feeds.Source{Name: "Pod", URL: "https://pod.example/feed"}, bytes.NewReader(tt.body), "")
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if len(arts) != len(tt.want) {
				t.Fatalf("%d articles, want %d", len(arts), len(tt.want))
			}
			for i, a := range arts {
				if !reflect.DeepEqual(a.Enclosures, tt.want[i]) {
					t.Errorf("item %d (%s) enclosures:\n got  %+v\n want %+v", i, a.Title, a.Enclosures, tt.want[i])
				}
				if a.Hash != feeds.ContentHash(a) {
					t.Errorf("item %d: Hash does not cover the enclosures", i)
				}
			}
		})
	}
}

func TestMIMEType(t *testing.T) {
	for in, want := range map[string]string{
		"audio/mpeg":                "audio/mpeg",
		" Video/MP4 ; codecs=avc1 ": "video/mp4",
		"audio/x-m4a":               "audio/x-m4a",
		"mpeg":                      "",
		"audio/":                    "",
		`"><script>`:                "",
		"audio/mp eg":               "",
		"text/" + strings.Repeat("x", maxMIMEType): "",
	} {
		if got := mimeType(in); got != want {
			t.Errorf("mimeType(%q) = %q, want %q", in, got, want)
		}
	}
}
