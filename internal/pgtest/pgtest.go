// Package pgtest finds the PostgreSQL server that tests run against and
// gives each test a schema of its own. Without a server configured, or with
// one that does not answer, tests skip with a message saying how to run
// them, except in CI (CI set), where both are failures: there the
// PostgreSQL tests must run.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// Env names the variable holding the server's connection string.
const Env = "BROADSHEET_TEST_POSTGRES_DSN"

// Example is the server `make test` points Env at.
const Example = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// probeTimeout bounds the one connection attempt that tells whether the
// server answers, so that a server that is down (or a blackholed address)
// costs seconds, not a test timeout.
const probeTimeout = 10 * time.Second

var probe struct {
	once sync.Once
	dsn  string
	err  error
}

// InCI reports whether the tests run in CI, where PostgreSQL tests must run.
func InCI() bool {
	v := os.Getenv("CI")
	return v != "" && v != "false" && v != "0"
}

// DSN returns the server to test against, after checking once per process
// that it answers. Outside CI, a missing or silent server skips t with a
// message saying how to enable the test; in CI it fails t at once.
func DSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv(Env)
	if dsn == "" {
		if InCI() {
			t.Fatalf("%s is required in CI: set it to a PostgreSQL server the tests may create schemas in (e.g. %s)", Env, Example)
		}
		t.Skipf("PostgreSQL test skipped: set %s (e.g. %s; `make test` sets it) to run it", Env, Example)
	}
	probe.once.Do(func() {
		probe.dsn = dsn
		probe.err = ping(dsn)
	})
	if probe.err != nil {
		if InCI() {
			t.Fatalf("PostgreSQL at %s (%s) does not answer: %v; CI needs it (scripts/test-deps starts the local cluster)", Env, Redacted(dsn), probe.err)
		}
		t.Skipf("PostgreSQL test skipped: the server at %s (%s) does not answer: %v; start it (scripts/test-deps starts the local cluster) or unset %s", Env, Redacted(dsn), probe.err, Env)
	}
	return dsn
}

func ping(dsn string) error {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), probeTimeout)
	defer cancel()
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	return conn.Ping(ctx)
}

// Redacted is dsn without its password, for messages.
func Redacted(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.Scheme != "" {
		return u.Redacted()
	}
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return "(unparsable connection string)"
	}
	return fmt.Sprintf("host=%s port=%d dbname=%s user=%s", cfg.Host, cfg.Port, cfg.Database, cfg.User)
}

// Schema creates an empty schema bs_PREFIX_<random> on the server at dsn,
// dropped when t ends, and returns dsn with search_path set to it (and
// synchronous_commit off, which only costs tests time). Safe to call from
// parallel tests.
func Schema(t testing.TB, dsn, prefix string) string {
	t.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "bs_" + prefix + "_" + hex.EncodeToString(b[:])
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatalf("parse %s: %v", Env, err)
	}
	admin := stdlib.OpenDB(*cfg)
	t.Cleanup(func() { admin.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema %s on %s: %v", schema, Redacted(dsn), err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return WithSchema(dsn, schema)
}

// WithSchema is dsn with search_path set to schema and synchronous_commit
// off.
func WithSchema(dsn, schema string) string {
	if u, err := url.Parse(dsn); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		q := u.Query()
		q.Set("search_path", schema)
		q.Set("synchronous_commit", "off")
		u.RawQuery = q.Encode()
		return u.String()
	}
	return dsn + " search_path=" + schema + " synchronous_commit=off"
}
