package e2e

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// Checks on HTML that came, at least in part, from feeds. They look at the
// parsed tree, as a browser or mail client would build it, so entity- and
// case-obfuscated payloads are judged by what they become.

// neverElements are elements that must not appear anywhere in an output:
// scripts, frames, plugins, forms, document-changing elements, and foreign
// content (SVG, MathML) whose parsing rules differ.
var neverElements = map[string]bool{
	"script": true, "iframe": true, "frame": true, "frameset": true, "object": true, "embed": true,
	"applet": true, "form": true, "input": true, "button": true, "textarea": true, "select": true,
	"base": true, "svg": true, "math": true, "noscript": true, "template": true, "portal": true,
	"isindex": true, "keygen": true, "xml": true, "import": true,
}

// headOnly are allowed in a whole document's head (its own style sheet and
// metadata), never in the body nor in a fragment.
var headOnly = map[string]bool{"style": true, "meta": true, "link": true, "title": true}

// urlAttrs carry URLs a browser may follow or load.
var urlAttrs = map[string]bool{
	"href": true, "src": true, "cite": true, "action": true, "formaction": true, "poster": true,
	"background": true, "data": true, "codebase": true, "longdesc": true, "usemap": true,
	"dynsrc": true, "lowsrc": true, "ping": true, "manifest": true, "icon": true, "xlink:href": true,
	"srcset": true, "archive": true, "classid": true, "profile": true,
}

// badCSS is what must not occur in a style sheet or style attribute that
// broadsheet's own templates wrote: script URLs, IE expressions and
// bindings, imports, or URLs of any kind (the templates use none).
var badCSS = regexp.MustCompile(`(?i)expression|javascript|vbscript|url\s*\(|@import|behavior|binding|alert`)

// htmlProblems parses s as a whole document (whole is true) or as a
// fragment of one (the content of a feed entry) and lists what is unsafe
// in it.
func htmlProblems(s string, whole bool) []string {
	var root *html.Node
	if whole {
		doc, err := html.Parse(strings.NewReader(s))
		if err != nil {
			return []string{fmt.Sprintf("does not parse: %v", err)}
		}
		root = doc
	} else {
		body := &html.Node{Type: html.ElementNode, Data: "body", DataAtom: atom.Body}
		nodes, err := html.ParseFragment(strings.NewReader(s), body)
		if err != nil {
			return []string{fmt.Sprintf("does not parse: %v", err)}
		}
		root = &html.Node{Type: html.DocumentNode}
		for _, n := range nodes {
			root.AppendChild(n)
		}
	}
	var probs []string
	add := func(format string, args ...any) { probs = append(probs, fmt.Sprintf(format, args...)) }
	var walk func(n *html.Node, inHead bool)
	walk = func(n *html.Node, inHead bool) {
		if n.Type == html.ElementNode {
			name := strings.ToLower(n.Data)
			if n.Namespace != "" {
				add("<%s:%s>: foreign content", n.Namespace, name)
			}
			switch {
			case neverElements[name]:
				add("<%s> element", name)
			case headOnly[name] && !(whole && inHead):
				add("<%s> element outside the document's head", name)
			case name == "style":
				if txt := textOf(n); badCSS.MatchString(txt) {
					add("<style> with %q", badCSS.FindString(txt))
				}
			}
			for _, a := range n.Attr {
				key := strings.ToLower(a.Key)
				if a.Namespace != "" {
					key = a.Namespace + ":" + key
				}
				switch {
				case strings.HasPrefix(key, "on"):
					add("<%s %s=%q>: event handler", name, key, a.Val)
				case key == "srcdoc" || key == "formaction" || key == "action":
					add("<%s %s=%q>", name, key, a.Val)
				case key == "style" && !whole:
					add("<%s style=%q>: inline style in feed content", name, a.Val)
				case key == "style" && badCSS.MatchString(a.Val):
					add("<%s style=%q>: %q", name, a.Val, badCSS.FindString(a.Val))
				case key == "http-equiv" && strings.EqualFold(strings.TrimSpace(a.Val), "refresh"):
					add("<%s http-equiv=refresh>", name)
				}
				if urlAttrs[key] {
					for _, u := range urlsOf(key, a.Val) {
						if !safeScheme(u, key == "href") {
							add("<%s %s=%q>: not an http(s) URL", name, key, a.Val)
						}
					}
				}
			}
			inHead = inHead || name == "head"
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, inHead)
		}
	}
	walk(root, false)
	return probs
}

func textOf(n *html.Node) string {
	var b strings.Builder
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.TextNode {
			b.WriteString(c.Data)
		}
	}
	return b.String()
}

// urlsOf splits a srcset into its URLs; other attributes hold one.
func urlsOf(key, val string) []string {
	if key != "srcset" {
		return []string{val}
	}
	var out []string
	for _, part := range strings.Split(val, ",") {
		if f := strings.Fields(part); len(f) > 0 {
			out = append(out, f[0])
		}
	}
	return out
}

