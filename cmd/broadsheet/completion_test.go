package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// completionCases are command lines, the last word being completed, and
// the completions each shell must offer (in any order).
var completionCases = []struct {
	words []string
	want  []string
}{
	{[]string{"sou"}, []string{"sources"}},
	{[]string{"i"}, []string{"items", "import"}},
	{[]string{"co"}, []string{"completion"}},
	{[]string{"sources", ""}, []string{"help", "list", "add", "remove"}},
	{[]string{"sources", "add", "--k"}, []string{"--kind"}},
	{[]string{"sources", "add", "https://example.com/", "--kind", ""}, []string{"news", "editorial"}},
	{[]string{"sources", "add", "--name", "x", "--sch"}, []string{"--schedule"}},
	{[]string{"sources", "--c"}, []string{"--config"}},
	{[]string{"sources", "remove", "--config", "@CFG", "Th"}, []string{"The Loopback Herald"}},
	{[]string{"fetch", "--config", "@CFG", "--source", "F"}, []string{"Feed 0"}},
	{[]string{"digest", "send", "--tick", "--config", "@CFG", ""}, []string{"daily", "weekly"}},
	{[]string{"digest", "resubscribe", "--config", "@CFG", "w"}, []string{"weekly"}},
	{[]string{"topics", "--kind", ""}, []string{"story", "configured"}},
	{[]string{"items", "--json", "--l"}, []string{"--limit"}},
	{[]string{"completion", ""}, []string{"bash", "zsh", "fish"}},
	{[]string{"digest", "p"}, []string{"preview"}},
}

func completionConfig(t *testing.T) string {
	t.Helper()
	cfg := filepath.Join(t.TempDir(), "config.yaml")
	os.WriteFile(cfg, []byte(`sources:
  - name: Feed 0
    url: https://a.example/feed
  - name: The Loopback Herald
    url: https://b.example/feed
digests:
  - name: daily
    schedule: "0 7 * * *"
    to: [a@example.com]
  - name: weekly
    schedule: "0 7 * * 1"
    to: [a@example.com]
`), 0o644)
	return cfg
}

// Each shell's script, loaded into the real shell, completes commands,
// subcommands, flags, their values and the configuration's names.
func TestCompletion_Shells(t *testing.T) {
	bin := buildBinary(t)
	cfg := completionConfig(t)
	dir := t.TempDir()
	shells := []struct {
		name string
		// run returns the completions the shell offers for words, the
		// script being at script.
		run func(t *testing.T, script string, words []string) []string
	}{
		{"bash", completeBash},
		{"zsh", completeZsh},
		{"fish", completeFish},
	}
	for _, sh := range shells {
		t.Run(sh.name, func(t *testing.T) {
			if _, err := exec.LookPath(sh.name); err != nil {
				if os.Getenv("CI") != "" {
					t.Fatalf("%s is not installed (scripts/test-deps installs it)", sh.name)
				}
				t.Skipf("%s is not installed; scripts/test-deps installs it", sh.name)
			}
			out, err := testCommand(t, "", bin, "completion", sh.name).Output()
			if err != nil {
				t.Fatalf("completion %s: %v", sh.name, err)
			}
			script := filepath.Join(dir, "broadsheet."+sh.name)
			os.WriteFile(script, out, 0o644)
			if out, err := testCommand(t, "", sh.name, "-n", script).CombinedOutput(); err != nil {
				t.Fatalf("%s -n: %v\n%s", sh.name, err, out)
			}
			for _, c := range completionCases {
				words := []string{bin}
				for _, w := range c.words {
					words = append(words, strings.ReplaceAll(w, "@CFG", cfg))
				}
				got := sh.run(t, script, words)
				if strings.Join(sorted(got), "|") != strings.Join(sorted(c.want), "|") {
					t.Errorf("%q: completions %q, want %q", c.words, got, c.want)
				}
			}
		})
	}
}

func sorted(s []string) []string {
	s = append([]string(nil), s...)
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j] < s[i] {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
	return s
}

