package publish

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/broadsheet/broadsheet/feeds"
	"github.com/broadsheet/broadsheet/store"
)

// Errors that requests can meet; statusOf maps them to HTTP statuses.
var (
	// ErrNotReady is returned while no snapshot has been rendered yet.
	ErrNotReady = errors.New("feeds not rendered yet")
	// ErrMethod is returned for methods other than GET and HEAD.
	ErrMethod = errors.New("method not allowed")
)

// statusOf is the one place that maps errors to HTTP statuses.
func statusOf(err error) int {
	switch {
	case errors.Is(err, feeds.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, ErrMethod):
		return http.StatusMethodNotAllowed
	case errors.Is(err, ErrNotReady), errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return http.StatusServiceUnavailable
	default:
		return http.StatusInternalServerError
	}
}

// fail answers r with err's status and a short plain-text message. Server
// errors are logged and not shown, since they may name internals.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	code := statusOf(err)
	msg := http.StatusText(code)
	switch code {
	case http.StatusInternalServerError:
		h.opts.Logger.Error("serve", "path", r.URL.Path, "err", err)
	case http.StatusMethodNotAllowed:
		w.Header().Set("Allow", "GET, HEAD")
	case http.StatusServiceUnavailable:
		w.Header().Set("Retry-After", "5")
		msg = err.Error()
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	http.Error(w, msg, code)
}

// ServeHTTP serves the current snapshot: a map lookup and a write (for a
// source feed not rendered lately, a render first), with conditional
// requests answered 304 and gzip served pre-compressed.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.fail(w, r, ErrMethod)
		return
	}
	if r.URL.Path == "/healthz" {
		h.healthz(w, r)
		return
	}
	s := h.snap.Load()
	if s == nil {
		h.fail(w, r, ErrNotReady)
		return
	}
	o := s.paths[r.URL.Path]
	if o == nil {
		lo, ok := s.lazy[r.URL.Path]
		if !ok {
			h.fail(w, r, fmt.Errorf("%s: %w", r.URL.Path, feeds.ErrNotFound))
			return
		}
		var err error
		if o, err = h.sourceOutput(lo); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	h.serve(w, r, o)
}

func (h *Handler) serve(w http.ResponseWriter, r *http.Request, o *output) {
	gz := o.gz != nil && acceptsGzip(r.Header.Get("Accept-Encoding"))
	etag := o.etag
	if gz {
		etag = o.etagGz
	}
	hd := w.Header()
	hd["Cache-Control"] = []string{h.maxAge}
	hd["Etag"] = []string{etag}
	if o.gz != nil {
		hd["Vary"] = []string{"Accept-Encoding"}
	}
	if !o.modified.IsZero() {
		hd["Last-Modified"] = []string{o.modified.Format(http.TimeFormat)}
	}
	if notModified(r, o) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	body := o.body
	if gz {
		body = o.gz
		hd["Content-Encoding"] = []string{"gzip"}
	}
	hd["Content-Type"] = []string{o.ctype}
	hd["Content-Length"] = []string{strconv.Itoa(len(body))}
	hd["X-Content-Type-Options"] = []string{"nosniff"}
	hd["Content-Security-Policy"] = []string{o.csp}
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}

// notModified evaluates If-None-Match, else If-Modified-Since (RFC 9110
// 13.2.2). Both representations' tags match, since If-None-Match compares
// weakly and they carry the same data.
func notModified(r *http.Request, o *output) bool {
	if inm := r.Header.Get("If-None-Match"); inm != "" {
		return etagMatch(inm, o)
	}
	ims := r.Header.Get("If-Modified-Since")
	if ims == "" || o.modified.IsZero() {
		return false
	}
	t, err := http.ParseTime(ims)
	if err != nil {
		return false
	}
	return !o.modified.After(t)
}

