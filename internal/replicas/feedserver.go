package replicas

import (
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Request is one request the FeedServer received.
type Request struct {
	Feed  int
	Agent string // the User-Agent: which replica asked
	At    time.Time
	Gen   int // the generation the feed had
	// Status is what was answered: 200, 304, or 0 when the response was
	// never written (held until the client went away).
	Status int
}

// FeedServer serves n RSS feeds on loopback at /feeds/NNN.xml and records
// every request. Feed i at generation g holds items g-KeepItems+1 … g (item
// j has guid urn:feed-NNN:item-j); the generation is the function given to
// NewFeedServer of the request's time, so a test moves every feed on at
// once. Responses carry an ETag per generation and answer 304 to a matching
// If-None-Match. Its methods are safe for concurrent use.
type FeedServer struct {
	URL string
	N   int

	gen   func(time.Time) int
	epoch time.Time
	srv   *httptest.Server

	mu       sync.Mutex
	reqs     []Request
	holdAll  bool            // hold every agent's requests not released
	holds    map[string]bool // agents whose requests are held
	released map[string]bool // agents let go while holdAll
	changed  chan struct{}   // closed and replaced when holds are lifted
	held     map[string][]time.Time
}

// KeepItems is how many items a feed lists at most: the newest.
const KeepItems = 5

// NewFeedServer starts a server of n feeds whose generation at time t is
// gen(t). Close it when done.
func NewFeedServer(n int, gen func(time.Time) int) *FeedServer {
	s := &FeedServer{N: n, gen: gen, epoch: time.Now().UTC().Truncate(time.Second),
		holds: map[string]bool{}, released: map[string]bool{}, changed: make(chan struct{}), held: map[string][]time.Time{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	return s
}

// Close stops the server.
func (s *FeedServer) Close() {
	s.ReleaseAll()
	s.srv.CloseClientConnections()
	s.srv.Close()
}

// FeedURL is feed i's address.
func (s *FeedServer) FeedURL(i int) string { return fmt.Sprintf("%s/feeds/%03d.xml", s.URL, i) }

// FeedName is the source name of feed i in the configurations.
func FeedName(i int) string { return fmt.Sprintf("feed-%03d", i) }

// ItemGUID is the guid of item j of feed i.
func ItemGUID(i, j int) string { return fmt.Sprintf("urn:feed-%03d:item-%d", i, j) }

// Items returns the item numbers feed i lists at generation g.
func Items(g int) []int {
	var out []int
	for j := max(0, g-KeepItems+1); j <= g; j++ {
		out = append(out, j)
	}
	return out
}

// Hold makes the server hold, from now on, every request from agent
// without answering, until it is released or the client gives up or goes
// away (killed).
func (s *FeedServer) Hold(agent string) {
	s.mu.Lock()
	s.holds[agent] = true
	delete(s.released, agent)
	s.mu.Unlock()
}

// HoldAll holds every agent's requests from now on, as Hold does, until
// Release or ReleaseAll.
func (s *FeedServer) HoldAll() {
	s.mu.Lock()
	s.holdAll = true
	clear(s.released)
	s.mu.Unlock()
}

// Release stops holding agents' requests; those held are answered now.
func (s *FeedServer) Release(agents ...string) {
	s.mu.Lock()
	for _, a := range agents {
		delete(s.holds, a)
		s.released[a] = true
	}
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()
}

// ReleaseAll stops holding anything; requests held are answered now.
func (s *FeedServer) ReleaseAll() {
	s.mu.Lock()
	s.holdAll = false
	clear(s.holds)
	clear(s.released)
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()
}

// holding reports, under s.mu, whether agent's requests are held.
func (s *FeedServer) holding(agent string) bool {
	return s.holds[agent] || (s.holdAll && !s.released[agent])
}

// Held returns how many of agent's requests are being held now, and since
// when the oldest is.
func (s *FeedServer) Held(agent string) (int, time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	hs := s.held[agent]
	if len(hs) == 0 {
		return 0, time.Time{}
	}
	oldest := hs[0]
	for _, t := range hs[1:] {
		if t.Before(oldest) {
			oldest = t
		}
	}
	return len(hs), oldest
}

// unhold forgets one held request of agent, begun at at.
func (s *FeedServer) unhold(agent string, at time.Time) {
	hs := s.held[agent]
	for i, t := range hs {
		if t.Equal(at) {
			s.held[agent] = append(hs[:i], hs[i+1:]...)
			return
		}
	}
}

// Requests returns every request so far, in the order they arrived.
func (s *FeedServer) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.reqs...)
}

func (s *FeedServer) serve(w http.ResponseWriter, r *http.Request) {
	name, ok := strings.CutPrefix(r.URL.Path, "/feeds/")
	name, ok2 := strings.CutSuffix(name, ".xml")
	i, err := strconv.Atoi(name)
	if !ok || !ok2 || err != nil || i < 0 || i >= s.N {
		http.NotFound(w, r)
		return
	}
	now := time.Now()
	g := s.gen(now)
	req := Request{Feed: i, Agent: r.UserAgent(), At: now, Gen: g}
	s.mu.Lock()
	idx := len(s.reqs)
	s.reqs = append(s.reqs, req)
	if s.holding(req.Agent) {
		s.held[req.Agent] = append(s.held[req.Agent], now)
		for s.holding(req.Agent) {
			changed := s.changed
			s.mu.Unlock()
			select {
			case <-r.Context().Done():
				s.mu.Lock()
				s.unhold(req.Agent, now)
				s.mu.Unlock()
				return
			case <-changed:
			}
			s.mu.Lock()
		}
		s.unhold(req.Agent, now)
		// Answered as of now, with the content of now.
		g = s.gen(time.Now())
		s.reqs[idx].Gen = g
	}
	s.mu.Unlock()

	etag := fmt.Sprintf(`"%03d-g%d"`, i, g)
	status := http.StatusOK
	if r.Header.Get("If-None-Match") == etag {
		status = http.StatusNotModified
	}
	s.mu.Lock()
	s.reqs[idx].Status = status
	s.mu.Unlock()
	w.Header().Set("ETag", etag)
	if status == http.StatusNotModified {
		w.WriteHeader(status)
		return
	}
	w.Header().Set("Content-Type", "application/rss+xml; charset=utf-8")
	_, _ = w.Write(s.feed(i, g))
}

// feed renders feed i at generation g. Item j is dated epoch + j minutes.
func (s *FeedServer) feed(i, g int) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Feed %03d</title><link>%s/site/%03d</link><description>Test feed %d</description>
`, i, s.URL, i, i)
	items := Items(g)
	for k := len(items) - 1; k >= 0; k-- {
		j := items[k]
		fmt.Fprintf(&b, `<item><title>Feed %03d, story %d</title><link>%s/site/%03d/%d</link><guid isPermaLink="false">%s</guid><pubDate>%s</pubDate><description>%s</description></item>
`, i, j, s.URL, i, j, ItemGUID(i, j), s.epoch.Add(time.Duration(j)*time.Minute).Format(time.RFC1123Z),
			html.EscapeString(fmt.Sprintf("<p>Story %d of feed %d, as told on loopback.</p>", j, i)))
	}
	b.WriteString("</channel></rss>\n")
	return []byte(b.String())
}
