package sanitize

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/net/html"
)

// checkSafe reports what makes out unsafe to embed in a page, or nil.
func checkSafe(out string) error {
	if !utf8.ValidString(out) {
		return fmt.Errorf("invalid UTF-8")
	}
	lower := strings.ToLower(out)
	for _, bad := range []string{"<script", "<style", "<iframe", "<object", "<embed", "<form", "<input", "<meta", "<base", "<svg", "<math", "<link", "<frame"} {
		if strings.Contains(lower, bad) {
			return fmt.Errorf("contains %s", bad)
		}
	}
	z := html.NewTokenizer(strings.NewReader(out))
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			return nil
		}
		if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
			continue
		}
		tok := z.Token()
		for _, a := range tok.Attr {
			key := strings.ToLower(a.Key)
			if strings.HasPrefix(key, "on") || key == "style" || key == "srcdoc" || key == "formaction" {
				return fmt.Errorf("<%s> has attribute %s", tok.Data, a.Key)
			}
			if key != "href" && key != "src" && key != "cite" {
				continue
			}
			v := strings.ToLower(strings.Map(func(r rune) rune {
				if r <= ' ' {
					return -1
				}
				return r
			}, a.Val))
			u, err := url.Parse(v)
			if err != nil {
				return fmt.Errorf("<%s %s=%q> is not a URL: %v", tok.Data, a.Key, a.Val, err)
			}
			switch u.Scheme {
			case "http", "https", "":
			case "mailto":
				if tok.Data == "img" {
					return fmt.Errorf("<img src=%q>", a.Val)
				}
			default:
				return fmt.Errorf("<%s %s=%q> has scheme %q", tok.Data, a.Key, a.Val, u.Scheme)
			}
		}
	}
}

func TestHTML_XSS(t *testing.T) {
	tests := []struct {
		name string
		in   string
		keep string // text that must survive, if any
	}{
		{"script", `<p>hi</p><script>alert(1)</script>`, "<p>hi</p>"},
		{"script uppercase", `<SCRIPT SRC=http://x/xss.js></SCRIPT>ok`, "ok"},
		{"script split", `<scr<script>ipt>alert(1)</script>`, ""},
		{"onerror", `<img src="https://x.test/a.png" onerror="alert(1)">`, `src="https://x.test/a.png"`},
		{"onclick on p", `<p onclick="alert(1)">para</p>`, "para"},
		{"onmouseover unquoted", `<a href=https://x.test/ onmouseover=alert(1)>x</a>`, `href="https://x.test/"`},
		{"javascript href", `<a href="javascript:alert(1)">x</a>`, "x"},
		{"javascript mixed case", `<a href="JaVaScRiPt:alert(1)">x</a>`, "x"},
		{"javascript leading space", `<a href=" javascript:alert(1)">x</a>`, "x"},
		{"javascript entity colon", `<a href="javascript&#58;alert(1)">x</a>`, "x"},
		{"javascript hex entities", `<a href="&#x6A;&#x61;&#x76;&#x61;&#x73;&#x63;&#x72;&#x69;&#x70;&#x74;&#x3A;alert(1)">x</a>`, "x"},
		{"javascript decimal no semicolon", `<a href="&#106&#97&#118&#97&#115&#99&#114&#105&#112&#116&#58alert(1)">x</a>`, "x"},
		{"javascript tab", "<a href=\"jav\tascript:alert(1)\">x</a>", "x"},
		{"javascript entity tab", `<a href="jav&#x09;ascript:alert(1)">x</a>`, "x"},
		{"javascript newline entity", `<a href="jav&#x0A;ascript:alert(1)">x</a>`, "x"},
		{"javascript NUL", "<a href=\"java\x00script:alert(1)\">x</a>", "x"},
		{"vbscript", `<a href="vbscript:msgbox(1)">x</a>`, "x"},
		{"data href", `<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>`, "x"},
		{"data img", `<img src="data:image/png;base64,iVBORw0KGgo=">`, ""},
		{"javascript img", `<img src="javascript:alert(1)">`, ""},
		{"svg onload", `<svg onload="alert(1)"><circle r="4"/></svg>after`, "after"},
		{"svg script", `<svg><script>alert(1)</script></svg>`, ""},
		{"svg xlink", `<svg><a xlink:href="javascript:alert(1)"><text>x</text></a></svg>`, ""},
		{"math", `<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>`, ""},
		{"css expression", `<div style="width: expression(alert(1))">x</div>`, "x"},
		{"css url", `<p style="background:url(javascript:alert(1))">x</p>`, "x"},
		{"style element", `<style>body{background:url("javascript:alert(1)")}</style>text`, "text"},
		{"style import", `<style>@import 'http://x/xss.css';</style>`, ""},
		{"meta refresh", `<meta http-equiv="refresh" content="0;url=javascript:alert(1)">text`, "text"},
		{"base", `<base href="https://evil.test/">text`, "text"},
		{"form", `<form action="https://evil.test/"><input name="pw" type="password"><button formaction="javascript:alert(1)">go</button></form>`, ""},
		{"iframe", `<iframe src="https://evil.test/"></iframe>after`, "after"},
		{"iframe srcdoc", `<iframe srcdoc="&lt;script&gt;alert(1)&lt;/script&gt;"></iframe>`, ""},
		{"object", `<object data="https://evil.test/x.swf"><param name="x"></object>`, ""},
		{"embed", `<embed src="https://evil.test/x.swf">`, ""},
		{"link stylesheet", `<link rel="stylesheet" href="https://evil.test/x.css">`, ""},
		{"unclosed attribute", `<img src="https://x.test/a.png" alt="x onerror=alert(1)`, ""},
		{"comment trick", `<!--<img src="--><img src=x onerror=alert(1)//">`, ""},
		{"html in attribute", `<a title="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;" href="https://x.test/">x</a>`, "x"},
		{"noscript", `<noscript><p title="</noscript><img src=x onerror=alert(1)>">`, ""},
		{"id clobbering", `<img id="location" src="https://x.test/a.png">`, `src="https://x.test/a.png"`},
		{"mailto img", `<img src="mailto:a@b.test">`, ""},
		{"template", `<template><script>alert(1)</script></template>`, ""},
		{"formaction", `<button formaction="javascript:alert(1)">x</button>`, ""},
		{"body onload", `<body onload="alert(1)">text</body>`, "text"},
	}
	base, _ := url.Parse("https://news.example/2026/story.html")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := HTML(tt.in, base)
			if err := checkSafe(got); err != nil {
				t.Fatalf("HTML(%q) = %q: %v", tt.in, got, err)
			}
			// What survives of an attack is text; it must not be a live
			// attribute or element.
			for _, bad := range []string{`="javascript`, `id="location"`, `"https://evil.test`, "<svg", "<a>"} {
				if strings.Contains(got, bad) {
					t.Errorf("HTML(%q) = %q, still contains %q", tt.in, got, bad)
				}
			}
			if !strings.Contains(got, tt.keep) {
				t.Errorf("HTML(%q) = %q, want it to keep %q", tt.in, got, tt.keep)
			}
		})
	}
}

