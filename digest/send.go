package digest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/broadsheet/broadsheet/feeds"
	"github.com/broadsheet/broadsheet/store"
	"github.com/broadsheet/broadsheet/topics"
)

// Report says what one run of a digest did.
type Report struct {
	Digest string
	Period time.Time // zero for Resume

	Planned      int // deliveries this run planned, empty ones included
	Empty        int // planned with nothing to send, and not sent
	Already      int // recipients whose period was planned before (an earlier run, or a replica)
	Unsubscribed int // recipients skipped because they unsubscribed

	// Results has one entry per delivery this run attempted, in order of
	// first attempt, with the outcome of its last attempt.
	Results []Result
	// Busy counts deliveries that another process was sending when the run
	// ended.
	Busy int
}

// Result is the outcome of one delivery in a run.
type Result struct {
	Recipient string
	Period    time.Time
	State     store.DeliveryState // sent, retry, failed or cancelled
	Attempts  int                 // in this run
	Err       error               // the last error; nil once sent
}

// Count returns how many results are in state st.
func (r *Report) Count(st store.DeliveryState) int {
	n := 0
	for _, x := range r.Results {
		if x.State == st {
			n++
		}
	}
	return n
}

// Send plans d's digest for period for every recipient that has none for
// this period or a later one, then delivers everything of d that is due,
// earlier periods' retries included. It returns when nothing more can be
// done in this run: all sent, or failed, or left for a later run after
// MaxAttempts temporary failures. The error is for the run as a whole
// (the store, the templates, or the mail server failing again and again);
// failures of single deliveries are in the Report.
func (s *Service) Send(ctx context.Context, d Digest, period time.Time) (*Report, error) {
	if s.mailer == nil {
		return nil, errors.New("digest: no mailer")
	}
	rep := &Report{Digest: d.Name, Period: period}
	if err := s.plan(ctx, d, period, rep); err != nil {
		return rep, err
	}
	return rep, s.deliver(ctx, d, rep)
}

// Resume delivers what of d is due without planning a new period: pending
// deliveries of a run that was interrupted, and retries that are due.
// Run it every few minutes so that temporary failures don't wait for the
// next period.
func (s *Service) Resume(ctx context.Context, d Digest) (*Report, error) {
	if s.mailer == nil {
		return nil, errors.New("digest: no mailer")
	}
	rep := &Report{Digest: d.Name}
	return rep, s.deliver(ctx, d, rep)
}

// CatchUp sends the digest of period tick, the latest time at or before
// now that d's schedule fires, if it is missing because broadsheet was down
// at the time, and resumes d's unfinished deliveries in any case. It plans
// nothing for a digest never sent (its first digest waits for its
// schedule) or for a zero tick. A period planned already is never planned
// again, so a catch-up repeated, or racing the scheduled run or another
// replica, sends nothing twice.
func (s *Service) CatchUp(ctx context.Context, d Digest, tick time.Time) (*Report, error) {
	if !tick.IsZero() {
		last, err := s.st.Deliveries(ctx, store.DeliveryFilter{Digest: d.Name, Limit: 1})
		if err != nil {
			return nil, fmt.Errorf("digest %q: %w", d.Name, err)
		}
		if len(last) > 0 && last[0].Period.Before(tick) {
			s.o.Logger.Info("digest missed while broadsheet was down: sending it now", "digest", d.Name, "period", tick)
			return s.Send(ctx, d, tick)
		}
	}
	return s.Resume(ctx, d)
}

