package fetch

import (
	"strings"
	"testing"

	"github.com/broadsheet/broadsheet/feeds"
)

// TestParse_TitleText checks that title text that only looks like markup
// survives ingest in every format, while markup is still stripped, and that
// bidi controls go from titles and authors.
func TestParse_TitleText(t *testing.T) {
	src := feeds.Source{Name: "Titles", URL: "https://titles.example/feed"}
	rss := func(title, author string) string {
		return `<rss version="2.0"><channel><title>c</title><item><guid>g</guid><title>` + title +
			`</title><author>a@titles.example (` + author + `)</author></item></channel></rss>`
	}
	atom := func(typ, title string) string {
		return `<feed xmlns="http://www.w3.org/2005/Atom"><title>c</title><entry><id>g</id><title type="` + typ + `">` + title +
			`</title><author><name>Eve &#x202E;evil</name></author></entry></feed>`
	}
	jsonFeed := func(title string) string {
		return `{"version":"https://jsonfeed.org/version/1.1","title":"c","items":[{"id":"g","title":` + title +
			`,"authors":[{"name":"Eve \u202eevil"}]}]}`
	}
	tests := []struct {
		name, body, title, author string
	}{
		{"RSS/ScriptAsText", rss("Why &lt;script&gt; tags are dangerous", "Eve"), "Why <script> tags are dangerous", "Eve"},
		{"RSS/IframeAsText", rss("&lt;iframe&gt; sandboxing", "Eve"), "<iframe> sandboxing", "Eve"},
		{"RSS/Markup", rss("&lt;b&gt;Bold&lt;/b&gt; move &lt;script&gt;x()&lt;/script&gt;", "Eve"), "Bold move", "Eve"},
		{"RSS/Bidi", rss("Invoice \u202Egpj.exe", "E\u2066ve\u2069"), "Invoice gpj.exe", "Eve"},
		{"Atom/text", atom("text", "Why &lt;script&gt; tags are dangerous"), "Why <script> tags are dangerous", "Eve evil"},
		{"Atom/html", atom("html", "&lt;iframe&gt; sandboxing &lt;em&gt;explained&lt;/em&gt;"), "<iframe> sandboxing explained", "Eve evil"},
		{"Atom/xhtml", atom("xhtml", `<div xmlns="http://www.w3.org/1999/xhtml">Why &lt;script&gt; tags are <b>dangerous</b></div>`), "Why <script> tags are dangerous", "Eve evil"},
		{"JSON/PlainText", jsonFeed(`"Why <script> tags are dangerous"`), "Why <script> tags are dangerous", "Eve evil"},
		{"JSON/TagsAreText", jsonFeed(`"<b>Bold</b> \u202eclaim"`), "<b>Bold</b> claim", "Eve evil"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			arts, _, err := newTestClient(Options{}).Parse(src, strings.NewReader(tt.body), "")
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if len(arts) != 1 {
				t.Fatalf("got %d articles, want 1", len(arts))
			}
			if got := arts[0].Title; got != tt.title {
				t.Errorf("Title = %q, want %q", got, tt.title)
			}
			if got := arts[0].Author; got != tt.author {
				t.Errorf("Author = %q, want %q", got, tt.author)
			}
		})
	}
}
