package topics

import (
	"reflect"
	"testing"
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