// plan records a delivery of period for each recipient that needs one.
func (s *Service) plan(ctx context.Context, d Digest, period time.Time, rep *Report) error {
	rcpts, err := recipients(d)
	if err != nil {
		return err
	}
	unsub, err := s.unsubscribed(ctx, d.Name)
	if err != nil {
		return err
	}
	period = time.UnixMilli(period.UnixMilli()).UTC()
	now := s.o.Now()
	until, err := s.horizon(ctx, now)
	if err != nil {
		return fmt.Errorf("digest %q: %w", d.Name, err)
	}
	type choice struct {
		l   layout
		enc string
	}
	// Recipients usually share a window; choose once per window.
	chosen := map[int64]choice{}
	for _, r := range rcpts {
		if unsub[r.addr] {
			rep.Unsubscribed++
			continue
		}
		cur, err := s.st.DigestCursor(ctx, d.Name, r.addr)
		if err != nil {
			return fmt.Errorf("digest %q: %w", d.Name, err)
		}
		if !cur.LastPeriod.IsZero() && !cur.LastPeriod.Before(period) {
			rep.Already++
			continue
		}
		since, refused, err := s.windowStart(ctx, d.Name, r.addr, cur, now)
		if err != nil {
			return err
		}
		if refused != nil {
			s.o.Logger.Warn("the mail server refused this recipient's last digest for good: its items are not offered again; this digest holds only what came after",
				"digest", d.Name, "recipient", r.addr, "refused_period", refused.Period, "refused_error", refused.LastError, "since", since)
		}
		if since.After(until) {
			since = until
		}
		c, ok := chosen[since.UnixMilli()]
		if !ok {
			l, err := s.choose(ctx, d, since, until, now)
			if err != nil {
				return err
			}
			enc, err := l.encode()
			if err != nil {
				return err
			}
			c = choice{l, enc}
			chosen[since.UnixMilli()] = c
		}
		state := store.DeliveryPending
		if c.l.empty() && !d.SendEmpty {
			state = store.DeliveryEmpty
		}
		ok, err = s.st.PlanDelivery(ctx, store.Delivery{
			DeliveryKey: store.DeliveryKey{Digest: d.Name, Recipient: r.addr, Period: period},
			SeenSince:   since,
			SeenBefore:  until,
			Created:     now,
			State:       state,
			Articles:    c.l.ids(),
			Layout:      c.enc,
			MessageID:   s.messageID(d.Name, r.addr, period),
		})
		if err != nil {
			return fmt.Errorf("digest %q: plan for %s: %w", d.Name, r.addr, err)
		}
		if !ok {
			rep.Already++
			continue
		}
		rep.Planned++
		if state == store.DeliveryEmpty {
			rep.Empty++
			s.o.Logger.Info("digest empty, not sent", "digest", d.Name, "recipient", r.addr, "period", period)
		}
	}
	return nil
}

// windowStart is where a recipient's next window starts: where the last
// digest sent, or still to be sent, ends (the cursor; FirstWindow back from
// now for the first); or later, where a digest ends that the mail server
// refused for good for its content or its recipient (SendError.Refused).
// Offering that digest's items again would have them refused again, period
// after period, holding back everything newer. refused is that delivery,
// when it moved the start.
func (s *Service) windowStart(ctx context.Context, digest, addr string, cur store.DigestCursor, now time.Time) (since time.Time, refused *store.Delivery, err error) {
	since = cur.CoveredUntil
	if since.IsZero() {
		since = now.Add(-s.o.FirstWindow)
	}
	if cur.LastPeriod.IsZero() {
		return since, nil, nil
	}
	// The latest failed delivery is enough: one planned after a refusal
	// starts where the refused one ended (its SeenSince), so a later
	// failure of another kind (given up after temporary failures, whose
	// items are offered again) keeps the refused items out too.
	last, err := s.st.Deliveries(ctx, store.DeliveryFilter{Digest: digest, Recipient: addr,
		States: []store.DeliveryState{store.DeliveryFailed}, Limit: 1})
	if err != nil {
		return time.Time{}, nil, fmt.Errorf("digest %q: %w", digest, err)
	}
	if len(last) == 0 {
		return since, nil, nil
	}
	f := last[0]
	start := f.SeenSince
	if strings.HasPrefix(f.LastError, refusedPrefix) {
		start, refused = f.SeenBefore, &f
	}
	if !start.After(since) {
		return since, nil, nil
	}
	if start.After(now) {
		start = now
	}
	return start, refused, nil
}

