package pgtest

import (
	"context"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// helperEnv makes the test binary, run again by TestDSN_ServerDown, run
// TestDSN_Helper for real.
const helperEnv = "BROADSHEET_PGTEST_HELPER"

// TestDSN_Helper stands for a package's PostgreSQL tests: several at once,
// each asking for the server. It does nothing unless run by
// TestDSN_ServerDown.
func TestDSN_Helper(t *testing.T) {
	if os.Getenv(helperEnv) == "" {
		t.Skip("run by TestDSN_ServerDown")
	}
	for _, name := range []string{"a", "b", "c", "d"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			DSN(t)
			t.Log("reached the server")
		})
	}
}

// A server that is down skips the PostgreSQL tests outside CI, saying how
// to run them, and fails them at once in CI; unset, the same.
func TestDSN_ServerDown(t *testing.T) {
	down := "postgres://postgres@" + refusedAddr(t) + "/test?sslmode=disable"
	tests := []struct {
		name, dsn, ci string
		fail          bool
		want          []string
	}{
		{"down", down, "", false, []string{"--- SKIP: TestDSN_Helper/a", "does not answer", "unset " + Env}},
		{"down in CI", down, "true", true, []string{"--- FAIL: TestDSN_Helper/a", "does not answer", "CI needs it"}},
		{"unset", "", "", false, []string{"--- SKIP: TestDSN_Helper/a", "set " + Env}},
		{"unset in CI", "", "true", true, []string{"--- FAIL: TestDSN_Helper/a", "is required in CI"}},
		{"CI=false is not CI", down, "false", false, []string{"--- SKIP: TestDSN_Helper/a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			c := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestDSN_Helper$", "-test.v", "-test.count=1")
			c.Env = append(os.Environ(), helperEnv+"=1", Env+"="+tt.dsn, "CI="+tt.ci)
			start := time.Now()
			out, err := c.CombinedOutput()
			took := time.Since(start)
			if ctx.Err() != nil {
				t.Fatalf("the tests did not end within a minute (a deadlock?):\n%s", out)
			}
			if failed := err != nil; failed != tt.fail {
				t.Errorf("failed: %v (%v), want %v\n%s", failed, err, tt.fail, out)
			}
			for _, w := range tt.want {
				if !strings.Contains(string(out), w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			if strings.Contains(string(out), "reached the server") {
				t.Errorf("a test went on without a server:\n%s", out)
			}
			// A refused connection is known at once: the probe's 10 s are
			// for a server that does not answer at all.
			if took > 30*time.Second {
				t.Errorf("took %v, want a fast skip or failure", took.Round(time.Second))
			}
		})
	}
}

// refusedAddr is a loopback address refusing connections until t ends:
// held by the client end of an open connection, so that no server started
// meanwhile can take it.
func refusedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	s, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return c.LocalAddr().String()
}
