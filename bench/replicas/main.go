// Command replicas benchmarks polling with 1, 2 and 3 `broadsheet run`
// replicas sharing one PostgreSQL database on this machine: feeds polled
// per second, database statements per polled feed (counted on the wire by a
// proxy in front of each replica) and the replicas' CPU time per feed, with
// ratios to one replica measured in the same run.
//
// Each measurement gets a fresh schema whose sources are recorded first and
// kept not due while the replicas start; then every source is made due at
// once and the clock runs until all have a stored poll. Two phases: "new",
// the first poll, where each feed brings KeepItems new items, and "304",
// the next poll, which the feed server answers Not Modified.
//
//	go run ./bench/replicas            # -feeds 2000 -replicas 1,2,3 -rounds 1
//	bash bench/replicas/run.sh         # the same, with the DSN make test uses
package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/broadsheet/broadsheet/feeds"
	"github.com/broadsheet/broadsheet/internal/replicas"
	"github.com/broadsheet/broadsheet/store/postgres"
)

func main() {
	nFeeds := flag.Int("feeds", 2000, "feeds served and polled")
	counts := flag.String("replicas", "1,2,3", "replica counts to measure, in order")
	rounds := flag.Int("rounds", 1, "measurements of each count, alternated; the median is reported")
	workers := flag.Int("workers", 8, "fetch.workers of each replica")
	dsn := flag.String("dsn", os.Getenv(replicas.DSNEnv), "PostgreSQL server (default $"+replicas.DSNEnv+")")
	flag.Parse()
	if *dsn == "" {
		*dsn = replicas.ExampleDSN
	}
	var ns []int
	for _, f := range strings.Split(*counts, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			fatalf("-replicas %q: want a list of counts such as 1,2,3", *counts)
		}
		ns = append(ns, n)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, *dsn, *nFeeds, ns, *rounds, *workers); err != nil {
		fatalf("%v", err)
	}
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench/replicas: "+format+"\n", args...)
	os.Exit(1)
}

// result is one phase of one measurement.
type result struct {
	replicas int
	phase    string
	feeds    int
	took     time.Duration
	stmts    int64
	conns    int64            // connections the replicas opened
	cpu      time.Duration    // the replicas' user+system time
	share    []int            // polls by each replica
	kinds    map[string]int64 // statements by kind, all replicas
}

func (r result) perSecond() float64 { return float64(r.feeds) / r.took.Seconds() }
func (r result) stmtsPerFeed() float64 {
	return float64(r.stmts) / float64(r.feeds)
}
func (r result) cpuPerFeed() time.Duration { return r.cpu / time.Duration(r.feeds) }

