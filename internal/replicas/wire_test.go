package replicas

import (
	"net/url"
	"testing"
)

func TestWireCounter_Statements(t *testing.T) {
	dsn := testDSN(t)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	wc, err := NewWireCounter(u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer wc.Close()
	through, err := WithHostPort(dsn, wc.Addr())
	if err != nil {
		t.Fatal(err)
	}
	db, err := Open(through)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.PingContext(t.Context()); err != nil {
		t.Fatalf("ping through the counter: %v", err)
	}
	// pgx's database/sql driver pings a pooled connection (one more
	// statement) when it is reused after a second; warm it up first.
	if _, err := db.Exec("SELECT $1::int", 0); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		run  func() error
		want int64
	}{
		{"OneWithArgs", func() error { var n int; return db.QueryRow("SELECT $1::int", 7).Scan(&n) }, 1},
		{"FiveWithArgs", func() error {
			for i := range 5 {
				var n int
				if err := db.QueryRow("SELECT $1::int + 1", i).Scan(&n); err != nil {
					return err
				}
			}
			return nil
		}, 5},
		{"Transaction", func() error {
			tx, err := db.Begin()
			if err != nil {
				return err
			}
			if _, err := tx.Exec("SELECT $1::text", "x"); err != nil {
				return err
			}
			return tx.Commit()
		}, 3}, // begin, the statement, commit
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := wc.Statements()
			if err := tc.run(); err != nil {
				t.Fatal(err)
			}
			if got := wc.Statements() - before; got != tc.want {
				t.Errorf("counted %d statements, want %d", got, tc.want)
			}
		})
	}
	kinds := wc.Kinds()
	for q, want := range map[string]int64{"SELECT $1::int + 1": 5, "SELECT $1::text": 1} {
		if got := kinds[q]; got != want {
			t.Errorf("Kinds()[%q] = %d, want %d (all: %v)", q, got, want, kinds)
		}
	}
}
