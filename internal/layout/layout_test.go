package layout

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/broadsheet/broadsheet"

// anything allows every import: the wiring and the harnesses.
const anything = "*"

// allowed is STYLE.md's Layout as a table: for each package (module
// relative), what it may import besides the standard library. A module
// package is allowed by its exact path; an external one by its module path,
// which covers its subpackages. A package not in the table fails the test,
// so a new package gets its line here and in STYLE.md. Only non-test files
// count: tests may use the harnesses (storetest, pgtest, smtptest).
//
// Where this table and STYLE.md's picture differ, the comment says why;
// the picture is to be brought up to date, not the table loosened.
var allowed = map[string][]string{
	"feeds":       {},
	"feeds/fetch": {"feeds", "sanitize", "github.com/mmcdole/gofeed", "golang.org/x/net", "golang.org/x/text"},
	// sanitize: x/net/html tokenizes the text policy's titles and excerpts
	// (bluemonday already depends on it); x/text/width measures terminal
	// columns (sanitize.Columns) for the plain-text digest and the CLI
	// tables alike. Not in STYLE.md's picture yet.
	"sanitize": {"github.com/microcosm-cc/bluemonday", "golang.org/x/net", "golang.org/x/text"},
	// topics: the stemmer and x/text's case folding and normalization are
	// pure functions, no I/O; not in STYLE.md's picture yet.
	"topics":          {"feeds", "github.com/kljensen/snowball", "golang.org/x/text"},
	"assign":          {"feeds", "topics", "store"},
	"store":           {"feeds", "topics"},
	"store/sqldb":     {"store", "feeds", "topics"},
	"store/sqlite":    {"store", "store/sqldb", "feeds", "topics", "modernc.org/sqlite"},
	"store/postgres":  {"store", "store/sqldb", "feeds", "topics", "github.com/jackc/pgx/v5"},
	"store/storetest": {"store", "feeds", "topics"},
	"publish":         {"feeds", "topics", "store", "sanitize", "github.com/gorilla/feeds"},
	// digest -> sanitize: outputs cut and escape text through the one text
	// policy (issue #16) rather than their own; not in STYLE.md's picture
	// yet.
	"digest":        {"feeds", "topics", "store", "templates", "sanitize"},
	"digest/smtp":   {"digest", "github.com/wneessen/go-mail"},
	"digest/outbox": {"digest"},
	// smtptest is a test SMTP server for digest/smtp's tests and CI.
	"digest/smtp/smtptest": {"github.com/emersion/go-smtp", "github.com/emersion/go-sasl"},
	"templates":            {},
	"schedule":             {"github.com/robfig/cron/v3"},
	// config -> filter: config validates sources' keep and block rules
	// through filter, the one parser of their syntax, as it does
	// schedules; filter is stdlib only. Neither is in STYLE.md's picture
	// yet (issue #15).
	"config": {"github.com/goccy/go-yaml", "schedule", "filter"},
	"filter": {},
	// metrics owns the Prometheus collectors (one package per external
	// dependency); metricstest reads /metrics for tests. Not in STYLE.md's
	// picture yet (issue #15).
	"metrics":             {"github.com/prometheus/client_golang"},
	"metrics/metricstest": {"github.com/prometheus/client_model", "github.com/prometheus/common"},
	// opml reads OPML exports for import; not in STYLE.md's picture yet.
	"opml":           {"golang.org/x/net"},
	"cmd/broadsheet": {anything},
	"internal":       {anything},
	"bench":          {anything},
}

// hint ends every import violation with what to do.
const hint = ": take what it needs through an interface it declares, or change the Layout (STYLE.md and allowed here) with a reason"

// pkg is what the test reads of `go list -json`.
type pkg struct {
	ImportPath string
	Imports    []string
	Standard   bool
}

func TestLayout(t *testing.T) {
	cmd := exec.Command("go", "list", "-json", module+"/...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.Bytes())
	}
	graph, err := decode(out)
	if err != nil {
		t.Fatal(err)
	}
	// A rule for a package that is gone would let one of that name back
	// in unseen, and no rules found means go list read another tree.
	for p := range allowed {
		if _, ok := graph[p]; !ok && p != "internal" && p != "bench" {
			t.Errorf("allowed names %s, which go list does not find: drop its line here and in STYLE.md", p)
		}
	}
	for _, v := range check(graph, allowed) {
		t.Error(v)
	}
}

