package topics

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/kljensen/snowball/english"
	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// tokenKind tells words, numbers and CJK runs apart.
type tokenKind uint8

const (
	kindWord tokenKind = iota
	kindNumber
	kindCJK // a run of Han, Hangul, Hiragana or Katakana characters
)

// token is one word of a text: its folded form plus what its original
// spelling said about it.
type token struct {
	text  string // case-folded, accents stripped
	kind  tokenKind
	upper bool // first letter was upper case, or a later one ("iPhone")
	caps  bool // every letter was upper case, and there were at least two
	camel bool // a capital inside a mixed-case word: "deGrasse", "McDonald", "iPhone"
	start bool // first word of the text or of a sentence or clause
	brk   bool // punctuation other than a hyphen comes before it: names end there
	poss  bool // a possessive "'s" was dropped from it: a name ends there
	abbr  bool // a capital initial with its dot ("N." of "N. Korea"): the name goes on
}

// stripMarks decomposes s (NFKD, which also folds compatibility forms such
// as full-width letters and ligatures), drops the combining marks that carry
// accents and recomposes it (NFC, which puts Hangul syllables back
// together). Kana voicing marks are kept: they change the sound, not just
// the accent. Case is left alone.
func stripMarks(s string) string {
	if isASCII(s) {
		return s
	}
	d := norm.NFKD.String(s)
	var b strings.Builder
	b.Grow(len(d))
	var prev rune
	for _, r := range d {
		if unicode.Is(unicode.Mn, r) && !isKana(prev) {
			continue
		}
		b.WriteRune(r)
		if !unicode.Is(unicode.Mn, r) {
			prev = r
		}
	}
	return norm.NFC.String(b.String())
}

// fold returns s with accents stripped and case folded, the form every
// comparison in this package uses.
func fold(s string) string {
	s = stripMarks(s)
	if isASCII(s) {
		return strings.ToLower(s)
	}
	return cases.Fold().String(s)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func isKana(r rune) bool {
	return unicode.In(r, unicode.Hiragana, unicode.Katakana)
}

// isCJK reports runes written without spaces between words, which are
// compared by character bigrams rather than words. Hangul is included:
// Korean separates words with spaces but glues particles to them.
func isCJK(r rune) bool {
	if r < 0x1100 {
		return false
	}
	return r == 'ー' || r == '々' || unicode.In(r, unicode.Han, unicode.Hangul, unicode.Hiragana, unicode.Katakana)
}

func isWordRune(r rune) bool {
	return (unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mc, r)) && !isCJK(r)
}

func isApostrophe(r rune) bool { return r == '\'' || r == '’' || r == 'ʼ' }

// tokenize splits s into words, numbers and CJK runs. It joins dotted
// acronyms ("U.S." is one word "us"), drops possessive "'s", keeps digit
// groups together ("3.5", "37,000" becomes "37000") and marks sentence
// starts so that capitalization can be read as a sign of a name.
func tokenize(s string) []token {
	rs := []rune(stripMarks(s))
	toks := make([]token, 0, len(rs)/5+1)
	start, brk := true, true
	for i := 0; i < len(rs); {
		r := rs[i]
		switch {
		case isCJK(r):
			j := i + 1
			for j < len(rs) && isCJK(rs[j]) {
				j++
			}
			toks = append(toks, token{text: string(rs[i:j]), kind: kindCJK, start: start, brk: brk})
			start, brk = false, false
			i = j
		case isWordRune(r):
			if acr, next := dottedAcronym(rs, i); acr != "" {
				toks = append(toks, token{text: fold(acr), upper: true, caps: true, start: start, brk: brk})
				start, brk = false, false
				i = next
				continue
			}
			j := i + 1
			for j < len(rs) {
				c := rs[j]
				if isWordRune(c) {
					j++
					continue
				}
				if isApostrophe(c) && j+1 < len(rs) && isWordRune(rs[j+1]) {
					j++
					continue
				}
				if (c == '.' || c == ',') && unicode.IsDigit(rs[j-1]) && j+1 < len(rs) && unicode.IsDigit(rs[j+1]) {
					j++
					continue
				}
				break
			}
			if t, ok := makeToken(rs[i:j]); ok {
				t.start, t.brk = start, brk
				if isInitial(rs, i, j) {
					// "N. Korea": the dot abbreviates, it ends no sentence.
					t.abbr = true
					j++
				}
				toks = append(toks, t)
				start, brk = false, false
			}
			i = j
		default:
			if r != '-' && !unicode.IsSpace(r) {
				brk = true
			}
			switch r {
			case '.', '!', '?', ':', ';', '|', '—', '–', '\n', '•', '·':
				start = true
			case '-':
				// A spaced hyphen separates clauses; one inside a word does not.
				if i > 0 && unicode.IsSpace(rs[i-1]) {
					start = true
				}
			}
			i++
		}
	}
	return toks
}

