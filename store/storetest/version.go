package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/broadsheet/broadsheet/feeds"
	"github.com/broadsheet/broadsheet/store"
)

// DataVersioner is the optional change stamp that publish polls to notice
// other replicas' writes; *sqldb.DB implements it.
type DataVersioner interface {
	DataVersion(ctx context.Context) (string, error)
}

// RunDataVersion checks a backend's DataVersion: stable while nothing
// changes (a 304 poll, or one whose articles are all unchanged), different
// after a new article, after an update with a newer Updated date and after
// an edit that keeps the Updated date, and the same through a second handle
// on the same database, as another replica sees it. open is as for Run.
func RunDataVersion(t *testing.T, open func(t *testing.T) store.Store) {
	ctx := t.Context()
	clk := &clock{now: base}
	st := open(t)
	if c, ok := st.(Clocked); ok {
		c.SetNow(clk.Now)
	}
	dv, ok := st.(DataVersioner)
	if !ok {
		t.Fatalf("store %T does not implement DataVersion", st)
	}
	other, ok := open(t).(DataVersioner)
	if !ok {
		t.Fatal("second handle does not implement DataVersion")
	}
	version := func(v DataVersioner) string {
		t.Helper()
		s, err := v.DataVersion(ctx)
		if err != nil {
			t.Fatalf("DataVersion: %v", err)
		}
		return s
	}
	save := func(arts ...feeds.Article) {
		t.Helper()
		if _, err := st.SavePoll(ctx, feeds.Poll{State: stateOf("Alpha", clk.Now()), Articles: arts}); err != nil {
			t.Fatalf("SavePoll: %v", err)
		}
	}
	if err := st.SyncSources(ctx, []feeds.Source{src("Alpha")}); err != nil {
		t.Fatalf("SyncSources: %v", err)
	}

	empty := version(dv)
	if got := version(dv); got != empty {
		t.Errorf("DataVersion changed without a write: got %q, want %q", got, empty)
	}

	a := art("Alpha", 1, base.Add(-time.Hour))
	clk.Set(base.Add(time.Minute))
	save(a)
	one := version(dv)
	if one == empty {
		t.Errorf("DataVersion after a new article = %q, same as before", one)
	}
	if got := version(other); got != one {
		t.Errorf("DataVersion through another handle = %q, want %q", got, one)
	}

	clk.Set(base.Add(2 * time.Minute))
	save() // a poll that found nothing new, as after a 304
	if got := version(dv); got != one {
		t.Errorf("DataVersion after an empty poll = %q, want %q", got, one)
	}

	save(a) // the same article again, unchanged
	if got := version(dv); got != one {
		t.Errorf("DataVersion after a poll of unchanged articles = %q, want %q", got, one)
	}

	edited := a
	edited.Title += " (edited)"
	edited.Updated = a.Updated.Add(time.Hour)
	edited = withIDs(edited)
	save(edited)
	two := version(dv)
	if two == one {
		t.Errorf("DataVersion after an update with a newer date = %q, unchanged", two)
	}

	// Feeds often fix a typo without touching the date.
	same := edited
	same.Summary += " Corrected."
	same = withIDs(same)
	save(same)
	three := version(dv)
	if three == two || three == one {
		t.Errorf("DataVersion after an edit with the same Updated date = %q, want one not seen before (%q, %q)", three, one, two)
	}
	if got := version(other); got != three {
		t.Errorf("DataVersion of the edit through another handle = %q, want %q", got, three)
	}
}
