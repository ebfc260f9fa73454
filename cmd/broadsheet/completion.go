package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/broadsheet/broadsheet/config"
)

// Shell completion is generated from the commands themselves: each is run
// with -h (which every command parses before doing anything) and its
// flags read from the usage it prints, so a flag added to a command is
// completed without being listed twice.

// compCmd is a command, or a subcommand, as completion sees it.
type compCmd struct {
	path  string // "sources add"
	help  string
	flags []compFlag
	subs  []string // for a command with subcommands
	args  []string // what each argument is: see compValues
}

type compFlag struct {
	name, help string
	value      string // "" for a boolean flag, else what its value is (see compValues)
}

// What a flag's value or an argument is, for completion: a file, a
// folder, a source or digest name of the configuration, one of some
// words ("words:a b"), or anything.
const (
	compAny     = "any"
	compFile    = "file"
	compDir     = "dir"
	compSources = "sources"
	compDigests = "digests"
)

// compValues says what flag values are that are not just text, by
// "path --flag", then by "--flag".
var compValues = map[string]string{
	"--config":           compFile,
	"--source":           compSources,
	"--out":              compFile,
	"publish --out":      compDir,
	"sources add --kind": "words:news editorial",
	"topics --kind":      "words:story configured",
	"completion --list":  "words:sources digests",
}

// compArgs says what the arguments of a command are.
var compArgs = map[string][]string{
	"sources remove":     {compSources},
	"digest preview":     {compDigests},
	"digest send":        {compDigests},
	"digest resubscribe": {compDigests, compAny},
	"digest unsubscribe": {compDigests, compAny},
	"import":             {compFile},
	"completion":         {"words:bash zsh fish"},
}

// digestSubcommands are `broadsheet digest`'s commands, with what they do.
var digestSubcommands = [][2]string{
	{"list", "each digest: schedule, next run, last sent, recipients"},
	{"preview", "render the next digest without sending or recording it"},
	{"send", "send now and record it"},
	{"resubscribe", "send a digest to an address again after it unsubscribed"},
	{"unsubscribe", "stop sending a digest to an address"},
}

// completionTree returns every command and subcommand with its flags.
func completionTree(ctx context.Context) []compCmd {
	var out []compCmd
	for _, c := range commands() {
		cc := compCmd{path: c.name, help: c.help, args: compArgs[c.name]}
		var subs [][2]string
		switch c.name {
		case "sources":
			for _, s := range sourcesCommands() {
				subs = append(subs, [2]string{s.name, s.help})
			}
		case "digest":
			subs = digestSubcommands
		}
		// A command with subcommands has the flags of its default one
		// (`sources --config PATH` lists), if it has one.
		cc.flags = flagsOf(ctx, c.name)
		parent := len(out)
		out = append(out, cc)
		for _, s := range subs {
			out[parent].subs = append(out[parent].subs, s[0])
			p := c.name + " " + s[0]
			out = append(out, compCmd{path: p, help: s[1], flags: flagsOf(ctx, p), args: compArgs[p]})
		}
	}
	return out
}

// flagsOf runs the command at path with -h, which every command parses
// before doing anything, in a Main that reads no configuration and
// writes nowhere, and returns the flags it defined.
func flagsOf(ctx context.Context, path string) []compFlag {
	m := &Main{Stdout: io.Discard, Stderr: io.Discard, Getenv: func(string) string { return "" }, Now: NewMain().Now}
	m.Run(ctx, append(strings.Fields(path), "-h"))
	if m.flagSet == nil {
		return nil
	}
	var flags []compFlag
	m.flagSet.VisitAll(func(f *flag.Flag) {
		_, help := flag.UnquoteUsage(f)
		cf := compFlag{name: f.Name, help: help}
		if b, ok := f.Value.(interface{ IsBoolFlag() bool }); !ok || !b.IsBoolFlag() {
			cf.value = compValues[path+" --"+f.Name]
			if cf.value == "" {
				cf.value = compValues["--"+f.Name]
			}
			if cf.value == "" {
				cf.value = compAny
			}
		}
		flags = append(flags, cf)
	})
	return flags
}

