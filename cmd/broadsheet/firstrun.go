package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/broadsheet/broadsheet/feeds"
)

// browseURL is the address to open for a server listening on addr.
func browseURL(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://" + addr + "/"
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port) + "/"
}

// pollWatch follows the first poll cycle of `run`, to say in one line how
// it went: the sources due at start-up, and those of them polled since,
// here (reported through the poller) or by another replica (seen in the
// store).
type pollWatch struct {
	start time.Time
	due   map[string]bool
	mu    sync.Mutex
	seen  map[string]bool
	poked chan struct{}
}

// watchFirstPoll takes note of the sources due at start, from states.
func watchFirstPoll(start time.Time, states []feeds.SourceState) *pollWatch {
	w := &pollWatch{start: start, due: map[string]bool{}, seen: map[string]bool{}, poked: make(chan struct{}, 1)}
	for _, st := range states {
		if st.Active && !st.NextDue.After(start) {
			w.due[st.Source] = true
		}
	}
	return w
}

// polled is an app.onPoll: it counts r's source as polled.
func (w *pollWatch) polled(r feeds.Report) {
	w.mu.Lock()
	w.seen[r.Source] = true
	w.mu.Unlock()
	select {
	case w.poked <- struct{}{}:
	default:
	}
}

func (w *pollWatch) allSeen() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	for name := range w.due {
		if !w.seen[name] {
			return false
		}
	}
	return true
}

// run waits until every source due at start was polled, or until by (a
// lease, after which any poll that started has ended), then prints the
// summary line on out. With nothing due, it says so at once: a restart
// while every source backs off is not silent.
func (w *pollWatch) run(ctx context.Context, a *app, out io.Writer, by time.Duration) {
	if len(w.due) == 0 {
		states, err := a.store.SourceStates(ctx)
		if err != nil {
			return
		}
		fmt.Fprintln(out, noneDueLine(states, w.start))
		return
	}
	deadline := time.NewTimer(by)
	defer deadline.Stop()
	// Other replicas' polls show only in the store.
	check := time.NewTicker(5 * time.Second)
	defer check.Stop()
	for !w.allSeen() {
		select {
		case <-ctx.Done():
			return
		case <-w.poked:
			continue
		case <-deadline.C:
		case <-check.C:
			states, err := a.store.SourceStates(ctx)
			if err != nil || !w.polledIn(states) {
				continue
			}
		}
		break
	}
	states, err := a.store.SourceStates(ctx)
	if err != nil {
		return
	}
	fmt.Fprintln(out, summaryLine(states))
}

// polledIn reports whether states show every due source attempted since
// start.
func (w *pollWatch) polledIn(states []feeds.SourceState) bool {
	n := 0
	for _, st := range states {
		if w.due[st.Source] && !st.LastAttempt.Before(w.start) {
			n++
		}
	}
	return n == len(w.due)
}

// summaryLine sums up the active sources' last polls: "5 sources: 0 ok, 5
// failed — `broadsheet sources` says why".
func summaryLine(states []feeds.SourceState) string {
	var n, ok, failed, never, items int
	for _, st := range states {
		if !st.Active {
			continue
		}
		n++
		items += st.Articles
		switch {
		case st.Failures > 0:
			failed++
		case st.LastAttempt.IsZero():
			never++
		default:
			ok++
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d ok, %d failed", plural(n, "source", "sources"), ok, failed)
	if never > 0 {
		fmt.Fprintf(&b, ", %d not polled yet", never)
	}
	if failed > 0 {
		b.WriteString(" — `broadsheet sources` says why")
	}
	fmt.Fprintf(&b, "; %s stored", plural(items, "item", "items"))
	return b.String()
}

// noneDueLine says that no source is due at start, when the next is, and
// how many are failing and backing off.
func noneDueLine(states []feeds.SourceState, now time.Time) string {
	var n, failing int
	var next time.Time
	var nextName string
	for _, st := range states {
		if !st.Active {
			continue
		}
		n++
		if st.Failures > 0 {
			failing++
		}
		if next.IsZero() || st.NextDue.Before(next) {
			next, nextName = st.NextDue, st.Source
		}
	}
	if n == 0 {
		return "no sources are configured: add some under sources: in the configuration"
	}
	when := fmt.Sprintf("the next poll is %s (%s)", relTime(now, next), nextName)
	switch {
	case failing == n:
		return fmt.Sprintf("%s, none due now: %s failing and backing off; %s — `broadsheet sources` says why", plural(n, "source", "sources"), allOrOne(n), when)
	case failing > 0:
		return fmt.Sprintf("%s, none due now (%d failing and backing off — `broadsheet sources` says why); %s", plural(n, "source", "sources"), failing, when)
	default:
		return fmt.Sprintf("%s, none due now; %s", plural(n, "source", "sources"), when)
	}
}

func allOrOne(n int) string {
	if n == 1 {
		return "it is"
	}
	if n == 2 {
		return "both are"
	}
	return fmt.Sprintf("all %d are", n)
}

// plural is "1 source" or "5 sources".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
