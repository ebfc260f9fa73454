package sanitize

import (
	"net/url"
	"testing"
	"unicode/utf8"
)

// FuzzSanitizeHTML checks that HTML never panics and always returns valid,
// safe UTF-8, that CutHTML keeps it safe and within its limit, and that
// Text and Excerpt keep their promises on any input.
func FuzzSanitizeHTML(f *testing.F) {
	for _, s := range []string{
		`<p>hello <b>world</b></p>`,
		`<a href="javascript:alert(1)">x</a>`,
		`<img src=x onerror=alert(1)>`,
		`<svg onload=alert(1)>`,
		`<a href="/rel">r</a><img src="//cdn.test/i.png">`,
		`<div style="x:expression(alert(1))">`,
		"\xff\xfe<b>\x00</b>",
	} {
		f.Add(s)
	}
	base, _ := url.Parse("https://news.example/a/b.html")
	f.Fuzz(func(t *testing.T, in string) {
		for _, b := range []*url.URL{base, nil} {
			got := HTML(in, b)
			if err := checkSafe(got); err != nil {
				t.Fatalf("HTML(%q, %v) = %q: %v", in, b, got, err)
			}
			if again := HTML(got, b); checkSafe(again) != nil {
				t.Fatalf("HTML twice of %q = %q: %v", in, again, checkSafe(again))
			}
			c := CutHTML(got, len(got)/2+40, "https://news.example/a")
			if len(c) > len(got)/2+40 || checkSafe(c) != nil {
				t.Fatalf("CutHTML(%q, %d) = %q: too long or unsafe", got, len(got)/2+40, c)
			}
			if HTML(got, nil) == got && HTML(c, nil) != c {
				t.Fatalf("CutHTML(%q, %d) = %q, which HTML changes to %q", got, len(got)/2+40, c, HTML(c, nil))
			}
		}
		txt := Text(in)
		if !utf8.ValidString(txt) {
			t.Fatalf("Text(%q) = %q: invalid UTF-8", in, txt)
		}
		ex := Excerpt(in, 20)
		if !utf8.ValidString(ex) || utf8.RuneCountInString(ex) > 20 {
			t.Fatalf("Excerpt(%q, 20) = %q: invalid or longer than 20 runes", in, ex)
		}
	})
}
