package main

import (
	"strings"
	"testing"

	"github.com/broadsheet/broadsheet/feeds"
)

// TestPrintFetchTable_Skipped: a source with unreadable items says so in
// its row, and still counts as ok.
func TestPrintFetchTable_Skipped(t *testing.T) {
	var b strings.Builder
	failed := printFetchTable(&b, []feeds.Report{
		{Source: "json", Status: 200, New: 3, Skipped: 1},
		{Source: "plain", Status: 200, New: 2},
	})
	out := b.String()
	if failed != 0 {
		t.Errorf("failed = %d, want 0", failed)
	}
	var row string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "json ") {
			row = l
		}
	}
	if !strings.Contains(row, "ok; 1 item unreadable, skipped (see the log)") {
		t.Errorf("json row = %q, want it to report the skipped item\n%s", row, out)
	}
	if strings.Count(out, "skipped") != 1 {
		t.Errorf("only one row should mention skipped items:\n%s", out)
	}
}
