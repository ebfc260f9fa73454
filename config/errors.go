package config

import (
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"
)

// Problem is one thing wrong with a configuration. Line and Col are 1-based
// and zero when the value did not come from a file (a Config built in code,
// or a value set by an environment variable). Key is the path of the key,
// such as "sources[2].url"; Msg says what is wrong and what to do.
type Problem struct {
	Line, Col int
	Key       string
	Msg       string
}

// String formats p as "line:col: key: msg", leaving out what is unknown.
func (p Problem) String() string {
	var b strings.Builder
	if p.Line > 0 {
		fmt.Fprintf(&b, "%d:%d: ", p.Line, p.Col)
	}
	if p.Key != "" {
		b.WriteString(p.Key)
		b.WriteString(": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// Error is every problem found in one configuration, sorted by position, so
// that a user can fix them all in one go. Load, Parse and Validate return
// it; a YAML syntax error is an Error too, whose Unwrap returns goccy's
// *yaml.SyntaxError.
type Error struct {
	File     string // the file name given to Load or Parse; empty for a Config built in code
	Problems []Problem
	cause    error
}

// Error prints one problem per line, each as
// "file:line:col: key: message".
func (e *Error) Error() string {
	var b strings.Builder
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteByte('\n')
		}
		if e.File != "" {
			b.WriteString(e.File)
			if p.Line > 0 {
				b.WriteByte(':')
			} else {
				b.WriteString(": ")
			}
		}
		b.WriteString(p.String())
	}
	return b.String()
}

// Unwrap returns the YAML syntax error behind e, if any.
func (e *Error) Unwrap() error { return e.cause }

// sortProblems orders problems by position; problems without one (values
// set in code or by the environment) keep their order and come last.
func sortProblems(ps []Problem) {
	sort.SliceStable(ps, func(i, j int) bool {
		a, b := ps[i], ps[j]
		if (a.Line == 0) != (b.Line == 0) {
			return a.Line != 0
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
}

// synonyms maps words people often write to the key broadsheet uses, for
// "did you mean" hints edit distance cannot find. A synonym is offered only
// where its target is a valid key.
var synonyms = map[string]string{
	"feeds":      "sources",
	"feed":       "url",
	"interval":   "schedule",
	"cron":       "schedule",
	"every":      "schedule",
	"database":   "storage",
	"db":         "storage",
	"mail":       "smtp",
	"email":      "smtp",
	"recipients": "to",
	"recipient":  "to",
	"type":       "kind",
	"link":       "url",
	"href":       "url",
	"address":    "listen",
	"addr":       "listen",
	"ssl":        "tls",
	"user":       "username",
	"pass":       "password",
	"sender":     "from",
	"keywords":   "any",
	"exclude":    "none",
	"not":        "none",
}

// suggest returns the valid key closest to key, or "" when none is close
// enough to be a likely typo.
func suggest(key string, valid []string) string {
	norm := func(s string) string {
		return strings.NewReplacer("_", "", "-", "", " ", "").Replace(strings.ToLower(s))
	}
	nk := norm(key)
	for _, v := range valid {
		if norm(v) == nk {
			return v
		}
	}
	if s, ok := synonyms[strings.ToLower(key)]; ok {
		for _, v := range valid {
			if v == s {
				return v
			}
		}
	}
	best, bestDist := "", -1
	for _, v := range valid {
		d := editDistance(strings.ToLower(key), v)
		if bestDist < 0 || d < bestDist {
			best, bestDist = v, d
		}
	}
	// Allow one edit per three letters, at least one: "sourcs" finds
	// "sources" but "foo" does not find "tls".
	limit := max(1, utf8.RuneCountInString(key)/3)
	if bestDist >= 0 && bestDist <= limit {
		return best
	}
	return ""
}

// editDistance is the optimal string alignment distance between a and b,
// in runes: insertions, deletions, substitutions and swaps of two
// neighbours each count one, so "nmae" is one edit from "name".
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}

// quoteList formats names as `"a", "b" or "c"`.
func quoteList(names []string, conj string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	switch len(q) {
	case 0:
		return ""
	case 1:
		return q[0]
	}
	return strings.Join(q[:len(q)-1], ", ") + " " + conj + " " + q[len(q)-1]
}
