package replicas

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"net/mail"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/broadsheet/broadsheet/digest/smtp/smtptest"
	"github.com/broadsheet/broadsheet/feeds"
	"github.com/broadsheet/broadsheet/internal/pgtest"
)

// testDSN returns the server to test against; see pgtest.DSN for when
// the test skips instead.
func testDSN(t *testing.T) string {
	t.Helper()
	return pgtest.DSN(t)
}

const (
	nFeeds   = 500
	nDigest  = 25 // the digest's sources: feeds 0 … 24
	workers  = 8
	timeout  = 5 * time.Second
	lease    = 2*timeout + 30*time.Second // as cmd/broadsheet's run sets it
	jitter   = 6 * time.Second            // a tenth of the minute, as run's nextPoll adds at most
	schedule = "* * * * *"
)

var recipients = []string{"ann@example.com", "bob@example.com", "cy@example.com"}

// TestReplicas runs three `broadsheet run` processes against one PostgreSQL
// schema, 500 feeds on loopback and an SMTP server, over three poll cycles
// of a real minute each (the poll schedule's shortest, "* * * * *"; the
// configuration is not bent for the test):
//
//   - cycle 0, at start: each feed is requested exactly once, by three
//     replicas starting together;
//   - cycle 1, from the first minute boundary: once the minute's digests
//     are out, a replica that did not send them has its feed requests held
//     by the server and is killed with SIGKILL mid-cycle; each feed is
//     still requested at most once by the live replicas, and the feeds the
//     dead one had leased are polled after it died, within one lease;
//   - cycle 2: each feed exactly once again, by the two live replicas.
//
// Then: the stored articles are exactly the items served, each once, under
// its stable id; each digest went out once per (digest, recipient, period),
// counted by Message-ID at the SMTP server, and each article of its sources
// is in exactly one digest per recipient; and the replicas serve the
// republished feed with the same ETag. It takes about two and a half
// minutes, most of it waiting for minute boundaries.
func TestReplicas(t *testing.T) {
	if testing.Short() {
		t.Skip("whole-system replica test (about 2.5 minutes) skipped in -short mode")
	}
	dsn := testDSN(t)
	ctx := t.Context()
	dir := t.TempDir()

	bctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	bin, err := Build(bctx, dir)
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	schema, err := NewSchema(ctx, dsn, "replicas")
	if err != nil {
		t.Fatalf("PostgreSQL at %s: %v", DSNEnv, err)
	}
	t.Cleanup(func() {
		if err := schema.Drop(context.Background()); err != nil {
			t.Error(err)
		}
	})
	db, err := Open(schema.DSN)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })

	// Cycle 0 must end before the first minute boundary: start early in a
	// minute. On a loaded machine the start and cycle 0 take 15 s and more,
	// so at least 35 s are left for them.
	if into := time.Since(time.Now().Truncate(time.Minute)); into > 25*time.Second {
		wait := time.Minute - into + time.Second
		t.Logf("waiting %v for the next minute, so that the first cycle ends before the first boundary", wait.Round(time.Second))
		time.Sleep(wait)
	}
	start := time.Now()
	m1 := start.Truncate(time.Minute).Add(time.Minute)
	m2 := m1.Add(time.Minute)
	cycle := func(at time.Time) int {
		if at.Before(m1) {
			return 0
		}
		return int(at.Sub(m1)/time.Minute) + 1
	}
	fs := NewFeedServer(nFeeds, cycle)
	t.Cleanup(fs.Close)
	mailsrv := smtptest.Start(t, smtptest.Options{TLS: smtptest.None})
	var digestSrc []string
	for i := range nDigest {
		digestSrc = append(digestSrc, FeedName(i))
	}

	reps := make([]*Replica, 3)
	for i := range reps {
		c := Config{DSN: schema.DSN, Schedule: schedule, Feeds: fs, Agent: fmt.Sprintf("broadsheet-test/replica-%d", i),
			Timeout: timeout, Workers: workers, SMTPHost: mailsrv.Host, SMTPPort: mailsrv.Port,
			Digest: schedule, To: recipients, DigestSrc: digestSrc}
		r, err := Start(bin, dir, fmt.Sprintf("replica-%d", i), c)
		if err != nil {
			t.Fatal(err)
		}
		reps[i] = r
		t.Cleanup(func() { r.Kill() })
	}
	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for _, r := range reps {
		if err := r.WaitReady(rctx); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("three replicas ready %v after start; first boundary at %s", time.Since(start).Round(time.Millisecond), m1.Format("15:04:05"))

	running := reps // not killed
	alive := func() {
		t.Helper()
		for _, r := range running {
			if r.Exited() {
				t.Fatalf("replica %s exited:\n%s", r.Name, r.Tail())
			}
		}
	}
	// answered reports whether every feed has a request of cycle c that
	// was answered.
	answered := func(c int) (int, bool) {
		seen := map[int]bool{}
		for _, q := range fs.Requests() {
			if q.Gen == c && q.Status != 0 {
				seen[q.Feed] = true
			}
		}
		return len(seen), len(seen) == nFeeds
	}
	waitFor := func(what string, until time.Time, ok func() bool) {
		t.Helper()
		for !ok() {
			if time.Now().After(until) {
				t.Fatalf("%s: not by %s", what, until.Format("15:04:05.000"))
			}
			alive()
			time.Sleep(100 * time.Millisecond)
		}
	}

	// Cycle 0.
	waitFor("cycle 0: every feed polled before the first boundary", m1.Add(-2*time.Second), func() bool {
		_, ok := answered(0)
		return ok
	})
	t.Logf("cycle 0 polled in %v", time.Since(start).Round(time.Millisecond))

	// Cycle 1. The replica to kill must not be the one sending the digests
	// of m1, or the kill could fall between a message's acceptance and its
	// record, the one window in which a digest may be repeated (see package
	// digest); which replica sends them is known only once they are out.
	// So every feed request of the cycle is held from the start, until the
	// digests are out (a second or two); then the others' are answered and
	// the victim's stay held, its workers stuck mid-poll with their leases,
	// and it is killed well within the fetch timeout.
	time.Sleep(time.Until(m1.Add(-time.Second)))
	fs.HoldAll()
	holdUntil := m1.Add(timeout / 2)
	for finalDeliveries(t, db, m1) < len(recipients) && time.Now().Before(holdUntil) {
		alive()
		time.Sleep(20 * time.Millisecond)
	}
	early := finalDeliveries(t, db, m1) == len(recipients)
	if !early {
		// A slow machine: let everything through, wait for the digests,
		// then hold the victim's requests of what is left of the cycle.
		fs.ReleaseAll()
		t.Logf("digests of %s not out by %s; holding the victim's requests from when they are", m1.Format("15:04:05"), holdUntil.Format("15:04:05.000"))
		waitFor("digests of the first boundary sent", m1.Add(20*time.Second), func() bool {
			return finalDeliveries(t, db, m1) == len(recipients)
		})
	}
	var victim *Replica
	var live []*Replica
	for _, r := range reps {
		if victim == nil && r.Logged("digest sent") == 0 {
			victim = r
			continue
		}
		live = append(live, r)
	}
	if victim == nil {
		t.Fatal("every replica sent digests; want one to have sent none")
	}
	holdAt := time.Now()
	if early {
		var others []string
		for _, r := range live {
			others = append(others, r.Agent)
		}
		fs.Release(others...)
	} else {
		fs.Hold(victim.Agent)
	}
	for {
		n, oldest := fs.Held(victim.Agent)
		now := time.Now()
		// All its workers waiting on us, or the oldest hold near the fetch
		// timeout, after which it would record a failure instead.
		if n >= workers || (n > 0 && now.Sub(oldest) > timeout*3/5) {
			break
		}
		if n == 0 && now.Sub(holdAt) > jitter {
			t.Fatalf("replica %s had no feed request in flight in cycle 1 (%v after the hold began)", victim.Name, now.Sub(holdAt).Round(time.Millisecond))
		}
		alive()
		time.Sleep(20 * time.Millisecond)
	}
	held, _ := fs.Held(victim.Agent)
	killAt := time.Now()
	victim.Kill()
	running = live
	t.Logf("killed %s (pid %d) at %s with %d feed requests in flight", victim.Name, victim.Pid, killAt.Format("15:04:05.000"), held)
	// The dead replica's feeds are polled once its leases lapse, plus a
	// poll-loop tick and a fetch, which a loaded machine can stretch to
	// seconds: that must all happen before the next cycle.
	const takeoverSlack = 8 * time.Second
	if late := m2.Add(-lease - takeoverSlack); killAt.After(late) {
		t.Fatalf("the kill came at %s, too late in the cycle for its leases to lapse before the next one (by %s): the machine is too slow for this test", killAt.Format("15:04:05.000"), late.Format("15:04:05.000"))
	}

	takeoverBy := killAt.Add(lease + takeoverSlack)
	waitFor("cycle 1: every feed polled, the dead replica's within a lease", takeoverBy, func() bool {
		_, ok := answered(1)
		return ok
	})
	t.Logf("cycle 1 complete %v after the kill", time.Since(killAt).Round(time.Millisecond))

	// Cycle 2, and the digests of m2.
	waitFor("cycle 2: every feed polled", m2.Add(jitter+30*time.Second), func() bool {
		_, ok := answered(2)
		return ok
	})
	waitFor("cycle 2's polls stored", m2.Add(jitter+40*time.Second), func() bool {
		var n int
		if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM sources WHERE last_attempt >= $1", m2.UnixMilli()).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n == nFeeds
	})
	waitFor("digests of the second boundary sent", m2.Add(30*time.Second), func() bool {
		return finalDeliveries(t, db, m2) == len(recipients)
	})
	alive()

	reqs := fs.Requests()
	t.Run("PolledOncePerCycle", func(t *testing.T) {
		checkCycles(t, reqs, victim, live, killAt, takeoverBy)
	})
	t.Run("ArticlesAsServed", func(t *testing.T) {
		checkArticles(t, db, reqs)
	})
	t.Run("DigestsOnce", func(t *testing.T) {
		checkDigests(t, db, mailsrv.Messages(), []time.Time{m1, m2})
	})
	t.Run("SameETag", func(t *testing.T) {
		checkETags(t, live)
	})
	for _, r := range live {
		if err := r.Stop(30 * time.Second); err != nil {
			t.Errorf("replica %s did not stop cleanly: %v\n%s", r.Name, err, r.Tail())
		}
	}
}