func run(ctx context.Context, dsn string, n int, counts []int, rounds, workers int) error {
	u, err := url.Parse(dsn)
	if err != nil || u.Host == "" {
		return errors.New("the DSN must be a postgres:// URL, so that a counter can stand in front of it")
	}
	dir, err := os.MkdirTemp("", "bench-replicas-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	fmt.Fprintln(os.Stderr, "building broadsheet…")
	bin, err := replicas.Build(ctx, dir)
	if err != nil {
		return err
	}
	// A fixed generation: the first poll stores KeepItems items a feed, the
	// next gets 304.
	fs := replicas.NewFeedServer(n, func(time.Time) int { return replicas.KeepItems - 1 })
	defer fs.Close()

	all := map[string][]result{} // by replicas/phase
	for round := range rounds {
		for _, k := range counts {
			fmt.Fprintf(os.Stderr, "round %d: %d replica(s), %d feeds…\n", round+1, k, n)
			rs, err := measure(ctx, bin, dir, dsn, u.Host, fs, k, workers)
			if err != nil {
				return fmt.Errorf("%d replicas: %w", k, err)
			}
			for _, r := range rs {
				key := fmt.Sprintf("%d/%s", r.replicas, r.phase)
				all[key] = append(all[key], r)
			}
		}
	}
	printTable(counts, all, n, workers)
	return nil
}

// measure runs k replicas on a fresh schema through both phases.
func measure(ctx context.Context, bin, dir, dsn, host string, fs *replicas.FeedServer, k, workers int) ([]result, error) {
	schema, err := replicas.NewSchema(ctx, dsn, "bench")
	if err != nil {
		return nil, err
	}
	defer schema.Drop(context.WithoutCancel(ctx))
	// Record the sources first, not due, so that replicas starting one
	// after another don't poll before the others are up.
	st, err := postgres.Open(ctx, schema.DSN)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	srcs := make([]feeds.Source, fs.N)
	for i := range srcs {
		srcs[i] = feeds.Source{Name: replicas.FeedName(i), URL: fs.FeedURL(i), Kind: feeds.KindNews}
	}
	if err := st.SyncSources(ctx, srcs); err != nil {
		return nil, err
	}
	db, err := replicas.Open(schema.DSN)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "UPDATE sources SET next_due = $1", time.Now().Add(24*time.Hour).UnixMilli()); err != nil {
		return nil, err
	}

	var reps []*replicas.Replica
	var wcs []*replicas.WireCounter
	defer func() {
		for _, r := range reps {
			_ = r.Stop(20 * time.Second)
		}
		for _, w := range wcs {
			w.Close()
		}
	}()
	for i := range k {
		wc, err := replicas.NewWireCounter(host)
		if err != nil {
			return nil, err
		}
		wcs = append(wcs, wc)
		through, err := replicas.WithHostPort(schema.DSN, wc.Addr())
		if err != nil {
			return nil, err
		}
		r, err := replicas.Start(bin, dir, fmt.Sprintf("bench-%d-of-%d", i, k), replicas.Config{
			DSN: through, Schedule: "@every 1h", Feeds: fs, Agent: fmt.Sprintf("bench/replica-%d", i),
			Timeout: 10 * time.Second, Workers: workers, LogLevel: "info"})
		if err != nil {
			return nil, err
		}
		reps = append(reps, r)
	}
	rctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for _, r := range reps {
		if err := r.WaitReady(rctx); err != nil {
			return nil, err
		}
	}
	time.Sleep(time.Second) // let start-up queries settle

	var out []result
	for _, phase := range []string{"new", "304"} {
		r, err := phaseRun(ctx, db, reps, wcs, fs, phase)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// phaseRun makes every source due and waits until each has a poll stored
// after that moment.
func phaseRun(ctx context.Context, db *sql.DB, reps []*replicas.Replica, wcs []*replicas.WireCounter, fs *replicas.FeedServer, phase string) (result, error) {
	res := result{replicas: len(reps), phase: phase, feeds: fs.N}
	stmts0 := make([]int64, len(wcs))
	conns0 := make([]int64, len(wcs))
	kinds0 := make([]map[string]int64, len(wcs))
	for i, w := range wcs {
		stmts0[i], conns0[i], kinds0[i] = w.Statements(), w.Conns(), w.Kinds()
	}
	cpu0 := make([]time.Duration, len(reps))
	for i, r := range reps {
		cpu0[i] = cpuTime(r.Pid)
	}
	reqs0 := len(fs.Requests())
	start := time.Now()
	if _, err := db.ExecContext(ctx, "UPDATE sources SET next_due = 0"); err != nil {
		return res, err
	}
	deadline := start.Add(5 * time.Minute)
	for {
		var done int
		if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM sources WHERE last_attempt >= $1", start.UnixMilli()).Scan(&done); err != nil {
			return res, err
		}
		if done == fs.N {
			break
		}
		if time.Now().After(deadline) {
			return res, fmt.Errorf("%s: %d of %d feeds polled after 5 minutes", phase, done, fs.N)
		}
		for _, r := range reps {
			if r.Exited() {
				return res, fmt.Errorf("replica %s exited:\n%s", r.Name, r.Tail())
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	res.took = time.Since(start)
	res.kinds = map[string]int64{}
	for i, w := range wcs {
		res.stmts += w.Statements() - stmts0[i]
		res.conns += w.Conns() - conns0[i]
		for k, v := range w.Kinds() {
			if d := v - kinds0[i][k]; d > 0 {
				res.kinds[k] += d
			}
		}
	}
	for i, r := range reps {
		res.cpu += cpuTime(r.Pid) - cpu0[i]
	}
	by := map[string]int{}
	for _, q := range fs.Requests()[reqs0:] {
		by[q.Agent]++
	}
	for _, r := range reps {
		res.share = append(res.share, by[r.Agent])
	}
	return res, nil
}

// cpuTime is a process's user and system time so far, from /proc (zero
// where there is none).
func cpuTime(pid int) time.Duration {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0
	}
	// Fields after the command name, which is in parentheses.
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 {
		s = s[i+1:]
	}
	f := strings.Fields(s)
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	const hz = 100 // USER_HZ on Linux
	return time.Duration(ut+st) * time.Second / hz
}

func median(rs []result) result {
	sort.Slice(rs, func(i, j int) bool { return rs[i].perSecond() < rs[j].perSecond() })
	return rs[len(rs)/2]
}

func printTable(counts []int, all map[string][]result, n, workers int) {
	fmt.Printf("\nbroadsheet replicas on one PostgreSQL: %d feeds on loopback, fetch.workers %d, %d cores\n", n, workers, numCPU())
	fmt.Printf("each row: every feed due at once, until all have a stored poll; ratios against 1 replica of the same phase\n\n")
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "replicas\tphase\tseconds\tfeeds/s\tratio\tstatements/feed\tratio\tcpu ms/feed\tratio\tconnections\tpolls by replica\t")
	for _, phase := range []string{"new", "304"} {
		base, ok := all[fmt.Sprintf("%d/%s", 1, phase)]
		var b result
		if ok {
			b = median(base)
		}
		for _, k := range counts {
			rs := all[fmt.Sprintf("%d/%s", k, phase)]
			if len(rs) == 0 {
				continue
			}
			r := median(rs)
			ratio := func(x, y float64) string {
				if !ok || y == 0 {
					return "-"
				}
				return fmt.Sprintf("%.2f", x/y)
			}
			share := make([]string, len(r.share))
			for i, s := range r.share {
				share[i] = strconv.Itoa(s)
			}
			fmt.Fprintf(tw, "%d\t%s\t%.2f\t%.0f\t%s\t%.1f\t%s\t%.2f\t%s\t%d\t%s\t\n", k, phase, r.took.Seconds(), r.perSecond(),
				ratio(r.perSecond(), b.perSecond()), r.stmtsPerFeed(), ratio(r.stmtsPerFeed(), b.stmtsPerFeed()),
				float64(r.cpuPerFeed())/float64(time.Millisecond), ratio(float64(r.cpuPerFeed()), float64(b.cpuPerFeed())),
				r.conns, strings.Join(share, "/"))
		}
	}
	tw.Flush()

	// Where the statements go, for each count's median run.
	for _, phase := range []string{"new", "304"} {
		fmt.Printf("\nstatements per polled feed, phase %s, by kind (first words):\n", phase)
		tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
		header := "statement"
		var meds []result
		for _, k := range counts {
			rs := all[fmt.Sprintf("%d/%s", k, phase)]
			if len(rs) == 0 {
				continue
			}
			meds = append(meds, median(rs))
			header += fmt.Sprintf("\t%d replica(s)", k)
		}
		fmt.Fprintln(tw, header+"\t")
		var keys []string
		seen := map[string]bool{}
		for _, r := range meds {
			for k := range r.kinds {
				if !seen[k] {
					seen[k] = true
					keys = append(keys, k)
				}
			}
		}
		total := func(k string) (n int64) {
			for _, r := range meds {
				n += r.kinds[k]
			}
			return n
		}
		sort.Slice(keys, func(i, j int) bool {
			if a, b := total(keys[i]), total(keys[j]); a != b {
				return a > b
			}
			return keys[i] < keys[j]
		})
		for _, k := range keys {
			line := k
			if line == "" {
				line = "(unknown)"
			}
			for _, r := range meds {
				line += fmt.Sprintf("\t%.2f", float64(r.kinds[k])/float64(r.feeds))
			}
			fmt.Fprintln(tw, line+"\t")
		}
		tw.Flush()
	}
}

func numCPU() int {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return 0
	}
	return strings.Count(string(b), "\nprocessor") + 1
}