func TestHTML_Links(t *testing.T) {
	base, _ := url.Parse("https://news.example/world/2026/story.html?id=1")
	tests := []struct {
		name string
		in   string
		base *url.URL
		want string
	}{
		{"relative href", `<a href="../other.html">o</a>`, base, `<a href="https://news.example/world/other.html" rel="nofollow noreferrer">o</a>`},
		{"root-relative img", `<img src="/img/a.png" alt="A">`, base, `<img src="https://news.example/img/a.png" alt="A">`},
		{"protocol-relative img", `<img src="//cdn.example/a.png">`, base, `<img src="https://cdn.example/a.png">`},
		{"protocol-relative without base", `<img src="//cdn.example/a.png">`, nil, `<img src="https://cdn.example/a.png">`},
		{"relative without base stays", `<a href="/x">x</a>`, nil, `<a href="/x" rel="nofollow noreferrer">x</a>`},
		{"absolute untouched", `<a href="http://other.example/p">p</a>`, base, `<a href="http://other.example/p" rel="nofollow noreferrer">p</a>`},
		{"mailto kept", `<a href="mailto:desk@news.example">mail</a>`, base, `<a href="mailto:desk@news.example" rel="nofollow noreferrer">mail</a>`},
		{"blockquote cite", `<blockquote cite="/source">q</blockquote>`, base, `<blockquote cite="https://news.example/source">q</blockquote>`},
		{"ftp link dropped", `<a href="ftp://files.example/x">x</a>`, base, `x`},
		{"plain text", `Just words, nothing else`, base, `Just words, nothing else`},
		{"text with ampersand", `Tom &amp; Jerry`, base, `Tom &amp; Jerry`},
		{"text with bare ampersand", `Tom & Jerry`, base, `Tom &amp; Jerry`},
		{"formatting kept", `<p><strong>Bold</strong> and <em>em</em><br/>line</p>`, base, `<p><strong>Bold</strong> and <em>em</em><br/>line</p>`},
		{"table kept", `<table><tr><td>1</td></tr></table>`, base, `<table><tr><td>1</td></tr></table>`},
		{"invalid utf8", "caf\xe9 <b>ok</b>", base, "caf\uFFFD <b>ok</b>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := HTML(tt.in, tt.base)
			if got != tt.want {
				t.Errorf("HTML(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if err := checkSafe(got); err != nil {
				t.Errorf("HTML(%q) = %q: %v", tt.in, got, err)
			}
		})
	}
}

