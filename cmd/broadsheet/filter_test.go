package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// A source's keep and block rules decide which of its items `fetch`
// stores; another source's items are untouched.
func TestMain_FetchFilters(t *testing.T) {
	fs := newFeedServer(t, 5)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`storage:
  path: %s
fetch:
  allow_private_networks: true
log:
  level: warn
sources:
  - name: Filtered
    url: %s/feed/0.xml
    keep: ["title:^Story [0-3] "]
    block: ["story 2 of", "link:/story-3$"]
  - name: Plain
    url: %s/feed/1.xml
`, filepath.Join(dir, "bs.db"), fs.URL, fs.URL)), 0o644)

	r := runMain(t, t.Context(), nil, "fetch", "--config", cfg)
	if r.code != 0 || !strings.Contains(r.stdout, "ok (3 left out by its keep/block rules)") {
		t.Fatalf("fetch: exit %d, want the 3 filtered out counted in\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = runMain(t, t.Context(), nil, "items", "--config", cfg, "--json")
	if r.code != 0 {
		t.Fatalf("items: exit %d\n%s", r.code, r.stderr)
	}
	var got []string
	sc := bufio.NewScanner(strings.NewReader(r.stdout))
	for sc.Scan() {
		var it item
		if err := json.Unmarshal(sc.Bytes(), &it); err != nil {
			t.Fatalf("items --json line %q: %v", sc.Text(), err)
		}
		got = append(got, it.Title)
	}
	slices.Sort(got)
	want := []string{
		"Story 0 of feed 0", "Story 1 of feed 0", // kept; 2 and 3 blocked, 4 not kept
		"Story 0 of feed 1", "Story 1 of feed 1", "Story 2 of feed 1", "Story 3 of feed 1", "Story 4 of feed 1",
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("stored %q,\nwant %q", got, want)
	}

	// A bad rule is a configuration error naming file, line, column and key.
	os.WriteFile(cfg, []byte("sources:\n  - name: A\n    url: https://a.example/feed\n    block: [\"title:[z-a]\"]\n"), 0o644)
	r = runMain(t, t.Context(), nil, "check", "--config", cfg)
	if want := cfg + ":4:13: sources[0].block[0]: "; r.code != exitUsage || !strings.Contains(r.stderr, want) {
		t.Errorf("check of a bad rule: exit %d, want %d and %q in\n%s", r.code, exitUsage, want, r.stderr)
	}
}