// decode reads go list's stream of JSON objects into import lists by
// package, module relative where the path is the module's.
func decode(b []byte) (map[string][]string, error) {
	graph := map[string][]string{}
	dec := json.NewDecoder(bytes.NewReader(b))
	for {
		var p pkg
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			return graph, nil
		} else if err != nil {
			return nil, fmt.Errorf("decode go list: %w", err)
		}
		graph[rel(p.ImportPath)] = p.Imports
	}
}

// rel makes a module path module relative; others stay as they are.
func rel(path string) string {
	if path == module {
		return "."
	}
	return strings.TrimPrefix(path, module+"/")
}

// check lists, sorted, the imports of graph's packages (module relative)
// that rules do not allow, and the packages that no rule covers. A rule
// for "internal" covers every package below internal/, and likewise
// "bench".
func check(graph map[string][]string, rules map[string][]string) []string {
	var bad []string
	for p, imports := range graph {
		allow, ok := rules[p]
		if !ok {
			top, _, _ := strings.Cut(p, "/")
			if top == "internal" || top == "bench" {
				allow, ok = rules[top]
			}
		}
		if !ok {
			bad = append(bad, fmt.Sprintf("%s: not in the layout: add it to STYLE.md's Layout and to allowed in internal/layout", p))
			continue
		}
		if slices.Contains(allow, anything) {
			continue
		}
		for _, imp := range imports {
			if standard(imp) || allows(allow, imp) {
				continue
			}
			bad = append(bad, fmt.Sprintf("%s imports %s, which STYLE.md's Layout does not allow"+hint, p, imp))
		}
	}
	slices.Sort(bad)
	return bad
}

// standard reports whether path is the standard library's: its first
// element has no dot.
func standard(path string) bool {
	first, _, _ := strings.Cut(path, "/")
	return !strings.Contains(first, ".")
}

// allows reports whether imp is in allow: a module package exactly, an
// external module with its subpackages.
func allows(allow []string, imp string) bool {
	if strings.HasPrefix(imp, module+"/") {
		return slices.Contains(allow, rel(imp))
	}
	for _, a := range allow {
		if imp == a || strings.HasPrefix(imp, a+"/") {
			return true
		}
	}
	return false
}

func TestCheck(t *testing.T) {
	rules := map[string][]string{
		"feeds":          {},
		"store":          {"feeds"},
		"schedule":       {"github.com/robfig/cron/v3"},
		"cmd/broadsheet": {anything},
		"internal":       {anything},
	}
	m := func(p string) string { return module + "/" + p }
	tests := []struct {
		name  string
		graph map[string][]string
		want  []string
	}{
		{"OK", map[string][]string{
			"feeds":             {"context", "net/url"},
			"store":             {m("feeds"), "time"},
			"schedule":          {"github.com/robfig/cron/v3"},
			"cmd/broadsheet":    {m("store"), m("internal/pgtest"), "golang.org/x/term"},
			"internal/e2e/deep": {m("cmd/broadsheet")},
		}, nil},
		{"ModuleImport", map[string][]string{
			"feeds": {m("store")},
		}, []string{"feeds imports " + m("store") + ", which STYLE.md's Layout does not allow" + hint}},
		{"SubpackageNotParent", map[string][]string{
			"store": {m("feeds/fetch")},
		}, []string{"store imports " + m("feeds/fetch") + ", which STYLE.md's Layout does not allow" + hint}},
		{"ExternalImport", map[string][]string{
			"schedule": {"github.com/robfig/cron/v3/internal", "github.com/robfig/cronx"},
		}, []string{"schedule imports github.com/robfig/cronx, which STYLE.md's Layout does not allow" + hint}},
		{"UnknownPackage", map[string][]string{
			"util": {},
		}, []string{"util: not in the layout: add it to STYLE.md's Layout and to allowed in internal/layout"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := check(tt.graph, rules); !slices.Equal(got, tt.want) {
				t.Errorf("check() = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestLayout_Decode checks the real graph's reading: a deliberately bad
// import in go list's output is reported.
func TestLayout_Decode(t *testing.T) {
	out := []byte(`{"ImportPath": "` + module + `/feeds", "Imports": ["context", "` + module + `/publish"]}
{"ImportPath": "` + module + `/publish", "Imports": ["` + module + `/feeds"]}`)
	graph, err := decode(out)
	if err != nil {
		t.Fatal(err)
	}
	got := check(graph, allowed)
	want := []string{"feeds imports " + module + "/publish, which STYLE.md's Layout does not allow" + hint}
	if !slices.Equal(got, want) {
		t.Errorf("check() = %q, want %q", got, want)
	}
}
