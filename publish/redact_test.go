package publish

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/broadsheet/broadsheet/feeds"
)

// TestHandler_SourceURLSecrets checks that no public output carries a
// source URL's credentials or secret query parameters, and that a private
// source's URL does not appear at all, while the harmless parts of the
// others' URLs still do.
func TestHandler_SourceURLSecrets(t *testing.T) {
	srcs := []feeds.Source{
		{Name: "Token News", URL: "https://token.example/feed.xml?lang=en&token=TOKENSECRET", Kind: feeds.KindNews},
		{Name: "Basic Auth", URL: "https://alice:PASSSECRET@basic.example/rss", Kind: feeds.KindNews},
		{Name: "Key Opinion", URL: "https://key.example/rss?api_key=KEYSECRET&Signature=SIGSECRET", Kind: feeds.KindEditorial},
		{Name: "Hidden", URL: "https://hidden.example/u/PATHSECRET/feed", Kind: feeds.KindNews, Private: true},
	}
	secrets := []string{"TOKENSECRET", "PASSSECRET", "alice", "KEYSECRET", "SIGSECRET", "PATHSECRET", "hidden.example"}
	var arts []feeds.Article
	for i, s := range srcs {
		a := article(s.Name, s.Name+"-1", "Item from "+s.Name, "https://items.example/"+s.Slug(), at(10, i))
		a.Summary = "Text."
		a.Kind = s.Kind
		arts = append(arts, a)
	}
	st := &memStore{arts: arts}
	opts := fixtureOptions()
	opts.Sources = srcs
	opts.Groups = newGroups(st)
	h := New(st, opts)
	if err := h.Refresh(context.Background()); err != nil {
		t.Fatalf("Refresh: %v", err)
	}

	// Every output named in the issue, each with what it must still say.
	outputs := []struct {
		path string
		want []string
	}{
		{"/opml", []string{"https://token.example/feed.xml?lang=en", "https://basic.example/rss", "https://key.example/rss", "https://news.example.org/sources/hidden.atom"}},
		{"/feed.atom", []string{"https://token.example/feed.xml?lang=en", "https://basic.example/rss"}},
		{"/feed.rss", []string{"https://token.example/feed.xml?lang=en", "https://basic.example/rss"}},
		{"/feed.json", []string{"https://token.example/feed.xml?lang=en", "https://basic.example/rss"}},
		{"/editorials.atom", []string{"https://key.example/rss"}},
		{"/sources/token-news.atom", []string{"https://token.example/feed.xml?lang=en"}},
		{"/sources/token-news.rss", []string{"https://token.example/feed.xml?lang=en"}},
		{"/sources/token-news.json", []string{"https://token.example/feed.xml?lang=en"}},
		{"/sources/basic-auth.atom", []string{"https://basic.example/rss"}},
		{"/sources/hidden.atom", []string{"Item from Hidden"}},
		{"/sources/hidden.rss", []string{"Item from Hidden"}},
		{"/sources/hidden.json", []string{"Item from Hidden"}},
		{"/", []string{"Item from Hidden", "Item from Token News"}},
	}
	for _, o := range outputs {
		t.Run(o.path, func(t *testing.T) {
			res := get(t, h, http.MethodGet, o.path, nil)
			b := string(body(t, res))
			if res.StatusCode != http.StatusOK {
				t.Fatalf("GET %s: status %d", o.path, res.StatusCode)
			}
			// XML and JSON escape & differently; compare the text unescaped.
			b = strings.NewReplacer("&amp;", "&", `\u0026`, "&").Replace(b)
			for _, w := range o.want {
				if !strings.Contains(b, w) {
					t.Errorf("GET %s does not contain %q", o.path, w)
				}
			}
		})
	}

	// And no output at all, whatever its path, carries a secret.
	paths := allPaths(h)
	if len(paths) < len(outputs) {
		t.Fatalf("snapshot has %d paths, want at least %d", len(paths), len(outputs))
	}
	for _, p := range paths {
		b := string(body(t, get(t, h, http.MethodGet, p, nil)))
		for _, s := range secrets {
			if strings.Contains(b, s) {
				t.Errorf("GET %s carries %q", p, s)
			}
		}
	}
}
