package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/broadsheet/broadsheet/internal/pgtest"
)

// nobody is the user a test runs the binary as when the tests run as
// root, whom file permissions do not stop.
const nobody = 65534

// TestMain_ReadOnlySQLite runs the binary on a database it may not write:
// the file and its folder read-only (the -wal and -shm files cannot be
// created), and the file alone. Commands that only read answer; one that
// must write says what is wrong. As root the binary runs as nobody.
func TestMain_ReadOnlySQLite(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary; skipped with -short")
	}
	root := os.Geteuid() == 0
	// A folder of our own that nobody may enter: t.TempDir's parent is
	// private to this user.
	base, err := os.MkdirTemp("", "broadsheet-ro-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		filepath.WalkDir(base, func(p string, d os.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				os.Chmod(p, 0o755)
			}
			return nil
		})
		os.RemoveAll(base)
	})
	if err := os.Chmod(base, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(base, "broadsheet")
	if out, err := testCommand(t, "", "go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	fs := newFeedServer(t, 3)
	run := func(t *testing.T, dir string, asUser bool, args ...string) (string, error) {
		t.Helper()
		c := testCommand(t, dir, bin, args...)
		c.Env = append(os.Environ(), "BROADSHEET_CONFIG="+filepath.Join(dir, "config.yaml"))
		if asUser && root {
			c.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
		}
		out, err := c.CombinedOutput()
		return string(out), err
	}
	for _, tc := range []struct {
		name    string
		dirMode os.FileMode
	}{
		{"FileAndFolder", 0o555},
		{"File", 0o777},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(base, tc.name)
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			cfg := writeConfig(t, dir, fs, 2, "")
			if out, err := run(t, dir, false, "fetch"); err != nil {
				t.Fatalf("fetch: %v\n%s", err, out)
			}
			db := filepath.Join(dir, "bs.db")
			for _, p := range []string{db + "-wal", db + "-shm"} {
				if _, err := os.Stat(p); err == nil {
					t.Fatalf("%s is left after fetch ended", p)
				}
			}
			before, err := os.ReadFile(db)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range []string{cfg, db} {
				if err := os.Chmod(p, 0o444); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.Chmod(dir, tc.dirMode); err != nil {
				t.Fatal(err)
			}

			out, err := run(t, dir, true, "items")
			if err != nil || !strings.Contains(out, "Story 2 of feed 1") {
				t.Errorf("items on a read-only database: %v\n%s", err, out)
			}
			out, err = run(t, dir, true, "sources")
			if err != nil || !strings.Contains(out, "Feed 1") {
				t.Errorf("sources on a read-only database: %v\n%s", err, out)
			}
			out, err = run(t, dir, true, "topics", "--min-outlets", "1")
			if err != nil || !strings.Contains(out, "read-only") {
				t.Errorf("topics on a read-only database: %v\n%s", err, out)
			}
			out, err = run(t, dir, true, "fetch")
			if err == nil {
				t.Fatalf("fetch on a read-only database succeeded:\n%s", out)
			}
			for _, want := range []string{db, "read-only", "cannot write the file or its folder", "chown or chmod"} {
				if !strings.Contains(out, want) {
					t.Errorf("fetch on a read-only database: the message lacks %q:\n%s", want, out)
				}
			}
			after, err := os.ReadFile(db)
			if err != nil {
				t.Fatal(err)
			}
			if string(after) != string(before) {
				t.Errorf("the read-only commands changed %s", db)
			}
		})
	}
}

// TestMain_ReadOnlyPostgres runs the commands on a session whose
// transactions are read-only, as a read-only role or a standby gives:
// items and sources answer, fetch says what is wrong.
func TestMain_ReadOnlyPostgres(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.Schema(t, pgtest.DSN(t), "readonly")
	fs := newFeedServer(t, 3)
	dir := t.TempDir()
	config := func(dsn string) string {
		path := filepath.Join(dir, "config.yaml")
		body := fmt.Sprintf("storage:\n  driver: postgres\n  dsn: %q\nschedule: \"@every 1h\"\nfetch:\n  allow_private_networks: true\nlog:\n  level: warn\nsources:\n  - name: Feed 0\n    url: %s/feed/0.xml\n", dsn, fs.URL)
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	cfg := config(dsn)
	if r := runMain(t, ctx, nil, "fetch", "--config", cfg); r.code != 0 {
		t.Fatalf("fetch: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	sep := "&"
	if !strings.Contains(dsn, "?") {
		sep = "?"
	}
	if strings.Contains(dsn, "://") {
		cfg = config(dsn + sep + "default_transaction_read_only=on")
	} else {
		cfg = config(dsn + " default_transaction_read_only=on")
	}
	r := runMain(t, ctx, nil, "items", "--config", cfg)
	if r.code != 0 || !strings.Contains(r.stdout, "Story 2 of feed 0") {
		t.Errorf("items on a read-only session: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = runMain(t, ctx, nil, "sources", "--config", cfg)
	if r.code != 0 || !strings.Contains(r.stdout, "Feed 0") {
		t.Errorf("sources on a read-only session: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = runMain(t, ctx, nil, "fetch", "--config", cfg)
	if r.code == 0 {
		t.Fatalf("fetch on a read-only session succeeded:\n%s", r.stdout)
	}
	for _, want := range []string{"read-only", "refuses writes", "connect as a role"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("fetch on a read-only session: the message lacks %q:\n%s", want, r.stderr)
		}
	}
}