// finalDeliveries counts the deliveries of period that are finished.
func finalDeliveries(t *testing.T, db *sql.DB, period time.Time) int {
	t.Helper()
	var n int
	err := db.QueryRow("SELECT COUNT(*) FROM digest_deliveries WHERE period = $1 AND state IN ('sent', 'empty', 'failed', 'cancelled')",
		period.UnixMilli()).Scan(&n)
	if err != nil && !strings.Contains(err.Error(), "does not exist") {
		t.Fatal(err)
	}
	return n
}

func checkCycles(t *testing.T, reqs []Request, victim *Replica, live []*Replica, killAt, takeoverBy time.Time) {
	type key struct{ feed, cycle int }
	by := map[key][]Request{}
	perAgent := map[int]map[string]int{}
	for _, q := range reqs {
		by[key{q.Feed, q.Gen}] = append(by[key{q.Feed, q.Gen}], q)
		if perAgent[q.Gen] == nil {
			perAgent[q.Gen] = map[string]int{}
		}
		perAgent[q.Gen][q.Agent]++
	}
	for c := 0; c <= 2; c++ {
		t.Logf("cycle %d: requests by replica %v", c, perAgent[c])
	}
	for _, c := range []int{0, 2} {
		bad := 0
		for f := range nFeeds {
			if qs := by[key{f, c}]; len(qs) != 1 || qs[0].Status == 0 {
				if bad++; bad <= 5 {
					t.Errorf("cycle %d: feed %d requested %d times (%v), want exactly once and answered", c, f, len(qs), agents(qs))
				}
			}
		}
		if bad > 5 {
			t.Errorf("cycle %d: %d feeds in all not requested exactly once", c, bad)
		}
	}
	for _, r := range live {
		if perAgent[2][r.Agent] == 0 {
			t.Errorf("cycle 2: replica %s polled nothing; want the live replicas to share the work", r.Name)
		}
	}
	if perAgent[2][victim.Agent] != 0 {
		t.Errorf("cycle 2: %d requests from the killed replica", perAgent[2][victim.Agent])
	}

	// Cycle 1, with the kill.
	var takenOver, heldFeeds int
	var lastTakeover time.Time
	for f := range nFeeds {
		var byLive, byVictim []Request
		for _, q := range by[key{f, 1}] {
			if q.Agent == victim.Agent {
				byVictim = append(byVictim, q)
			} else {
				byLive = append(byLive, q)
			}
		}
		wasHeld := slices.ContainsFunc(byVictim, func(q Request) bool { return q.Status == 0 })
		if wasHeld {
			heldFeeds++
		}
		switch {
		case len(byLive) > 1:
			t.Errorf("cycle 1: feed %d requested %d times by live replicas (%v), want at most once", f, len(byLive), agents(byLive))
		case len(byLive) == 0 && !slices.ContainsFunc(byVictim, func(q Request) bool { return q.Status != 0 }):
			t.Errorf("cycle 1: feed %d never answered (requests: %v)", f, agents(byVictim))
		case wasHeld && len(byLive) == 0:
			t.Errorf("cycle 1: feed %d, held while its replica was killed, was not polled again", f)
		}
		if len(byLive) == 1 && byLive[0].At.After(killAt) && (len(byVictim) > 0 || byLive[0].At.After(killAt.Add(jitter))) {
			// Polled by a live replica after the kill, and either
			// requested by the dead one first or later than any due
			// time of the cycle: a takeover of a lapsed lease.
			takenOver++
			lastTakeover = later(lastTakeover, byLive[0].At)
		}
		if wasHeld && len(byLive) == 1 && !byLive[0].At.After(killAt) {
			t.Errorf("cycle 1: feed %d was polled by %s at %s, while the replica holding its lease was alive", f, byLive[0].Agent, byLive[0].At.Format("15:04:05.000"))
		}
	}
	if heldFeeds == 0 || takenOver < heldFeeds {
		t.Errorf("cycle 1: %d feeds taken over after the kill, %d were in flight at the dead replica; want at least one, and all of those", takenOver, heldFeeds)
	}
	if lastTakeover.After(takeoverBy) {
		t.Errorf("cycle 1: last takeover at %s, after one lease (%v) past the kill", lastTakeover.Format("15:04:05.000"), lease)
	}
	t.Logf("cycle 1: %d feeds in flight at the kill, %d taken over, the last %v after the kill (lease %v)",
		heldFeeds, takenOver, lastTakeover.Sub(killAt).Round(time.Millisecond), lease)
}

