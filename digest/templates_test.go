package digest

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestCheckTemplates(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  string // a regexp the error matches; empty for no error
	}{
		{"Defaults", nil, ""},
		{"GoodOverride", map[string]string{"digest.txt": "{{.Digest}}: {{range .Topics}}{{.Label}}{{end}}\n"}, ""},
		{"ParseErrorHasFileAndLine", map[string]string{"digest.html": "<p>\n{{.Title}\n</p>"},
			`digest\.html:2: bad character`},
		{"UnknownFunction", map[string]string{"subject.txt": "{{shout .Title}}"},
			`subject\.txt:1: function "shout" not defined`},
		{"ExecErrorHasFileLineAndColumn", map[string]string{"digest.txt": "ok\n\n{{range .Topics}}{{.Lable}}{{end}}"},
			`digest\.txt:3:\d+: at <\.Lable>: can't evaluate field Lable`},
		{"HTMLExecError", map[string]string{"weekly.html": "<p>{{.Nope}}</p>"},
			`weekly\.html:1:\d+: at <\.Nope>: can't evaluate field Nope`},
		{"MisnamedFile", map[string]string{"digest.htm": "x"}, `digest\.htm: not a digest template`},
		{"SubjectHTML", map[string]string{"subject.html": "x"}, `subject\.html: a subject is plain text`},
		{"DateFunc", map[string]string{"subject.txt": `{{date}} {{date "2 Jan"}} {{date "15:04" .Time}}`}, ""},
		{"DateBadArg", map[string]string{"subject.txt": `{{date 3}}`}, `subject\.txt:1:\d+: .*date: layout is int`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := ""
			if tc.files != nil {
				dir = writeFiles(t, tc.files)
			}
			err := CheckTemplates(dir)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("CheckTemplates: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("CheckTemplates: no error, want one matching %q", tc.want)
			}
			if !regexp.MustCompile(tc.want).MatchString(err.Error()) {
				t.Errorf("error %q, want one matching %q", err, tc.want)
			}
			if !strings.Contains(err.Error(), dir) {
				t.Errorf("error %q does not name the file's folder %s", err, dir)
			}
		})
	}
	t.Run("MissingFolder", func(t *testing.T) {
		if err := CheckTemplates(filepath.Join(t.TempDir(), "nope")); err == nil {
			t.Error("no error for a missing folder")
		}
	})
}

func TestTemplates_Check(t *testing.T) {
	tm, err := LoadTemplates(writeFiles(t, map[string]string{"weekly.html": "<p>{{.Digest}}</p>"}))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(tm.Sets(), ","), "digest,weekly"; got != want {
		t.Errorf("sets %s, want %s", got, want)
	}
	for _, tc := range []struct {
		name string
		d    Digest
		want string
	}{
		{"Default", Digest{Name: "d"}, ""},
		{"NamedSet", Digest{Name: "d", Template: "weekly"}, ""},
		{"MissingSet", Digest{Name: "d", Template: "monthly"}, `template "monthly": no monthly.html or monthly.txt`},
		{"SubjectParse", Digest{Name: "d", Subject: "{{.Date"}, `subject template, line 1`},
		{"SubjectExec", Digest{Name: "d", Subject: "{{.Dat}}"}, `can't evaluate field Dat`},
		{"ShippedSubject", Digest{Name: "d", Subject: "Editorials for {{.Date}}: {{.TopicCount}} topics"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tm.Check(tc.d)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("Check: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("Check: %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestTemplates_OverrideUsed(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"digest.txt":  "TEXT {{.Recipient}} {{date \"2006-01-02\"}}",
		"subject.txt": "SUBJ {{.StoryCount}}",
	})
	tm, err := LoadTemplates(dir)
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, Options{}, nil, art("S", "one", h(1), h(1)))
	e.svc.tmpl = tm
	e.send(Digest{Name: "d", To: []string{"a@example.com"}, Location: seoul}, t0)
	m := e.m.sent[0]
	if m.Subject != "SUBJ 1" || m.Text != "TEXT a@example.com 2025-03-03\n" {
		t.Errorf("subject %q, text %q", m.Subject, m.Text)
	}
	if !strings.Contains(m.HTML, "<!DOCTYPE html>") {
		t.Errorf("HTML should fall back to the embedded default")
	}
}

func TestWrapIndentTruncate(t *testing.T) {
	for _, tc := range []struct {
		name, got, want string
	}{
		{"Wrap", wrap(10, "aaa bbb ccc ddd"), "aaa bbb\nccc ddd"},
		{"WrapLongWord", wrap(5, "a https://example.com/x b"), "a\nhttps://example.com/x\nb"},
		{"WrapSpaces", wrap(20, "  a \n b  "), "a b"},
		// Hangul is two columns a syllable: 10 columns hold 한국 어 (7)
		// but not 한국 어와 (9) plus 일본 (5).
		{"WrapWide", wrap(10, "한국 어와 일본"), "한국 어와\n일본"},
		{"Indent", indent(2, "a\n\nb"), "  a\n\n  b"},
		{"TruncateShort", truncate(10, "short"), "short"},
		{"TruncateWord", truncate(16, "one two three four"), "one two three…"},
		{"TruncateNoSpace", truncate(12, "one two three four"), "one two thr…"},
		{"TruncateRunes", truncate(4, "한국어한국어"), "한국어…"},
		{"OneLine", oneLine(" a\t\nb\x00c "), "a b c"},
		{"ItemTimeSameDay", itemTime(t0.Add(-time.Hour), t0), "06:00 KST"},
		{"ItemTimeWeek", itemTime(t0.Add(-30*time.Hour), t0), "Sun 01:00 KST"},
		{"ItemTimeOlder", itemTime(t0.Add(-10*24*time.Hour), t0), "21 Feb 07:00 KST"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Errorf("got %q, want %q", tc.got, tc.want)
			}
		})
	}
}
