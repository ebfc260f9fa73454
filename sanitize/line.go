package sanitize

import (
	"net/url"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// The one set of limits on an article's text, applied at ingest and again
// (cheaply, as a cut) by every output. The README's "Security and limits"
// states them.
const (
	// TitleRunes bounds a title, and a topic or story label.
	TitleRunes = 300
	// NameRunes bounds an author's or an outlet's name.
	NameRunes = 120
	// ExcerptRunes bounds an excerpt, on the page, in feeds and in digests.
	ExcerptRunes = 280
)

// maxLineInput bounds how much of a title's input is read: ample for any
// TitleRunes of text wrapped in markup, and it keeps a megabyte title from
// costing more than a short one.
const maxLineInput = 64 << 10

// Title returns s, a title or name from a feed that may hold HTML markup,
// as one line of plain text of at most n runes, cut at a word with "…"
// (see Excerpt). Markup is what an author wrote as markup: an element that
// is closed again ("<b>x</b>", whose content is kept, or
// "<script>…</script>", whose content is dropped), a tag with attributes, a
// self-closing tag, <br>, comments. Anything else that only looks like a tag
// is text and is kept: "Why <script> tags are dangerous" stays whole, as
// does "<iframe> sandboxing". Entities are decoded; control characters,
// bidi overrides and isolates are dropped; white space is collapsed. The
// result must be escaped like any other text; in feeds, see Inert.
func Title(s string, n int) string {
	if n <= 0 {
		return ""
	}
	s = clip(validUTF8(s), maxLineInput)
	if !strings.ContainsAny(s, "<&") {
		return Line(s, n)
	}
	toks := titleTokens(s)
	w := textWriter{limit: n}
	w.Grow(min(len(s), 4*n+4))
	skip := 0 // inside a hidden element that is markup
	for _, t := range toks {
		if w.full() {
			break
		}
		switch {
		case t.typ == html.TextToken:
			if skip == 0 {
				w.write(t.text)
			}
		case !t.markup:
			if skip == 0 {
				w.write(t.raw)
			}
		case hidden[t.atom]:
			if t.typ == html.StartTagToken && t.closed {
				skip++
			} else if t.typ == html.EndTagToken && skip > 0 {
				skip--
			}
		case !inline[t.atom] && t.typ != html.CommentToken:
			w.space = true
		}
	}
	return finish(w.String(), n)
}

// Line returns s, plain text, as one line of at most n runes, cut at a
// word with "…": control characters, bidi overrides and isolates are
// dropped and white space is collapsed; nothing else changes, so "<b>" in
// s stays "<b>". Line(Line(s, n), n) == Line(s, n): outputs use it to cut
// stored text to their own length.
func Line(s string, n int) string {
	if n <= 0 {
		return ""
	}
	w := textWriter{limit: n}
	w.write(validUTF8(s))
	return finish(w.String(), n)
}

// finish cuts t, collected up to n+1 runes, to n.
func finish(t string, n int) string {
	if utf8.RuneCountInString(t) <= n {
		return t
	}
	return cut(t, n)
}

// clip returns at most max bytes of s, ending on a whole rune.
func clip(s string, max int) string {
	if len(s) <= max {
		return s
	}
	for max > 0 && !utf8.RuneStart(s[max]) {
		max--
	}
	return s[:max]
}

// titleToken is one token of a title, marked as markup or as text.
type titleToken struct {
	typ    html.TokenType
	atom   atom.Atom
	name   string
	raw    string // as written, shown when the token is not markup
	text   string // a text token's decoded text
	markup bool
	closed bool // a start tag that a later end tag closes
}

// maxOpen bounds how far down the open elements an end tag looks for its
// start: enough for any real title, and it keeps hostile nesting linear.
const maxOpen = 32

// titleTokens splits s into tokens and marks which are markup (see Title).
func titleTokens(s string) []titleToken {
	z := html.NewTokenizer(strings.NewReader(s))
	var toks []titleToken
	var open []int // indexes of start tags not yet closed
	for {
		typ := z.Next()
		if typ == html.ErrorToken {
			return toks
		}
		t := titleToken{typ: typ, raw: string(z.Raw())}
		switch typ {
		case html.TextToken:
			t.text = string(z.Text())
		case html.CommentToken, html.DoctypeToken:
			t.markup = true
		case html.StartTagToken, html.SelfClosingTagToken, html.EndTagToken:
			name, hasAttr := z.TagName()
			t.name = string(name)
			t.atom = atom.Lookup(name)
			switch {
			case typ == html.EndTagToken:
				for j := len(open) - 1; j >= 0 && j >= len(open)-maxOpen; j-- {
					if toks[open[j]].name == t.name {
						toks[open[j]].markup, toks[open[j]].closed, t.markup = true, true, true
						open = open[:j]
						break
					}
				}
			case typ == html.SelfClosingTagToken, hasAttr, t.atom == atom.Br, t.atom == atom.Wbr:
				t.markup = true
			default:
				open = append(open, len(toks))
			}
			if typ == html.StartTagToken {
				// "<script>" or "<title>" in a title is most often text:
				// tokenize what follows as usual, not as the element's raw
				// text, so that its words are seen.
				z.NextIsNotRawText()
			}
		}
		toks = append(toks, t)
	}
}

// Inert returns s, plain text, so that it reads the same as text and as
// HTML: a reader that takes a feed's title as HTML (some do) sees
// "Why <script> tags" as written, not a script. A zero-width space goes
// after each "<" that could start a tag; nothing else changes.
func Inert(s string) string {
	if !strings.Contains(s, "<") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); i++ {
		b.WriteByte(s[i])
		if s[i] == '<' && i+1 < len(s) {
			if c := s[i+1] | 0x20; c >= 'a' && c <= 'z' || s[i+1] == '/' || s[i+1] == '!' || s[i+1] == '?' {
				b.WriteString("\u200b")
			}
		}
	}
	return b.String()
}

// Link returns raw if it is an absolute http or https URL with a host and
// no user name or password in it, else "": the one rule for links put on
// the page, in feeds and in digests. "https://bank.example@evil.example/"
// is refused, since readers take it for bank.example; ingest already
// strips user info from the links it stores.
func Link(raw string) string {
	raw = strings.TrimSpace(raw)
	if raw == "" || strings.ContainsAny(raw, " \t\r\n\x00") {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil {
		return ""
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
		return u.String()
	}
	return ""
}

// Plain returns stored plain text as every output shows it: cut to n runes
// (see Line) and made Inert. Text stored by ingest comes out as it went in;
// markup that reached the store some other way (an older version, another
// writer) is stripped as Title strips it, until none is left, so that
// "&lt;script&gt;" written with entities cannot come back as a tag.
func Plain(s string, n int) string {
	s = Line(s, n)
	for range 16 {
		t := Title(s, n)
		if t == s {
			return Inert(s)
		}
		s = t
	}
	// Sixteen layers of entities are an attack, not a title.
	return strings.NewReplacer("<", "‹", ">", "›").Replace(s)
}