// etagMatch reports whether the If-None-Match list names o.
func etagMatch(list string, o *output) bool {
	for list != "" {
		list = strings.TrimLeft(list, " \t,")
		if list == "" {
			return false
		}
		if list[0] == '*' {
			return true
		}
		list = strings.TrimPrefix(list, "W/")
		if list == "" || list[0] != '"' {
			return false
		}
		end := strings.IndexByte(list[1:], '"')
		if end < 0 {
			return false
		}
		tag := list[:end+2]
		if tag == o.etag || tag == o.etagGz {
			return true
		}
		list = list[end+2:]
	}
	return false
}

// acceptsGzip reports whether an Accept-Encoding value allows gzip: named
// (or "*") with a q-value above zero.
func acceptsGzip(ae string) bool {
	for ae != "" {
		var part string
		part, ae, _ = strings.Cut(ae, ",")
		name, params, _ := strings.Cut(part, ";")
		name = strings.ToLower(strings.TrimSpace(name))
		if name != "gzip" && name != "x-gzip" && name != "*" {
			continue
		}
		q := 1.0
		for _, p := range strings.Split(params, ";") {
			k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
			if ok && strings.EqualFold(strings.TrimSpace(k), "q") {
				if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
					q = f
				}
			}
		}
		return q > 0
	}
	return false
}

// health is /healthz's answer.
type health struct {
	// Status is "ok"; "degraded" when some sources' last polls failed (the
	// server still answers 200: the feeds are served); "unavailable",
	// with 503, when the store does not answer.
	Status      string     `json:"status"`
	Store       string     `json:"store"` // "ok" or "unreachable"
	Rendered    bool       `json:"rendered"`
	LastPoll    *time.Time `json:"last_poll,omitempty"`
	LastSuccess *time.Time `json:"last_success,omitempty"`
	Sources     int        `json:"sources"` // configured (active) sources
	Polled      int        `json:"polled"`  // of which polled at least once
	Failing     int        `json:"failing"` // of which the last poll failed
	Detail      string     `json:"detail,omitempty"`
}

// sourceCounter is the store's one-query summary of the sources
// (store.Store has it), so that a health check costs the same at 10
// sources as at 10,000.
type sourceCounter interface {
	SourceCounts(ctx context.Context) (store.SourceCounts, error)
}

// sourceCounts sums up the active sources: one query with a
// sourceCounter, else a ping and every source's state.
func (h *Handler) sourceCounts(ctx context.Context) (store.SourceCounts, error) {
	if sc, ok := h.store.(sourceCounter); ok {
		return sc.SourceCounts(ctx)
	}
	if err := h.store.Ping(ctx); err != nil {
		return store.SourceCounts{}, err
	}
	states, err := h.store.SourceStates(ctx)
	if err != nil {
		return store.SourceCounts{}, err
	}
	return countStates(states), nil
}

// healthz checks the store now (with a short deadline) and sums up the
// sources' last polls: 200 when the store answers, else 503.
func (h *Handler) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	st := health{Status: "ok", Store: "ok", Rendered: h.snap.Load() != nil}
	code := http.StatusOK
	c, err := h.sourceCounts(ctx)
	if err != nil {
		h.opts.Logger.Warn("health check: store unreachable", "err", err)
		st.Status, st.Store = "unavailable", "unreachable"
		code = http.StatusServiceUnavailable
	} else {
		st.Sources, st.Polled, st.Failing = c.Sources, c.Polled, c.Failing
		if t := c.LastAttempt; !t.IsZero() {
			t = t.UTC()
			st.LastPoll = &t
		}
		if t := c.LastSuccess; !t.IsZero() {
			t = t.UTC()
			st.LastSuccess = &t
		}
		if c.Failing > 0 {
			st.Status = "degraded"
			st.Detail = fmt.Sprintf("%d of %s failing: `broadsheet sources` says why", c.Failing, plural(c.Sources, "source"))
		}
	}
	b, _ := json.Marshal(st)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	if r.Method != http.MethodHead {
		w.Write(append(b, '\n'))
	}
}
