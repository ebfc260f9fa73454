package fetch

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/broadsheet/broadsheet/feeds"
)

const smallFeed = `<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Small</title>
<item><title>One</title><link>item/1</link><guid>one</guid></item>
<item><title>Two</title><link>item/2</link><guid>two</guid></item>
</channel></rss>`

func TestClient_Fetch_Conditional(t *testing.T) {
	var mu sync.Mutex
	var got []http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Header.Clone())
		mu.Unlock()
		if r.Header.Get("If-None-Match") == `"v1"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", `"v1"`)
		w.Header().Set("Last-Modified", "Fri, 14 Aug 2026 10:00:00 GMT")
		w.Header().Set("Content-Type", "application/rss+xml")
		fmt.Fprint(w, smallFeed)
	}))
	defer srv.Close()
	src := feeds.Source{Name: "small", URL: srv.URL + "/feed.xml"}
	c := newTestClient(Options{})

	res, err := c.Fetch(context.Background(), src, feeds.SourceState{})
	if err != nil {
		t.Fatalf("first Fetch: %v", err)
	}
	if res.Status != 200 || res.NotModified || len(res.Articles) != 2 {
		t.Fatalf("first Fetch = status %d, not modified %v, %d articles; want 200, false, 2", res.Status, res.NotModified, len(res.Articles))
	}
	if res.ETag != `"v1"` || res.LastModified != "Fri, 14 Aug 2026 10:00:00 GMT" {
		t.Errorf("validators = %q, %q; want the server's", res.ETag, res.LastModified)
	}
	if want := srv.URL + "/item/1"; res.Articles[0].Link != want {
		t.Errorf("link = %q, want %q (resolved against the feed's URL)", res.Articles[0].Link, want)
	}

	prev := feeds.SourceState{Source: "small", URL: src.URL, ETag: res.ETag, LastModified: res.LastModified}
	res, err = c.Fetch(context.Background(), src, prev)
	if err != nil {
		t.Fatalf("second Fetch: %v", err)
	}
	if res.Status != 304 || !res.NotModified || res.Articles != nil {
		t.Errorf("second Fetch = status %d, not modified %v, %d articles; want 304, true, none", res.Status, res.NotModified, len(res.Articles))
	}
	if res.ETag != `"v1"` {
		t.Errorf("304 ETag = %q, want the previous one", res.ETag)
	}

	// Validators remembered for another URL are not sent.
	prev.URL = srv.URL + "/old.xml"
	if res, err = c.Fetch(context.Background(), src, prev); err != nil || res.Status != 200 {
		t.Fatalf("third Fetch = %v, %v; want a 200", res, err)
	}

	mu.Lock()
	defer mu.Unlock()
	if len(got) != 3 {
		t.Fatalf("server saw %d requests, want 3", len(got))
	}
	tests := []struct {
		name         string
		h            http.Header
		inm, ims     string
		acceptsGzip  bool
		userAgentHas string
	}{
		{"first", got[0], "", "", true, "broadsheet/dev (+https://github.com/broadsheet/broadsheet)"},
		{"second", got[1], `"v1"`, "Fri, 14 Aug 2026 10:00:00 GMT", true, "broadsheet/"},
		{"other url", got[2], "", "", true, "broadsheet/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if g := tt.h.Get("If-None-Match"); g != tt.inm {
				t.Errorf("If-None-Match = %q, want %q", g, tt.inm)
			}
			if g := tt.h.Get("If-Modified-Since"); g != tt.ims {
				t.Errorf("If-Modified-Since = %q, want %q", g, tt.ims)
			}
			if g := tt.h.Get("User-Agent"); !strings.Contains(g, tt.userAgentHas) {
				t.Errorf("User-Agent = %q, want it to contain %q", g, tt.userAgentHas)
			}
			if g := tt.h.Get("Accept-Encoding"); strings.Contains(g, "gzip") != tt.acceptsGzip {
				t.Errorf("Accept-Encoding = %q", g)
			}
			if g := tt.h.Get("Accept"); !strings.Contains(g, "application/rss+xml") {
				t.Errorf("Accept = %q, want feed types", g)
			}
		})
	}
}

func TestClient_Fetch_UserAgent(t *testing.T) {
	var ua string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ua = r.Header.Get("User-Agent")
		fmt.Fprint(w, smallFeed)
	}))
	defer srv.Close()
	c := newTestClient(Options{UserAgent: "custom-agent/1"})
	if _, err := c.Fetch(context.Background(), feeds.Source{Name: "s", URL: srv.URL}, feeds.SourceState{}); err != nil {
		t.Fatal(err)
	}
	if ua != "custom-agent/1" {
		t.Errorf("User-Agent = %q, want custom-agent/1", ua)
	}
}

func TestClient_Fetch_Status(t *testing.T) {
	inAnHour := testNow.Add(time.Hour).Format(http.TimeFormat)
	tests := []struct {
		name       string
		code       int
		retryAfter string
		wantRetry  time.Duration
		reason     string
	}{
		{"404", 404, "", 0, "the server answered 404 Not Found: check the source's url in config.yaml"},
		{"410", 410, "", 0, "the server answered 410 Gone: the feed was removed for good"},
		{"401", 401, "", 0, "the server answered 401 Unauthorized: it refuses access"},
		{"403", 403, "", 0, "the server answered 403 Forbidden: it refuses access"},
		{"400", 400, "", 0, "the server answered 400 Bad Request: check the source's url"},
		{"500", 500, "", 0, "the server answered 500 Internal Server Error: the trouble is on the server's side; broadsheet will try again later"},
		{"502", 502, "", 0, "the server answered 502 Bad Gateway: the trouble is on the server's side"},
		{"429 seconds", 429, "120", 2 * time.Minute, "the server answered 429 Too Many Requests: it asks broadsheet to poll less often (it asked for a wait of 2m0s)"},
		{"429 date", 429, inAnHour, time.Hour, "429 Too Many Requests"},
		{"429 without header", 429, "", 0, "slower schedule"},
		{"429 garbage", 429, "soon", 0, "429"},
		{"429 date in the past", 429, testNow.Add(-time.Hour).Format(http.TimeFormat), 0, "429"},
		{"503 seconds", 503, "30", 30 * time.Second, "the server answered 503 Service Unavailable: it is down or overloaded; broadsheet will try again later (it asked for a wait of 30s)"},
		{"503 date", 503, inAnHour, time.Hour, "503 Service Unavailable"},
		{"503 huge", 503, "99999999999999999", 7 * 24 * time.Hour, "503"},
		{"204", 204, "", 0, "the server answered 204 No Content and sent no feed"},
		{"300 without location", 300, "", 0, "300 Multiple Choices without a redirect broadsheet can follow"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tt.retryAfter != "" {
					w.Header().Set("Retry-After", tt.retryAfter)
				}
				w.WriteHeader(tt.code)
				fmt.Fprint(w, "<html><body>error</body></html>")
			}))
			defer srv.Close()
			res, err := newTestClient(Options{}).Fetch(context.Background(), feeds.Source{Name: "s", URL: srv.URL}, feeds.SourceState{})
			if res != nil {
				t.Errorf("got a result %+v with the error", res)
			}
			fe := wantReason(t, err, tt.reason)
			if fe.Status != tt.code {
				t.Errorf("Status = %d, want %d", fe.Status, tt.code)
			}
			if fe.RetryAfter != tt.wantRetry {
				t.Errorf("RetryAfter = %v, want %v", fe.RetryAfter, tt.wantRetry)
			}
			if fe.URL != srv.URL {
				t.Errorf("URL = %q, want %q", fe.URL, srv.URL)
			}
		})
	}
}

func TestClient_Fetch_Body(t *testing.T) {
	page := readFixture(t, "page.html")
	tests := []struct {
		name     string
		handler  http.HandlerFunc
		maxBody  int64
		timeout  time.Duration
		reason   []string // empty: success
		articles int
		status   int // of the error; 200 unless set
	}{
		{
			name: "HTML page with a feed link served as RSS",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/rss+xml")
				w.Write(page)
			},
			reason: []string{"this is a web page, not a feed; its feed seems to be at http://127.0.0.1:", "/feed/: use that url"},
		},
		{
			name: "HTML login page",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Write(readFixture(t, "login.html"))
			},
			reason: []string{"this is a web page, not a feed (an error or login page"},
		},
		{
			name: "body over the cap",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Write(bytes.Repeat([]byte("<rss>"), 1000))
			},
			maxBody: 2 << 10,
			reason:  []string{"the feed is larger than the 2 KiB limit (fetch.max_body_bytes)"},
		},
		{
			name: "gzip bomb",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Encoding", "gzip")
				w.Write(gzipBomb(t, 8<<20))
			},
			maxBody: 1 << 20,
			reason:  []string{"the feed is larger than the 1 MiB limit (fetch.max_body_bytes)"},
		},
		{
			name: "gzip feed",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Encoding", "gzip")
				zw := gzip.NewWriter(w)
				zw.Write([]byte(smallFeed))
				zw.Close()
			},
			articles: 2,
		},
		{
			name: "corrupt gzip",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Encoding", "gzip")
				w.Write([]byte("this is not gzip at all"))
			},
			reason: []string{"gzip"},
		},
		{
			name: "endless body",
			handler: func(w http.ResponseWriter, r *http.Request) {
				chunk := bytes.Repeat([]byte("<item>"), 4096)
				for r.Context().Err() == nil {
					if _, err := w.Write(chunk); err != nil {
						return
					}
				}
			},
			maxBody: 1 << 20,
			reason:  []string{"larger than the 1 MiB limit"},
		},
		{
			name: "trickling body",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Write([]byte("<rss version=\"2.0\">"))
				w.(http.Flusher).Flush()
				tick := time.NewTicker(20 * time.Millisecond)
				defer tick.Stop()
				for {
					select {
					case <-r.Context().Done():
						return
					case <-tick.C:
						w.Write([]byte(" "))
						w.(http.Flusher).Flush()
					}
				}
			},
			timeout: 300 * time.Millisecond,
			reason:  []string{"the server did not send the whole feed within 300ms (fetch.timeout)"},
		},
		{
			name: "slow headers",
			handler: func(w http.ResponseWriter, r *http.Request) {
				<-r.Context().Done()
			},
			timeout: 300 * time.Millisecond,
			reason:  []string{"the server did not answer within 300ms (fetch.timeout)"},
			status:  -1,
		},
		{
			name: "charset only in the HTTP header",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/rss+xml; charset=EUC-KR")
				w.Write(readFixture(t, "charset/euc-kr-nodecl.xml"))
			},
			articles: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.handler)
			defer srv.Close()
			c := newTestClient(Options{MaxBodyBytes: tt.maxBody, Timeout: tt.timeout})
			start := time.Now()
			res, err := c.Fetch(context.Background(), feeds.Source{Name: "s", URL: srv.URL + "/feed"}, feeds.SourceState{})
			if took := time.Since(start); tt.timeout > 0 && took > tt.timeout+2*time.Second {
				t.Errorf("Fetch took %v with a timeout of %v", took, tt.timeout)
			}
			if len(tt.reason) == 0 {
				if err != nil {
					t.Fatalf("Fetch: %v", err)
				}
				if len(res.Articles) != tt.articles {
					t.Errorf("got %d articles, want %d", len(res.Articles), tt.articles)
				}
				return
			}
			fe := wantReason(t, err, tt.reason...)
			want := 200
			if tt.status < 0 {
				want = 0 // no answer came
			}
			if fe.Status != want {
				t.Errorf("Status = %d, want %d", fe.Status, want)
			}
		})
	}
}

// gzipBomb returns n zero bytes gzipped: a few KiB that expand to n.
func gzipBomb(t *testing.T, n int) []byte {
	t.Helper()
	var b bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
	zw.Write(make([]byte, n))
	zw.Close()
	if b.Len() > 64<<10 {
		t.Fatalf("bomb is %d bytes compressed", b.Len())
	}
	return b.Bytes()
}

func TestClient_Fetch_Redirects(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/loop/{n}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/loop/x"+r.PathValue("n"), http.StatusFound)
	})
	mux.HandleFunc("/hops/{n}", func(w http.ResponseWriter, r *http.Request) {
		var n int
		fmt.Sscan(r.PathValue("n"), &n)
		if n == 0 {
			fmt.Fprint(w, smallFeed)
			return
		}
		http.Redirect(w, r, fmt.Sprintf("/hops/%d", n-1), http.StatusMovedPermanently)
	})
	mux.HandleFunc("/to-file", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "file:///etc/passwd", http.StatusFound)
	})
	mux.HandleFunc("/to-ftp", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "ftp://files.example/feed.xml", http.StatusFound)
	})
	mux.HandleFunc("/moved", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/new/place/feed.xml", http.StatusMovedPermanently)
	})
	mux.HandleFunc("/new/place/feed.xml", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, smallFeed)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	tests := []struct {
		path     string
		reason   string
		wantLink string // of the first article, on success
	}{
		{"/loop/1", "the server redirects in a loop (more than 10 redirects)", ""},
		{"/hops/11", "the server redirects in a loop (more than 10 redirects)", ""},
		{"/hops/10", "", srv.URL + "/hops/item/1"},
		{"/to-file", "the server redirects to file:///etc/passwd, which is not an http or https url", ""},
		{"/to-ftp", "the server redirects to ftp://files.example/feed.xml, which is not an http or https url", ""},
		{"/moved", "", srv.URL + "/new/place/item/1"}, // relative links resolve against the final URL
	}
	c := newTestClient(Options{})
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			res, err := c.Fetch(context.Background(), feeds.Source{Name: "r", URL: srv.URL + tt.path}, feeds.SourceState{})
			if tt.reason != "" {
				wantReason(t, err, tt.reason)
				return
			}
			if err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			if got := res.Articles[0].Link; got != tt.wantLink {
				t.Errorf("link = %q, want %q", got, tt.wantLink)
			}
		})
	}
}

func TestClient_Fetch_PrivateNetworks(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, smallFeed)
	}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())

	tests := []struct {
		name   string
		allow  bool
		url    string
		reason string
	}{
		{"loopback refused", false, srv.URL, "refused to connect to 127.0.0.1: it is a private/loopback address; " + PrivateNetworkAdvice},
		{"localhost name refused after DNS", false, "http://localhost:" + port + "/", "it is a private/loopback address"},
		{"loopback allowed", true, srv.URL, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := New(Options{AllowPrivateNetworks: tt.allow, Now: fixedNow})
			res, err := c.Fetch(context.Background(), feeds.Source{Name: "p", URL: tt.url}, feeds.SourceState{})
			if tt.reason == "" {
				if err != nil {
					t.Fatalf("Fetch: %v", err)
				}
				if len(res.Articles) != 2 {
					t.Errorf("got %d articles, want 2", len(res.Articles))
				}
				return
			}
			fe := wantReason(t, err, tt.reason)
			if fe.Status != 0 {
				t.Errorf("Status = %d, want 0", fe.Status)
			}
		})
	}
}

func TestIsPublic(t *testing.T) {
	tests := []struct {
		addr string
		want bool
	}{
		{"127.0.0.1", false},
		{"127.1.2.3", false},
		{"10.1.2.3", false},
		{"172.16.0.1", false},
		{"192.168.1.1", false},
		{"169.254.169.254", false},
		{"100.64.0.1", false},
		{"0.0.0.0", false},
		{"224.0.0.1", false},
		{"::1", false},
		{"::", false},
		{"fe80::1", false},
		{"fc00::1", false},
		{"fd12:3456::1", false},
		{"::ffff:127.0.0.1", false},
		{"::ffff:10.0.0.1", false},
		{"64:ff9b::7f00:1", false},
		// IPv6 forms that carry a private IPv4 address, and IPv6 ranges
		// that are not global.
		{"::127.0.0.1", false},
		{"::10.0.0.1", false},
		{"::8.8.8.8", true},
		{"::ffff:0:7f00:1", false},
		{"::ffff:0:a00:1", false},
		{"::ffff:0:808:808", true},
		{"2002:7f00:1::", false},
		{"2002:7f00:1::1", false},
		{"2002:c0a8:101::1", false},
		{"2002:a9fe:a9fe::", false},
		{"2002:808:808::1", true},
		{"64:ff9b::10.0.0.1", false},
		{"64:ff9b::169.254.169.254", false},
		{"64:ff9b::8.8.8.8", true},
		{"64:ff9b:1::7f00:1", false},
		{"64:ff9b:1::c0a8:101", false},
		{"64:ff9b:1:2::", false},
		{"64:ff9b:1::808:808", true},
		{"fec0::1", false},
		{"feff::1", false},
		{"fe80::1%eth0", false},
		{"2001:db8::1", false},
		{"100::1", false},
		{"192.0.2.1", false},
		{"8.8.8.8", true},
		{"93.184.216.34", true},
		{"2001:4860:4860::8888", true},
		{"::ffff:8.8.8.8", true},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			if got := isPublic(netip.MustParseAddr(tt.addr)); got != tt.want {
				t.Errorf("isPublic(%s) = %v, want %v", tt.addr, got, tt.want)
			}
		})
	}
}

// refusedAddr returns a loopback address that refuses connections until t
// ends. A port reserved by a listener and then closed can be taken back by
// any server started meanwhile (another test's); this one stays held by
// the client end of an open connection, which never accepts, and which no
// listener can bind over.
func refusedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	s, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return c.LocalAddr().String()
}

func TestClient_Fetch_NetworkErrors(t *testing.T) {
	closed := "http://" + refusedAddr(t) + "/"

	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, smallFeed) }))
	defer plain.Close()
	tlsSrv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, smallFeed) }))
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is expected
	tlsSrv.StartTLS()
	defer tlsSrv.Close()
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()

	tests := []struct {
		name   string
		ctx    context.Context
		url    string
		reason string
	}{
		{"not http", context.Background(), "ftp://files.example/feed", "the url is not an http or https url: check the source's url in config.yaml"},
		{"no host", context.Background(), "http:///feed", "not an http or https url"},
		{"connection refused", context.Background(), closed, "refused the connection: the server is down or the port is wrong"},
		{"untrusted certificate", context.Background(), tlsSrv.URL, "the server's TLS certificate is not valid"},
		{"https to a plain server", context.Background(), strings.Replace(plain.URL, "http:", "https:", 1), "the server does not speak TLS (https) on this port"},
		{"cancelled", cancelled, plain.URL, "the fetch was cancelled"},
	}
	c := newTestClient(Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.Fetch(tt.ctx, feeds.Source{Name: "n", URL: tt.url}, feeds.SourceState{})
			wantReason(t, err, tt.reason)
		})
	}
}

func TestClient_Fetch_CallerDeadline(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := newTestClient(Options{}).Fetch(ctx, feeds.Source{Name: "d", URL: srv.URL}, feeds.SourceState{})
	fe := wantReason(t, err, "the server did not answer within ", "ms the caller allowed")
	if strings.Contains(fe.Reason, "30s") {
		t.Errorf("reason %q names the client's timeout, not the caller's", fe.Reason)
	}
}

func TestRetryAfter(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"0", 0},
		{"-5", 0},
		{" 90 ", 90 * time.Second},
		{testNow.Add(90 * time.Minute).Format(http.TimeFormat), 90 * time.Minute},
		{testNow.Add(2 * time.Hour).Format(time.RFC850), 2 * time.Hour},
		{"tomorrow", 0},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := retryAfter(tt.in, testNow); got != tt.want {
				t.Errorf("retryAfter(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

// TestRefusePrivate checks the dial-time guard on the address strings the
// dialer hands it, IPv6 forms with a zone included.
func TestRefusePrivate(t *testing.T) {
	tests := []struct {
		address string
		refused bool
	}{
		{"[::127.0.0.1]:80", true},
		{"[::ffff:0:7f00:1]:443", true},
		{"[2002:7f00:1::1]:80", true},
		{"[64:ff9b:1::a00:1]:80", true},
		{"[fec0::1%eth0]:80", true},
		{"127.0.0.1:80", true},
		{"localhost:80", true}, // not resolved: the guard sees only IPs
		{"[2001:4860:4860::8888]:443", false},
		{"8.8.8.8:443", false},
	}
	for _, tt := range tests {
		t.Run(tt.address, func(t *testing.T) {
			err := refusePrivate("tcp", tt.address, nil)
			if got := err != nil; got != tt.refused {
				t.Errorf("refusePrivate(%q) = %v, want refused %v", tt.address, err, tt.refused)
			}
		})
	}
}