// seenHorizoner is the store's optional barrier for windows of first-seen
// times (sqldb's SeenHorizon).
type seenHorizoner interface {
	SeenHorizon(ctx context.Context, now time.Time) (time.Time, error)
}

// horizon is where the windows planned at now end: now itself, or, on a
// store shared by concurrent writers, the store's horizon, before which
// every article is committed. Without it, an article stamped just before
// now by a poll that commits just after would be in neither this digest nor
// the next, which starts where this one ends.
func (s *Service) horizon(ctx context.Context, now time.Time) (time.Time, error) {
	hz, ok := s.st.(seenHorizoner)
	if !ok {
		return now, nil
	}
	h, err := hz.SeenHorizon(ctx, now)
	if err != nil {
		return time.Time{}, err
	}
	if h.After(now) {
		h = now
	}
	return h, nil
}

func (s *Service) unsubscribed(ctx context.Context, digest string) (map[string]bool, error) {
	list, err := s.st.Unsubscribed(ctx, digest)
	if err != nil {
		return nil, fmt.Errorf("digest %q: %w", digest, err)
	}
	m := make(map[string]bool, len(list))
	for _, a := range list {
		m[NormalizeAddress(a)] = true
	}
	return m, nil
}

// deliver claims and sends d's due deliveries one at a time, over one
// connection, until none is due or will be due within this run.
func (s *Service) deliver(ctx context.Context, d Digest, rep *Report) (err error) {
	rcpts, err := recipients(d)
	if err != nil {
		return err
	}
	display := map[string]string{}
	for _, r := range rcpts {
		display[r.addr] = r.display
	}
	unsub, err := s.unsubscribed(ctx, d.Name)
	if err != nil {
		return err
	}
	r := &run{s: s, d: d, rep: rep, tries: map[store.DeliveryKey]int{}, index: map[store.DeliveryKey]int{},
		handed: map[store.DeliveryKey]bool{}, layouts: map[string][]topics.Group{}}
	defer func() {
		if r.conn != nil {
			if cerr := r.conn.Close(); cerr != nil {
				s.o.Logger.Debug("close mail connection", "err", cerr)
			}
		}
	}()
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		now := s.o.Now()
		del, err := s.st.ClaimDelivery(ctx, d.Name, s.o.Owner, now, s.o.Lease)
		if errors.Is(err, feeds.ErrNotFound) {
			wait, ok, err := r.nextWake(ctx, now)
			if err != nil || !ok {
				return err
			}
			if err := s.o.Sleep(ctx, wait); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return fmt.Errorf("digest %q: claim: %w", d.Name, err)
		}
		name, known := display[del.Recipient]
		switch {
		case r.handed[del.DeliveryKey]:
			// Sent in this run, but recording it failed and its lease
			// lapsed: record it now rather than send it again.
			r.finish(del, store.DeliverySent, nil)
			continue
		case !known:
			r.finish(del, store.DeliveryCancelled, errors.New("no longer a recipient of this digest"))
			continue
		case unsub[del.Recipient]:
			r.finish(del, store.DeliveryCancelled, errors.New("unsubscribed"))
			continue
		case now.Sub(del.Created) > s.o.GiveUp:
			last := del.LastError
			if last == "" {
				last = "none recorded"
			}
			r.finish(del, store.DeliveryFailed, fmt.Errorf("not delivered within %v of being planned; gave up (last error: %s)", s.o.GiveUp, last))
			continue
		}
		if err := r.send(ctx, del, name, now); err != nil {
			return err
		}
	}
}

// run is the state of one deliver loop.
type run struct {
	s      *Service
	d      Digest
	rep    *Report
	conn   Conn
	fails  int                        // consecutive failures to connect
	tries  map[store.DeliveryKey]int  // attempts in this run
	index  map[store.DeliveryKey]int  // into rep.Results
	handed map[store.DeliveryKey]bool // accepted by the mailer in this run
	limit  int64                      // a size limit learnt from the server's refusals, 0 if none
	// layouts caches decoded layouts: a run's deliveries mostly share one.
	layouts map[string][]topics.Group
}

