// Command broadsheet is a self-hosted news aggregator and digest mailer: it
// polls the feeds listed in config.yaml, groups stories by topic, republishes
// them as feeds and mails digests. Run `broadsheet help` for its commands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/broadsheet/broadsheet/config"
)

// Version is set at build time with -ldflags "-X main.Version=..." (the
// Makefile sets it from git describe); otherwise init takes it from the
// binary's build information.
var Version string

func init() {
	bi, _ := debug.ReadBuildInfo()
	Version = versionOf(Version, bi)
}

// versionOf is the version to report: the one set at link time, else the
// module's (`go install ...@v1.2.3`), else the commit the binary was built
// from, else "dev".
func versionOf(linked string, bi *debug.BuildInfo) string {
	if linked != "" {
		return linked
	}
	if bi == nil {
		return "dev"
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "-dirty"
			}
		}
	}
	if rev != "" {
		return "dev-" + rev[:min(12, len(rev))] + dirty
	}
	return "dev"
}

func main() {
	giveBack := func() {}
	if os.Getenv("BROADSHEET_TAKE_TERMINAL") == "1" {
		giveBack = takeTerminal()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	m := NewMain()
	stopProfiles := startProfiles()
	code := m.Run(ctx, os.Args[1:])
	stopProfiles()
	stop()
	giveBack()
	os.Exit(code)
}

// Exit statuses.
const (
	exitOK     = 0
	exitFailed = 1 // the command ran but something failed (e.g. a source)
	exitUsage  = 2 // bad flags, bad configuration, an unknown command
)

// Main is the program, with its environment made explicit for tests.
type Main struct {
	Stdout, Stderr io.Writer
	Getenv         func(string) string
	Now            func() time.Time
	// Terminal reports whether progress bars may be drawn on Stderr.
	Terminal bool
	// Ready, if set, receives the server's address once `run` or `serve`
	// listens; tests use it with listen ":0".
	Ready chan<- string
	// Reloaded, if set, receives the outcome of every configuration reload.
	Reloaded chan<- error

	config  *string       // the --config flag of the command being run
	flagSet *flag.FlagSet // the flags of the command being run, for completion
}

// NewMain returns a Main wired to the process's environment.
func NewMain() *Main {
	return &Main{
		Stdout:   os.Stdout,
		Stderr:   os.Stderr,
		Getenv:   os.Getenv,
		Now:      time.Now,
		Terminal: isTerminal(os.Stderr),
	}
}

type command struct {
	name, args, help string
	run              func(m *Main, ctx context.Context, fs *flag.FlagSet, args []string) error
}

func commands() []command {
	return []command{
		{"run", "", "run the daemon: poll sources, group topics, serve feeds, send digests", (*Main).cmdRun},
		{"fetch", "[--source NAME]", "poll every source (or one) now and print what changed", (*Main).cmdFetch},
		{"sources", "[list|add URL|remove NAME]", "each source's polling status; add a source by its page or feed, or remove one (see `broadsheet sources help`)", (*Main).cmdSources},
		{"items", "[--since 24h] [--source NAME] [--json]", "list stored items", (*Main).cmdItems},
		{"topics", "[--since 72h] [--kind story|configured] [--min-outlets 2] [--json]", "assign pending items to topics, then list topics and stories, largest first", (*Main).cmdTopics},
		{"import", "FILE.opml [--dry-run]", "add the feeds of an OPML subscription list (exported from another reader) to the configuration", (*Main).cmdImport},
		{"serve", "[--listen ADDR]", "serve the republished feeds, OPML, page and /healthz only, without polling", (*Main).cmdServe},
		{"publish", "--out DIR", "write the republished feeds, OPML and page into DIR for static hosting", (*Main).cmdPublish},
		{"digest", "", "email digests: list, preview NAME, send NAME, resubscribe NAME ADDRESS (see `broadsheet digest help`)", (*Main).cmdDigest},
		{"migrate", "--from sqlite:PATH --to postgres:DSN [--force]", "copy every table of one store into another (SQLite to PostgreSQL, or back)", (*Main).cmdMigrate},
		{"check", "", "validate the configuration and print a summary", (*Main).cmdCheck},
		{"healthcheck", "[--url URL]", "ask the running server's /healthz how it is: exit status 0 if it answers ok or degraded", (*Main).cmdHealthcheck},
		{"completion", "bash|zsh|fish", "print the shell completion script for bash, zsh or fish", (*Main).cmdCompletion},
		{"version", "", "print the version", (*Main).cmdVersion},
	}
}

// Run runs the command named by args[0] and returns the exit status.
func (m *Main) Run(ctx context.Context, args []string) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		m.usage(m.Stdout)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		return m.exitStatus(m.runCommand(ctx, c, "broadsheet "+c.name, args[1:]))
	}
	fmt.Fprintf(m.Stderr, "broadsheet: unknown command %q; the commands are: %s (`broadsheet help` says what each does)\n", args[0], commandNames(commands()))
	return exitUsage
}

// runCommand runs c with a fresh flag set named name.
func (m *Main) runCommand(ctx context.Context, c command, name string, args []string) error {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	m.commandFlags(fs)
	return c.run(m, ctx, fs, args)
}

