package config

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// The shipped config.yaml, heavily commented: adding a source inserts its
// lines after the last entry, spaced like the others, and changes no other
// byte.
func TestAddSources_ShippedConfig(t *testing.T) {
	data, err := os.ReadFile("../config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	add := Source{Name: "Example Opinion", URL: "https://example.com/opinion/feed.xml", Kind: "editorial", Tags: []string{"example", "two words"}, Schedule: "@every 2h"}
	out, err := AddSources("config.yaml", data, add)
	if err != nil {
		t.Fatal(err)
	}
	inserted := insertedText(t, string(data), string(out))
	want := `  - name: Example Opinion
    url: https://example.com/opinion/feed.xml
    kind: editorial
    tags: [example, two words]
    schedule: "@every 2h"`
	if strings.Trim(inserted, "\n") != want {
		t.Errorf("inserted:\n%q\nwant:\n%q", inserted, want)
	}
	// Right after the last source, a blank line either side, as between
	// the others.
	if ctx := "    tags: [japan]\n\n" + want + "\n\n# Topics you define"; !strings.Contains(string(out), ctx) {
		t.Errorf("the source is not after the last one, spaced like it:\n%s", out)
	}
	c, err := parseWith("config.yaml", out, envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(c.Sources); n != 6 || c.Sources[5].Name != add.Name || c.Sources[5].Schedule != add.Schedule {
		t.Errorf("sources after the edit: %+v", c.Sources)
	}
}

func TestRemoveSource_ShippedConfig(t *testing.T) {
	data, err := os.ReadFile("../config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"The Hankyoreh", "the guardian opinion", "The Korea Herald", "The Japan Times Opinion"} {
		t.Run(name, func(t *testing.T) {
			out, removed, err := RemoveSource("config.yaml", data, name)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.EqualFold(removed.Name, name) {
				t.Errorf("removed %q", removed.Name)
			}
			gone := insertedText(t, string(out), string(data))
			if !strings.Contains(gone, "url: "+removed.URL) || strings.Count(gone, "- name:") != 1 {
				t.Errorf("removed lines:\n%s", gone)
			}
			// Its comment went with it, one blank line with them, and the
			// comments of the others stay.
			if strings.Count(gone, "\n\n") != 1 || strings.Contains(strings.Trim(gone, "\n"), "\n\n") || !strings.HasPrefix(strings.TrimLeft(gone, "\n"), "  #") {
				t.Errorf("removed lines:\n%q", gone)
			}
			if strings.Contains(string(out), "\n\n\n") {
				t.Errorf("two blank lines left:\n%s", out)
			}
			c, err := parseWith("config.yaml", out, envOf(nil))
			if err != nil {
				t.Fatal(err)
			}
			if len(c.Sources) != 4 {
				t.Errorf("%d sources left", len(c.Sources))
			}
		})
	}
}

// insertedText returns what after adds to before, which must be one run
// of lines inserted at one place.
func insertedText(t *testing.T, before, after string) string {
	t.Helper()
	i := 0
	for i < len(before) && i < len(after) && before[i] == after[i] {
		i++
	}
	// Back to a line start, so the run is whole lines.
	for i > 0 && before[i-1] != '\n' {
		i--
	}
	j := 0
	for j < len(before)-i && j < len(after)-i && before[len(before)-1-j] == after[len(after)-1-j] {
		j++
	}
	if i+j != len(before) {
		t.Fatalf("the edit is not one insertion:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	return after[i : len(after)-j]
}

func TestAddSources_Layouts(t *testing.T) {
	a := Source{Name: "Added", URL: "https://added.example/feed"}
	tests := []struct {
		name, in, want string
	}{
		{"Spaced", "sources:\n  - name: A\n    url: https://a.example/\n\n  - name: B\n    url: https://b.example/\n\ntopics: []\n",
			"sources:\n  - name: A\n    url: https://a.example/\n\n  - name: B\n    url: https://b.example/\n\n  - name: Added\n    url: https://added.example/feed\n\ntopics: []\n"},
		{"Tight", "sources:\n  - name: A\n    url: https://a.example/\n  - name: B\n    url: https://b.example/\n# end\n",
			"sources:\n  - name: A\n    url: https://a.example/\n  - name: B\n    url: https://b.example/\n  - name: Added\n    url: https://added.example/feed\n# end\n"},
		{"Indentless", "sources:\n- name: A\n  url: https://a.example/\nlog:\n  level: info\n",
			"sources:\n- name: A\n  url: https://a.example/\n- name: Added\n  url: https://added.example/feed\nlog:\n  level: info\n"},
		{"WideDash", "sources:\n    -   name: A\n        url: https://a.example/\n",
			"sources:\n    -   name: A\n        url: https://a.example/\n    -   name: Added\n        url: https://added.example/feed\n"},
		{"BlockTags", "sources:\n  - name: A\n    url: https://a.example/\n    tags:\n      - x\n      - y\n\n  # trailing comment\nlog: {level: info}\n",
			"sources:\n  - name: A\n    url: https://a.example/\n    tags:\n      - x\n      - y\n  - name: Added\n    url: https://added.example/feed\n\n  # trailing comment\nlog: {level: info}\n"},
		{"LastInFile", "log:\n  level: info\nsources:\n  - name: A\n    url: https://a.example/   # aligned\n",
			"log:\n  level: info\nsources:\n  - name: A\n    url: https://a.example/   # aligned\n  - name: Added\n    url: https://added.example/feed\n"},
		{"NoFinalNewline", "sources:\n  - name: A\n    url: https://a.example/",
			"sources:\n  - name: A\n    url: https://a.example/\n  - name: Added\n    url: https://added.example/feed\n"},
		{"Anchored", "sources: &src\n  - name: A\n    url: https://a.example/\n",
			"sources: &src\n  - name: A\n    url: https://a.example/\n  - name: Added\n    url: https://added.example/feed\n"},
		{"Flow", "sources: [{name: A, url: \"https://a.example/\"}]  # one\n",
			"sources: [{name: A, url: \"https://a.example/\"}, {name: Added, url: https://added.example/feed}]  # one\n"},
		{"FlowLines", "sources: [\n  {name: A, url: \"https://a.example/\"},\n]\n",
			"sources: [\n  {name: A, url: \"https://a.example/\"},\n  {name: Added, url: https://added.example/feed},\n]\n"},
		{"FlowLinesNoComma", "sources: [\n  {name: A, url: \"https://a.example/\"}\n]\n",
			"sources: [\n  {name: A, url: \"https://a.example/\"}, {name: Added, url: https://added.example/feed}\n]\n"},
		{"FlowEmpty", "log:\n  level: info\nsources: []   # none yet\ntopics: []\n",
			"log:\n  level: info\nsources:   # none yet\n  - name: Added\n    url: https://added.example/feed\ntopics: []\n"},
		{"Empty", "sources:\n# Topics\ntopics: []\n",
			"sources:\n  - name: Added\n    url: https://added.example/feed\n# Topics\ntopics: []\n"},
		{"EmptyWithOwnComments", "sources:\n  # add feeds here\n\ntopics: []\n",
			"sources:\n  # add feeds here\n  - name: Added\n    url: https://added.example/feed\n\ntopics: []\n"},
		{"Null", "sources: ~ # later\n",
			"sources: # later\n  - name: Added\n    url: https://added.example/feed\n"},
		{"NullWord", "sources: null\nlog:\n  level: info\n",
			"sources:\n  - name: Added\n    url: https://added.example/feed\nlog:\n  level: info\n"},
		{"Missing", "log:\n  level: info\n",
			"log:\n  level: info\n\nsources:\n  - name: Added\n    url: https://added.example/feed\n"},
		{"EmptyFile", "",
			"sources:\n  - name: Added\n    url: https://added.example/feed\n"},
		{"OnlyComments", "# nothing yet\n",
			"# nothing yet\n\nsources:\n  - name: Added\n    url: https://added.example/feed\n"},
		{"CRLF", "sources:\r\n  - name: A\r\n    url: https://a.example/\r\n",
			"sources:\r\n  - name: A\r\n    url: https://a.example/\r\n  - name: Added\r\n    url: https://added.example/feed\r\n"},
		{"BOM", "\xef\xbb\xbfsources:\n  - name: A\n    url: https://a.example/\n",
			"\xef\xbb\xbfsources:\n  - name: A\n    url: https://a.example/\n  - name: Added\n    url: https://added.example/feed\n"},
		{"Wide", "topics:\n  - name: 북한\n    match: {any: [북한]}\nsources: [{name: 북한 뉴스, url: \"https://a.example/\"}]\n",
			"topics:\n  - name: 북한\n    match: {any: [북한]}\nsources: [{name: 북한 뉴스, url: \"https://a.example/\"}, {name: Added, url: https://added.example/feed}]\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := AddSources("c.yaml", []byte(tt.in), a)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

// Values are written so that they read back as given: quoted when YAML
// (or ${VAR} expansion) would read them otherwise.
func TestAddSources_Values(t *testing.T) {
	srcs := []Source{
		{Name: "Yes", URL: "https://a.example/feed?x=1&y=2#top"},
		{Name: "News: the #1 site", URL: "https://b.example/feed"},
		{Name: "$HOME and ${HOME}", URL: "https://c.example/$feed"},
		{Name: "- dash", URL: "https://d.example/", Tags: []string{"a, b", "[x]", "true", "북한"}},
		{Name: `quote " and \ back`, URL: "https://e.example/", Schedule: "*/15 * * * *"},
		{Name: "'single'", URL: "https://f.example/", Schedule: "CRON_TZ=Asia/Seoul 0 7 * * *"},
	}
	for _, in := range []string{"sources:\n  - name: A\n    url: https://a.example/x\n", "sources: [{name: A, url: https://a.example/x}]\n"} {
		out, err := AddSources("c.yaml", []byte(in), srcs...)
		if err != nil {
			t.Fatal(err)
		}
		c, err := parseWith("c.yaml", out, envOf(map[string]string{"HOME": "/root"}))
		if err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		for i, want := range srcs {
			got := c.Sources[i+1]
			if got.Name != want.Name || got.URL != want.URL || got.Schedule != want.Schedule || strings.Join(got.Tags, "|") != strings.Join(want.Tags, "|") {
				t.Errorf("source %d reads back as %+v, want %+v\n%s", i, got, want, out)
			}
		}
	}
}

func TestAddSources_Errors(t *testing.T) {
	const base = "sources:\n  - name: The Example\n    url: https://example.com/feed/\n"
	tests := []struct {
		name string
		in   string
		add  []Source
		dup  string // "name" or "url" for a *DuplicateError
		want string
	}{
		{"SameName", base, []Source{{Name: "The Example", URL: "https://other.example/"}}, "name", `a source named "The Example" is already configured (line 2)`},
		{"SameSlug", base, []Source{{Name: "the-example!", URL: "https://other.example/"}}, "name", `same name as source "The Example" (line 2) once case`},
		{"SameURL", base, []Source{{Name: "Other", URL: "https://example.com/feed/"}}, "url", `https://example.com/feed/ is already the url of source "The Example" (line 2)`},
		{"SameFeed", base, []Source{{Name: "Other", URL: "http://EXAMPLE.com:80/feed"}}, "url", `is the same feed as https://example.com/feed/`},
		{"RepeatedInAdd", base, []Source{{Name: "X", URL: "https://x.example/"}, {Name: "Y", URL: "https://x.example/"}}, "url", `already the url of source "X"`},
		{"BadSchedule", base, []Source{{Name: "X", URL: "https://x.example/", Schedule: "every hour"}}, "", "sources[1].schedule"},
		{"BadKind", base, []Source{{Name: "X", URL: "https://x.example/", Kind: "opinion"}}, "", `sources[1].kind: "opinion" is not a source kind`},
		{"BadURL", base, []Source{{Name: "X", URL: "ftp://x.example/"}}, "", "sources[1].url"},
		{"InvalidFile", "sources:\n  - name: A\n    colour: red\n", []Source{{Name: "X", URL: "https://x.example/"}}, "", "has problems; fix them first"},
		{"Alias", "x-list: &l\n  - name: A\n    url: https://a.example/\nsources: *l\n", []Source{{Name: "X", URL: "https://x.example/"}}, "", "alias"},
		{"FlowFile", "{sources: [{name: A, url: \"https://a.example/\"}]}\n", []Source{{Name: "X", URL: "https://x.example/"}}, "", "flow style"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := AddSources("c.yaml", []byte(tt.in), tt.add...)
			if err == nil {
				t.Fatalf("no error; wrote:\n%s", out)
			}
			var de *DuplicateError
			if isDup := errors.As(err, &de); isDup != (tt.dup != "") || isDup && de.Field != tt.dup {
				t.Errorf("error %v (%T), want a duplicate %q", err, err, tt.dup)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q lacks %q", err, tt.want)
			}
			if out != nil {
				t.Errorf("data returned with the error")
			}
		})
	}
	// What cannot be edited says what to add by hand.
	_, err := AddSources("c.yaml", []byte("{sources: []}\n"), Source{Name: "X", URL: "https://x.example/"})
	if !errors.Is(err, ErrCannotEdit) || !strings.Contains(err.Error(), "  - name: X\n    url: https://x.example/\n") {
		t.Errorf("error %v, want ErrCannotEdit with the YAML to add", err)
	}
}

func TestRemoveSource_Layouts(t *testing.T) {
	tests := []struct {
		name, in, source, want string
	}{
		{"First", "sources:\n  # A's comment\n  - name: A\n    url: https://a.example/\n\n  # B's\n  - name: B\n    url: https://b.example/\n",
			"A", "sources:\n  # B's\n  - name: B\n    url: https://b.example/\n"},
		{"Middle", "sources:\n  - name: A\n    url: https://a.example/\n\n  # B's\n  - name: B\n    url: https://b.example/\n\n  - name: C\n    url: https://c.example/\n",
			"B", "sources:\n  - name: A\n    url: https://a.example/\n\n  - name: C\n    url: https://c.example/\n"},
		{"Last", "sources:\n  - name: A\n    url: https://a.example/\n\n  - name: B\n    url: https://b.example/\n    tags:\n      - x\n\n# Topics\ntopics: []\n",
			"B", "sources:\n  - name: A\n    url: https://a.example/\n\n# Topics\ntopics: []\n"},
		{"LastInFile", "sources:\n  - name: A\n    url: https://a.example/\n\n  - name: B\n    url: https://b.example/\n",
			"b", "sources:\n  - name: A\n    url: https://a.example/\n"},
		{"Tight", "sources:\n- name: A\n  url: https://a.example/\n- name: B\n  url: https://b.example/\n- name: C\n  url: https://c.example/\n",
			"B", "sources:\n- name: A\n  url: https://a.example/\n- name: C\n  url: https://c.example/\n"},
		{"Only", "# Feeds\nsources:\n  - name: A\n    url: https://a.example/\nlog:\n  level: info\n",
			"A", "# Feeds\nsources:\nlog:\n  level: info\n"},
		{"CommentAfterStays", "sources:\n  - name: A\n    url: https://a.example/\n  # - name: disabled\n",
			"A", "sources:\n  # - name: disabled\n"},
		{"FlowFirst", "sources: [{name: A, url: \"https://a.example/\"}, {name: B, url: \"https://b.example/\"}]\n",
			"A", "sources: [{name: B, url: \"https://b.example/\"}]\n"},
		{"FlowLast", "sources: [{name: A, url: \"https://a.example/\"}, {name: B, url: \"https://b.example/\"}]\n",
			"B", "sources: [{name: A, url: \"https://a.example/\"}]\n"},
		{"FlowOnly", "sources: [{name: 북한, url: \"https://a.example/\"}]\n",
			"북한", "sources: []\n"},
		{"CRLF", "sources:\r\n  - name: A\r\n    url: https://a.example/\r\n  - name: B\r\n    url: https://b.example/\r\n",
			"A", "sources:\r\n  - name: B\r\n    url: https://b.example/\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _, err := RemoveSource("c.yaml", []byte(tt.in), tt.source)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("got:\n%q\nwant:\n%q", got, tt.want)
			}
		})
	}
}

func TestRemoveSource_Errors(t *testing.T) {
	const in = "sources:\n  - name: Alpha News\n    url: https://a.example/\n  - name: Beta\n    url: https://b.example/\ntopics:\n  - name: T\n    match: {any: [x], sources: [Beta]}\n"
	tests := []struct{ name, source, want string }{
		{"Unknown", "Alpha", `no source named "Alpha"`},
		{"Suggest", "Alpha Newz", `did you mean "Alpha News"?`},
		{"Referenced", "Beta", `removing source "Beta" would leave c.yaml invalid`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := RemoveSource("c.yaml", []byte(in), tt.source)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want %q", err, tt.want)
			}
		})
	}
}

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, []byte("old"), 0o640); err != nil {
		t.Fatal(err)
	}
	t.Run("OK", func(t *testing.T) {
		if err := WriteFile(path, []byte("new"), []byte("old")); err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(path)
		fi, _ := os.Stat(path)
		if string(b) != "new" || fi.Mode().Perm() != 0o640 {
			t.Errorf("file %q, mode %v; want \"new\", 0640", b, fi.Mode().Perm())
		}
	})
	t.Run("ErrChanged", func(t *testing.T) {
		err := WriteFile(path, []byte("newer"), []byte("old"))
		if !errors.Is(err, ErrChanged) {
			t.Errorf("error %v, want ErrChanged", err)
		}
		if b, _ := os.ReadFile(path); string(b) != "new" {
			t.Errorf("file %q after a refused write", b)
		}
	})
	t.Run("Symlink", func(t *testing.T) {
		if runtime.GOOS == "windows" {
			t.Skip("symbolic links need privileges on Windows")
		}
		link := filepath.Join(t.TempDir(), "link.yaml")
		if err := os.Symlink(path, link); err != nil {
			t.Fatal(err)
		}
		if err := WriteFile(link, []byte("via link"), nil); err != nil {
			t.Fatal(err)
		}
		if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
			t.Errorf("the link was replaced: %v %v", fi.Mode(), err)
		}
		if b, _ := os.ReadFile(path); string(b) != "via link" {
			t.Errorf("target holds %q", b)
		}
	})
	// No temporary file is left behind.
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Errorf("folder holds %d files after the writes", len(ents))
	}
}