func (m *Main) cmdCompletion(ctx context.Context, fs *flag.FlagSet, args []string) error {
	list := fs.String("list", "", "print the names of the configuration's sources or digests, one a line (for the completion scripts)")
	shell, err := parseArgs(fs, args, "bash|zsh|fish")
	if *list != "" {
		return m.completionNames(*list)
	}
	if err != nil {
		return err
	}
	tree := completionTree(ctx)
	switch shell[0] {
	case "bash":
		writeBash(m.Stdout, tree)
	case "zsh":
		writeZsh(m.Stdout, tree)
	case "fish":
		writeFish(m.Stdout, tree)
	default:
		return &exitError{code: exitUsage, msg: fmt.Sprintf("completion: %q is not a shell broadsheet completes; use bash, zsh or fish", shell[0])}
	}
	return nil
}

// completionNames prints the names of the sources or digests, reading
// only the configuration file; on any problem it prints nothing.
func (m *Main) completionNames(what string) error {
	data, err := os.ReadFile(m.configPath())
	if err != nil {
		return &exitError{code: exitFailed}
	}
	cfg, err := config.Parse(m.configPath(), data)
	if err != nil {
		return &exitError{code: exitFailed}
	}
	switch what {
	case compSources:
		for _, s := range cfg.Sources {
			fmt.Fprintln(m.Stdout, s.Name)
		}
	case compDigests:
		for _, d := range cfg.Digests {
			fmt.Fprintln(m.Stdout, d.Name)
		}
	default:
		return &exitError{code: exitUsage, msg: fmt.Sprintf("completion --list %q: use sources or digests", what)}
	}
	return nil
}

// shellQuote quotes s for a POSIX shell (and zsh and fish, for the
// characters help texts hold).
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func fishQuote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, "'", `\'`).Replace(s) + "'"
}

// valued lists a command's flags that take a value, as "--a --b".
func (c compCmd) valued() string {
	var v []string
	for _, f := range c.flags {
		if f.value != "" {
			v = append(v, "--"+f.name)
		}
	}
	return strings.Join(v, " ")
}

func (c compCmd) flagNames() string {
	var v []string
	for _, f := range c.flags {
		v = append(v, "--"+f.name)
	}
	return strings.Join(v, " ")
}

func parents(tree []compCmd) string {
	var p []string
	for _, c := range tree {
		if len(c.subs) > 0 {
			p = append(p, c.path)
		}
	}
	return strings.Join(p, " ")
}

func topNames(tree []compCmd) []compCmd {
	var out []compCmd
	for _, c := range tree {
		if !strings.Contains(c.path, " ") {
			out = append(out, c)
		}
	}
	return out
}

// writeShLookups writes the two table functions bash and zsh share: the same
// syntax works in both, so the tables cannot drift apart between the shells.
func writeShLookups(w io.Writer, tree []compCmd) {
	fmt.Fprint(w, `# _broadsheet_valued PATH FLAG: whether FLAG of the command PATH takes a value.
_broadsheet_valued() {
    local f=$2 list=""
    [[ $f == --* ]] || f=-$f
    case "$1" in
`)
	for _, c := range tree {
		if v := c.valued(); v != "" {
			fmt.Fprintf(w, "    %s) list=%s ;;\n", shellQuote(c.path), shellQuote(v))
		}
	}
	fmt.Fprint(w, `    esac
    [[ " $list " == *" $f "* ]]
}

# _broadsheet_kind PATH FLAG-OR-ARGUMENT-NUMBER: what the value is.
_broadsheet_kind() {
    case "$1|$2" in
`)
	for _, c := range tree {
		for _, f := range c.flags {
			if f.value != "" && f.value != compAny {
				fmt.Fprintf(w, "    %s) echo %s ;;\n", shellQuote(c.path+"|--"+f.name), shellQuote(f.value))
			}
		}
		for i, a := range c.args {
			if a != compAny {
				fmt.Fprintf(w, "    %s) echo %s ;;\n", shellQuote(fmt.Sprintf("%s|%d", c.path, i)), shellQuote(a))
			}
		}
	}
	fmt.Fprint(w, `    esac
}
`)
}

