package sanitize

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// Text returns s, HTML or plain text, as plain text: tags stripped with the
// content of scripts, styles and similar elements, entities decoded,
// control characters dropped and whitespace collapsed to single spaces. The
// result is valid UTF-8 and must be escaped like any other text wherever it
// is put into HTML.
func Text(s string) string {
	return text(s, -1)
}

// Excerpt returns the plain text of html (as Text does), shortened to at
// most n runes: when the text is longer, it is cut at a word boundary (or
// anywhere, for scripts written without spaces) and ends with "…", which
// counts towards n. Only as much of html is read as the excerpt needs.
func Excerpt(html string, n int) string {
	if n <= 0 {
		return ""
	}
	t := text(html, n+1)
	if utf8.RuneCountInString(t) <= n {
		return t
	}
	return cut(t, n)
}

// cut shortens t, longer than n runes, to at most n runes ending in "…".
func cut(t string, n int) string {
	if n == 1 {
		return ellipsis
	}
	// end is the byte offset after n-1 runes: the most we may keep.
	end, i := 0, 0
	for j := range t {
		if i == n-1 {
			end = j
			break
		}
		i++
	}
	keep := t[:end]
	if next, _ := utf8.DecodeRuneInString(t[end:]); !unicode.IsSpace(next) {
		// Back up to the last space, unless that loses more than half: text
		// written without spaces (Chinese, Japanese) is cut mid-run.
		if sp := strings.LastIndexByte(keep, ' '); sp > 0 && utf8.RuneCountInString(keep[:sp]) >= (n-1)/2 {
			keep = keep[:sp]
		}
	}
	keep = strings.TrimRightFunc(keep, func(r rune) bool {
		return unicode.IsSpace(r) || strings.ContainsRune(",;:-–—(/", r)
	})
	return keep + ellipsis
}

// inline elements join their text to the surrounding words; every other
// tag separates words.
var inline = map[atom.Atom]bool{
	atom.A: true, atom.Abbr: true, atom.Acronym: true, atom.B: true, atom.Bdi: true, atom.Bdo: true,
	atom.Big: true, atom.Cite: true, atom.Code: true, atom.Del: true, atom.Dfn: true, atom.Em: true,
	atom.Font: true, atom.I: true, atom.Ins: true, atom.Kbd: true, atom.Mark: true, atom.Q: true,
	atom.S: true, atom.Samp: true, atom.Small: true, atom.Span: true, atom.Strike: true,
	atom.Strong: true, atom.Sub: true, atom.Sup: true, atom.Time: true, atom.Tt: true, atom.U: true,
	atom.Var: true, atom.Wbr: true, atom.Nobr: true,
}

// hidden elements' content is not text a reader sees.
var hidden = map[atom.Atom]bool{
	atom.Script: true, atom.Style: true, atom.Noscript: true, atom.Template: true, atom.Iframe: true,
	atom.Object: true, atom.Svg: true, atom.Math: true, atom.Textarea: true,
	atom.Select: true, atom.Title: true, atom.Noembed: true, atom.Noframes: true,
	atom.Frameset: true, atom.Button: true,
}

// text extracts plain text from s, stopping once more than limit runes are
// collected when limit is not negative.
func text(s string, limit int) string {
	s = validUTF8(s)
	w := textWriter{limit: limit}
	if limit < 0 || len(s) < 4*limit {
		w.Grow(len(s))
	} else {
		w.Grow(4*limit + 4)
	}
	if !strings.ContainsAny(s, "<&") {
		w.write(s)
		return w.String()
	}
	z := html.NewTokenizer(strings.NewReader(s))
	skip := 0
	for !w.full() {
		switch z.Next() {
		case html.ErrorToken:
			return w.String()
		case html.TextToken:
			if skip == 0 {
				w.writeBytes(z.Text())
			}
		case html.StartTagToken:
			name, _ := z.TagName()
			a := atom.Lookup(name)
			if hidden[a] {
				skip++
			} else if !inline[a] {
				w.space = true
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			a := atom.Lookup(name)
			if hidden[a] {
				if skip > 0 {
					skip--
				}
			} else if !inline[a] {
				w.space = true
			}
		case html.SelfClosingTagToken:
			name, _ := z.TagName()
			if a := atom.Lookup(name); !inline[a] && !hidden[a] {
				w.space = true
			}
		}
	}
	return w.String()
}

// textWriter collapses whitespace and drops control characters as it
// writes, and counts runes against a limit.
type textWriter struct {
	strings.Builder
	limit int  // runes; negative for none
	n     int  // runes written
	space bool // a space is due before the next visible rune
}

func (w *textWriter) full() bool { return w.limit >= 0 && w.n > w.limit }

func (w *textWriter) writeRune(r rune) {
	switch {
	case unicode.IsSpace(r):
		w.space = true
	case r < 0x20, r >= 0x7f && r < 0xa0, r == '\u200b', r == '\ufeff', isBidiControl(r):
		// Control characters, zero-width spaces, BOMs, and the bidi
		// embeddings, overrides and isolates that let text display as
		// something else ("gpj.exe" shown as "exe.jpg"). Joiners (ZWJ,
		// ZWNJ) and the LRM/RLM marks stay: scripts and mixed text need them.
	default:
		if w.space && w.Len() > 0 {
			w.WriteByte(' ')
			w.n++
		}
		w.space = false
		w.WriteRune(r)
		w.n++
	}
}

func (w *textWriter) write(s string) {
	for _, r := range s {
		if w.full() {
			return
		}
		w.writeRune(r)
	}
}

func (w *textWriter) writeBytes(b []byte) {
	for len(b) > 0 && !w.full() {
		if c := b[0]; c > ' ' && c < 0x7f {
			// Printable ASCII, the common case.
			if w.space && w.Len() > 0 {
				w.WriteByte(' ')
				w.n++
			}
			w.space = false
			w.WriteByte(c)
			w.n++
			b = b[1:]
			continue
		}
		r, size := utf8.DecodeRune(b)
		w.writeRune(r)
		b = b[size:]
	}
}

// FromText returns plain text as safe HTML: escaped, with blank lines
// starting paragraphs and single newlines kept as line breaks.
func FromText(s string) string {
	s = strings.TrimSpace(strings.ReplaceAll(validUTF8(s), "\r\n", "\n"))
	if s == "" {
		return ""
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for _, para := range strings.Split(s, "\n\n") {
		para = strings.TrimSpace(para)
		if para == "" {
			continue
		}
		b.WriteString("<p>")
		for j, line := range strings.Split(para, "\n") {
			if j > 0 {
				b.WriteString("<br>")
			}
			b.WriteString(html.EscapeString(strings.TrimSpace(line)))
		}
		b.WriteString("</p>")
	}
	return b.String()
}

// isBidiControl reports whether r is a bidi embedding, override or isolate:
// U+202A–U+202E or U+2066–U+2069.
func isBidiControl(r rune) bool {
	return r >= '\u202a' && r <= '\u202e' || r >= '\u2066' && r <= '\u2069'
}