// commandFlags registers on fs, the flag set of the command being run,
// the flags every command has.
func (m *Main) commandFlags(fs *flag.FlagSet) {
	m.config = configFlag(fs)
	m.flagSet = fs
}

// subcommand runs the subcommand of parent that args name, for commands
// that have several (`broadsheet sources list`); with no name, or only
// flags, it runs def. An unknown name is a usage error naming the others.
func (m *Main) subcommand(ctx context.Context, parent string, subs []command, def string, args []string) error {
	name := def
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	}
	if name == "help" {
		m.subUsage(m.Stdout, parent, subs, def)
		return nil
	}
	for _, c := range subs {
		if c.name == name {
			return m.runCommand(ctx, c, "broadsheet "+parent+" "+c.name, args)
		}
	}
	return &exitError{code: exitUsage, msg: fmt.Sprintf("%s: unknown command %q; the %s commands are: %s (`broadsheet %s help` says what each does)", parent, name, parent, commandNames(subs), parent)}
}

func (m *Main) subUsage(w io.Writer, parent string, subs []command, def string) {
	fmt.Fprintf(w, "Usage: broadsheet %s [COMMAND] [--config PATH] [flags]\n\nCommands:\n", parent)
	for _, c := range subs {
		help := c.help
		if c.name == def {
			help += " (the default)"
		}
		fmt.Fprintf(w, "  %-10s %s\n", c.name, help)
		if c.args != "" {
			fmt.Fprintf(w, "  %-10s   %s\n", "", c.args)
		}
	}
}

func commandNames(cs []command) string {
	names := make([]string, len(cs))
	for i, c := range cs {
		names[i] = c.name
	}
	return strings.Join(names, ", ")
}

// parseFlags parses args into fs, for a command that takes flags only: an
// argument left over is a usage error, not something silently ignored
// (`broadsheet items bogus`).
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return usageErr(err)
	}
	if fs.NArg() > 0 {
		return &exitError{code: exitUsage, msg: fmt.Sprintf("%s takes no arguments, only flags: unexpected %q (`%s --help` lists the flags)", strings.TrimPrefix(fs.Name(), "broadsheet "), fs.Arg(0), fs.Name())}
	}
	return nil
}

// parseArgs parses args into fs for a command that takes the arguments
// named in names (`sources add URL`), with flags before or after them
// (`sources add URL --config PATH`; after "--" everything is an
// argument), and returns the arguments. Too many or too few is a usage
// error naming them.
func parseArgs(fs *flag.FlagSet, args []string, names ...string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, usageErr(err)
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			pos = append(pos, rest...)
			break
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
	if len(pos) != len(names) {
		cmd := strings.TrimPrefix(fs.Name(), "broadsheet ")
		what := "no arguments"
		if len(names) > 0 {
			what = plural(len(names), "argument", "arguments") + ", " + strings.Join(names, " ")
		}
		got := "none"
		if len(pos) > 0 {
			got = fmt.Sprintf("%d (%q)", len(pos), pos)
		}
		return nil, &exitError{code: exitUsage, msg: fmt.Sprintf("%s takes %s; got %s (`%s --help` says more)", cmd, what, got, fs.Name())}
	}
	return pos, nil
}

// durationFlag defines a duration flag written as in the configuration
// ("90m", "72h", "7d"; see config.ParseDuration), def when not given: one
// duration syntax for every flag and the configuration.
func durationFlag(fs *flag.FlagSet, name string, def time.Duration, usage string) *time.Duration {
	d := new(time.Duration)
	*d = def
	fs.Func(name, usage, func(s string) error {
		v, err := config.ParseDuration(s)
		if err != nil {
			return err
		}
		if v < 0 {
			return fmt.Errorf("%q is negative: give how far back, as in \"24h\" or \"7d\"", s)
		}
		*d = v
		return nil
	})
	return d
}

func (m *Main) usage(w io.Writer) {
	fmt.Fprintf(w, "broadsheet %s: a self-hosted news aggregator and digest mailer\n\nUsage: broadsheet COMMAND [--config PATH] [flags]\n\nCommands:\n", Version)
	width := 0
	for _, c := range commands() {
		width = max(width, len(c.name))
	}
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-*s  %s\n", width, c.name, c.help)
		if c.args != "" {
			fmt.Fprintf(w, "  %-*s    broadsheet %s %s\n", width, "", c.name, c.args)
		}
	}
	fmt.Fprintf(w, "\nThe configuration is read from --config, else $BROADSHEET_CONFIG, else ./config.yaml.\n")
}

// exitError carries a chosen exit status with a message already printed, or
// to print.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

func (m *Main) exitStatus(err error) int {
	if err == nil {
		return exitOK
	}
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.msg != "" {
			fmt.Fprintln(m.Stderr, "broadsheet:", ee.msg)
		}
		return ee.code
	}
	fmt.Fprintln(m.Stderr, "broadsheet:", err)
	return exitFailed
}

func (m *Main) cmdVersion(ctx context.Context, fs *flag.FlagSet, args []string) error {
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "broadsheet %s\n", Version)
	return nil
}

func usageErr(err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return err
	}
	return &exitError{code: exitUsage}
}
