package sanitize

import (
	"html"
	"strings"
	"unicode"
	"unicode/utf8"

	xhtml "golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// ContentBytes bounds the sanitized HTML kept per item for republishing, in
// its content and in its summary. Real articles are a few tens of KiB; one
// item of many megabytes would otherwise be stored, held in every published
// snapshot and sent to every feed reader.
const ContentBytes = 256 << 10

// RestNote is the text of the link CutHTML appends to HTML it cut.
const RestNote = "Read the rest at the source"

const ellipsis = "…"

// void elements have no end tag.
var void = map[atom.Atom]bool{
	atom.Area: true, atom.Br: true, atom.Col: true, atom.Embed: true, atom.Hr: true, atom.Img: true,
	atom.Input: true, atom.Wbr: true, atom.Source: true, atom.Track: true, atom.Param: true,
}

// CutHTML returns h, HTML as HTML returns it, at most n bytes long. Longer
// HTML is cut before the first tag that does not fit, or inside a text
// that does not, at a word (never inside a character or an entity); the
// elements still open there are closed, and a paragraph follows linking
// to link, the item's page, with RestNote ("…" alone when link is not an
// absolute http(s) URL). The result is again what HTML returns: HTML of it
// is the same string. n is the whole budget, closing tags and note
// included; below what the note takes, the result is "".
func CutHTML(h string, n int, link string) string {
	if len(h) <= n {
		return h
	}
	note := "<p>" + ellipsis + "</p>"
	if l := Link(link); l != "" {
		note = `<p><a href="` + html.EscapeString(l) + `" rel="nofollow noreferrer">` + RestNote + `</a></p>`
	}
	budget := n - len(note)
	if budget < 0 {
		return ""
	}

	var (
		open    []string // names of the elements open at keep, outermost first
		closing int      // bytes of the end tags for open
		keep    int      // h[:keep] is kept
		cutText string   // the part of a text token kept after h[:keep]
	)
	z := xhtml.NewTokenizer(strings.NewReader(h))
loop:
	for pos := 0; ; {
		tt := z.Next()
		if tt == xhtml.ErrorToken {
			break
		}
		raw := len(z.Raw())
		end := pos + raw
		switch tt {
		case xhtml.TextToken:
			if end+closing > budget {
				if cutText = cutRawText(h[pos:end], budget-closing-pos-len(ellipsis)); cutText != "" {
					cutText += ellipsis
				}
				break loop
			}
		case xhtml.StartTagToken:
			name, _ := z.TagName()
			a := atom.Lookup(name)
			if void[a] {
				if end+closing > budget {
					break loop
				}
				break
			}
			if end+closing+len(name)+3 > budget {
				break loop
			}
			open = append(open, string(name))
			closing += len(name) + 3
		case xhtml.EndTagToken:
			name, _ := z.TagName()
			// An end tag closes its element and those opened inside it and
			// left open; an end tag with nothing to close changes nothing.
			i := len(open) - 1
			for i >= 0 && open[i] != string(name) {
				i--
			}
			saved := 0
			if i >= 0 {
				for _, o := range open[i:] {
					saved += len(o) + 3
				}
			}
			if end+closing-saved > budget {
				break loop
			}
			if i >= 0 {
				open, closing = open[:i], closing-saved
			}
		default:
			if end+closing > budget {
				break loop
			}
		}
		pos, keep = end, end
	}

	var b strings.Builder
	b.Grow(keep + len(cutText) + closing + len(note))
	b.WriteString(h[:keep])
	b.WriteString(cutText)
	for i := len(open) - 1; i >= 0; i-- {
		b.WriteString("</" + open[i] + ">")
	}
	b.WriteString(note)
	return b.String()
}

// cutRawText returns at most max bytes of t, a text token as HTML writes
// it (entities escaped), cut at a space when one is in the second half,
// else at a character; never inside an entity or a UTF-8 sequence. Text
// written without spaces (Chinese, Japanese) is cut mid-run.
func cutRawText(t string, max int) string {
	if max <= 0 {
		return ""
	}
	if max >= len(t) {
		return t
	}
	end := max
	for end > 0 && !utf8.RuneStart(t[end]) {
		end--
	}
	// An entity is "&…;" with no space inside: back up before an unclosed one.
	if amp := strings.LastIndexByte(t[:end], '&'); amp >= 0 && !strings.Contains(t[amp:end], ";") {
		end = amp
	}
	keep := t[:end]
	if sp := strings.LastIndexFunc(keep, unicode.IsSpace); sp >= len(keep)/2 {
		keep = keep[:sp]
	}
	return strings.TrimRightFunc(keep, unicode.IsSpace)
}
