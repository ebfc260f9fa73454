package topics

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/broadsheet/broadsheet/feeds"
)

// synthCommon is everyday headline vocabulary, drawn with a Zipf-like skew.
var synthCommon = strings.Fields(`
government police court market plan city state year week day people report
officials deal talks vote election minister president company shares prices
bank rates growth jobs workers strike protest school health hospital virus
study scientists climate weather storm flood fire crash killed injured home
family children women men team season game win loss coach players fans
record high low rise fall cut boost warns says calls seeks faces wins loses
opens closes launches unveils announces plans agrees rejects delays approves
new first last big top major key local national global world country region
budget tax law bill rule ban probe charges trial sentence prison release
film show music star album tour festival award director actor series book
phone app data online users tech service network power energy oil gas water
`)

// synthStory is one generated story: its names and its own words.
type synthStory struct {
	id    int
	names []string
	words []string
	until time.Time
}

// synth generates a stream of headlines about many overlapping stories,
// one item every step, deterministically from its seed.
type synth struct {
	rng     *rand.Rand
	t       time.Time
	step    time.Duration
	n       int
	live    []*synthStory
	nextID  int
	pool    []string // story words
	sources []string
}

func newSynth(seed uint64, step time.Duration) *synth {
	s := &synth{
		rng:  rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		t:    time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		step: step,
	}
	for i := 0; i < 20000; i++ {
		s.pool = append(s.pool, s.word(2+s.rng.IntN(3)))
	}
	for i := 0; i < 300; i++ {
		s.sources = append(s.sources, "Source "+strconv.Itoa(i))
	}
	return s
}

var syllables = strings.Fields("ka lo mi ra ne tu sa vo re li pa du ko ma zi be no ta fe gu hi ja qu wy xe")

func (s *synth) word(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		b.WriteString(syllables[s.rng.IntN(len(syllables))])
	}
	return b.String()
}

func (s *synth) name() string {
	w := s.word(3 + s.rng.IntN(2))
	return strings.ToUpper(w[:1]) + w[1:]
}

// next returns the next article and the id of its true story.
func (s *synth) next() (feeds.Article, int) {
	s.n++
	s.t = s.t.Add(s.step)
	kept := s.live[:0]
	for _, st := range s.live {
		if st.until.After(s.t) {
			kept = append(kept, st)
		}
	}
	s.live = kept
	// Keep about 250 stories running, each for 6 to 48 hours.
	if len(s.live) < 250 || s.rng.IntN(20) == 0 {
		st := &synthStory{id: s.nextID, until: s.t.Add(time.Duration(6+s.rng.IntN(43)) * time.Hour)}
		s.nextID++
		for i := 0; i < 1+s.rng.IntN(2); i++ {
			st.names = append(st.names, s.name())
		}
		for i := 0; i < 4; i++ {
			st.words = append(st.words, s.pool[s.rng.IntN(len(s.pool))])
		}
		s.live = append(s.live, st)
	}
	st := s.live[s.rng.IntN(len(s.live))]
	var words []string
	words = append(words, st.names[s.rng.IntN(len(st.names))])
	for _, i := range s.rng.Perm(len(st.words))[:2] {
		words = append(words, st.words[i])
	}
	for i := 0; i < 3+s.rng.IntN(3); i++ {
		// Zipf-like: low indexes are much more frequent.
		k := int(float64(len(synthCommon)) * s.rng.Float64() * s.rng.Float64())
		words = append(words, synthCommon[k])
	}
	s.rng.Shuffle(len(words)-1, func(i, j int) { words[i+1], words[j+1] = words[j+1], words[i+1] })
	src := s.sources[s.rng.IntN(len(s.sources))]
	id := strconv.Itoa(s.n)
	a := feeds.Article{
		ID:        feeds.ArticleID(src, id),
		Source:    src,
		Title:     strings.Join(words, " "),
		Link:      "https://news.example/" + strings.ToLower(strings.Join(words, "-")) + "-" + id,
		Published: s.t,
		FirstSeen: s.t,
	}
	return a, st.id
}
