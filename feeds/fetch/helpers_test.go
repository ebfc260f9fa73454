package fetch

import (
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/broadsheet/broadsheet/feeds"
)

// testNow is the fixed clock of every test.
var testNow = time.Date(2026, 8, 15, 12, 0, 0, 0, time.UTC)

func fixedNow() time.Time { return testNow }

// newTestClient returns a client on the fixed clock that may reach the
// loopback httptest servers.
func newTestClient(opts Options) *Client {
	if opts.Now == nil {
		opts.Now = fixedNow
	}
	opts.AllowPrivateNetworks = true
	return New(opts)
}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// complete fills in the fields of a wanted article that derive from the
// others, as the fetcher must.
func complete(src string, a feeds.Article) feeds.Article {
	a.Source = src
	a.ID = feeds.ArticleID(src, a.Identity)
	if a.LinkKey == "" {
		a.LinkKey = a.ID
	}
	if a.Kind == "" {
		a.Kind = feeds.KindNews
	}
	a.Hash = feeds.ContentHash(a)
	return a
}

// diffArticles reports every field where got and want differ.
func diffArticles(t *testing.T, got, want []feeds.Article) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("got %d articles, want %d", len(got), len(want))
	}
	for i := range min(len(got), len(want)) {
		g, w := reflect.ValueOf(got[i]), reflect.ValueOf(want[i])
		for f := range g.NumField() {
			name := g.Type().Field(f).Name
			if !reflect.DeepEqual(g.Field(f).Interface(), w.Field(f).Interface()) {
				t.Errorf("article %d %s:\n got  %#v\n want %#v", i, name, g.Field(f).Interface(), w.Field(f).Interface())
			}
		}
	}
}

func fetchError(t *testing.T, err error) *feeds.FetchError {
	t.Helper()
	fe, ok := err.(*feeds.FetchError)
	if !ok {
		t.Fatalf("error %v (%T) is not a *feeds.FetchError", err, err)
	}
	return fe
}

func wantReason(t *testing.T, err error, parts ...string) *feeds.FetchError {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want one saying %q", parts)
	}
	fe := fetchError(t, err)
	for _, p := range parts {
		if !strings.Contains(fe.Reason, p) {
			t.Errorf("reason %q does not say %q", fe.Reason, p)
		}
	}
	return fe
}
