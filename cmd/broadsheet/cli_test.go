package main

import (
	"context"
	"fmt"
	"os"
	"runtime/debug"
	"strings"
	"testing"
	"time"
)

// Unknown commands, subcommands and arguments are usage errors (exit
// status 2) with a hint, never silently ignored.
func TestMain_UsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		want []string // in stderr
	}{
		{[]string{"bogus"}, []string{`unknown command "bogus"`, "sources", "`broadsheet help`"}},
		{[]string{"items", "bogus"}, []string{`items takes no arguments`, `"bogus"`, "`broadsheet items --help`"}},
		{[]string{"items", "--json", "bogus"}, []string{`unexpected "bogus"`}},
		{[]string{"topics", "bogus"}, []string{`topics takes no arguments`}},
		{[]string{"fetch", "Feed 0"}, []string{`fetch takes no arguments`}},
		{[]string{"run", "now"}, []string{`run takes no arguments`}},
		{[]string{"version", "x"}, []string{`version takes no arguments`}},
		{[]string{"sources", "bogus"}, []string{`sources: unknown command "bogus"`, "list", "`broadsheet sources help`"}},
		{[]string{"sources", "list", "extra"}, []string{`sources list takes no arguments`}},
		{[]string{"items", "--since", "3x"}, []string{`"3x" is not a duration`, `"7d"`}},
		{[]string{"items", "--since", "-1h"}, []string{`is negative`}},
		{[]string{"topics", "--since", "week"}, []string{`not a duration`}},
		{[]string{"digest", "bogus"}, []string{`unknown command "bogus"`}},
		{[]string{"digest", "send"}, []string{`digest send takes 1 argument, got 0`}},
		{[]string{"sources", "add"}, []string{`sources add takes 1 argument, URL; got none`}},
		{[]string{"healthcheck", "--timeout", "2x"}, []string{`"2x" is not a duration`}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			r := runMain(t, context.Background(), nil, append(tt.args, "--config", "/nonexistent/config.yaml")...)
			if r.code != exitUsage {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", r.code, exitUsage, r.stdout, r.stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, r.stderr)
				}
			}
			if r.stdout != "" {
				t.Errorf("a usage error printed on stdout:\n%s", r.stdout)
			}
		})
	}
}

