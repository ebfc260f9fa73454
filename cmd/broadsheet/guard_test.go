package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/broadsheet/broadsheet/feeds/fetch"
)

// With no fetch.allow_private_networks in config.yaml, loopback sources
// are refused: `check` warns about each one by name (and passes), a poll
// fails without reaching the server and says what to do, and saying true
// lets both through.
func TestMain_PrivateNetworksDefault(t *testing.T) {
	fs := newFeedServer(t, 2)
	dir := t.TempDir()
	port := fs.URL[strings.LastIndex(fs.URL, ":")+1:]
	write := func(name, fetchBlock string) string {
		path := filepath.Join(dir, name)
		os.WriteFile(path, []byte(fmt.Sprintf(`storage:
  path: %s
%slog:
  level: warn
sources:
  - name: Loopback
    url: %s/feed/0.xml
  - name: By Name
    url: http://localhost:%s/feed/1.xml
`, filepath.Join(dir, name+".db"), fetchBlock, fs.URL, port)), 0o644)
		return path
	}

	cfg := write("default.yaml", "")
	r := runMain(t, t.Context(), nil, "check", "--config", cfg)
	if r.code != 0 || !strings.Contains(r.stdout, "configuration OK") {
		t.Fatalf("check: exit %d, want 0 (a warning, not a failure)\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{
		cfg + ": sources[0].url (Loopback): host 127.0.0.1 is private/loopback, which polls refuse while fetch.allow_private_networks is false; " + fetch.PrivateNetworkAdvice,
		cfg + ": sources[1].url (By Name): host localhost resolves to ",
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("check does not warn %q:\n%s", want, r.stderr)
		}
	}
	if n := strings.Count(r.stderr, "warning: "); n != 2 {
		t.Errorf("check printed %d warnings, want 2:\n%s", n, r.stderr)
	}

	r = runMain(t, t.Context(), nil, "fetch", "--config", cfg)
	if r.code != 1 || !strings.Contains(r.stdout, "2 failed") {
		t.Fatalf("fetch: exit %d, want 1 with both sources refused\n%s%s", r.code, r.stdout, r.stderr)
	}
	if total, _ := fs.counts(); total != 0 {
		t.Errorf("the loopback server was reached %d times", total)
	}
	r = runMain(t, t.Context(), nil, "sources", "--config", cfg)
	for _, want := range []string{"refused to connect to 127.0.0.1: it is a private/loopback address", "allow_private_networks"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("sources does not say %q:\n%s", want, r.stdout)
		}
	}

	cfg = write("allowed.yaml", "fetch:\n  allow_private_networks: true\n")
	r = runMain(t, t.Context(), nil, "check", "--config", cfg)
	if r.code != 0 || strings.Contains(r.stderr, "warning") {
		t.Errorf("check with private networks allowed: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = runMain(t, t.Context(), nil, "fetch", "--config", cfg)
	if r.code != 0 || !strings.Contains(r.stdout, "2 ok") {
		t.Errorf("fetch with private networks allowed: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}
