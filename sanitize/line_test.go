package sanitize

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestTitle(t *testing.T) {
	long := strings.Repeat("word ", 100)
	for _, tc := range []struct {
		name, in, want string
	}{
		{"Plain", "  A  plain\ttitle\n", "A plain title"},
		{"TextThatLooksLikeATag", "Why <script> tags are dangerous", "Why <script> tags are dangerous"},
		{"UnclosedIframe", "<iframe> sandboxing", "<iframe> sandboxing"},
		{"ElementNameAsText", "The <video> element and <br/>line", "The <video> element and line"},
		{"ClosedMarkupKeepsText", "<b>Bold</b> news", "Bold news"},
		{"ClosedScriptDropped", `<script>alert("t")</script>Breaking news`, "Breaking news"},
		{"AttributesAreMarkup", `x <img src=x onerror=alert(1)> y`, "x y"},
		{"EntitiesDecoded", "AT&amp;T &lt;3", "AT&T <3"},
		{"EscapedScriptIsText", "&lt;script&gt;alert(1)&lt;/script&gt;", "<script>alert(1)</script>"},
		{"Comment", "a<!-- hidden -->b", "ab"},
		{"NestedUnclosed", "<i>a <u>b</i> c", "a <u>b c"},
		{"Bidi", "evil\u202egpj.exe \u2066x\u2069", "evilgpj.exe x"},
		{"JoinersKept", "क\u094d\u200dष \u200c", "क\u094d\u200dष \u200c"},
		{"Cut", long, strings.Repeat("word ", 59) + "word…"},
		{"MarkupOnly", "<b></b>", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Title(tc.in, TitleRunes)
			if got != tc.want {
				t.Errorf("Title(%q) = %q, want %q", tc.in, got, tc.want)
			}
			if n := utf8.RuneCountInString(got); n > TitleRunes {
				t.Errorf("%d runes, over %d", n, TitleRunes)
			}
		})
	}
}

func TestTitle_Huge(t *testing.T) {
	// A 1.35 MB title, and one of hostile nesting: bounded output, quickly.
	for _, in := range []string{strings.Repeat("aaaa ", 270000), strings.Repeat("<b>", 200000) + strings.Repeat("</i>", 200000)} {
		got := Title(in, TitleRunes)
		if n := utf8.RuneCountInString(got); n > TitleRunes {
			t.Errorf("%d runes, over %d", n, TitleRunes)
		}
	}
	if got := Title(strings.Repeat("x ", 1000), 10); got != "x x x x x…" {
		t.Errorf("got %q", got)
	}
}

func TestLine(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		n        int
		want     string
	}{
		{"MarkupStaysText", "<b>x</b> &amp;", 50, "<b>x</b> &amp;"},
		{"Collapse", " a\t\nb\x00c ", 50, "a bc"},
		{"Bidi", "a\u202db\u2067c", 50, "abc"},
		{"CutAtWord", "one two three four", 16, "one two three…"},
		{"CutRunes", "한국어한국어", 4, "한국어…"},
		{"Zero", "x", 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Line(tc.in, tc.n)
			if got != tc.want {
				t.Errorf("Line(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
			}
			if again := Line(got, tc.n); again != got {
				t.Errorf("Line is not idempotent: %q, then %q", got, again)
			}
		})
	}
}

func TestInert(t *testing.T) {
	for in, want := range map[string]string{
		"Why <script> tags": "Why <\u200bscript> tags",
		"a < b <3 </x> <!":  "a < b <3 <\u200b/x> <\u200b!",
		"plain":             "plain",
	} {
		if got := Inert(in); got != want {
			t.Errorf("Inert(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestLink(t *testing.T) {
	for in, want := range map[string]string{
		"https://example.com/a?b=c#f":       "https://example.com/a?b=c#f",
		" HTTP://example.com/ ":             "http://example.com/",
		"javascript:alert(1)":               "",
		"/a/b":                              "",
		"//example.com/a":                   "",
		"https://bank.example@evil.example": "",
		"https://u:p@example.com/":          "",
		"https://example.com/a b":           "",
		"mailto:a@example.com":              "",
		"data:text/html,x":                  "",
	} {
		if got := Link(in); got != want {
			t.Errorf("Link(%q) = %q, want %q", in, got, want)
		}
	}
}
