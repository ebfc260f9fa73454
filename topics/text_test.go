package topics

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/broadsheet/broadsheet/feeds"
)

func TestFold(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"ASCII", "North KOREA", "north korea"},
		{"Accents", "Séoul Zürich Ñandú", "seoul zurich nandu"},
		{"SharpS", "Straße", "strasse"},
		{"FullWidth", "ＮＡＴＯ", "nato"},
		{"Ligature", "ﬁnance", "finance"},
		{"HangulKept", "북한 미국", "북한 미국"},
		{"KanaVoicingKept", "ガザ", "ガザ"},
		{"Greek", "Αθήνα", "αθηνα"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := fold(tt.in); got != tt.want {
				t.Errorf("fold(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestTokenize(t *testing.T) {
	type tok struct {
		Text  string
		Kind  tokenKind
		Caps  bool
		Start bool
	}
	tests := []struct {
		name string
		in   string
		want []tok
	}{
		{"DottedAcronym", "U.S. talks", []tok{{"us", kindWord, true, true}, {"talks", kindWord, false, false}}},
		{"Possessive", "Kim's envoy", []tok{{"kim", kindWord, false, true}, {"envoy", kindWord, false, false}}},
		{"CurlyPossessive", "Kim’s envoy", []tok{{"kim", kindWord, false, true}, {"envoy", kindWord, false, false}}},
		{"Numbers", "37,000 cars, 3.5% and 2026", []tok{
			{"37000", kindNumber, false, true}, {"cars", kindWord, false, false},
			{"3.5", kindNumber, false, false}, {"and", kindWord, false, false}, {"2026", kindNumber, false, false}}},
		{"SentenceStarts", "Talks fail: Kim leaves", []tok{
			{"talks", kindWord, false, true}, {"fail", kindWord, false, false},
			{"kim", kindWord, false, true}, {"leaves", kindWord, false, false}}},
		{"Hyphen", "Comcast-Time Warner", []tok{
			{"comcast", kindWord, false, true}, {"time", kindWord, false, false}, {"warner", kindWord, false, false}}},
		{"CJKRuns", "북한, 스톡홀름 협상", []tok{
			{"북한", kindCJK, false, true}, {"스톡홀름", kindCJK, false, false}, {"협상", kindCJK, false, false}}},
		{"MixedScripts", "Xbox 라이브", []tok{{"xbox", kindWord, false, true}, {"라이브", kindCJK, false, false}}},
		{"Acronym", "NATO meets", []tok{{"nato", kindWord, true, true}, {"meets", kindWord, false, false}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []tok
			for _, x := range tokenize(tt.in) {
				got = append(got, tok{x.text, x.kind, x.caps, x.start})
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("tokenize(%q)\n got %+v\nwant %+v", tt.in, got, tt.want)
			}
		})
	}
}

func TestStyleOf(t *testing.T) {
	tests := []struct {
		in   string
		want caseStyle
	}{
		{"North Korea walks away from talks with the US", sentenceCase},
		{"North Korea Walks Away From Talks With the US", titleCase},
		{"NORTH KOREA WALKS AWAY FROM TALKS", allCaps},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := styleOf(tokenize(tt.in)); got != tt.want {
				t.Errorf("styleOf = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestCJKGrams(t *testing.T) {
	if got, want := cjkGrams("스톡홀름"), []string{"스톡", "톡홀", "홀름"}; !reflect.DeepEqual(got, want) {
		t.Errorf("cjkGrams = %q, want %q", got, want)
	}
	if got, want := cjkGrams("北"), []string{"北"}; !reflect.DeepEqual(got, want) {
		t.Errorf("cjkGrams = %q, want %q", got, want)
	}
}

func TestSlugWords(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string
	}{
		{"Slug", "https://example.com/world/2019/10/05/north-korea-talks-collapse-in-stockholm.html",
			[]string{"north", "korea", "talks", "collapse", "in", "stockholm"}},
		{"NoSlug", "https://example.com/article/123456?id=7", nil},
		{"Underscores", "http://x.com/a/Edward_Snowden_speaks_at_SXSW", []string{"edward", "snowden", "speaks", "at", "sxsw"}},
		{"Empty", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := slugWords(tt.in); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("slugWords(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestStem(t *testing.T) {
	tests := []struct{ in, want string }{
		{"talks", "talk"},
		{"collapsed", "collaps"},
		{"korea", "korea"},
		{"αθηνα", "αθηνα"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := stem(tt.in); got != tt.want {
				t.Errorf("stem(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// noStats is a vocabulary that has seen nothing yet.
type noStats struct{}

func (noStats) capitalized(string) (int, int) { return 0, 0 }
func (noStats) stem(w string) string          { return stem(w) }

func TestAnalyze(t *testing.T) {
	p := defaultParams
	tests := []struct {
		name    string
		a       feeds.Article
		has     []string // terms present
		hasNot  []string // terms absent
		heavier [][2]string
		comp    []string // terms only seen as words of multi-word names
		notComp []string // terms seen on their own
		st      stats    // noStats when nil
	}{
		{
			name:    "NameRun",
			a:       feeds.Article{Title: "Talks with North Korea stall as Kim Jong Un leaves"},
			has:     []string{"north korea", "kim jong un", "north", "korea", "talk", "stall"},
			heavier: [][2]string{{"north korea", "north"}, {"kim jong un", "stall"}},
		},
		{
			name:    "FirstWordJoinsName",
			a:       feeds.Article{Title: "North Korea fires missile into the sea"},
			has:     []string{"north korea"},
			hasNot:  []string{"korea fire"},
			heavier: [][2]string{{"north korea", "missil"}},
		},
		{
			name:   "CommaEndsName",
			a:      feeds.Article{Title: "Tensions rise between South Korea, Japan over trade"},
			has:    []string{"south korea", "japan"},
			hasNot: []string{"south korea japan"},
		},
		{
			name:    "AcronymsKeptShoutingDropped",
			a:       feeds.Article{Title: "VIDEO: US envoy meets NATO chief"},
			has:     []string{"us", "nato"},
			hasNot:  []string{"video"},
			heavier: [][2]string{{"nato", "chief"}},
		},
		{
			name:    "NumbersAndYears",
			a:       feeds.Article{Title: "Chrysler recalls 37,000 vehicles in 2014"},
			has:     []string{"37000", "2014"},
			heavier: [][2]string{{"37000", "2014"}},
		},
		{
			name: "URLSlugAddsWeakWords",
			a: feeds.Article{Title: "Talks collapse",
				Link: "https://example.com/world/2019/talks-collapse-in-stockholm-after-eight-hours.html"},
			has:     []string{"stockholm", "eight", "hour"},
			heavier: [][2]string{{"collaps", "stockholm"}},
		},
		{
			name: "ExcerptAndCategories",
			a:    feeds.Article{Title: "Talks collapse", Excerpt: "Negotiators left Stockholm early.", Categories: []string{"Diplomacy"}},
			// The lede's terms are its own (see ledeMark).
			has:     []string{ledeMark + "negoti", ledeMark + "stockholm", "diplomaci"},
			hasNot:  []string{"negoti", "stockholm"},
			heavier: [][2]string{{"collaps", "diplomaci"}},
		},
		{
			name: "LedeNames",
			a:    feeds.Article{Title: "Talks collapse", Excerpt: "North Korea walked out of the talks."},
			has:  []string{ledeMark + "north korea", ledeMark + "talk", "talk"},
			comp: []string{ledeMark + "north", ledeMark + "korea"},
		},
		{
			name:    "NamePartsMarked",
			a:       feeds.Article{Title: "North Korea fires missile as Kim Jong Un watches"},
			has:     []string{"north korea", "kim jong un"},
			comp:    []string{"north", "korea", "kim", "jong", "un"},
			notComp: []string{"north korea", "kim jong un", "missil"},
		},
		{
			name:    "WordOnItsOwnToo",
			a:       feeds.Article{Title: "Korea: North Korea fires missile"},
			has:     []string{"north korea", "korea"},
			comp:    []string{"north"},
			notComp: []string{"korea"},
		},
		{
			name:   "PossessiveEndsName",
			a:      feeds.Article{Title: "Seoul: South Korea's Moon names new justice minister"},
			has:    []string{"south korea", "moon"},
			hasNot: []string{"south korea moon"},
		},
		{
			name:    "NewLeadsName",
			a:       feeds.Article{Title: "Floods hit New Zealand as New York braces"},
			has:     []string{"new zealand", "new york", "zealand", "york"},
			hasNot:  []string{"new"},
			comp:    []string{"zealand", "york"},
			notComp: []string{"new zealand", "new york"},
		},
		{
			name:    "NewAloneDropped",
			a:       feeds.Article{Title: "New rules: Apple unveils new iPhone"},
			has:     []string{"iphon", "unveil", "rule"},
			hasNot:  []string{"new", "new rule", "new iphon"},
			notComp: []string{"iphon"},
		},
		{
			name: "CamelCaseIsName",
			a:    feeds.Article{Title: "Why a film about Neil deGrasse Tyson matters"},
			has:  []string{"neil degrass tyson"},
			comp: []string{"neil", "degrass", "tyson"},
		},
		{
			// In Title Case capitals say little: "Korea" is a name because
			// it was seen capitalized mid-sentence before, and "North",
			// never seen in lower case, joins it.
			name:    "TitleCaseWordJoinsKnownName",
			a:       feeds.Article{Title: "[Editorial] North Korea And The US Must Not Give Up After Stockholm"},
			st:      knownNames{"korea": true},
			has:     []string{"north korea", "us"},
			comp:    []string{"north", "korea"},
			notComp: []string{"give"},
			hasNot:  []string{"give stockholm"},
		},
		{
			name: "KoreanBigrams",
			a:    feeds.Article{Title: "북미 실무협상 결렬"},
			has:  []string{"북미", "실무", "무협", "협상", "결렬"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := tt.st
			if st == nil {
				st = noStats{}
			}
			w := map[string]float64{}
			comp := map[string]bool{}
			terms, _ := analyze(tt.a, &p, st)
			for _, r := range terms {
				w[r.term] = r.w
				comp[r.term] = r.comp
			}
			for _, term := range tt.comp {
				if !comp[term] {
					t.Errorf("term %q (weight %v) not marked as a word of a name", term, w[term])
				}
			}
			for _, term := range tt.notComp {
				if w[term] == 0 || comp[term] {
					t.Errorf("term %q (weight %v, comp %v), want it present on its own", term, w[term], comp[term])
				}
			}
			for _, term := range tt.has {
				if w[term] == 0 {
					t.Errorf("term %q missing from %v", term, w)
				}
			}
			for _, term := range tt.hasNot {
				if w[term] != 0 {
					t.Errorf("term %q present (%v), want it absent", term, w[term])
				}
			}
			for _, pair := range tt.heavier {
				if w[pair[0]] <= w[pair[1]] {
					t.Errorf("weight of %q = %v, want more than %q's %v", pair[0], w[pair[0]], pair[1], w[pair[1]])
				}
			}
		})
	}
}

// knownNames is a vocabulary that has seen its words only capitalized past
// a sentence start, and no other word.
type knownNames map[string]bool

func (k knownNames) capitalized(term string) (int, int) {
	if k[term] {
		return 3, 0
	}
	return 0, 0
}
func (knownNames) stem(w string) string { return stem(w) }

func TestAnalyze_Aliases(t *testing.T) {
	p := defaultParams
	for _, title := range []string{
		"N. Korea fires missiles",
		"North Korean missiles fired",
		"DPRK fires missiles",
		"Pyongyang fires missiles",
		"North Korea fires missiles",
	} {
		raw, _ := analyze(feeds.Article{Title: title}, &p, noStats{})
		found := false
		for _, r := range raw {
			if r.term == "north korea" && !r.comp {
				found = true
			}
		}
		if !found {
			t.Errorf("%q: no term \"north korea\" in %v", title, raw)
		}
	}
	raw, _ := analyze(feeds.Article{Title: "Washington Post wins award", Link: "https://x.example/washington-post-wins-award"}, &p, noStats{})
	for _, r := range raw {
		if r.term == "us" {
			t.Errorf("\"Washington Post\" read as the US: %v", raw)
		}
	}
}

// longText is n distinct lower-case words, as a feed that pastes a whole
// article into its title.
func longText(n int) string { return longWords("word", n) }

// longWords is n distinct lower-case words starting with prefix.
func longWords(prefix string, n int) string {
	words := make([]string, n)
	for i := range words {
		words[i] = prefix + letters(i+1)
	}
	return strings.Join(words, " ")
}

// letters writes k in base 26 with the letters a to z.
func letters(k int) string {
	var b []byte
	for ; k > 0; k /= 26 {
		b = append(b, byte('a'+k%26))
	}
	return string(b)
}

// TestAnalyze_Capped: a 1,500-word title, excerpt and link cost what their
// first few hundred bytes cost, in terms and in allocations, and so do
// hundreds of categories.
func TestAnalyze_Capped(t *testing.T) {
	p := defaultParams
	long := longText(1500)
	huge := feeds.Article{Title: long, Excerpt: long, Link: "https://example.com/" + strings.ReplaceAll(long, " ", "-"),
		Categories: strings.Fields(long)}
	normal := feeds.Article{Title: clip(long, maxTitle), Excerpt: clip(long, maxLede),
		Link: clip(huge.Link, maxLink), Categories: huge.Categories[:maxCategories]}
	hugeTerms, hugeWords := analyze(huge, &p, noStats{})
	normalTerms, normalWords := analyze(normal, &p, noStats{})
	if len(hugeTerms) != len(normalTerms) || len(hugeWords) != len(normalWords) {
		t.Errorf("huge item: %d terms, %d title words; its capped fields give %d, %d", len(hugeTerms), len(hugeWords), len(normalTerms), len(normalWords))
	}
	if len(hugeTerms) > 300 {
		t.Errorf("huge item: %d terms, want at most 300", len(hugeTerms))
	}
	hugeAllocs := testing.AllocsPerRun(5, func() { analyze(huge, &p, noStats{}) })
	normalAllocs := testing.AllocsPerRun(5, func() { analyze(normal, &p, noStats{}) })
	if hugeAllocs > normalAllocs+10 {
		t.Errorf("huge item: %.0f allocations, its capped fields %.0f", hugeAllocs, normalAllocs)
	}
	if s := storySlug(long, "s0123456789"); len(s) > 64 {
		t.Errorf("slug of a huge title: %q", s)
	}
}

// TestClusterer_HugeTitlesBounded: 1,000 items with 1,500-word titles hold
// no more terms than their capped titles would.
func TestClusterer_HugeTitlesBounded(t *testing.T) {
	c := NewClusterer(Options{})
	t0 := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	for i := range 1000 {
		title := longWords(letters(i+1)+"q", 1500)
		c.Add(feeds.Article{ID: fmt.Sprintf("%04x", i), Source: "S", Title: title, Published: t0.Add(time.Duration(i) * time.Second)})
	}
	if s := c.Stats(); s.Items != 1000 || s.Terms > 1000*100 {
		t.Errorf("%d items hold %d terms, want 1,000 holding at most 100 each", s.Items, s.Terms)
	}
}
