package main

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"text/tabwriter"

	"github.com/broadsheet/broadsheet/sanitize"
)

func TestTable_Flush(t *testing.T) {
	t.Run("LikeTabwriter", func(t *testing.T) {
		// ASCII only: the same output as text/tabwriter with the options
		// the commands used, blocks and ragged lines included.
		in := "SOURCE\tITEMS\tRESULT\nYonhap\t3\tok\nThe Korea Herald\t12\tfailed: 404\n\nsummary line\nA\tB\n"
		var got, want bytes.Buffer
		tb := newTable(&got)
		fmt.Fprint(tb, in)
		if err := tb.Flush(); err != nil {
			t.Fatal(err)
		}
		tw := tabwriter.NewWriter(&want, 0, 4, 2, ' ', 0)
		fmt.Fprint(tw, in)
		tw.Flush()
		if got.String() != want.String() {
			t.Errorf("got\n%s\nwant\n%s", got.String(), want.String())
		}
	})
	t.Run("WideRunes", func(t *testing.T) {
		var b bytes.Buffer
		tb := newTable(&b)
		fmt.Fprint(tb, "SOURCE\tNEW\tRESULT\n한겨레\t3\tok\nYonhap\t12\tok\n中央日報 Daily\t1\tok\n")
		if err := tb.Flush(); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
		if len(lines) != 4 {
			t.Fatalf("%d lines, want 4:\n%s", len(lines), b.String())
		}
		// Every line's second and third cells start at the same column.
		var at []int
		for _, l := range lines {
			i := strings.IndexAny(l, "0123456789N")
			at = append(at, sanitize.Columns(l[:i]))
		}
		for i, c := range at {
			if c != at[0] {
				t.Errorf("line %d: second cell at column %d, want %d (as the header)\n%s", i, c, at[0], b.String())
			}
		}
		if at[0] != sanitize.Columns("中央日報 Daily")+2 {
			t.Errorf("second column at %d, want the widest name's %d columns + 2", at[0], sanitize.Columns("中央日報 Daily"))
		}
	})
}
