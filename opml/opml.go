// Package opml reads OPML subscription lists, as feed readers export them
// (OPML 1.0 and 2.0: Miniflux, FreshRSS, Feedly, Inoreader, NetNewsWire,
// newsboat and others), into the feeds they list with the folders they
// are filed in. Files are untrusted: their size, nesting and number of
// outlines are bounded, and entities other than XML's and HTML's named
// ones are refused, never expanded.
package opml

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"

	"golang.org/x/net/html/charset"
)

// Limits on a document.
const (
	MaxBytes    = 16 << 20 // the file
	MaxDepth    = 64       // outlines within outlines
	MaxOutlines = 100_000
)

// Document is a parsed OPML file.
type Document struct {
	Version string // the version attribute: "1.0", "2.0", … or ""
	Title   string // head/title
	Feeds   []Feed
	// Skipped are the outlines with an address that are not feeds
	// (type="link", "include", a scraper's "HTML+XPath"), as "title (why)".
	Skipped []string
}

// Feed is one subscription.
type Feed struct {
	Title   string // the outline's text, else its title; may be empty
	URL     string // xmlUrl, trimmed
	HTMLURL string // htmlUrl, the site
	// Folders are the texts of the outlines it is nested in, outermost
	// first.
	Folders []string
	// Categories are the OPML 2.0 category attribute's entries, each
	// "/a/b" path split into its parts.
	Categories []string
	Line       int // where its outline starts
}

// Error is a document that cannot be read, with where.
type Error struct {
	Line int // 0 when unknown
	Msg  string
	Err  error
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
	}
	return e.Msg
}

func (e *Error) Unwrap() error { return e.Err }

// Parse reads an OPML document from r. Anything that is not an OPML
// document, or exceeds the limits, is an *Error.
func Parse(r io.Reader) (*Document, error) {
	lr := &io.LimitedReader{R: r, N: MaxBytes + 1}
	d := xml.NewDecoder(lr)
	d.Strict = true
	// Exports written by hand or by HTML-minded tools use &nbsp; and the
	// like; these are a fixed table, so nothing expands beyond it.
	d.Entity = xml.HTMLEntity
	d.CharsetReader = charset.NewReaderLabel
	p := parser{d: d, doc: &Document{}}
	err := p.run()
	if lr.N <= 0 {
		return nil, &Error{Msg: fmt.Sprintf("the file is larger than %d MiB: it is not a subscription list", MaxBytes>>20)}
	}
	if err != nil {
		return nil, err
	}
	return p.doc, nil
}

type parser struct {
	d        *xml.Decoder
	doc      *Document
	folders  []string // texts of the open folder outlines
	open     []bool   // for each open outline: whether it is a folder (pushed on folders)
	outlines int
}

func (p *parser) fail(err error, format string, args ...any) error {
	line, _ := p.d.InputPos()
	return &Error{Line: line, Msg: fmt.Sprintf(format, args...), Err: err}
}

