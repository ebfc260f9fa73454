package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestMain_Healthcheck(t *testing.T) {
	fs := newFeedServer(t, 1)
	dir := t.TempDir()
	cfg := writeConfig(t, dir, fs, 1, "")
	d := startRun(t, cfg)
	waitFor(t, "the first source to be polled", func() bool { return fs.hits("/feed/0.xml") > 0 })
	waitFor(t, "a healthy answer", func() bool {
		r := runMain(t, context.Background(), nil, "healthcheck", "--url", "http://"+d.addr+"/healthz")
		return r.code == 0 && strings.Contains(r.stdout, "ok: 1 source, 1 polled, 0 failing")
	})

	unavailable := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprint(w, `{"status":"unavailable","store":"unreachable"}`)
	}))
	defer unavailable.Close()
	other := httptest.NewServer(http.NotFoundHandler())
	defer other.Close()
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	tests := []struct {
		name, url, want string
	}{
		{"Unavailable", unavailable.URL + "/healthz", "unhealthy: unavailable: 0 sources"},
		{"NotBroadsheet", other.URL + "/healthz", "answered 404 Not Found, not broadsheet's health"},
		{"Down", closed.URL + "/healthz", "unhealthy: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runMain(t, context.Background(), nil, "healthcheck", "--url", tt.url, "--timeout", "10s")
			if r.code != exitFailed || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("exit %d, want %d with %q\n%s", r.code, exitFailed, tt.want, r.stderr)
			}
		})
	}
	if r := d.stop(t); r.code != 0 {
		t.Fatalf("run: exit %d\n%s", r.code, r.stderr)
	}
}

func TestHealthURL(t *testing.T) {
	tests := []struct{ listen, want string }{
		{"127.0.0.1:8080", "http://127.0.0.1:8080/healthz"},
		{":8080", "http://127.0.0.1:8080/healthz"},
		{"0.0.0.0:80", "http://127.0.0.1:80/healthz"},
		{"[::]:8080", "http://[::1]:8080/healthz"},
		{"[::1]:9000", "http://[::1]:9000/healthz"},
		{"news.internal:8080", "http://news.internal:8080/healthz"},
	}
	for _, tt := range tests {
		if got, err := healthURL(tt.listen); err != nil || got != tt.want {
			t.Errorf("healthURL(%q) = %q, %v; want %q", tt.listen, got, err, tt.want)
		}
	}
	if _, err := healthURL("8080"); err == nil {
		t.Errorf("healthURL(\"8080\") gave no error")
	}
}

// The systemd unit reloads with SIGHUP (`systemctl reload`): the real
// binary reads its configuration again on SIGHUP alone, with no edit to
// notice, and goes on serving; SIGTERM then stops it cleanly.
func TestRun_SIGHUP(t *testing.T) {
	bin := buildBinary(t)
	fs := newFeedServer(t, 1)
	dir := t.TempDir()
	cfg := writeConfig(t, dir, fs, 1, "")
	b, _ := os.ReadFile(cfg)
	os.WriteFile(cfg, []byte(strings.Replace(string(b), "level: warn", "level: info", 1)), 0o644)
	c := testCommand(t, dir, bin, "run", "--config", cfg)
	var out, errb syncBuffer
	c.Stdout, c.Stderr = &out, &errb
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- c.Wait() }()
	t.Cleanup(func() {
		c.Process.Kill()
		<-done
	})
	waitFor(t, "run to serve", func() bool { return strings.Contains(out.String(), "broadsheet is serving") })
	if n := strings.Count(errb.String(), "configuration reloaded"); n != 0 {
		t.Fatalf("reloaded %d times before SIGHUP:\n%s", n, errb.String())
	}
	for i := 1; i <= 2; i++ {
		if err := c.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		waitFor(t, fmt.Sprintf("reload %d after SIGHUP", i), func() bool { return strings.Count(errb.String(), "configuration reloaded") == i })
	}
	if err := c.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		done <- err
		if err != nil {
			t.Fatalf("run after SIGTERM: %v\n%s", err, errb.String())
		}
	case <-time.After(waitTimeout):
		t.Fatalf("run did not stop within %v of SIGTERM", waitTimeout)
	}
	if _, err := os.Stat(filepath.Join(dir, "bs.db")); err != nil {
		t.Errorf("no store: %v", err)
	}
}