// safeScheme reports whether a URL, read as a browser reads it (leading
// and trailing spaces and controls ignored, tabs and newlines inside
// removed, any case), is relative or http(s), or mailto for a link.
func safeScheme(raw string, link bool) bool {
	u := strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' {
			return -1
		}
		return r
	}, raw)
	u = strings.ToLower(strings.TrimFunc(u, func(r rune) bool { return r <= ' ' }))
	i := strings.IndexAny(u, ":/?#")
	if i < 0 || u[i] != ':' {
		return true // relative
	}
	switch u[:i] {
	case "http", "https":
		return true
	case "mailto":
		return link
	}
	return false
}

// textOnly reports whether s, read as HTML (as some feed readers read
// titles), is only text: no element at all.
func textOnly(s string) bool {
	body := &html.Node{Type: html.ElementNode, Data: "body", DataAtom: atom.Body}
	nodes, err := html.ParseFragment(strings.NewReader(s), body)
	if err != nil {
		return false
	}
	for _, n := range nodes {
		if n.Type != html.TextNode {
			return false
		}
	}
	return true
}

// linkLine is a line of a digest's text part that holds only a link.
var linkLine = regexp.MustCompile(`(?m)^\s*([A-Za-z][A-Za-z0-9+.-]*:\S*)\s*$`)

// textLinkProblems lists the links of a text part, each on a line of its
// own, that are not http(s).
func textLinkProblems(s string) []string {
	var probs []string
	for _, m := range linkLine.FindAllStringSubmatch(s, -1) {
		if !safeScheme(m[1], false) {
			probs = append(probs, fmt.Sprintf("link line %q", m[1]))
		}
	}
	return probs
}

// TestHTMLProblems checks the checker: each unsafe input must be caught
// (else the end-to-end tests would pass vacuously), and broadsheet's own
// safe constructs must not be.
func TestHTMLProblems(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		whole bool
		bad   bool
	}{
		{"Script", `<p>x</p><script>alert(1)</script>`, false, true},
		{"Onerror", `<img src="https://x.example/i.png" onerror="alert(1)">`, false, true},
		{"JavascriptEntities", `<a href="&#106;avascript:alert(1)">x</a>`, false, true},
		{"JavascriptTab", "<a href=\"java\tscript:alert(1)\">x</a>", false, true},
		{"DataImage", `<img src="data:image/svg+xml,x">`, false, true},
		{"Vbscript", `<a href=" VBScript:x">x</a>`, false, true},
		{"StyleAttrInFragment", `<p style="color:red">x</p>`, false, true},
		{"ExpressionInDocument", `<html><body><p style="width:expression(alert(1))">x</p></body></html>`, true, true},
		{"MetaRefreshInHead", `<html><head><meta http-equiv="refresh" content="0;url=https://x.example/"></head></html>`, true, true},
		{"BaseInHead", `<html><head><base href="https://evil.example/"></head></html>`, true, true},
		{"StyleInBody", `<html><body><style>p{}</style></body></html>`, true, true},
		{"Form", `<form action="https://x.example/"><input name=a></form>`, false, true},
		{"Iframe", `<iframe src="https://x.example/"></iframe>`, false, true},
		{"Object", `<object data="https://x.example/x.swf"></object>`, false, true},
		{"Svg", `<svg><circle r=1 /></svg>`, false, true},
		{"SrcsetJavascript", `<img srcset="https://x.example/a.png 1x, javascript:alert(1) 2x">`, false, true},
		{"SafeFragment", `<p>Text <a href="https://x.example/a" rel="nofollow">link</a> <img src="https://x.example/i.png" alt=""> <a href="mailto:a@x.example">mail</a> <a href="rel/x">rel</a></p>`, false, false},
		{"SafeDocument", `<!DOCTYPE html><html><head><meta charset="utf-8"><title>t</title><style>p{color:red}</style><link rel="alternate" href="https://x.example/feed.atom"></head><body><p style="margin:0">x</p></body></html>`, true, false},
		{"EscapedText", `&lt;script&gt;alert(1)&lt;/script&gt; javascript:alert(1)`, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			probs := htmlProblems(tt.in, tt.whole)
			if got := len(probs) > 0; got != tt.bad {
				t.Errorf("htmlProblems(%q) = %q; unsafe %v, want %v", tt.in, probs, got, tt.bad)
			}
		})
	}
}

func TestTextOnly(t *testing.T) {
	for in, want := range map[string]bool{
		"Plain title":                 true,
		"a < b & c > d":               true,
		"&lt;script&gt;":              true, // text once decoded, shown as "<script>"
		"<b>bold</b>":                 false,
		"x <img src=x onerror=alert>": false,
		"<script>alert(1)</script>":   false,
	} {
		if got := textOnly(in); got != want {
			t.Errorf("textOnly(%q) = %v, want %v", in, got, want)
		}
	}
}