func (p *parser) run() error {
	var (
		root            bool
		inHead, inTitle bool
		inBody          bool
		depth           int
		title           strings.Builder
	)
	for {
		line, _ := p.d.InputPos()
		tok, err := p.d.Token()
		if errors.Is(err, io.EOF) {
			if !root {
				return &Error{Msg: "the file is empty or not XML: it is not an OPML subscription list"}
			}
			p.doc.Title = strings.Join(strings.Fields(title.String()), " ")
			return nil
		}
		if err != nil {
			var se *xml.SyntaxError
			if errors.As(err, &se) {
				return &Error{Line: se.Line, Msg: "the file is not well-formed XML: " + se.Msg, Err: err}
			}
			return p.fail(err, "the file cannot be read: %v", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			if depth > MaxDepth+3 {
				return p.fail(nil, "elements are nested more than %d deep: the file is broken or hostile", MaxDepth)
			}
			name := strings.ToLower(t.Name.Local)
			if !root {
				if name != "opml" {
					return p.fail(nil, "the file is not an OPML subscription list: it starts with <%s>, not <opml>%s", t.Name.Local, feedHint(name))
				}
				root = true
				p.doc.Version = attr(t, "version")
				continue
			}
			switch {
			case depth == 2 && name == "head":
				inHead = true
			case inHead && depth == 3 && name == "title":
				inTitle = true
			case depth == 2 && name == "body":
				inBody = true
			case inBody && name == "outline":
				if err := p.outline(t, line); err != nil {
					return err
				}
			case inBody:
				// Unknown elements inside the body hold nothing of ours;
				// their outlines would be out of place.
				if err := p.d.Skip(); err != nil {
					return p.fail(err, "the file is not well-formed XML: %v", err)
				}
				depth--
			}
		case xml.EndElement:
			depth--
			name := strings.ToLower(t.Name.Local)
			switch {
			case inBody && name == "outline":
				if n := len(p.open); n > 0 {
					if p.open[n-1] {
						p.folders = p.folders[:len(p.folders)-1]
					}
					p.open = p.open[:n-1]
				}
			case name == "title":
				inTitle = false
			case name == "head":
				inHead = false
			case name == "body":
				inBody = false
			}
		case xml.CharData:
			if inTitle && title.Len() < 1024 {
				title.Write(t)
			}
		}
	}
}

// feedHint says what a file starting with <name> is, if it is a feed.
func feedHint(name string) string {
	switch name {
	case "rss", "feed", "rdf":
		return ": it is a feed; add it with `broadsheet sources add URL`"
	case "html":
		return ": it is a web page"
	}
	return ""
}

func (p *parser) outline(t xml.StartElement, line int) error {
	p.outlines++
	if p.outlines > MaxOutlines {
		return p.fail(nil, "more than %d outlines: the file is not a subscription list anyone exported", MaxOutlines)
	}
	if len(p.open) >= MaxDepth {
		return p.fail(nil, "outlines are nested more than %d deep: the file is broken or hostile", MaxDepth)
	}
	text := clean(attr(t, "text"))
	if text == "" {
		text = clean(attr(t, "title"))
	}
	u := strings.TrimSpace(attr(t, "xmlUrl"))
	typ := strings.ToLower(strings.TrimSpace(attr(t, "type")))
	switch {
	case u == "" && (typ == "link" || typ == "include"):
		name := text
		if name == "" {
			name = strings.TrimSpace(attr(t, "url"))
		}
		p.doc.Skipped = append(p.doc.Skipped, fmt.Sprintf("%s (type=%q is not a feed)", name, attr(t, "type")))
		p.open = append(p.open, false)
		return nil
	case u == "":
		// A folder (a category, a tag, a newsraft section), or an outline
		// of text: its text names the feeds inside.
		p.open = append(p.open, text != "")
		if text != "" {
			p.folders = append(p.folders, text)
		}
		return nil
	case typ != "" && typ != "rss" && typ != "atom" && typ != "feed" && typ != "json":
		name := text
		if name == "" {
			name = u
		}
		p.doc.Skipped = append(p.doc.Skipped, fmt.Sprintf("%s (type=%q is not a feed)", name, attr(t, "type")))
	default:
		f := Feed{Title: text, URL: u, HTMLURL: strings.TrimSpace(attr(t, "htmlUrl")), Line: line, Folders: append([]string(nil), p.folders...)}
		for c := range strings.SplitSeq(attr(t, "category"), ",") {
			for part := range strings.SplitSeq(c, "/") {
				if part = clean(part); part != "" {
					f.Categories = append(f.Categories, part)
				}
			}
		}
		p.doc.Feeds = append(p.doc.Feeds, f)
	}
	// A feed outline may hold others (some exporters nest by site): they
	// are filed under its title.
	p.open = append(p.open, text != "")
	if text != "" {
		p.folders = append(p.folders, text)
	}
	return nil
}

// attr returns the attribute called name, ignoring case (exporters write
// xmlUrl, xmlurl and xmlURL) and namespaces.
func attr(t xml.StartElement, name string) string {
	for _, a := range t.Attr {
		if strings.EqualFold(a.Name.Local, name) && (a.Name.Space == "" || strings.EqualFold(a.Name.Space, "opml")) {
			return a.Value
		}
	}
	return ""
}

// clean collapses whitespace and drops control characters.
func clean(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return ' '
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}
