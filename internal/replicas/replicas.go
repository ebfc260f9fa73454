// Package replicas runs several real `broadsheet run` processes against one
// PostgreSQL schema, with feeds served on loopback, for the whole-system
// test of this package and for bench/replicas: it builds the binary, makes
// a fresh schema, writes each replica's configuration, starts, kills and
// stops the processes, serves counted feeds (FeedServer) and counts the
// statements each replica sends to the database (WireCounter).
package replicas

import (
	"bufio"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// DSNEnv names the variable holding the PostgreSQL server the tests and the
// benchmark use.
const DSNEnv = "BROADSHEET_TEST_POSTGRES_DSN"

// ExampleDSN is the server `make test` points DSNEnv at.
const ExampleDSN = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// Build compiles cmd/broadsheet into dir and returns the binary's path.
func Build(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "broadsheet")
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}
	// The go command that runs the tests, when it says where it is.
	goCmd := "go"
	if root := os.Getenv("GOROOT"); root != "" {
		if p := filepath.Join(root, "bin", "go"); fileExists(p) {
			goCmd = p
		}
	}
	cmd := exec.CommandContext(ctx, goCmd, "build", "-o", bin, "github.com/broadsheet/broadsheet/cmd/broadsheet")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %w\n%s", err, out)
	}
	return bin, nil
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// Schema is a fresh PostgreSQL schema.
type Schema struct {
	Name string
	// DSN connects with search_path set to the schema.
	DSN   string
	admin string
}

// NewSchema creates an empty schema bs_<prefix>_<random> on the server at
// dsn.
func NewSchema(ctx context.Context, dsn, prefix string) (*Schema, error) {
	var b [5]byte
	_, _ = rand.Read(b[:])
	name := "bs_" + prefix + "_" + hex.EncodeToString(b[:])
	db, err := Open(dsn)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "CREATE SCHEMA "+name); err != nil {
		return nil, fmt.Errorf("create schema: %w", err)
	}
	return &Schema{Name: name, DSN: WithSearchPath(dsn, name), admin: dsn}, nil
}

// Drop removes the schema and everything in it.
func (s *Schema) Drop(ctx context.Context) error {
	db, err := Open(s.admin)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "DROP SCHEMA "+s.Name+" CASCADE"); err != nil {
		return fmt.Errorf("drop schema %s: %w", s.Name, err)
	}
	return nil
}

// WithSearchPath returns dsn using schema, as store/postgres's tests do.
func WithSearchPath(dsn, schema string) string {
	if u, err := url.Parse(dsn); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		return u.String()
	}
	return dsn + " search_path=" + schema
}

// WithHostPort returns dsn (a URL) connecting to hostport instead, as
// through a WireCounter.
func WithHostPort(dsn, hostport string) (string, error) {
	u, err := url.Parse(dsn)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", errors.New("the DSN must be a postgres:// URL to go through a counter")
	}
	u.Host = hostport
	q := u.Query()
	q.Set("sslmode", "disable") // the counter reads the protocol in the clear
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// Open opens a handle on dsn (pgx through database/sql).
func Open(dsn string) (*sql.DB, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		// pgx's message can quote the DSN, password included.
		return nil, errors.New("cannot parse the PostgreSQL DSN")
	}
	return stdlib.OpenDB(*cfg), nil
}

// Config is what differs between the replicas' configurations and tests.
type Config struct {
	DSN       string
	Schedule  string // the poll schedule
	Feeds     *FeedServer
	Agent     string // fetch.user_agent: how the feed server tells replicas apart
	Timeout   time.Duration
	Workers   int
	SMTPHost  string // empty: no smtp section, and no digests
	SMTPPort  int
	Digest    string   // the digest's schedule
	To        []string // its recipients
	DigestSrc []string // its sources; empty for all
	LogLevel  string
}

// YAML renders c as a config.yaml.
func (c Config) YAML() string {
	var b strings.Builder
	q := func(s string) string { j, _ := json.Marshal(s); return string(j) }
	fmt.Fprintf(&b, "storage:\n  driver: postgres\n  dsn: %s\n", q(c.DSN))
	fmt.Fprintf(&b, "schedule: %s\n", q(c.Schedule))
	// One public address for all, as behind a load balancer.
	fmt.Fprintf(&b, "server:\n  listen: 127.0.0.1:0\n  base_url: http://news.example/\n  title: replicas\n")
	workers := c.Workers
	if workers <= 0 {
		workers = 8
	}
	fmt.Fprintf(&b, "fetch:\n  workers: %d\n  per_host: 0\n  timeout: %s\n  user_agent: %s\n  allow_private_networks: true\n",
		workers, c.Timeout, q(c.Agent))
	level := c.LogLevel
	if level == "" {
		level = "info"
	}
	fmt.Fprintf(&b, "log:\n  level: %s\n  format: json\n", level)
	b.WriteString("sources:\n")
	for i := range c.Feeds.N {
		fmt.Fprintf(&b, "  - name: %s\n    url: %s\n", FeedName(i), c.Feeds.FeedURL(i))
	}
	if c.SMTPHost != "" {
		fmt.Fprintf(&b, "smtp:\n  host: %s\n  port: %d\n  tls: none\n  from: %s\n  timeout: 10s\n",
			c.SMTPHost, c.SMTPPort, q("broadsheet <broadsheet@example.com>"))
		fmt.Fprintf(&b, "digests:\n  - name: minutely\n    schedule: %s\n    to: [%s]\n", q(c.Digest), strings.Join(quoteAll(c.To), ", "))
		if len(c.DigestSrc) > 0 {
			fmt.Fprintf(&b, "    sources: [%s]\n", strings.Join(quoteAll(c.DigestSrc), ", "))
		}
	}
	return b.String()
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		j, _ := json.Marshal(s)
		out[i] = string(j)
	}
	return out
}