// maxRefits bounds how often one attempt at a delivery is cut down further
// after the mail server refused it as too big.
const maxRefits = 8

// send renders one claimed delivery, within the mail server's size limit,
// hands it to the mailer and records the outcome. It returns an error only
// when the run should stop.
func (r *run) send(ctx context.Context, del store.Delivery, display string, now time.Time) error {
	s := r.s
	if r.conn == nil {
		c, err := s.mailer.Open(ctx)
		if err != nil {
			r.fails++
			r.temporary(del, now, fmt.Errorf("connect: %w", err))
			if r.fails >= s.o.MaxAttempts {
				return fmt.Errorf("digest %q: mail server unavailable after %d attempts: %w", r.d.Name, r.fails, err)
			}
			return nil
		}
		r.conn = c
	}
	sz, _ := r.conn.(Sizer)
	var budget int64
	if sz != nil {
		var err error
		if budget, err = sz.MaxSize(ctx); err != nil {
			_ = r.conn.Close()
			r.conn = nil
			r.temporary(del, now, fmt.Errorf("connect: %w", err))
			return nil
		}
	}
	if r.limit > 0 && (budget == 0 || r.limit < budget) {
		budget = r.limit
	}
	refused := int64(math.MaxInt64) // the size of the last message refused as too big
	for refit := 0; ; refit++ {
		msg, left, err := s.fit(ctx, r.d, del, display, r.layouts, sz, budget)
		if err != nil {
			r.retryAt(del, now.Add(s.o.RetryLater), err)
			return err
		}
		if left > 0 {
			s.o.Logger.Warn("digest cut down to the mail server's size limit", "digest", del.Digest,
				"recipient", del.Recipient, "period", del.Period, "limit_bytes", budget, "items_left_out", left)
		}
		// The send must end before the lease does, or another claimer could
		// send the same delivery while this one is still at it.
		sendCtx, cancel := context.WithTimeout(ctx, s.o.Lease*3/4)
		err = r.conn.Send(sendCtx, msg)
		cancel()
		if err != nil && tooBig(err) && sz != nil && refit < maxRefits {
			// The server's real limit is below what it advertised (or it
			// advertised none): cut the message to half the size refused,
			// so that one outsized item fails neither this delivery nor
			// every later one carrying it. The run's later deliveries start
			// from that size.
			size, serr := sz.Size(msg)
			if serr == nil && size < refused {
				refused, budget = size, size/2
				r.limit = budget
				s.o.Logger.Warn("digest refused as too big; cutting it down", "digest", del.Digest,
					"recipient", del.Recipient, "size_bytes", size, "err", err)
				continue
			}
		}
		r.outcome(del, err, now)
		return nil
	}
}

// outcome records how handing a delivery to the mailer ended.
func (r *run) outcome(del store.Delivery, err error, now time.Time) {
	switch {
	case err == nil:
		r.fails = 0
		r.tries[del.DeliveryKey]++
		r.handed[del.DeliveryKey] = true
		r.finish(del, store.DeliverySent, nil)
	case !IsTemporary(err):
		r.tries[del.DeliveryKey]++
		if se := (*SendError)(nil); errors.As(err, &se) && se.Refused {
			err = fmt.Errorf("%w (not retried; this recipient's next digest holds only newer items: the mail server's log says why it refused)", err)
		}
		r.finish(del, store.DeliveryFailed, err)
	default:
		// The connection may be broken: start afresh.
		_ = r.conn.Close()
		r.conn = nil
		r.temporary(del, now, err)
	}
}

// temporary records a temporary failure: due again after a backoff while
// this run has attempts left for it, else after RetryLater.
func (r *run) temporary(del store.Delivery, now time.Time, err error) {
	r.tries[del.DeliveryKey]++
	n := r.tries[del.DeliveryKey]
	next := now.Add(r.s.o.RetryLater)
	if n < r.s.o.MaxAttempts {
		next = now.Add(r.s.o.Backoff(n))
	}
	r.retryAt(del, next, err)
}

