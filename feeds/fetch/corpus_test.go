package fetch

import (
	"bytes"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/broadsheet/broadsheet/feeds"
	"github.com/broadsheet/broadsheet/internal/testcorpus"
	"golang.org/x/net/html"
)

// checkSafeHTML reports what makes sanitized HTML unsafe to embed: live
// script-like elements, event handler or style attributes, or URLs with
// schemes other than http, https and (for links) mailto.
func checkSafeHTML(out string) error {
	if !utf8.ValidString(out) {
		return fmt.Errorf("invalid UTF-8")
	}
	lower := strings.ToLower(out)
	for _, bad := range []string{"<script", "<style", "<iframe", "<object", "<embed", "<form", "<meta", "<base", "<svg", "<math", "<link"} {
		if strings.Contains(lower, bad) {
			return fmt.Errorf("contains %s", bad)
		}
	}
	z := html.NewTokenizer(strings.NewReader(out))
	for {
		switch z.Next() {
		case html.ErrorToken:
			return nil
		case html.StartTagToken, html.SelfClosingTagToken:
			tok := z.Token()
			for _, a := range tok.Attr {
				if strings.HasPrefix(a.Key, "on") || a.Key == "style" {
					return fmt.Errorf("<%s> has %s", tok.Data, a.Key)
				}
				if a.Key == "href" || a.Key == "src" || a.Key == "cite" {
					u, err := url.Parse(strings.TrimSpace(a.Val))
					if err != nil {
						return fmt.Errorf("%s=%q: %v", a.Key, a.Val, err)
					}
					switch strings.ToLower(u.Scheme) {
					case "http", "https", "":
					case "mailto":
						if a.Key != "href" {
							return fmt.Errorf("%s=%q", a.Key, a.Val)
						}
					default:
						return fmt.Errorf("%s=%q", a.Key, a.Val)
					}
				}
			}
		}
	}
}

var headerContentType = regexp.MustCompile(`(?mi)^Header:\s*Content-type:\s*(.+?)\s*$`)

// corpusFile parses one corpus file with the Content-Type its comment
// names, if any, and checks what every parse must give.
func corpusFile(t *testing.T, c *Client, path string, data []byte) ([]feeds.Article, error) {
	t.Helper()
	ct := ""
	if m := headerContentType.FindSubmatch(data); m != nil {
		ct = string(m[1])
	}
	src := feeds.Source{Name: "corpus", URL: "http://corpus.example/" + filepath.Base(path)}
	arts, _, err := c.Parse(src, bytes.NewReader(data), ct)
	if err != nil {
		if _, ok := err.(*feeds.FetchError); !ok {
			t.Errorf("%s: error %T is not a *feeds.FetchError: %v", path, err, err)
		}
		return nil, err
	}
	ids := map[string]bool{}
	for _, a := range arts {
		for _, s := range []string{a.Title, a.Excerpt, a.Author, a.Link, a.Summary, a.Content} {
			if !utf8.ValidString(s) {
				t.Errorf("%s: invalid UTF-8 in %q", path, s)
			}
		}
		if a.ID == "" || ids[a.ID] || a.Published.IsZero() || a.Published.After(testNow.Add(24*60*60*1e9)) {
			t.Errorf("%s: bad article: id %q (repeated %v), published %v", path, a.ID, ids[a.ID], a.Published)
		}
		ids[a.ID] = true
		for _, h := range []string{a.Summary, a.Content} {
			if err := checkSafeHTML(h); err != nil {
				t.Errorf("%s: unsafe HTML %q: %v", path, h, err)
			}
		}
	}
	return arts, nil
}

// TestCorpus_FeedparserSanitize runs Universal Feed Parser's 745 HTML
// sanitizing cases through Parse: whatever they hold, what comes out must
// be safe.
func TestCorpus_FeedparserSanitize(t *testing.T) {
	dir := filepath.Join(testcorpus.Dir(t, "feedparser"), "kurtmckee-feedparser", "tests", "wellformed", "sanitize")
	files, err := filepath.Glob(filepath.Join(dir, "*.xml"))
	if err != nil || len(files) < 700 {
		t.Fatalf("found %d sanitize cases in %s (%v), want about 745", len(files), dir, err)
	}
	c := newTestClient(Options{})
	withHTML := 0
	for _, f := range files {
		data := readFile(t, f)
		arts, err := corpusFile(t, c, f, data)
		if err != nil {
			t.Errorf("%s: %v", filepath.Base(f), err)
			continue
		}
		for _, a := range arts {
			if a.Summary != "" || a.Content != "" {
				withHTML++
				break
			}
		}
	}
	// Most cases carry their HTML in an entry; the rest in the feed's own
	// fields, which articles do not keep.
	if withHTML < len(files)/2 {
		t.Errorf("only %d of %d cases gave an article with HTML", withHTML, len(files))
	}
	t.Logf("%d sanitize cases, %d with article HTML checked", len(files), withHTML)
}

// TestCorpus_All parses every feed of the three corpora: no panic, only
// FetchErrors, valid and safe output. Most well-formed feeds must parse.
func TestCorpus_All(t *testing.T) {
	root := testcorpus.Dir(t, "feedparser")
	c := newTestClient(Options{})
	type tally struct{ files, ok int }
	counts := map[string]*tally{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		ext := filepath.Ext(path)
		if ext != ".xml" && ext != ".rss" && ext != ".atom" && ext != ".rdf" && !(ext == ".json" && strings.Contains(path, "/json/")) {
			return nil
		}
		if strings.HasSuffix(path, "_expected.json") {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		group := strings.Join(strings.Split(rel, string(filepath.Separator))[:3], "/")
		if counts[group] == nil {
			counts[group] = &tally{}
		}
		counts[group].files++
		if _, err := corpusFile(t, c, rel, readFile(t, path)); err == nil {
			counts[group].ok++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for g, n := range counts {
		total += n.files
		t.Logf("%-50s %4d files, %4d parsed", g, n.files, n.ok)
	}
	if total < 4000 {
		t.Errorf("walked %d corpus files, want the whole corpus (over 4000)", total)
	}
	// Universal Feed Parser's well-formed feeds are feeds: nearly all must
	// parse.
	if n := counts["kurtmckee-feedparser/tests/wellformed"]; n == nil || n.ok < n.files*95/100 {
		t.Errorf("well-formed feedparser feeds: %+v, want at least 95%% parsed", n)
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