func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		if l != "" {
			out = append(out, l)
		}
	}
	return out
}

func completeBash(t *testing.T, script string, words []string) []string {
	prog := `source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMPREPLY=(); _broadsheet; printf '%s\n' "${COMPREPLY[@]}"`
	out, err := testCommand(t, "", "bash", append([]string{"-c", prog, "bash", script}, words...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("bash: %v\n%s", err, out)
	}
	// Names come shell-quoted, to be inserted as they are.
	var got []string
	for _, l := range lines(string(out)) {
		got = append(got, strings.ReplaceAll(l, `\ `, " "))
	}
	return got
}

func completeZsh(t *testing.T, script string, words []string) []string {
	// The completion system's builtins, as stubs that print what they
	// would offer.
	prog := `compdef() { : }
compadd() { if [[ $1 == -a ]]; then print -rl -- "${(@P)2}"; else shift; print -rl -- "$@"; fi }
_describe() { local x; for x in "${(@P)${@[-1]}}"; do print -r -- "${x%%:*}"; done }
_files() { print -r -- "<files>" }
source "$1"; shift
words=("$@"); CURRENT=$#words
_broadsheet`
	out, err := testCommand(t, "", "zsh", append([]string{"-f", "-c", prog, "zsh", script}, words...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("zsh: %v\n%s", err, out)
	}
	// zsh itself keeps the offers that match what is typed.
	var got []string
	for _, l := range lines(string(out)) {
		if strings.HasPrefix(l, words[len(words)-1]) {
			got = append(got, l)
		}
	}
	return got
}

func completeFish(t *testing.T, script string, words []string) []string {
	line := strings.Join(append([]string{"broadsheet"}, quoteFish(words[1:])...), " ")
	cmd := testCommand(t, "", "fish", "--no-config", "-c", `source $argv[1]; complete -C $argv[2]`, script, line)
	cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(words[0])+string(os.PathListSeparator)+os.Getenv("PATH"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("fish: %v\n%s", err, out)
	}
	var got []string
	for _, l := range lines(string(out)) {
		got = append(got, strings.SplitN(l, "\t", 2)[0])
	}
	return got
}

func quoteFish(words []string) []string {
	out := make([]string, len(words))
	for i, w := range words {
		if strings.ContainsAny(w, " '\"") {
			w = "'" + w + "'"
		}
		out[i] = w
	}
	if n := len(out); n > 0 && words[n-1] == "" {
		out[n-1] = ""
	}
	return out
}

// The scripts come from the commands: a flag a command defines is
// completed without being listed anywhere else.
func TestCompletion_Tree(t *testing.T) {
	tree := completionTree(context.Background())
	find := func(path string) compCmd {
		for _, c := range tree {
			if c.path == path {
				return c
			}
		}
		t.Fatalf("no command %q in the tree", path)
		return compCmd{}
	}
	if got := find("sources add").valued(); got != "--config --kind --name --schedule --tags" {
		t.Errorf("sources add's flags taking values: %q", got)
	}
	if got := find("digest send").flagNames(); got != "--config --tick" || find("digest send").valued() != "--config" {
		t.Errorf("digest send's flags: %q, valued %q", got, find("digest send").valued())
	}
	if got := find("items").flagNames(); got != "--config --json --limit --since --source" {
		t.Errorf("items' flags: %q", got)
	}
	// Every digest subcommand completed is one the command knows.
	for _, s := range digestSubcommands {
		r := runMain(t, context.Background(), nil, "digest", s[0], "-h")
		if r.code != 0 || strings.Contains(r.stderr, "unknown command") {
			t.Errorf("digest %s -h: exit %d\n%s", s[0], r.code, r.stderr)
		}
	}
	r := runMain(t, context.Background(), nil, "completion", "tcsh")
	if r.code != exitUsage || !strings.Contains(r.stderr, `"tcsh" is not a shell broadsheet completes`) {
		t.Errorf("completion tcsh: exit %d\n%s", r.code, r.stderr)
	}
}
