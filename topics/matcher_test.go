package topics

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/broadsheet/broadsheet/feeds"
)

func TestNewMatcher(t *testing.T) {
	tests := []struct {
		name   string
		rules  []Rule
		reason string // "" for success
	}{
		{"OK", []Rule{{Name: "Korea", Any: []string{"korea"}}}, ""},
		{"SourcesOnly", []Rule{{Name: "Wire", Sources: []string{"Reuters"}}}, ""},
		{"NoName", []Rule{{Any: []string{"x"}}}, "needs a name or a slug"},
		{"MatchesEverything", []Rule{{Name: "All", None: []string{"sport"}}}, "would match every article"},
		{"EmptyPhrase", []Rule{{Name: "K", Any: []string{"korea", " !! "}}}, "has no words"},
		{"BadSlug", []Rule{{Name: "K", Slug: "North Korea", Any: []string{"korea"}}}, "must be lower-case"},
		{"DuplicateSlug", []Rule{
			{Name: "Korea", Any: []string{"korea"}},
			{Name: "KOREA!", Any: []string{"seoul"}},
		}, "used by another topic"},
		{"EmptyCategory", []Rule{{Name: "K", Categories: []string{" "}}}, "empty name"},
		{"EmptySource", []Rule{{Name: "K", Sources: []string{"--"}}}, "no letters or digits"},
		{"UnsluggableName", []Rule{{Name: "!!!", Any: []string{"x"}}}, "no slug can be derived"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewMatcher(tt.rules)
			if tt.reason == "" {
				if err != nil {
					t.Fatalf("NewMatcher: %v", err)
				}
				return
			}
			var re *RuleError
			if !errors.As(err, &re) {
				t.Fatalf("NewMatcher error = %v, want a *RuleError", err)
			}
			if !strings.Contains(re.Reason, tt.reason) {
				t.Errorf("reason = %q, want it to contain %q", re.Reason, tt.reason)
			}
		})
	}
}

func TestMatcher_Topics(t *testing.T) {
	m, err := NewMatcher([]Rule{
		{Name: "Économie française", Any: []string{"economie"}},
		{Name: "Korea", Slug: "kr", Any: []string{"korea"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []Topic{
		{Slug: "économie-française", Label: "Économie française", Kind: KindConfigured},
		{Slug: "kr", Label: "Korea", Kind: KindConfigured},
	}
	if got := m.Topics(); !reflect.DeepEqual(got, want) {
		t.Errorf("Topics() = %+v, want %+v", got, want)
	}
}

func TestMatcher_Match(t *testing.T) {
	rules := []Rule{
		{Name: "US", Any: []string{"US"}},
		{Name: "us-word", Any: []string{"us"}},
		{Name: "North Korea", Any: []string{"North Korea", "Pyongyang", "Kim Jong Un"}},
		{Name: "NK talks", All: []string{"north korea", "talks"}, None: []string{"six-party"}},
		{Name: "Koreans", Any: []string{"korea*"}},
		{Name: "Zurich", Any: []string{"Zürich"}},
		{Name: "Korean press", Slug: "korean-press", Any: []string{"북한"}},
		{Name: "Opinion", Categories: []string{"Opinion"}},
		{Name: "Reuters Asia", Sources: []string{"Reuters"}, Categories: []string{"asia"}},
		{Name: "2026", Any: []string{"2026"}},
		{Name: "Verge", Sources: []string{"the-verge"}},
	}
	m, err := NewMatcher(rules)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		a    feeds.Article
		want []string
	}{
		{"FocusIsNotUS", feeds.Article{Title: "A renewed focus on exports"}, nil},
		{"AcronymUS", feeds.Article{Title: "US and China resume trade talks"}, []string{"us", "us-word"}},
		{"DottedUS", feeds.Article{Title: "U.S. envoy lands in Seoul"}, []string{"us", "us-word"}},
		{"PronounIsNotAcronym", feeds.Article{Title: "Tell us what you think"}, []string{"us-word"}},
		{"ShoutedHeadline", feeds.Article{Title: "PRESIDENT TELLS US TO WAIT"}, []string{"us", "us-word"}},
		{"PhraseAcrossCaseAndPossessive", feeds.Article{Title: "north korea's envoy walks out"}, []string{"north-korea", "koreans"}},
		{"PhraseNeedsOrder", feeds.Article{Title: "Korea North of the border"}, []string{"koreans"}},
		{"AllAndNone", feeds.Article{Title: "North Korea talks collapse in Stockholm"}, []string{"north-korea", "nk-talks", "koreans"}},
		{"NoneExcludes", feeds.Article{Title: "North Korea talks: a return to six-party format?"}, []string{"north-korea", "koreans"}},
		{"AllSpansFields", feeds.Article{Title: "Stockholm talks end early", Excerpt: "Delegates from North Korea left after eight hours."}, []string{"north-korea", "nk-talks", "koreans"}},
		{"Wildcard", feeds.Article{Title: "Koreans vote in local elections"}, []string{"koreans"}},
		{"AccentInsensitive", feeds.Article{Title: "Protest in Zurich"}, []string{"zurich"}},
		{"AccentInText", feeds.Article{Title: "Kim Jong Un in Pyŏngyang"}, []string{"north-korea"}},
		{"KoreanSubstring", feeds.Article{Title: "북한은 협상 결렬을 선언했다"}, []string{"korean-press"}},
		{"Category", feeds.Article{Title: "Why the talks failed", Categories: []string{"OPINION"}}, []string{"opinion"}},
		{"CategoryPathAndSource", feeds.Article{Title: "Markets", Source: "reuters", Categories: []string{"World/Asia"}}, []string{"reuters-asia"}},
		{"SourceMismatch", feeds.Article{Title: "Markets", Source: "AP", Categories: []string{"Asia"}}, nil},
		{"SourceBySlug", feeds.Article{Title: "New phone", Source: "The Verge"}, []string{"verge"}},
		{"Number", feeds.Article{Title: "World Cup 2026 draw"}, []string{"2026"}},
		{"NumberNotPartOfAnother", feeds.Article{Title: "Budget of 20260 won"}, nil},
		{"CategoryText", feeds.Article{Title: "Analysis", Categories: []string{"North Korea"}}, []string{"north-korea", "koreans"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := m.Match(tt.a); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Match(%q) = %q, want %q", tt.a.Title, got, tt.want)
			}
		})
	}
}

func TestMatcher_MatchEmpty(t *testing.T) {
	m, err := NewMatcher(nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Match(feeds.Article{Title: "anything"}); got != nil {
		t.Errorf("Match = %q, want nil", got)
	}
}
