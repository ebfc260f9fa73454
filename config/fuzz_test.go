package config

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/goccy/go-yaml"
)

// FuzzParse checks that no input panics, that every error is an *Error
// whose problems all have a position (or that wraps a YAML syntax error),
// and that a Config Parse accepts validates again.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.yaml")
	more, _ := filepath.Glob("testdata/errors/*.yaml")
	for _, name := range append(files, more...) {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	env := envOf(map[string]string{"SET": "value", "PGPASSWORD": "pw", "SMTP_PASSWORD": "pw"})
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := parseWith("fuzz.yaml", data, env)
		if err == nil {
			if c == nil {
				t.Fatal("nil Config and nil error")
			}
			if err := c.Validate(); err != nil {
				t.Fatalf("Parse accepted the input but Validate then failed: %v", err)
			}
			_ = c.Summary()
			return
		}
		if c != nil {
			t.Fatalf("non-nil Config with error %v", err)
		}
		var se *yaml.SyntaxError
		if errors.As(err, &se) {
			return
		}
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("error %v (%T) is not a *config.Error", err, err)
		}
		if len(e.Problems) == 0 {
			t.Fatal("*Error with no problems")
		}
		for _, p := range e.Problems {
			if p.Line < 1 || p.Col < 1 {
				t.Fatalf("problem without a position: %q", p)
			}
		}
		_ = e.Error()
	})
}

// FuzzEditSources checks that adding a source to any file never panics,
// that an edit it makes holds exactly one source more, and that removing
// that source again gives back the same configuration.
func FuzzEditSources(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.yaml")
	for _, name := range append(files, "../config.yaml") {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, "Fuzz News")
	}
	f.Add([]byte("sources: [{name: A, url: \"https://a.example/\"}]\n"), "x, y")
	f.Add([]byte("sources:\n"), "- a: b")
	env := envOf(map[string]string{"SET": "value", "PGPASSWORD": "pw", "SMTP_PASSWORD": "pw"})
	defer func(e envFunc) { envLookup = e }(envLookup)
	envLookup = env
	f.Fuzz(func(t *testing.T, data []byte, name string) {
		before, err := parseWith("fuzz.yaml", data, env)
		if err != nil {
			return
		}
		out, err := AddSources("fuzz.yaml", data, Source{Name: name, URL: "https://fuzz.example/feed"})
		if err != nil {
			return
		}
		after, err := parseWith("fuzz.yaml", out, env)
		if err != nil {
			t.Fatalf("AddSources wrote an invalid file: %v\n%s", err, out)
		}
		if len(after.Sources) != len(before.Sources)+1 || after.Sources[len(before.Sources)].Name != name {
			t.Fatalf("AddSources wrote %d sources, want %d with %q last\n%s", len(after.Sources), len(before.Sources)+1, name, out)
		}
		back, _, err := RemoveSource("fuzz.yaml", out, name)
		if err != nil {
			t.Fatalf("RemoveSource of the added source: %v\n%s", err, out)
		}
		again, err := parseWith("fuzz.yaml", back, env)
		if err != nil {
			t.Fatalf("RemoveSource wrote an invalid file: %v\n%s", err, back)
		}
		if len(again.Sources) != len(before.Sources) {
			t.Fatalf("after removing it again: %d sources, want %d\n%s", len(again.Sources), len(before.Sources), back)
		}
	})
}