// shWalk is the loop bash and zsh share that walks the words before the
// cursor: it sets bs_path to the (sub)command, nargs to the arguments seen
// and skip when the last word is a flag waiting for its value.
func shWalk(tree []compCmd, words string, first int, upto string) string {
	return fmt.Sprintf(`    for ((i = %d; i < %s; i++)); do
        w=${%s[i]}
        if ((skip)); then
            skip=0
            continue
        fi
        if [[ $w == -* ]]; then
            _broadsheet_valued "$bs_path" "$w" && skip=1
            continue
        fi
        if [[ -z $bs_path ]]; then
            bs_path=$w
        elif [[ $bs_path != *" "* && " %s " == *" $bs_path "* ]]; then
            bs_path="$bs_path $w"
        else
            nargs=$((nargs + 1))
        fi
    done
`, first, upto, words, parents(tree))
}

func writeBash(w io.Writer, tree []compCmd) {
	fmt.Fprint(w, `# bash completion for broadsheet, written by `+"`broadsheet completion bash`"+`.
# Load it with: source <(broadsheet completion bash)
# or save it as /etc/bash_completion.d/broadsheet.

`)
	writeShLookups(w, tree)
	fmt.Fprint(w, `
# _broadsheet_names sources|digests: the names in the configuration the
# command line gives with --config, else the default one.
_broadsheet_names() {
    local cfg=() i
    for ((i = 1; i < ${#COMP_WORDS[@]} - 1; i++)); do
        case "${COMP_WORDS[i]}" in
        --config | -config) cfg=(--config "${COMP_WORDS[i + 1]}") ;;
        esac
    done
    "${COMP_WORDS[0]}" completion --list "$1" "${cfg[@]}" 2>/dev/null
}

_broadsheet_complete_kind() {
    local cur=$2 IFS=$'\n' name
    case "$1" in
    file) COMPREPLY=($(compgen -f -- "$cur")) ;;
    dir) COMPREPLY=($(compgen -d -- "$cur")) ;;
    sources | digests)
        COMPREPLY=()
        while IFS= read -r name; do
            [[ $name == "$cur"* ]] && COMPREPLY+=("$(printf '%q' "$name")")
        done < <(_broadsheet_names "$1")
        ;;
    words:*) COMPREPLY=($(IFS=' '; compgen -W "${1#words:}" -- "$cur")) ;;
    *) COMPREPLY=() ;;
    esac
}

_broadsheet() {
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
    local bs_path="" w i nargs=0 skip=0
`+shWalk(tree, "COMP_WORDS", 1, "COMP_CWORD")+`    if ((skip)); then
        local f=$prev
        [[ $f == --* ]] || f=-$f
        _broadsheet_complete_kind "$(_broadsheet_kind "$bs_path" "$f")" "$cur"
        return
    fi
    if [[ $cur == -* ]]; then
        local flags=""
        case "$bs_path" in
`)
	for _, c := range tree {
		fmt.Fprintf(w, "        %s) flags=%s ;;\n", shellQuote(c.path), shellQuote(c.flagNames()))
	}
	fmt.Fprint(w, `        esac
        COMPREPLY=($(compgen -W "$flags" -- "$cur"))
        return
    fi
    case "$bs_path" in
    "") COMPREPLY=($(compgen -W 'help `)
	for _, c := range topNames(tree) {
		fmt.Fprint(w, c.path, " ")
	}
	fmt.Fprint(w, `' -- "$cur")) ;;
`)
	for _, c := range tree {
		if len(c.subs) > 0 {
			fmt.Fprintf(w, "    %s) COMPREPLY=($(compgen -W %s -- \"$cur\")) ;;\n", shellQuote(c.path), shellQuote("help "+strings.Join(c.subs, " ")))
		}
	}
	fmt.Fprint(w, `    *) _broadsheet_complete_kind "$(_broadsheet_kind "$bs_path" "$nargs")" "$cur" ;;
    esac
}

complete -F _broadsheet broadsheet
`)
}