func TestText(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "Plain title", "Plain title"},
		{"whitespace", "  Title\n\twith   gaps \r\n", "Title with gaps"},
		{"tags", "<b>Bold</b> <i>move</i>", "Bold move"},
		{"entities", "Tom &amp; Jerry &mdash; &quot;live&quot; &#8217;s &#x263A;", "Tom & Jerry — \"live\" ’s ☺"},
		{"blocks separate words", "<p>one</p><p>two</p><div>three<br>four</div>", "one two three four"},
		{"inline joins", "H<sub>2</sub>O and <a href=x>l</a>ink", "H2O and link"},
		{"script dropped", "a<script>var x = '<b>no</b>';</script>b", "ab"},
		{"style dropped", "<style>p{}</style>visible", "visible"},
		{"escaped markup decoded once", "&lt;b&gt;not bold&lt;/b&gt;", "<b>not bold</b>"},
		{"nbsp", "a&nbsp;b\u00a0c", "a b c"},
		{"controls", "a\x01b\x7fc\u200bd", "abcd"},
		{"next line is a space", "a\u0085b", "a b"},
		{"invalid utf8", "ok\xff\xfeend", "ok\uFFFDend"},
		{"nul", "a\x00b", "ab"},
		{"empty", "", ""},
		{"only tags", "<br/><hr>", ""},
		{"unknown entity", "&lol3; &bogus", "&lol3; &bogus"},
		{"lt as text", "1 < 2 and 3 > 2", "1 < 2 and 3 > 2"},
		{"korean", "<p>한겨레 &amp; 사설</p>", "한겨레 & 사설"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Text(tt.in); got != tt.want {
				t.Errorf("Text(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestExcerpt(t *testing.T) {
	long := "<p>The quick brown fox jumps over the lazy dog.</p><p>Then it runs away.</p>"
	tests := []struct {
		name string
		in   string
		n    int
		want string
	}{
		{"fits", "<p>Short text.</p>", 280, "Short text."},
		{"exact", "abcde", 5, "abcde"},
		{"word boundary", long, 20, "The quick brown fox…"},
		{"boundary before space", long, 16, "The quick brown…"},
		{"boundary inside word", long, 15, "The quick…"},
		{"trailing punctuation trimmed", "<p>One, two, three, four</p>", 10, "One, two…"},
		{"cjk without spaces", "<p>한겨레신문은대한민국의일간신문이다</p>", 8, "한겨레신문은대…"},
		{"japanese", "日本語の文章はスペースを使いません", 6, "日本語の文…"},
		{"long first word", "Supercalifragilisticexpialidocious is long", 10, "Supercali…"},
		{"n is one", "abc", 1, "…"},
		{"n is zero", "abc", 0, ""},
		{"entities counted once", "&amp;&amp;&amp;&amp;", 4, "&&&&"},
		{"script not counted", "<script>" + strings.Repeat("x", 1000) + "</script>short", 10, "short"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Excerpt(tt.in, tt.n)
			if got != tt.want {
				t.Errorf("Excerpt(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
			}
			if n := utf8.RuneCountInString(got); n > max(tt.n, 0) {
				t.Errorf("Excerpt(%q, %d) has %d runes, more than %d", tt.in, tt.n, n, tt.n)
			}
		})
	}
}

func TestExcerpt_ReadsOnlyWhatItNeeds(t *testing.T) {
	// Truncated markup after the cut must not matter: the excerpt stops early.
	in := "<p>" + strings.Repeat("word ", 100) + "</p><script>" + strings.Repeat("x", 10)
	got := Excerpt(in, 30)
	if want := strings.Repeat("word ", 5) + "word…"; got != want {
		t.Errorf("Excerpt = %q, want %q", got, want)
	}
}

func TestFromText(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"empty", "  \n ", ""},
		{"one line", "hello", "<p>hello</p>"},
		{"escaped", `if a < b && c > "d"`, "<p>if a &lt; b &amp;&amp; c &gt; &#34;d&#34;</p>"},
		{"lines and paragraphs", "one\r\ntwo\n\n\n three ", "<p>one<br>two</p><p>three</p>"},
		{"markup stays text", "<script>alert(1)</script>", "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>"},
		{"invalid utf8", "a\xffb", "<p>a\uFFFDb</p>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := FromText(tt.in); got != tt.want {
				t.Errorf("FromText(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