func agents(qs []Request) []string {
	var out []string
	for _, q := range qs {
		out = append(out, fmt.Sprintf("%s@%s/%d", strings.TrimPrefix(q.Agent, "broadsheet-test/"), q.At.Format("15:04:05.000"), q.Status))
	}
	return out
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// checkArticles compares the stored articles with the items served: every
// item of every generation a feed was answered with, once, under its
// stable id, and nothing else.
func checkArticles(t *testing.T, db *sql.DB, reqs []Request) {
	want := map[string]string{} // id → source/guid
	for _, q := range reqs {
		if q.Status == 0 {
			continue
		}
		for _, j := range Items(q.Gen) {
			src, guid := FeedName(q.Feed), ItemGUID(q.Feed, j)
			want[feeds.ArticleID(src, guid)] = src + " " + guid
		}
	}
	rows, err := db.Query("SELECT id, source, identity FROM articles")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	got := map[string]string{}
	n := 0
	for rows.Next() {
		var id, src, ident string
		if err := rows.Scan(&id, &src, &ident); err != nil {
			t.Fatal(err)
		}
		n++
		got[id] = src + " " + ident
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if n != len(got) || len(got) != len(want) {
		t.Errorf("stored %d articles (%d distinct ids), want %d: one per item served", n, len(got), len(want))
	}
	missing, extra := 0, 0
	for id, w := range want {
		if g, ok := got[id]; !ok || g != w {
			if missing++; missing <= 5 {
				t.Errorf("item %s (id %s) served but stored as %q", w, id, g)
			}
		}
	}
	for id, g := range got {
		if _, ok := want[id]; !ok {
			if extra++; extra <= 5 {
				t.Errorf("stored article %s (%s) was never served", id, g)
			}
		}
	}
	t.Logf("%d articles stored, %d items served; %d missing, %d extra", len(got), len(want), missing, extra)
}

// checkDigests checks each (digest, recipient, period) was delivered once,
// by Message-ID at the server, and that each recipient's digests hold each
// article of the digest's sources exactly once.
func checkDigests(t *testing.T, db *sql.DB, msgs []smtptest.Message, periods []time.Time) {
	received := map[string]int{}
	for _, m := range msgs {
		msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
		if err != nil {
			t.Fatalf("message to %v: %v", m.To, err)
		}
		received[strings.Trim(msg.Header.Get("Message-Id"), "<>")]++
	}
	rows, err := db.Query("SELECT recipient, period, state, message_id, articles, seen_since, seen_before FROM digest_deliveries WHERE digest = 'minutely' ORDER BY recipient, period")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	type del struct {
		period        time.Time
		state, msgID  string
		arts          []string
		since, before int64
	}
	byRcpt := map[string][]del{}
	for rows.Next() {
		var d del
		var rcpt, arts string
		var period int64
		if err := rows.Scan(&rcpt, &period, &d.state, &d.msgID, &arts, &d.since, &d.before); err != nil {
			t.Fatal(err)
		}
		d.period = time.UnixMilli(period)
		if err := json.Unmarshal([]byte(arts), &d.arts); err != nil {
			t.Fatal(err)
		}
		byRcpt[rcpt] = append(byRcpt[rcpt], d)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}

	planned := map[string]bool{}
	for _, rcpt := range recipients {
		ds := byRcpt[rcpt]
		var got []time.Time
		seen := map[string]int{}
		var coveredTo int64
		for _, d := range ds {
			got = append(got, d.period)
			planned[d.msgID] = true
			if d.state != "sent" {
				t.Errorf("%s, period %s: state %s, want sent", rcpt, d.period.Format("15:04:05"), d.state)
			}
			if n := received[d.msgID]; n != 1 {
				t.Errorf("%s, period %s: Message-ID %s received %d times, want once", rcpt, d.period.Format("15:04:05"), d.msgID, n)
			}
			if coveredTo != 0 && d.since != coveredTo {
				t.Errorf("%s, period %s: window starts at %d, the previous ended at %d: a gap or an overlap", rcpt, d.period.Format("15:04:05"), d.since, coveredTo)
			}
			coveredTo = d.before
			for _, a := range d.arts {
				seen[a]++
			}
		}
		if !slices.EqualFunc(got, periods, func(a, b time.Time) bool { return a.Equal(b) }) {
			t.Errorf("%s: deliveries for periods %v, want %v", rcpt, got, periods)
		}
		// Every article of the digest's sources first seen before the last
		// window's end is in exactly one digest.
		want := map[string]bool{}
		arows, err := db.Query("SELECT id FROM articles WHERE source <= $1 AND first_seen < $2", FeedName(nDigest-1), coveredTo)
		if err != nil {
			t.Fatal(err)
		}
		for arows.Next() {
			var id string
			if err := arows.Scan(&id); err != nil {
				t.Fatal(err)
			}
			want[id] = true
		}
		arows.Close()
		if len(want) != 2*nDigest {
			t.Errorf("%s: %d articles of the digest's sources before the last window's end, want %d (two generations)", rcpt, len(want), 2*nDigest)
		}
		for id := range want {
			if seen[id] != 1 {
				t.Errorf("%s: article %s is in %d digests, want 1", rcpt, id, seen[id])
			}
		}
		for id, n := range seen {
			if !want[id] {
				t.Errorf("%s: digests hold %s (%d times), not an article of the digest's sources before %d", rcpt, id, n, coveredTo)
			}
		}
	}
	for id, n := range received {
		if !planned[id] {
			t.Errorf("received Message-ID %q (%d times) that no delivery planned", id, n)
		}
	}
	t.Logf("%d messages received, %d distinct Message-IDs", len(msgs), len(received))
}

// checkETags fetches the republished feed from each live replica: the same
// ETag everywhere, once their refreshes (every few seconds after a change)
// have caught up.
func checkETags(t *testing.T, live []*Replica) {
	deadline := time.Now().Add(20 * time.Second)
	client := &http.Client{Timeout: 20 * time.Second}
	for {
		tags := make([]string, len(live))
		for i, r := range live {
			resp, err := client.Get("http://" + r.Address() + "/feed.atom")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%s: GET /feed.atom: %s", r.Name, resp.Status)
			}
			tags[i] = resp.Header.Get("ETag")
		}
		if tags[0] != "" && !slices.ContainsFunc(tags, func(s string) bool { return s != tags[0] }) {
			t.Logf("ETag %s on every live replica", tags[0])
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("ETags of /feed.atom differ between replicas: %q", tags)
			return
		}
		time.Sleep(500 * time.Millisecond)
	}
}