// isInitial reports a single capital letter rs[i:j] followed by a dot, a
// space and another capital: an initial of a name ("N. Korea", "John F.
// Kennedy"), not the end of a sentence.
func isInitial(rs []rune, i, j int) bool {
	return j == i+1 && unicode.IsUpper(rs[i]) && j+2 < len(rs) && rs[j] == '.' && rs[j+1] == ' ' && unicode.IsUpper(rs[j+2])
}

// dottedAcronym reads single letters followed by dots ("U.S.", "U.K")
// starting at i and returns them joined, with the index after them, or ""
// when there are fewer than two.
func dottedAcronym(rs []rune, i int) (string, int) {
	var b []rune
	k := i
	for k < len(rs) && unicode.IsLetter(rs[k]) && !isCJK(rs[k]) && (k+1 == len(rs) || !isWordRune(rs[k+1])) {
		b = append(b, rs[k])
		if k+1 < len(rs) && rs[k+1] == '.' && k+2 < len(rs) && unicode.IsLetter(rs[k+2]) {
			k += 2
			continue
		}
		if k+1 < len(rs) && rs[k+1] == '.' {
			k += 2
		} else {
			k++
		}
		break
	}
	if len(b) < 2 {
		return "", i
	}
	return string(b), k
}

// makeToken builds the token for a word's runes, dropping a possessive
// "'s" and any other apostrophe.
func makeToken(w []rune) (token, bool) {
	var t token
	if n := len(w); n >= 2 && (w[n-1] == 's' || w[n-1] == 'S') && isApostrophe(w[n-2]) {
		w = w[:n-2]
		t.poss = true
	}
	digits, letters, uppers := 0, 0, 0
	clean := make([]rune, 0, len(w))
	for _, r := range w {
		switch {
		case isApostrophe(r), r == ',':
			continue
		case unicode.IsDigit(r):
			digits++
		case unicode.IsLetter(r):
			letters++
			if unicode.IsUpper(r) || unicode.IsTitle(r) {
				uppers++
			}
		}
		clean = append(clean, r)
	}
	if len(clean) == 0 {
		return t, false
	}
	t.text = fold(string(clean))
	if letters == 0 && digits > 0 {
		t.kind = kindNumber
	}
	// A capital inside a word marks a name too: "deGrasse", "iPhone".
	t.upper = uppers > 0 && (unicode.IsUpper(clean[0]) || unicode.IsTitle(clean[0]) || unicode.IsLower(clean[0]))
	t.caps = letters >= 2 && uppers == letters
	t.camel = !t.caps && (uppers >= 2 || uppers == 1 && unicode.IsLower(clean[0]))
	return t, true
}

// stem reduces a folded Latin-script word to its Snowball English stem and
// leaves other scripts as they are.
func stem(w string) string {
	if !isASCII(w) {
		for _, r := range w {
			if r >= 0x250 { // beyond Latin Extended-B: not English
				return w
			}
		}
	}
	return english.Stem(w, true)
}

// cjkGrams returns the character bigrams of a CJK run, or the run itself
// when it is a single character.
func cjkGrams(s string) []string {
	rs := []rune(s)
	if len(rs) == 1 {
		return []string{s}
	}
	out := make([]string, 0, len(rs)-1)
	for i := 0; i+1 < len(rs); i++ {
		out = append(out, string(rs[i:i+2]))
	}
	return out
}
