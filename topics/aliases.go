package topics

import (
	_ "embed"
	"strings"
)

//go:embed aliases.txt
var aliasesTxt string

// aliases maps the folded, stemmed words of a name (as a name run joins
// them: "n korea", "unit state", "pyongyang") to the words of the name it
// stands for ("north", "korea"), from aliases.txt.
var aliases = parseAliases(aliasesTxt)

// nameKey is the form of a name that runs of names produce: folded words,
// stemmed, joined by spaces.
func nameKey(name string) []string {
	var out []string
	for _, t := range tokenize(name) {
		out = append(out, stem(t.text))
	}
	return out
}

// parseAliases reads lines "canonical = alias, alias"; '#' starts a comment.
// It panics on a malformed line: the file is part of the program.
func parseAliases(txt string) map[string][]string {
	m := map[string][]string{}
	for n, line := range strings.Split(txt, "\n") {
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		if strings.TrimSpace(line) == "" {
			continue
		}
		canon, rest, ok := strings.Cut(line, "=")
		cw := nameKey(canon)
		if !ok || len(cw) == 0 {
			panic("topics: aliases.txt line " + itoa(n+1) + ": want \"name = alias, alias\"")
		}
		for _, a := range strings.Split(rest, ",") {
			if k := nameKey(a); len(k) > 0 {
				m[strings.Join(k, " ")] = cw
			}
		}
	}
	return m
}

func itoa(n int) string {
	var b []byte
	for ; n > 0 || len(b) == 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}