// Replica is one running `broadsheet run` process.
type Replica struct {
	Name  string
	Agent string
	Addr  string // where it serves feeds, once ready
	Owner string // its lease owner id, once ready
	Pid   int

	cmd   *exec.Cmd
	log   *os.File
	ready chan struct{}
	done  chan struct{}
	err   error // of Wait, once done

	mu     sync.Mutex
	tail   []string
	logged map[string]int // log lines by message
}

// Start starts bin run with the configuration c, written to dir/NAME.yaml;
// its log goes to dir/NAME.log. Call Wait or Kill eventually.
func Start(bin, dir, name string, c Config) (*Replica, error) {
	cfgPath := filepath.Join(dir, name+".yaml")
	if err := os.WriteFile(cfgPath, []byte(c.YAML()), 0o600); err != nil {
		return nil, err
	}
	logf, err := os.Create(filepath.Join(dir, name+".log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "run", "--config", cfgPath)
	cmd.Dir = dir
	cmd.Stdout = logf
	stderr, err := cmd.StderrPipe()
	if err != nil {
		logf.Close()
		return nil, err
	}
	r := &Replica{Name: name, Agent: c.Agent, cmd: cmd, log: logf, ready: make(chan struct{}), done: make(chan struct{}),
		logged: map[string]int{}}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	r.Pid = cmd.Process.Pid
	go r.read(stderr)
	return r, nil
}

// read copies the process's log to its file, keeps the last lines and
// notices the address and owner.
func (r *Replica) read(stderr io.Reader) {
	defer func() {
		r.err = r.cmd.Wait()
		r.log.Close()
		close(r.done)
	}()
	sc := bufio.NewScanner(stderr)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	signalled := false
	for sc.Scan() {
		line := sc.Text()
		fmt.Fprintln(r.log, line)
		var ev struct {
			Msg   string `json:"msg"`
			Addr  string `json:"addr"`
			Owner string `json:"owner"`
		}
		if json.Unmarshal([]byte(line), &ev) == nil {
			r.mu.Lock()
			r.logged[ev.Msg]++
			r.mu.Unlock()
			switch ev.Msg {
			case "broadsheet starting":
				r.mu.Lock()
				r.Owner = ev.Owner
				r.mu.Unlock()
			case "serving feeds":
				r.mu.Lock()
				r.Addr = ev.Addr
				r.mu.Unlock()
				if !signalled {
					signalled = true
					close(r.ready)
				}
			}
		}
		r.mu.Lock()
		r.tail = append(r.tail, line)
		if len(r.tail) > 40 {
			r.tail = r.tail[len(r.tail)-40:]
		}
		r.mu.Unlock()
	}
	_, _ = io.Copy(io.Discard, stderr)
}

// WaitReady waits until the replica serves feeds (its sources are recorded
// by then, and polling starts), or it exits, or ctx ends.
func (r *Replica) WaitReady(ctx context.Context) error {
	select {
	case <-r.ready:
		return nil
	case <-r.done:
		return fmt.Errorf("replica %s exited before it was ready (%v):\n%s", r.Name, r.err, r.Tail())
	case <-ctx.Done():
		return fmt.Errorf("replica %s not ready: %w\n%s", r.Name, ctx.Err(), r.Tail())
	}
}

// Kill ends the process with SIGKILL, as a crash would, and waits for it.
func (r *Replica) Kill() {
	_ = r.cmd.Process.Signal(syscall.SIGKILL)
	<-r.done
}

// Stop asks the process to shut down (SIGTERM) and waits up to timeout
// before killing it; it returns the process's exit error, if any.
func (r *Replica) Stop(timeout time.Duration) error {
	select {
	case <-r.done:
		return r.err
	default:
	}
	_ = r.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-r.done:
		return r.err
	case <-time.After(timeout):
		r.Kill()
		return fmt.Errorf("replica %s did not stop within %v", r.Name, timeout)
	}
}

// Exited reports whether the process has ended.
func (r *Replica) Exited() bool {
	select {
	case <-r.done:
		return true
	default:
		return false
	}
}

// Tail returns the last lines of the replica's log.
func (r *Replica) Tail() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.tail, "\n")
}

// Address returns where the replica serves feeds ("" before it is ready).
func (r *Replica) Address() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.Addr
}

// Logged returns how many lines the replica has logged with message msg
// (e.g. "digest sent").
func (r *Replica) Logged(msg string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.logged[msg]
}
