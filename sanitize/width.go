package sanitize

import (
	"strings"

	"golang.org/x/text/width"
)

// Columns is how many monospaced columns s takes in a terminal or a
// plain-text mail reader (golang.org/x/text/width): East Asian wide and
// fullwidth runes (Hangul, CJK ideographs, fullwidth forms) take two, the
// rest one. Every output that lines text up in columns counts with it.
func Columns(s string) int {
	n := 0
	for _, r := range s {
		n += runeColumns(r)
	}
	return n
}

func runeColumns(r rune) int {
	switch width.LookupRune(r).Kind() {
	case width.EastAsianWide, width.EastAsianFullwidth:
		return 2
	}
	return 1
}

// ClipColumns shortens s to at most n columns (see Columns), ending in "…"
// when cut; a wide rune that would straddle the limit is left out whole.
func ClipColumns(s string, n int) string {
	if Columns(s) <= n {
		return s
	}
	if n <= 0 {
		return ""
	}
	var b strings.Builder
	used := 0
	for _, r := range s {
		c := runeColumns(r)
		if used+c > n-1 { // one column for the "…"
			break
		}
		b.WriteRune(r)
		used += c
	}
	return strings.TrimRight(b.String(), " ") + "…"
}