func writeZsh(w io.Writer, tree []compCmd) {
	fmt.Fprint(w, `#compdef broadsheet
# zsh completion for broadsheet, written by `+"`broadsheet completion zsh`"+`.
# Load it with: source <(broadsheet completion zsh)
# or save it as _broadsheet in a folder of $fpath.

`)
	writeShLookups(w, tree)
	fmt.Fprint(w, `
_broadsheet_names() {
    local -a cfg
    local i
    for ((i = 2; i < $#words; i++)); do
        [[ ${words[i]} == (--|-)config ]] && cfg=(--config ${words[i+1]})
    done
    ${words[1]} completion --list $1 $cfg 2>/dev/null
}

_broadsheet_complete_kind() {
    local -a names
    case $1 in
    file) _files ;;
    dir) _files -/ ;;
    sources|digests)
        names=("${(@f)$(_broadsheet_names $1)}")
        compadd -a names
        ;;
    words:*) compadd -- ${=1#words:} ;;
    esac
}

_broadsheet() {
    local cur=${words[CURRENT]} prev=${words[CURRENT-1]}
    local bs_path="" w
    local -i i nargs=0 skip=0
`+shWalk(tree, "words", 2, "CURRENT")+`    if ((skip)); then
        local f=$prev
        [[ $f == --* ]] || f=-$f
        _broadsheet_complete_kind "$(_broadsheet_kind "$bs_path" "$f")"
        return
    fi
    local -a items
    if [[ $cur == -* ]]; then
        case "$bs_path" in
`)
	for _, c := range tree {
		var items []string
		for _, f := range c.flags {
			items = append(items, shellQuote("--"+f.name+":"+zshDesc(f.help)))
		}
		fmt.Fprintf(w, "        %s) items=(%s) ;;\n", shellQuote(c.path), strings.Join(items, " "))
	}
	fmt.Fprint(w, `        esac
        _describe -t flags 'flag' items
        return
    fi
    case "$bs_path" in
    "")
        items=('help:say what each command does'`)
	for _, c := range topNames(tree) {
		fmt.Fprint(w, " ", shellQuote(c.path+":"+zshDesc(c.help)))
	}
	fmt.Fprint(w, `)
        _describe -t commands 'command' items
        ;;
`)
	for _, c := range tree {
		if len(c.subs) == 0 {
			continue
		}
		items := []string{shellQuote("help:say what each command does")}
		for _, s := range tree {
			if p, name, ok := strings.Cut(s.path, " "); ok && p == c.path {
				items = append(items, shellQuote(name+":"+zshDesc(s.help)))
			}
		}
		fmt.Fprintf(w, "    %s)\n        items=(%s)\n        _describe -t commands 'command' items\n        ;;\n", shellQuote(c.path), strings.Join(items, " "))
	}
	fmt.Fprint(w, `    *) _broadsheet_complete_kind "$(_broadsheet_kind "$bs_path" "$nargs")" ;;
    esac
}

if [[ $funcstack[1] == _broadsheet ]]; then
    _broadsheet "$@"
else
    compdef _broadsheet broadsheet
fi
`)
}

// zshDesc makes a help text fit a _describe item: colons are escaped.
func zshDesc(s string) string { return strings.ReplaceAll(s, ":", `\:`) }

