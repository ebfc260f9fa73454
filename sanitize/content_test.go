package sanitize

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// checkWellFormed reports the first end tag that does not close the
// innermost open element, or an element left open.
func checkWellFormed(s string) error {
	var open []string
	z := html.NewTokenizer(strings.NewReader(s))
	for {
		switch z.Next() {
		case html.ErrorToken:
			if len(open) > 0 {
				return fmt.Errorf("%d elements left open, innermost <%s>", len(open), open[len(open)-1])
			}
			return nil
		case html.StartTagToken:
			name, _ := z.TagName()
			if !void[atom.Lookup(name)] {
				open = append(open, string(name))
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			if len(open) == 0 || open[len(open)-1] != string(name) {
				return fmt.Errorf("</%s> does not close the innermost open element (open: %v)", name, open)
			}
			open = open[:len(open)-1]
		}
	}
}

// checkCut checks CutHTML(h, n, link)'s promises: at most n bytes,
// well-formed when h is, sanitized (HTML of it is itself), the text a
// prefix of h's, and the note at the end.
func checkCut(t *testing.T, h string, n int, link string) string {
	t.Helper()
	got := CutHTML(h, n, link)
	if len(got) > n {
		t.Fatalf("CutHTML(%d bytes, %d) = %d bytes, over the limit", len(h), n, len(got))
	}
	if !utf8.ValidString(got) {
		t.Fatalf("CutHTML(%d bytes, %d): invalid UTF-8", len(h), n)
	}
	if err := checkWellFormed(got); err != nil {
		t.Fatalf("CutHTML(%d bytes, %d) is not well-formed: %v\n…%s", len(h), n, err, tail(got))
	}
	if again := HTML(got, nil); again != got {
		t.Fatalf("HTML(CutHTML(…, %d)) changed it:\n got …%s\nwant …%s", n, tail(again), tail(got))
	}
	if err := checkSafe(got); err != nil {
		t.Fatal(err)
	}
	note := "<p>…</p>"
	if link != "" {
		note = `<p><a href="` + strings.ReplaceAll(link, "&", "&amp;") + `" rel="nofollow noreferrer">` + RestNote + `</a></p>`
	}
	if !strings.HasSuffix(got, note) {
		t.Fatalf("CutHTML(…, %d) does not end with the note %s:\n…%s", n, note, tail(got))
	}
	kept := strings.TrimSuffix(Text(strings.TrimSuffix(got, note)), "…")
	if !strings.HasPrefix(Text(h), kept) {
		t.Fatalf("CutHTML(…, %d)'s text is not a prefix of the original's:\n…%s", n, tail(kept))
	}
	return got
}

func tail(s string) string {
	if len(s) > 300 {
		return s[len(s)-300:]
	}
	return s
}

func TestCutHTML(t *testing.T) {
	const link = "https://news.example/2026/12/long?a=1&b=2"
	words := strings.Repeat("Lorem ipsum dolor sit amet, consectetur &amp; adipiscing élit. ", 20_000) // 1.3 MB

	t.Run("Short", func(t *testing.T) {
		h := HTML("<p>Short <b>item</b>.</p>", nil)
		if got := CutHTML(h, ContentBytes, link); got != h {
			t.Errorf("CutHTML changed HTML under the limit: %q", got)
		}
	})
	t.Run("OneHugeParagraph", func(t *testing.T) {
		h := HTML("<p>"+words+"</p>", nil)
		got := checkCut(t, h, ContentBytes, link)
		// Cut inside the text, so nearly all the budget is used.
		if len(got) < ContentBytes-200 {
			t.Errorf("kept %d bytes of a %d-byte paragraph, want nearly %d", len(got), len(h), ContentBytes)
		}
		if !strings.Contains(got, "élit.…</p>") && !strings.Contains(got, "…</p><p><a") {
			t.Errorf("the paragraph is not cut with …:\n…%s", tail(got))
		}
	})
	t.Run("ManySmallElements", func(t *testing.T) {
		var b strings.Builder
		b.WriteString("<h2>List</h2><ul>")
		for i := 0; b.Len() < 2*ContentBytes; i++ {
			fmt.Fprintf(&b, `<li><a href="https://news.example/%d">Item <b>%d</b></a> &amp; <em>more</em><br></li>`, i, i)
		}
		b.WriteString("</ul><table><tr><td>after</td></tr></table>")
		h := HTML(b.String(), nil)
		got := checkCut(t, h, ContentBytes, link)
		if len(got) < ContentBytes-300 {
			t.Errorf("kept %d bytes, want nearly %d", len(got), ContentBytes)
		}
		if !strings.Contains(got, "</li></ul><p><a") {
			t.Errorf("the list is not cut between items and closed:\n…%s", tail(got))
		}
	})
	t.Run("DeepNesting", func(t *testing.T) {
		h := HTML(strings.Repeat("<div><blockquote>", 50_000)+"deep text"+strings.Repeat("</blockquote></div>", 50_000), nil)
		checkCut(t, h, ContentBytes, link)
	})
	t.Run("NoLink", func(t *testing.T) {
		h := HTML("<p>"+words+"</p>", nil)
		checkCut(t, h, ContentBytes, "")
		if got := CutHTML(h, ContentBytes, "javascript:alert(1)"); !strings.HasSuffix(got, "<p>…</p>") {
			t.Errorf("a link that is not http(s) is linked:\n…%s", tail(got))
		}
	})
	t.Run("EveryCutPoint", func(t *testing.T) {
		// Every budget over a small mixed document: entities, multi-byte
		// text, void elements, attributes, text without spaces.
		h := HTML(`<h1 title="x">Tïtle &amp; &lt;more&gt;</h1><p>Un <a href="https://a.example/?q=1&amp;r=2">lien</a> ici.<br>`+
			`<img src="https://a.example/i.png" alt="i"> 日本語のテキストは空白なしで書かれる</p><ol><li>a</li><li>b <q>c</q></li></ol>`+
			`<pre>code  here</pre>`, nil)
		note := len(`<p><a href="https://news.example/2026/12/long?a=1&amp;b=2" rel="nofollow noreferrer">` + RestNote + `</a></p>`)
		for n := note; n < len(h); n++ {
			checkCut(t, h, n, link)
		}
	})
	t.Run("TooSmall", func(t *testing.T) {
		if got := CutHTML("<p>"+words+"</p>", 5, link); got != "" {
			t.Errorf("CutHTML under the note's size = %q, want \"\"", got)
		}
	})
}