func (r *run) retryAt(del store.Delivery, next time.Time, err error) {
	r.record(del, store.DeliveryOutcome{State: store.DeliveryRetry, At: r.s.o.Now(), Error: err.Error(), NextAttempt: next}, err)
}

func (r *run) finish(del store.Delivery, st store.DeliveryState, err error) {
	o := store.DeliveryOutcome{State: st, At: r.s.o.Now()}
	if err != nil {
		o.Error = err.Error()
	}
	r.record(del, o, err)
}

// record stores an outcome and adds it to the report. It is not stopped by
// the run's context: a message handed over must be recorded as sent even
// while shutting down, or it would be sent again.
func (r *run) record(del store.Delivery, o store.DeliveryOutcome, cause error) {
	s := r.s
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	log := s.o.Logger.With("digest", del.Digest, "recipient", del.Recipient, "period", del.Period, "attempt", del.Attempts)
	if err := s.st.FinishDelivery(ctx, del.DeliveryKey, s.o.Owner, o); err != nil {
		if errors.Is(err, store.ErrLeaseLost) {
			log.Warn("digest delivery's lease lapsed before its outcome was recorded; another process may send it too", "state", o.State)
		} else {
			log.Error("record digest delivery", "state", o.State, "err", err)
		}
		if cause == nil {
			cause = err
		}
	}
	switch o.State {
	case store.DeliverySent:
		log.Info("digest sent", "message_id", del.MessageID)
	case store.DeliveryRetry:
		log.Warn("digest not delivered; will retry", "err", cause, "next_attempt", o.NextAttempt)
	case store.DeliveryFailed:
		log.Error("digest not delivered; will not retry", "err", cause)
	case store.DeliveryCancelled:
		log.Info("digest delivery cancelled", "reason", o.Error)
	}
	res := Result{Recipient: del.Recipient, Period: del.Period, State: o.State, Attempts: r.tries[del.DeliveryKey], Err: cause}
	if i, ok := r.index[del.DeliveryKey]; ok {
		r.rep.Results[i] = res
		return
	}
	r.index[del.DeliveryKey] = len(r.rep.Results)
	r.rep.Results = append(r.rep.Results, res)
}

// pollBusy is how often a run looks again at a delivery another process
// is sending.
const pollBusy = time.Second

// nextWake says how long to wait for the next delivery this run should
// still attempt: a retry with attempts left in this run, or one another
// process is sending (it may finish, or its lease lapse). ok is false when
// there is none, or it would come after the context's deadline.
func (r *run) nextWake(ctx context.Context, now time.Time) (wait time.Duration, ok bool, err error) {
	dels, err := r.s.st.Deliveries(ctx, store.DeliveryFilter{Digest: r.d.Name,
		States: []store.DeliveryState{store.DeliveryRetry, store.DeliverySending}})
	if err != nil {
		return 0, false, fmt.Errorf("digest %q: %w", r.d.Name, err)
	}
	var next time.Time
	busy := 0
	for _, del := range dels {
		var at time.Time
		switch del.State {
		case store.DeliveryRetry:
			if n := r.tries[del.DeliveryKey]; n == 0 || n >= r.s.o.MaxAttempts {
				continue
			}
			at = del.NextAttempt
		case store.DeliverySending:
			if del.Owner == r.s.o.Owner {
				// Ours, and its outcome could not be recorded: it is not
				// sent again in this run; a later run takes it over once
				// the lease lapses (see the package comment).
				continue
			}
			busy++
			at = del.LeaseUntil.Add(time.Millisecond) // a lease is over once it is in the past
			if poll := now.Add(pollBusy); poll.Before(at) {
				at = poll
			}
		}
		if next.IsZero() || at.Before(next) {
			next = at
		}
	}
	r.rep.Busy = busy
	if next.IsZero() {
		return 0, false, nil
	}
	if dl, has := ctx.Deadline(); has && next.After(dl) {
		return 0, false, nil
	}
	return max(0, next.Sub(now)), true, nil
}
