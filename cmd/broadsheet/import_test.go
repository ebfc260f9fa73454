package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/broadsheet/broadsheet/config"
)

// shippedConfig copies the shipped, commented config.yaml into a temporary
// folder and returns its path.
func shippedConfig(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../../config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// A Miniflux export of 150 feeds imports into the shipped config.yaml: the
// two feeds it already has are skipped, every comment survives, and
// `check` accepts the result.
func TestMain_ImportMiniflux(t *testing.T) {
	cfg := shippedConfig(t)
	before, _ := os.ReadFile(cfg)
	comments := commentLines(t, cfg)
	const opmlFile = "../../opml/testdata/miniflux.opml"

	r := runMain(t, context.Background(), nil, "import", opmlFile, "--dry-run", "--config", cfg)
	if r.code != 0 || !strings.Contains(r.stdout, "148 to add, 2 skipped.") || !strings.Contains(r.stdout, "Would add 148 sources") {
		t.Fatalf("import --dry-run: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if after, _ := os.ReadFile(cfg); string(after) != string(before) {
		t.Fatalf("--dry-run changed the file")
	}

	r = runMain(t, context.Background(), nil, "import", "--config", cfg, opmlFile)
	if r.code != 0 {
		t.Fatalf("import: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	lineOf := func(s string) int {
		return strings.Count(string(before[:strings.Index(string(before), s)]), "\n") + 1
	}
	for _, want := range []string{
		opmlFile + `: 150 feeds (OPML 2.0, "Miniflux").`,
		`skip  The Guardian Opinion`, fmt.Sprintf(`already configured as "The Guardian Opinion" (line %d)`, lineOf("- name: The Guardian Opinion")),
		`skip  The New York Times Opinion`, `http://rss.nytimes.com/services/xml/rss/nyt/Opinion.xml/`, `already configured as "The New York Times Opinion"`,
		"add   한겨레 사설", "tags: Korea",
		"148 to add, 2 skipped.",
		"Added 148 sources to " + cfg,
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("import output lacks %q:\n%s", want, r.stdout)
		}
	}
	if got := commentLines(t, cfg); strings.Join(got, "\n") != strings.Join(comments, "\n") {
		t.Errorf("comments changed by the import:\n%s", strings.Join(got, "\n"))
	}
	after, _ := os.ReadFile(cfg)
	if !strings.HasPrefix(string(after), string(before[:strings.Index(string(before), "# Topics you define")])) {
		t.Errorf("the import changed the file before the end of the sources")
	}
	r = runMain(t, context.Background(), nil, "check", "--config", cfg)
	if r.code != 0 {
		t.Fatalf("check after the import: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	c, err := config.Load(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Sources) != 153 {
		t.Errorf("%d sources after the import, want 153", len(c.Sources))
	}
	i := slices.IndexFunc(c.Sources, func(s config.Source) bool { return s.Name == "Money & Banking" })
	if i < 0 || strings.Join(c.Sources[i].Tags, ",") != "Economy" || !strings.HasPrefix(c.Sources[i].URL, "https://") {
		t.Errorf("Money & Banking: %+v", c.Sources[max(i, 0)])
	}

	// Again: everything is there already.
	r = runMain(t, context.Background(), nil, "import", opmlFile, "--config", cfg)
	if r.code != 0 || !strings.Contains(r.stdout, "0 to add, 150 skipped.") || !strings.Contains(r.stdout, "Nothing to add") {
		t.Errorf("second import: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if again, _ := os.ReadFile(cfg); string(again) != string(after) {
		t.Errorf("a second import changed the file")
	}
}

func TestMain_ImportExports(t *testing.T) {
	tests := []struct {
		file string
		want []string // in the output
		// name → tags of some sources afterwards
		tags map[string]string
	}{
		{"feedly.opml", []string{"skip  Ars Technica", "listed again (line 9); its folders are added to the first's tags", "5 feeds (OPML 1.0", "3 to add, 2 skipped.", `already configured as "The Korea Herald"`},
			map[string]string{"Ars Technica": "Tech,Must Read", "The Verge - All Posts": "Tech"}},
		{"inoreader.opml", []string{"6 to add, 0 skipped."}, map[string]string{"Unfiled feed": "", "Google News - World": "World News"}},
		{"freshrss.opml", []string{`skip  Scraped opinion page (type="HTML+XPath" is not a feed)`, "3 to add, 1 skipped."}, map[string]string{"The Guardian view": "Opinion"}},
		{"netnewswire.opml", []string{"5 to add"}, map[string]string{"MacStories": "Blogs,Apps & Tools", "Daring Fireball": ""}},
		{"newsboat.opml", []string{"add  theguardian.com", "4 to add"}, map[string]string{"theguardian.com": "", "feeds.arstechnica.com": "", "LWN.net": "", "xkcd.com": ""}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			cfg := shippedConfig(t)
			r := runMain(t, context.Background(), nil, "import", "../../opml/testdata/"+tt.file, "--config", cfg)
			if r.code != 0 {
				t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("output lacks %q:\n%s", w, r.stdout)
				}
			}
			c, err := config.Load(cfg)
			if err != nil {
				t.Fatal(err)
			}
			for name, tags := range tt.tags {
				i := slices.IndexFunc(c.Sources, func(s config.Source) bool { return s.Name == name })
				if i < 0 {
					t.Errorf("no source %q after the import", name)
					continue
				}
				if got := strings.Join(c.Sources[i].Tags, ","); got != tags {
					t.Errorf("%q tags %q, want %q", name, got, tags)
				}
			}
		})
	}
}

// broadsheet's own OPML (`publish`) imports into another configuration
// with the kinds and tags it had.
func TestMain_ImportOwnExport(t *testing.T) {
	from := shippedConfig(t)
	out := t.TempDir()
	b, _ := os.ReadFile(from)
	os.WriteFile(from, []byte(strings.Replace(string(b), "path: ./data/broadsheet.db", "path: "+filepath.Join(out, "bs.db"), 1)), 0o644)
	if r := runMain(t, context.Background(), nil, "publish", "--out", out, "--config", from); r.code != 0 {
		t.Fatalf("publish: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	to := filepath.Join(t.TempDir(), "config.yaml")
	os.WriteFile(to, []byte("# Empty for now.\nsources: []\n"), 0o644)
	r := runMain(t, context.Background(), nil, "import", filepath.Join(out, "opml.xml"), "--config", to)
	if r.code != 0 || !strings.Contains(r.stdout, "5 to add, 0 skipped.") {
		t.Fatalf("import: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	want, _ := config.Load(from)
	got, err := config.Load(to)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range want.Sources {
		i := slices.IndexFunc(got.Sources, func(s config.Source) bool { return s.Name == w.Name })
		if i < 0 {
			t.Errorf("no %q after the round trip", w.Name)
			continue
		}
		g := got.Sources[i]
		if g.URL != w.URL || g.Kind != w.Kind || !slices.Contains(g.Tags, w.Tags[0]) {
			t.Errorf("%q came back as %+v, from %+v", w.Name, g, w)
		}
	}
}

func TestMain_ImportErrors(t *testing.T) {
	cfg := shippedConfig(t)
	before, _ := os.ReadFile(cfg)
	dir := t.TempDir()
	rss := filepath.Join(dir, "feed.opml")
	os.WriteFile(rss, []byte("<?xml version=\"1.0\"?>\n<rss version=\"2.0\"><channel/></rss>"), 0o644)
	broken := filepath.Join(dir, "broken.opml")
	os.WriteFile(broken, []byte("<opml>\n<body>\n<outline text=\"a\" xmlUrl=\"https://a.example/\">\n</body></opml>"), 0o644)
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"import"}, exitUsage, "import takes 1 argument, FILE; got none"},
		{[]string{"import", filepath.Join(dir, "missing.opml")}, exitFailed, "read the subscription list: open "},
		{[]string{"import", rss}, exitFailed, rss + ":2: the file is not an OPML subscription list: it starts with <rss>"},
		{[]string{"import", broken}, exitFailed, broken + ":4: the file is not well-formed XML"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			r := runMain(t, context.Background(), nil, append(tt.args, "--config", cfg)...)
			if r.code != tt.code || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("exit %d, want %d with %q\n%s%s", r.code, tt.code, tt.want, r.stdout, r.stderr)
			}
		})
	}
	if after, _ := os.ReadFile(cfg); string(after) != string(before) {
		t.Errorf("a failed import changed the configuration")
	}
}
