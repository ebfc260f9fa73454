package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// cmdHealthcheck asks a running broadsheet's /healthz how it is: the
// container image's HEALTHCHECK, which has no shell or curl to do it.
func (m *Main) cmdHealthcheck(ctx context.Context, fs *flag.FlagSet, args []string) error {
	target := fs.String("url", "", "the address of /healthz (default: server.listen's, on loopback)")
	timeout := durationFlag(fs, "timeout", 5*time.Second, "how long to wait for the answer, e.g. 5s or 1m")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	u := *target
	if u == "" {
		cfg, err := m.loadConfig(m.configPath())
		if err != nil {
			return err
		}
		if u, err = healthURL(cfg.Server.Listen); err != nil {
			return &exitError{code: exitUsage, msg: err.Error()}
		}
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return &exitError{code: exitUsage, msg: fmt.Sprintf("--url %q: %v", u, err)}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return &exitError{code: exitFailed, msg: fmt.Sprintf("unhealthy: %v", err)}
	}
	defer resp.Body.Close()
	var h struct {
		Status                   string
		Sources, Polled, Failing int
		Detail                   string
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err := json.Unmarshal(body, &h); err != nil || h.Status == "" {
		return &exitError{code: exitFailed, msg: fmt.Sprintf("unhealthy: %s answered %s, not broadsheet's health", u, resp.Status)}
	}
	line := fmt.Sprintf("%s: %s, %d polled, %d failing", h.Status, plural(h.Sources, "source", "sources"), h.Polled, h.Failing)
	if h.Detail != "" {
		line += " (" + h.Detail + ")"
	}
	if resp.StatusCode != http.StatusOK {
		return &exitError{code: exitFailed, msg: "unhealthy: " + line}
	}
	fmt.Fprintln(m.Stdout, line)
	return nil
}

// healthURL is /healthz on the server listening on listen, reached on
// loopback when it listens on every address.
func healthURL(listen string) (string, error) {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return "", fmt.Errorf("server.listen %q: %v; give --url", listen, err)
	}
	switch host {
	case "", "0.0.0.0":
		host = "127.0.0.1"
	case "::":
		host = "::1"
	}
	return "http://" + net.JoinHostPort(host, port) + "/healthz", nil
}
