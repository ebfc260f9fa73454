package sqldb

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/broadsheet/broadsheet/feeds"
)

// ErrClosed is returned by SavePoll after Close.
var ErrClosed = errors.New("store is closed")

// groupTimeout bounds one group's transaction. Its statements do not run
// under the callers' contexts: interrupting a statement would roll back the
// whole transaction, and with it the other polls of the group.
const groupTimeout = 2 * time.Minute

// group is the one writer that stores polls when group commits are on:
// each transaction takes every poll waiting, up to max, each in its own
// savepoint, and one commit (one fsync, one WAL sync) stores them all.
type group struct {
	max  int
	reqs chan *saveReq
	quit chan struct{}
	once sync.Once
	done sync.WaitGroup
}

type saveReq struct {
	ctx   context.Context
	p     feeds.Poll
	arts  []*feeds.Article
	rej   []feeds.Rejected // refused by pollArticles
	stats feeds.SaveStats
	err   error
	done  chan struct{}
}

// GroupCommits makes SavePoll store polls from one writer goroutine,
// several polls (up to max) to a transaction, instead of one transaction
// each. SavePoll still returns only once its poll is committed, and a poll
// that fails is rolled back alone (to its savepoint), so what is stored and
// what each call returns is as without grouping. For SQLite, whose writers
// queue on one lock anyway: it saves a commit per poll. Call it once,
// before use; Close stops the writer.
func (db *DB) GroupCommits(max int) {
	g := &group{max: max, reqs: make(chan *saveReq), quit: make(chan struct{})}
	db.group = g
	g.done.Add(1)
	go func() {
		defer g.done.Done()
		db.writer(g)
	}()
}

func (g *group) close() {
	g.once.Do(func() { close(g.quit) })
	g.done.Wait()
}

// savePollGrouped hands the poll to the writer and waits for its commit.
func (db *DB) savePollGrouped(ctx context.Context, p feeds.Poll, arts []*feeds.Article, rejected []feeds.Rejected) (feeds.SaveStats, error) {
	r := &saveReq{ctx: ctx, p: p, arts: arts, rej: rejected, done: make(chan struct{})}
	select {
	case db.group.reqs <- r:
	case <-ctx.Done():
		return feeds.SaveStats{}, ctx.Err()
	case <-db.group.quit:
		return feeds.SaveStats{}, ErrClosed
	}
	// Once taken, a poll is always answered: waiting here on ctx would
	// report a failure for a poll that may yet be committed.
	<-r.done
	return r.stats, r.err
}

func (db *DB) writer(g *group) {
	batch := make([]*saveReq, 0, g.max)
	for {
		batch = batch[:0]
		select {
		case r := <-g.reqs:
			batch = append(batch, r)
		case <-g.quit:
			return
		}
	more:
		for len(batch) < g.max {
			select {
			case r := <-g.reqs:
				batch = append(batch, r)
			default:
				break more
			}
		}
		db.commitGroup(batch)
		for _, r := range batch {
			close(r.done)
		}
	}
}

// commitGroup stores batch in one transaction, each poll in a savepoint,
// and sets every request's outcome. If the commit fails, every poll of the
// group fails with it: none is stored, and each is retried as a failed
// save is.
func (db *DB) commitGroup(batch []*saveReq) {
	ctx, cancel := context.WithTimeout(context.Background(), groupTimeout)
	defer cancel()
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		for _, r := range batch {
			r.err = err
		}
		return
	}
	// abort rolls everything back: every poll of the group fails.
	abort := func(err error) {
		_ = tx.Rollback()
		for _, r := range batch {
			r.stats = feeds.SaveStats{}
			if r.err == nil {
				r.err = err
			}
		}
	}
	for _, r := range batch {
		if err := r.ctx.Err(); err != nil {
			r.err = err
			continue
		}
		if _, err := tx.ExecContext(ctx, "SAVEPOINT poll"); err != nil {
			abort(err)
			return
		}
		r.stats, r.err = db.savePollTx(ctx, tx, r.p, r.arts, r.rej)
		end := "RELEASE SAVEPOINT poll"
		if r.err != nil {
			r.stats = feeds.SaveStats{}
			end = "ROLLBACK TO SAVEPOINT poll"
		}
		if _, err := tx.ExecContext(ctx, end); err != nil {
			abort(fmt.Errorf("%s: %w", end, err))
			return
		}
		if r.err != nil {
			// ROLLBACK TO leaves the savepoint open; close it.
			if _, err := tx.ExecContext(ctx, "RELEASE SAVEPOINT poll"); err != nil {
				abort(err)
				return
			}
		}
	}
	if err := tx.Commit(); err != nil {
		abort(err)
	}
}
