package e2e

import (
	"bytes"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/mmcdole/gofeed"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/broadsheet/broadsheet/digest"
	"github.com/broadsheet/broadsheet/feeds"
	"github.com/broadsheet/broadsheet/feeds/fetch"
	"github.com/broadsheet/broadsheet/internal/testcorpus"
	"github.com/broadsheet/broadsheet/store"
	"github.com/broadsheet/broadsheet/store/sqlite"
)

// corpusFile is one file of the shared corpus as the test serves it.
type corpusFile struct {
	rel    string      // path within its collection, slash-separated
	data   []byte      // served as it is
	header http.Header // from the file's "Header:" lines, plus a Content-Type
	// wellFormed: the collection says this is a valid feed.
	wellFormed bool
	// titled counts the items with a title or link that gofeed finds when
	// it parses the file alone: what broadsheet must at least keep one of.
	titled int
}

var (
	// Universal Feed Parser files simulate HTTP headers in a comment:
	// "Header: Content-type: text/xml; charset=utf-8".
	headerLine = regexp.MustCompile(`(?m)^Header:\s*([A-Za-z][A-Za-z0-9-]*):[ \t]*(.*?)\s*$`)
	notBozo    = regexp.MustCompile(`(?m)^Expect:\s*not bozo`)
	noError    = regexp.MustCompile(`(?m)^Expect:\s*!Error\s*$`)
)

