package fetch

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/broadsheet/broadsheet/feeds"
)

// A redirect from a public feed into a private address is refused by
// default, before any connection is made, and the reason names the
// redirect and what to do. Both test servers are on loopback, so the
// guard's hook lets the one playing the public feed through by its port
// and hands every other address to the real decision.
func TestClient_Fetch_RedirectIntoPrivate(t *testing.T) {
	var internalHits, publicHits atomic.Int64
	internal := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		internalHits.Add(1)
		fmt.Fprint(w, smallFeed)
	}))
	defer internal.Close()
	public := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		publicHits.Add(1)
		if to := r.URL.Query().Get("to"); to != "" {
			http.Redirect(w, r, to, http.StatusFound)
			return
		}
		fmt.Fprint(w, smallFeed)
	}))
	defer public.Close()
	publicAddr := public.Listener.Addr().String()
	_, port, _ := net.SplitHostPort(internal.Listener.Addr().String())
	guard := func(address string) error {
		if address == publicAddr {
			return nil
		}
		return guardAddress(address)
	}
	redirect := func(to string) string { return public.URL + "/feed.xml?to=" + to }

	tests := []struct {
		name, to string
		want     []string
	}{
		{"loopback", internal.URL + "/feed.xml", []string{"the feed redirects to 127.0.0.1:" + port + "; refused to connect to 127.0.0.1: it is a private/loopback address; " + PrivateNetworkAdvice}},
		{"localhost by name", "http://localhost:" + port + "/feed.xml", []string{"the feed redirects to localhost:" + port + "; refused to connect to ", "private/loopback address", PrivateNetworkAdvice}},
		{"RFC 1918", "http://10.0.0.1/feed.xml", []string{"the feed redirects to 10.0.0.1; refused to connect to 10.0.0.1: it is a private/loopback address; " + PrivateNetworkAdvice}},
		{"cloud metadata", "http://169.254.169.254/latest/meta-data/", []string{"the feed redirects to 169.254.169.254; refused to connect to 169.254.169.254"}},
		{"unspecified reaches this host", "http://0.0.0.0:" + port + "/feed.xml", []string{"refused to connect to 0.0.0.0"}},
		{"IPv4-mapped literal", "http://[::ffff:127.0.0.1]:" + port + "/feed.xml", []string{"refused to connect to 127.0.0.1"}},
	}
	c := New(Options{Now: fixedNow, guard: guard})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := publicHits.Load()
			_, err := c.Fetch(context.Background(), feeds.Source{Name: "p", URL: redirect(tt.to)}, feeds.SourceState{})
			wantReason(t, err, tt.want...)
			if publicHits.Load() != before+1 {
				t.Errorf("the public server answered %d requests, want 1: the redirect was not what was refused", publicHits.Load()-before)
			}
		})
	}
	if n := internalHits.Load(); n != 0 {
		t.Errorf("the internal server was reached %d times through redirects", n)
	}

	// A redirect that stays public is followed under the same guard.
	res, err := c.Fetch(context.Background(), feeds.Source{Name: "p", URL: redirect(public.URL + "/other.xml")}, feeds.SourceState{})
	if err != nil {
		t.Fatalf("public → public redirect: %v", err)
	}
	if len(res.Articles) != 2 {
		t.Errorf("public → public redirect: %d articles, want 2", len(res.Articles))
	}

	// Allowed, the same redirect into loopback is followed.
	open := New(Options{Now: fixedNow, AllowPrivateNetworks: true})
	res, err = open.Fetch(context.Background(), feeds.Source{Name: "p", URL: redirect(internal.URL + "/feed.xml")}, feeds.SourceState{})
	if err != nil {
		t.Fatalf("with AllowPrivateNetworks: %v", err)
	}
	if len(res.Articles) != 2 || internalHits.Load() != 1 {
		t.Errorf("with AllowPrivateNetworks: %d articles, internal hits %d; want 2, 1", len(res.Articles), internalHits.Load())
	}
}

// A poll refused on the source's own address says what to do, without
// speaking of a redirect.
func TestClient_Fetch_PrivateAdvice(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("the guarded client reached the loopback server")
	}))
	defer srv.Close()
	_, err := New(Options{Now: fixedNow}).Fetch(context.Background(), feeds.Source{Name: "p", URL: srv.URL}, feeds.SourceState{})
	fe := wantReason(t, err, "refused to connect to 127.0.0.1: it is a private/loopback address; "+PrivateNetworkAdvice)
	if want := "refused to connect to 127.0.0.1: it is a private/loopback address; " + PrivateNetworkAdvice; fe.Reason != want {
		t.Errorf("reason %q, want %q", fe.Reason, want)
	}
}

// PrivateAddrs answers for `broadsheet check`: the addresses of a host the
// guard would refuse, for literals and names.
func TestPrivateAddrs(t *testing.T) {
	tests := []struct {
		host string
		want []string
	}{
		{"127.0.0.1", []string{"127.0.0.1"}},
		{"10.1.2.3", []string{"10.1.2.3"}},
		{"::ffff:192.168.0.1", []string{"192.168.0.1"}},
		{"::127.0.0.1", []string{"::7f00:1"}},
		{"fd00::1", []string{"fd00::1"}},
		{"93.184.215.14", nil},
		{"2606:4700::1111", nil},
	}
	for _, tt := range tests {
		got, err := PrivateAddrs(context.Background(), nil, tt.host)
		if err != nil {
			t.Errorf("PrivateAddrs(%q): %v", tt.host, err)
			continue
		}
		var gs []string
		for _, a := range got {
			gs = append(gs, a.String())
		}
		if !slices.Equal(gs, tt.want) {
			t.Errorf("PrivateAddrs(%q) = %v, want %v", tt.host, gs, tt.want)
		}
	}
	// localhost resolves (from /etc/hosts) to loopback only.
	got, err := PrivateAddrs(context.Background(), nil, "localhost")
	if err != nil {
		t.Fatalf("PrivateAddrs(localhost): %v", err)
	}
	if len(got) == 0 || !slices.ContainsFunc(got, netip.Addr.IsLoopback) {
		t.Errorf("PrivateAddrs(localhost) = %v, want its loopback addresses", got)
	}
}