func writeFish(w io.Writer, tree []compCmd) {
	fmt.Fprint(w, `# fish completion for broadsheet, written by `+"`broadsheet completion fish`"+`.
# Load it with: broadsheet completion fish | source
# or save it as ~/.config/fish/completions/broadsheet.fish.

function __broadsheet_valued
    set -l f $argv[2]
    string match -q -- '--*' $f; or set f -$f
    switch $argv[1]
`)
	for _, c := range tree {
		if v := c.valued(); v != "" {
			fmt.Fprintf(w, "        case %s\n            contains -- $f %s\n            return\n", fishQuote(c.path), v)
		}
	}
	fmt.Fprint(w, `    end
    return 1
end

# The command path (command and subcommand) and how many arguments
# follow it, on two lines.
function __broadsheet_state
    set -l tokens (commandline -opc)
    set -e tokens[1]
    set -l p ''
    set -l n 0
    set -l skip 0
    for w in $tokens
        if test $skip = 1
            set skip 0
            continue
        end
        if string match -q -- '-*' $w
            __broadsheet_valued "$p" $w; and set skip 1
            continue
        end
        if test -z "$p"
            set p $w
        else if not string match -q -- '* *' $p; and contains -- $p `+parents(tree)+`
            set p "$p $w"
        else
            set n (math $n + 1)
        end
    end
    echo $p
    echo $n
    echo $skip
end

# __broadsheet_at PATH: the line is at the command PATH.
function __broadsheet_at
    set -l s (__broadsheet_state)
    test "$s[1]" = "$argv[1]"
end

# __broadsheet_is PATH [N]: the line is at PATH, after N arguments, not
# at a flag's value.
function __broadsheet_is
    set -l s (__broadsheet_state)
    test "$s[1]" = "$argv[1]"; or return 1
    test "$s[3]" = 0; or return 1
    test (count $argv) -lt 2; or test "$s[2]" = "$argv[2]"
end

function __broadsheet_names
    set -l tokens (commandline -opc)
    set -l cfg
    for i in (seq 2 (math (count $tokens) - 1))
        if contains -- $tokens[$i] --config -config
            set cfg --config $tokens[(math $i + 1)]
        end
    end
    $tokens[1] completion --list $argv[1] $cfg 2>/dev/null
end

complete -c broadsheet -f
complete -c broadsheet -n '__broadsheet_is ""' -a help -d 'say what each command does'
`)
	for _, c := range tree {
		if len(c.subs) > 0 {
			fmt.Fprintf(w, "complete -c broadsheet -n %s -a help -d 'say what each command does'\n", fishQuote("__broadsheet_is "+fishQuote(c.path)))
		}
	}
	for _, c := range tree {
		parent, name, sub := strings.Cut(c.path, " ")
		if !sub {
			parent, name = "", c.path
		}
		fmt.Fprintf(w, "complete -c broadsheet -n %s -a %s -d %s\n", fishQuote("__broadsheet_is "+fishQuote(parent)), name, fishQuote(c.help))
	}
	for _, c := range tree {
		cond := fishQuote("__broadsheet_at " + fishQuote(c.path))
		for _, f := range c.flags {
			line := fmt.Sprintf("complete -c broadsheet -n %s -l %s", cond, f.name)
			switch v := f.value; {
			case v == "":
			case v == compFile:
				line += " -r -F"
			case v == compDir:
				line += " -x -a '(__fish_complete_directories)'"
			case v == compSources || v == compDigests:
				line += " -x -a '(__broadsheet_names " + v + ")'"
			case strings.HasPrefix(v, "words:"):
				line += " -x -a " + fishQuote(strings.TrimPrefix(v, "words:"))
			default:
				line += " -x"
			}
			if f.help != "" {
				line += " -d " + fishQuote(f.help)
			}
			fmt.Fprintln(w, line)
		}
		for i, a := range c.args {
			cond := fishQuote(fmt.Sprintf("__broadsheet_is %s %d", fishQuote(c.path), i))
			switch {
			case a == compFile:
				fmt.Fprintf(w, "complete -c broadsheet -n %s -F\n", cond)
			case a == compSources || a == compDigests:
				fmt.Fprintf(w, "complete -c broadsheet -n %s -a '(__broadsheet_names %s)'\n", cond, a)
			case strings.HasPrefix(a, "words:"):
				fmt.Fprintf(w, "complete -c broadsheet -n %s -a %s\n", cond, fishQuote(strings.TrimPrefix(a, "words:")))
			}
		}
	}
}
