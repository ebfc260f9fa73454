package main

import (
	"bytes"
	"io"
	"strings"

	"github.com/broadsheet/broadsheet/sanitize"
)

// table lines up tab-separated cells as text/tabwriter does (a cell ends
// at a tab; a line's last, unterminated cell is not aligned; a column
// block is a run of lines that have that cell), but measures cells in
// terminal columns (sanitize.Columns), so that Korean or Chinese names
// and titles, two columns a character, line up too: tabwriter counts
// runes.
type table struct {
	w   io.Writer
	buf bytes.Buffer
}

// tablePadding is the space between columns.
const tablePadding = 2

func newTable(w io.Writer) *table { return &table{w: w} }

// Write buffers p until Flush.
func (t *table) Write(p []byte) (int, error) { return t.buf.Write(p) }

// Flush writes what was buffered, aligned, and empties the buffer.
func (t *table) Flush() error {
	text := t.buf.String()
	t.buf.Reset()
	if text == "" {
		return nil
	}
	trailing := strings.HasSuffix(text, "\n")
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	cells := make([][]string, len(lines))
	for i, l := range lines {
		cells[i] = strings.Split(l, "\t")
	}
	widths := make([][]int, len(lines)) // widths[i][j]: column j's width on line i
	for i := range cells {
		widths[i] = make([]int, len(cells[i])-1)
	}
	alignColumn(cells, widths, 0, len(cells), 0)
	var b strings.Builder
	for i, cs := range cells {
		for j, c := range cs {
			b.WriteString(c)
			if j < len(cs)-1 {
				b.WriteString(strings.Repeat(" ", widths[i][j]-sanitize.Columns(c)))
			}
		}
		if i < len(cells)-1 || trailing {
			b.WriteByte('\n')
		}
	}
	_, err := io.WriteString(t.w, b.String())
	return err
}

// alignColumn sets column col's width for each block of consecutive
// lines in [from, to) that have a terminated cell col, then aligns the
// next column within each block.
func alignColumn(cells [][]string, widths [][]int, from, to, col int) {
	for i := from; i < to; {
		if col >= len(cells[i])-1 {
			i++
			continue
		}
		start, w := i, 0
		for ; i < to && col < len(cells[i])-1; i++ {
			w = max(w, sanitize.Columns(cells[i][col]))
		}
		for k := start; k < i; k++ {
			widths[k][col] = w + tablePadding
		}
		alignColumn(cells, widths, start, i, col+1)
	}
}
