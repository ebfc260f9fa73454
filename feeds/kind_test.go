package feeds

import "testing"

func TestClassifyKind(t *testing.T) {
	news := Source{Name: "n", Kind: KindNews}
	for _, tc := range []struct {
		name string
		a    Article
		src  Source
		want Kind
	}{
		{"EditorialSource", Article{Title: "Anything"}, Source{Kind: KindEditorial}, KindEditorial},
		{"HankyorehTitle", Article{Title: "[Editorial] Talks in Stockholm failed"}, news, KindEditorial},
		{"OpinionColon", Article{Title: "Opinion: The talks failed"}, news, KindEditorial},
		{"GuardianView", Article{Title: "The Guardian view on the talks: a missed chance"}, news, KindEditorial},
		{"OpinionPath", Article{Title: "x", Link: "https://www.nytimes.com/2026/10/06/opinion/korea.html"}, news, KindEditorial},
		{"CommentisfreePath", Article{Title: "x", Link: "https://www.theguardian.com/commentisfree/2026/oct/06/x"}, news, KindEditorial},
		{"Category", Article{Title: "x", Categories: []string{" Opinion "}}, news, KindEditorial},
		{"PlainNews", Article{Title: "Talks end without a deal", Link: "https://example.com/world/asia/talks", Categories: []string{"World"}}, news, KindNews},
		{"WordInsideTitle", Article{Title: "Why the editorial board changed"}, news, KindNews},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ClassifyKind(tc.a, tc.src); got != tc.want {
				t.Errorf("ClassifyKind(%q) = %q, want %q", tc.a.Title, got, tc.want)
			}
		})
	}
}