func TestMain_SourcesDispatch(t *testing.T) {
	fs := newFeedServer(t, 1)
	cfg := writeConfig(t, t.TempDir(), fs, 2, "")
	for _, args := range [][]string{{"sources"}, {"sources", "list"}} {
		r := runMain(t, context.Background(), nil, append(args, "--config", cfg)...)
		if r.code != 0 || !strings.Contains(r.stdout, "SOURCE") || !strings.Contains(r.stdout, "Feed 1") {
			t.Errorf("%q: exit %d\n%s%s", args, r.code, r.stdout, r.stderr)
		}
	}
	r := runMain(t, context.Background(), nil, "sources", "help")
	if r.code != 0 || !strings.Contains(r.stdout, "list") {
		t.Errorf("sources help: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// --since takes the configuration's durations, days included.
func TestMain_ItemsSinceDays(t *testing.T) {
	fs := newFeedServer(t, 3) // items published on 14 Aug 2026, 00:00 to 02:00 UTC
	cfg := writeConfig(t, t.TempDir(), fs, 1, "")
	if r := runMain(t, context.Background(), nil, "fetch", "--config", cfg); r.code != 0 {
		t.Fatalf("fetch: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	tests := []struct {
		since string
		want  int
	}{
		{"7d", 3},
		{"168h", 3},
		{"6d23h", 2},
		{"6d22h", 1},
		{"6d", 0},
	}
	for _, tt := range tests {
		t.Run(tt.since, func(t *testing.T) {
			m := testMain()
			m.Now = func() time.Time { return time.Date(2026, 8, 20, 23, 30, 0, 0, time.UTC) }
			r := runMain(t, context.Background(), m, "items", "--config", cfg, "--json", "--since", tt.since)
			if r.code != 0 {
				t.Fatalf("exit %d\n%s", r.code, r.stderr)
			}
			if got := strings.Count(r.stdout, "\n"); got != tt.want {
				t.Errorf("--since %s listed %d items, want %d:\n%s", tt.since, got, tt.want, r.stdout)
			}
		})
	}
}

func TestVersionOf(t *testing.T) {
	vcs := func(rev, modified string) *debug.BuildInfo {
		return &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
			{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: rev}, {Key: "vcs.modified", Value: modified}}}
	}
	tests := []struct {
		name   string
		linked string
		bi     *debug.BuildInfo
		want   string
	}{
		{"Linked", "v1.4.0-3-gabcdef1", vcs("0123456789abcdef0123", "false"), "v1.4.0-3-gabcdef1"},
		{"Module", "", &debug.BuildInfo{Main: debug.Module{Version: "v1.4.0"}}, "v1.4.0"},
		{"Commit", "", vcs("0123456789abcdef0123", "false"), "dev-0123456789ab"},
		{"DirtyCommit", "", vcs("0123456789abcdef0123", "true"), "dev-0123456789ab-dirty"},
		{"Nothing", "", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, "dev"},
		{"NoBuildInfo", "", nil, "dev"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := versionOf(tt.linked, tt.bi); got != tt.want {
				t.Errorf("versionOf(%q, …) = %q, want %q", tt.linked, got, tt.want)
			}
		})
	}
}

// On a terminal, fetch draws a progress bar that log lines do not shred:
// each comes out on a line of its own above the bar, which ends at 100 %.
func TestMain_FetchProgress(t *testing.T) {
	fs := newFeedServer(t, 1)
	cfg := writeConfig(t, t.TempDir(), fs, 3, "")
	b, _ := os.ReadFile(cfg)
	os.WriteFile(cfg, append(b, fmt.Sprintf("  - name: Broken\n    url: %s/missing.xml\n", fs.URL)...), 0o644)
	m := testMain()
	m.Terminal = true
	r := runMain(t, context.Background(), m, "fetch", "--config", cfg)
	if r.code != exitFailed {
		t.Fatalf("exit %d, want %d\n%s", r.code, exitFailed, r.stderr)
	}
	if !strings.Contains(r.stderr, "100% |") || !strings.Contains(r.stderr, "(4/4) \n") {
		t.Errorf("the bar does not end at 100 %% on a line of its own: %q", r.stderr)
	}
	logs := 0
	for i := strings.Index(r.stderr, "time="); i >= 0; {
		logs++
		if i > 0 && r.stderr[i-1] != '\r' && r.stderr[i-1] != '\n' {
			t.Errorf("a log line starts inside the bar: %q", r.stderr[max(0, i-80):i+20])
		}
		j := strings.Index(r.stderr[i+1:], "time=")
		if j < 0 {
			break
		}
		i += 1 + j
	}
	if logs == 0 || !strings.Contains(r.stderr, `level=WARN msg="poll failed" source=Broken`) {
		t.Errorf("the failed poll's warning is missing: %q", r.stderr)
	}
	if strings.Contains(r.stderr, "level=INFO") {
		t.Errorf("fetch logged INFO lines, which its table says better: %q", r.stderr)
	}
}

// An empty `items` says why; read-only commands log nothing at INFO.
func TestMain_ItemsEmpty(t *testing.T) {
	fs := newFeedServer(t, 2)
	dir := t.TempDir()
	cfg := writeConfig(t, dir, fs, 0, "")
	b, _ := os.ReadFile(cfg)
	info := strings.Replace(string(b), "level: warn", "level: info", 1) // what the shipped config.yaml says
	os.WriteFile(cfg, append([]byte(info), fmt.Sprintf("  - name: Broken\n    url: %s/missing.xml\n", fs.URL)...), 0o644)

	check := func(args []string, want string) {
		t.Helper()
		r := runMain(t, context.Background(), nil, append(args, "--config", cfg)...)
		if r.code != 0 || !strings.Contains(r.stdout, want) {
			t.Errorf("%q: exit %d, want %q in\n%s%s", args, r.code, want, r.stdout, r.stderr)
		}
		if strings.Contains(r.stderr, "level=INFO") {
			t.Errorf("%q logged INFO lines:\n%s", args, r.stderr)
		}
	}
	check([]string{"items"}, "No items stored yet: `broadsheet fetch` polls the sources now")
	runMain(t, context.Background(), nil, "fetch", "--config", cfg)
	check([]string{"items"}, "No items stored yet: the one source failed at its last poll; `broadsheet sources` says why.")

	os.WriteFile(cfg, append([]byte(info), fmt.Sprintf("  - name: Feed 0\n    url: %s/feed/0.xml\n", fs.URL)...), 0o644)
	if r := runMain(t, context.Background(), nil, "fetch", "--config", cfg); r.code != 0 {
		t.Fatalf("fetch: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	check([]string{"items"}, "Story 1 of feed 0")
	check([]string{"items", "--source", "Nobody"}, `No items from "Nobody" (others are stored: try without the filter).`)
	check([]string{"items", "--since", "1d"}, "No items published within 1d (others are stored")
	check([]string{"topics"}, "No topics or stories")
	check([]string{"sources"}, "Feed 0")
}
