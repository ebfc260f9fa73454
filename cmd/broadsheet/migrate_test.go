package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/broadsheet/broadsheet/internal/pgtest"
	"github.com/broadsheet/broadsheet/store"
	"github.com/broadsheet/broadsheet/store/postgres"
	"github.com/broadsheet/broadsheet/store/sqlite"
)

// migrateTarget makes an empty store to migrate into and returns its
// --to value and an opener.
type migrateTarget func(t *testing.T) (spec string, open func() store.Store)

func sqliteTarget(t *testing.T) (string, func() store.Store) {
	path := filepath.Join(t.TempDir(), "target.db")
	return "sqlite:" + path, func() store.Store {
		db, err := sqlite.Open(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
}

func postgresTarget(t *testing.T) (string, func() store.Store) {
	dsn := pgtest.Schema(t, pgtest.DSN(t), "migrate")
	return "postgres:" + dsn, func() store.Store {
		db, err := postgres.Open(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
}

func TestMain_Migrate(t *testing.T) {
	ctx := context.Background()
	fs := newFeedServer(t, 7)
	dir := t.TempDir()
	cfg := writeConfig(t, dir, fs, 30, "")
	if r := runMain(t, ctx, nil, "fetch", "--config", cfg); r.code != 0 {
		t.Fatalf("fetch: exit %d\n%s", r.code, r.stderr)
	}
	from := "sqlite:" + filepath.Join(dir, "bs.db")

	for _, tc := range []struct {
		name   string
		target migrateTarget
	}{
		{"ToSQLite", sqliteTarget},
		{"ToPostgres", postgresTarget},
	} {
		t.Run(tc.name, func(t *testing.T) {
			to, open := tc.target(t)
			r := runMain(t, ctx, nil, "migrate", "--from", from, "--to", to, "--batch", "50")
			if r.code != 0 {
				t.Fatalf("migrate: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
			}
			for _, want := range []*regexp.Regexp{
				regexp.MustCompile(`(?m)^\s*sources\s+30\s+30\s+30\s+ok$`),
				regexp.MustCompile(`(?m)^\s*articles\s+210\s+210\s+210\s+ok$`),
				regexp.MustCompile(`copied \d+ rows; every table of the target has the source's rows`),
			} {
				if !want.MatchString(r.stdout) {
					t.Errorf("migrate output lacks %s:\n%s", want, r.stdout)
				}
			}
			if strings.Contains(r.stderr, "password") {
				t.Errorf("stderr mentions a password: %s", r.stderr)
			}

			src, err := sqlite.Open(ctx, strings.TrimPrefix(from, "sqlite:"))
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			want, err := src.SourceStates(ctx)
			if err != nil {
				t.Fatal(err)
			}
			got, err := open().SourceStates(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) {
				t.Fatalf("target has %d sources, want %d", len(got), len(want))
			}
			for i := range want {
				if got[i].Source != want[i].Source || got[i].ETag != want[i].ETag || got[i].Articles != want[i].Articles ||
					!got[i].NextDue.Equal(want[i].NextDue) || !got[i].LastSuccess.Equal(want[i].LastSuccess) {
					t.Errorf("source %d: got %+v, want %+v", i, got[i], want[i])
				}
			}

			r = runMain(t, ctx, nil, "migrate", "--from", from, "--to", to)
			if r.code != exitFailed || !strings.Contains(r.stderr, "not empty") || !strings.Contains(r.stderr, "--force") {
				t.Errorf("second migrate: exit %d, stderr %q; want 1 and advice to use --force", r.code, r.stderr)
			}
			r = runMain(t, ctx, nil, "migrate", "--from", from, "--to", to, "--force")
			if r.code != 0 || !regexp.MustCompile(`(?m)^\s*articles\s+210\s+210\s+0\s+ok$`).MatchString(r.stdout) {
				t.Errorf("migrate --force again: exit %d, want 0 and nothing copied:\n%s\n%s", r.code, r.stdout, r.stderr)
			}
		})
	}

	t.Run("Usage", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			args []string
			want string
		}{
			{"NoTo", []string{"--from", from}, "needs --from and --to"},
			{"BadScheme", []string{"--from", from, "--to", "mysql://u:secret@db/x"}, "write sqlite:PATH or postgres:DSN"},
			{"MissingSource", []string{"--from", "sqlite:" + filepath.Join(dir, "nope.db"), "--to", "sqlite:" + filepath.Join(dir, "x.db")}, "no such file"},
			{"Same", []string{"--from", from, "--to", from}, "the same store"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := runMain(t, ctx, nil, append([]string{"migrate"}, tc.args...)...)
				if r.code != exitUsage || !strings.Contains(r.stderr, tc.want) {
					t.Errorf("exit %d, stderr %q; want %d and %q", r.code, r.stderr, exitUsage, tc.want)
				}
				if strings.Contains(r.stderr, "secret") {
					t.Errorf("stderr reveals the password: %q", r.stderr)
				}
			})
		}
		if _, err := os.Stat(filepath.Join(dir, "nope.db")); err == nil {
			t.Error("migrate created the missing source file")
		}
	})
}