// loadCollection reads every file of one collection of the corpus and
// decides, by the collection's own convention, which are well-formed feeds.
func loadCollection(t *testing.T, dir, name string) []*corpusFile {
	t.Helper()
	var files []*corpusFile
	exists := map[string]bool{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		exists[rel] = true
		files = append(files, &corpusFile{rel: rel, data: data, header: http.Header{}})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	parser := gofeed.NewParser()
	for _, f := range files {
		// UTF-16 and UTF-32 files carry their comments in that encoding;
		// without the NULs their ASCII reads as ASCII.
		text := string(bytes.ReplaceAll(f.data, []byte{0}, nil))
		text = strings.ReplaceAll(text, "\r", "")
		for _, m := range headerLine.FindAllStringSubmatch(text, -1) {
			f.header.Add(m[1], m[2])
		}
		if f.header.Get("Content-Type") == "" {
			f.header.Set("Content-Type", contentTypeOf(f.rel))
		}
		ext := path.Ext(f.rel)
		switch name {
		case "kurtmckee-feedparser":
			f.wellFormed = notBozo.MatchString(text)
		case "w3c-feedvalidator":
			top := strings.SplitN(strings.TrimPrefix(f.rel, "testcases/"), "/", 2)[0]
			f.wellFormed = noError.MatchString(text) && top != "kml" && top != "opensearch" && top != "opml"
		case "mmcdole-gofeed":
			// An input is a file with its expected output beside it.
			stem := strings.TrimSuffix(f.rel, ext)
			f.wellFormed = ext == ".xml" && exists[stem+".json"] ||
				ext == ".json" && !strings.HasSuffix(stem, "_expected") && exists[stem+"_expected.json"]
		}
		if f.wellFormed {
			if feed, err := parser.Parse(bytes.NewReader(f.data)); err == nil {
				for _, it := range feed.Items {
					if it != nil && (htmlText(it.Title) != "" || hasLink(it)) {
						f.titled++
					}
				}
			}
		}
	}
	return files
}

// htmlText is the text a title shows when read as HTML, as RSS and Atom
// titles often must be: "<img src=x>" shows none.
func htmlText(s string) string {
	body := &html.Node{Type: html.ElementNode, Data: "body", DataAtom: atom.Body}
	nodes, err := html.ParseFragment(strings.NewReader(s), body)
	if err != nil {
		return strings.TrimSpace(s)
	}
	var b strings.Builder
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		if n.Type == html.ElementNode && (n.Data == "script" || n.Data == "style") {
			return
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	for _, n := range nodes {
		walk(n)
	}
	return strings.TrimSpace(b.String())
}

// hasLink reports whether gofeed found a non-empty link for it.
func hasLink(it *gofeed.Item) bool {
	if strings.TrimSpace(it.Link) != "" {
		return true
	}
	for _, l := range it.Links {
		if strings.TrimSpace(l) != "" {
			return true
		}
	}
	return false
}

func contentTypeOf(rel string) string {
	switch path.Ext(rel) {
	case ".xml", ".rdf":
		return "application/xml"
	case ".rss":
		return "application/rss+xml"
	case ".atom":
		return "application/atom+xml"
	case ".json":
		return "application/json"
	case ".opml":
		return "text/x-opml"
	}
	return "text/plain; charset=utf-8"
}

// serveCorpus serves files at /{rel}, with their headers.
func serveCorpus(t *testing.T, files []*corpusFile) *httptest.Server {
	byPath := make(map[string]*corpusFile, len(files))
	for _, f := range files {
		byPath["/"+f.rel] = f
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f := byPath[r.URL.Path]
		if f == nil {
			http.NotFound(w, r)
			return
		}
		for k, vs := range f.header {
			w.Header()[k] = vs
		}
		w.Write(f.data)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// corpusStats is one collection's row of the report.
type corpusStats struct {
	name                         string
	files, parsed, failed        int
	wellFormed, wfParsed         int
	titled, titledStored, stored int
}

// TestCorpus_Ingest serves every file of the shared feed corpus over
// loopback HTTP to the real ingest path: fetch.Client through a Poller into
// a SQLite file, then the combined feeds and the page rendered by publish,
// and a digest mailed to the outbox. No file may panic or hang (each fetch
// has 5 s); what cannot be parsed must fail with a FetchError giving a
// reason, recorded on the source; and every well-formed feed in which
// gofeed alone finds items with a title or link must leave at least one
// such item in the store. It logs the share parsed per collection.
func TestCorpus_Ingest(t *testing.T) {
	root := testcorpus.Dir(t, "feedparser")
	var rows []corpusStats
	for _, name := range []string{"kurtmckee-feedparser", "mmcdole-gofeed", "w3c-feedvalidator"} {
		t.Run(name, func(t *testing.T) {
			rows = append(rows, ingestCollection(t, filepath.Join(root, name), name))
		})
	}
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "collection\tfiles\tparsed\tshare\tfailed\twell-formed\twf parsed\twf share\twf titled\tkept titled\tarticles\t")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%d\t%d\t%d\t%s\t%d\t%d\t%d\t\n", r.name, r.files, r.parsed, pct(r.parsed, r.files),
			r.failed, r.wellFormed, r.wfParsed, pct(r.wfParsed, r.wellFormed), r.titled, r.titledStored, r.stored)
	}
	tw.Flush()
	t.Logf("corpus through fetch → poller → SQLite → publish → digest:\n%s", b.String())
}

func pct(n, of int) string {
	if of == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f%%", 100*float64(n)/float64(of))
}

func ingestCollection(t *testing.T, dir, name string) corpusStats {
	files := loadCollection(t, dir, name)
	if len(files) < 1000 {
		t.Fatalf("%s: %d files, want the whole collection (over 1000)", dir, len(files))
	}
	if raceEnabled {
		// Under the race detector, every eighth file: races show as well
		// in a sample, and the whole would take minutes.
		var sample []*corpusFile
		for i := 0; i < len(files); i += 8 {
			sample = append(sample, files[i])
		}
		t.Logf("race detector on: ingesting %d of %d files", len(sample), len(files))
		files = sample
	}
	srv := serveCorpus(t, files)
	srcs := make([]feeds.Source, len(files))
	byName := make(map[string]*corpusFile, len(files))
	for i, f := range files {
		u := srv.URL + (&url.URL{Path: "/" + f.rel}).EscapedPath()
		srcs[i] = feeds.Source{Name: f.rel, URL: u, Kind: feeds.KindNews}
		byName[f.rel] = f
	}
	const perFile = 5 * time.Second
	client := fetch.New(fetch.Options{Timeout: perFile, AllowPrivateNetworks: true})
	db := openStore(t)
	start := time.Now()
	reports := pollAll(t, client, db, srcs, 8, perFile, 90*time.Second)
	took := time.Since(start)

	st := corpusStats{name: name, files: len(files)}
	ctx := t.Context()
	states, err := db.SourceStates(ctx)
	if err != nil {
		t.Fatal(err)
	}
	lastError := map[string]string{}
	for _, s := range states {
		lastError[s.Source] = s.LastError
	}
	ok := map[string]bool{}
	for _, r := range reports {
		if r.Err != nil {
			st.failed++
			checkFetchError(t, r.Source, r.Err)
			if lastError[r.Source] == "" {
				t.Errorf("%s: failed (%v) but the store records no error for it", r.Source, r.Err)
			}
			continue
		}
		st.parsed++
		ok[r.Source] = true
	}
	arts, err := db.Articles(ctx, store.ArticleFilter{})
	if err != nil {
		t.Fatal(err)
	}
	st.stored = len(arts)
	titledBy := map[string]int{}
	for _, a := range arts {
		if a.Title != "" || a.Link != "" {
			titledBy[a.Source]++
		}
	}
	var lost []string
	for _, f := range files {
		if !f.wellFormed {
			continue
		}
		st.wellFormed++
		if ok[f.rel] {
			st.wfParsed++
		} else {
			t.Logf("well-formed, not parsed (gofeed alone finds %d titled items): %s: %s", f.titled, f.rel, lastError[f.rel])
		}
		if f.titled == 0 {
			continue
		}
		st.titled++
		if titledBy[f.rel] > 0 {
			st.titledStored++
			continue
		}
		why := "fetched, but nothing with a title or link was stored"
		if lastError[f.rel] != "" {
			why = lastError[f.rel]
		}
		lost = append(lost, fmt.Sprintf("%s (gofeed finds %d): %s", f.rel, f.titled, why))
	}
	for _, l := range lost {
		t.Errorf("well-formed feed lost: %s", l)
	}
	t.Logf("%s: %d files polled in %v", name, len(files), took.Round(time.Millisecond))

	checkRepublished(t, db)
	checkDigest(t, db, storyCount(arts))
	return st
}

// checkRepublished renders everything stored into the combined feeds and
// the page, and checks that each parses, lists every stored story once and
// carries only safe HTML and text-only titles.
func checkRepublished(t *testing.T, db *sqlite.DB) {
	t.Helper()
	arts, err := db.Articles(t.Context(), store.ArticleFilter{})
	if err != nil {
		t.Fatal(err)
	}
	stories := storyCount(arts)
	h := newPublisher(t, db, nil, len(arts)+1)
	for _, p := range []string{"/feed.atom", "/feed.rss", "/feed.json"} {
		feed, err := gofeed.NewParser().Parse(bytes.NewReader(handlerGet(t, h, p)))
		if err != nil {
			t.Errorf("%s does not parse: %v", p, err)
			continue
		}
		if got, want := len(feed.Items), stories; got != want {
			t.Errorf("%s has %d entries, want %d (one per stored story)", p, got, want)
		}
		bad := 0
		for _, it := range feed.Items {
			var probs []string
			if !textOnly(it.Title) {
				probs = append(probs, fmt.Sprintf("title %q is markup", it.Title))
			}
			probs = append(probs, htmlProblems(it.Content, false)...)
			probs = append(probs, htmlProblems(it.Description, false)...)
			if len(probs) > 0 && bad < 10 {
				t.Errorf("%s entry %s: %s", p, it.GUID, strings.Join(probs, "; "))
			}
			if len(probs) > 0 {
				bad++
			}
		}
		if bad > 0 {
			t.Errorf("%s: %d unsafe entries", p, bad)
		}
	}
	if probs := htmlProblems(string(handlerGet(t, h, "/")), true); len(probs) > 0 {
		t.Errorf("page: %s", strings.Join(probs, "; "))
	}
}

// storyCount is the number of stories among arts: articles with the same
// LinkKey are one.
func storyCount(arts []feeds.Article) int {
	stories := map[string]bool{}
	for _, a := range arts {
		key := a.LinkKey
		if key == "" {
			key = "id:" + a.ID
		}
		stories[key] = true
	}
	return len(stories)
}

// checkDigest mails a digest of the newest stored stories (at most 50) to
// the outbox and checks the message: both parts present, the HTML safe,
// the stories there.
func checkDigest(t *testing.T, db *sqlite.DB, stories int) {
	t.Helper()
	const most = 50
	d := digest.Digest{Name: "corpus", To: []string{"reader@example.com"}, MaxItems: most, MaxAge: 100 * 365 * 24 * time.Hour}
	e := sendDigest(t, db, d)["reader@example.com"]
	if probs := htmlProblems(e.HTML, true); len(probs) > 0 {
		t.Errorf("digest HTML: %s", strings.Join(probs, "; "))
	}
	if probs := textLinkProblems(e.Text); len(probs) > 0 {
		t.Errorf("digest text: %s", strings.Join(probs, "; "))
	}
	want := fmt.Sprintf("%d stories", min(most, stories))
	if stories > 1 && (strings.Contains(e.Text, "Nothing new") || !strings.Contains(e.Text, want)) {
		t.Errorf("digest of %d stored stories does not say %q:\n%.2000s", stories, want, e.Text)
	}
}
