package digest

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func TestToken(t *testing.T) {
	key := []byte("k1")
	tok := Token(key, "daily", "Reader@Example.com")
	d, a, err := ParseToken(key, tok)
	if err != nil || d != "daily" || a != "reader@example.com" {
		t.Fatalf("ParseToken = %q, %q, %v; want daily, reader@example.com, nil", d, a, err)
	}
	other := Token(key, "daily", "someone@example.com")
	p1, _, _ := strings.Cut(tok, ".")
	_, s2, _ := strings.Cut(other, ".")
	for _, tc := range []struct{ name, tok string }{
		{"OtherKey", Token([]byte("k2"), "daily", "reader@example.com")},
		{"SwappedSignature", p1 + "." + s2},
		{"Truncated", tok[:len(tok)-3]},
		{"NoDot", strings.ReplaceAll(tok, ".", "")},
		{"Empty", ""},
		{"Garbage", "!!!.???"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := key
			if _, _, err := ParseToken(k, tc.tok); !errors.Is(err, ErrBadToken) {
				t.Errorf("ParseToken(%q) error %v, want ErrBadToken", tc.tok, err)
			}
		})
	}
}

func TestService_UnsubscribeHandler(t *testing.T) {
	e := newEnv(t, Options{BaseURL: "https://news.example.org/"}, nil)
	mux := http.NewServeMux()
	mux.Handle("/unsubscribe/{token}", e.svc.UnsubscribeHandler())
	srv := httptest.NewServer(mux)
	defer srv.Close()
	tok := Token([]byte("test secret"), "daily", "reader@example.com")

	do := func(t *testing.T, method, path string, body url.Values) (int, string) {
		t.Helper()
		var r io.Reader
		if body != nil {
			r = strings.NewReader(body.Encode())
		}
		req, _ := http.NewRequest(method, srv.URL+path, r)
		if body != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	unsubscribed := func() bool {
		l, _ := e.st.Unsubscribed(e.ctx, "daily")
		return len(l) == 1 && l[0] == "reader@example.com"
	}

	t.Run("GetConfirms", func(t *testing.T) {
		code, body := do(t, "GET", "/unsubscribe/"+tok, nil)
		if code != 200 || !strings.Contains(body, `<form method="post">`) || !strings.Contains(body, "reader@example.com") {
			t.Errorf("GET: %d\n%s", code, body)
		}
		if unsubscribed() {
			t.Error("GET alone unsubscribed (link scanners would unsubscribe everyone)")
		}
	})
	t.Run("BadToken", func(t *testing.T) {
		code, body := do(t, "POST", "/unsubscribe/"+tok+"x", url.Values{})
		if code != 404 || !strings.Contains(body, "not valid") || unsubscribed() {
			t.Errorf("POST with a bad token: %d\n%s", code, body)
		}
	})
	t.Run("MethodNotAllowed", func(t *testing.T) {
		if code, _ := do(t, "DELETE", "/unsubscribe/"+tok, nil); code != 405 {
			t.Errorf("DELETE: %d, want 405", code)
		}
	})
	t.Run("OneClickPost", func(t *testing.T) {
		code, body := do(t, "POST", "/unsubscribe/"+tok, url.Values{"List-Unsubscribe": {"One-Click"}})
		if code != 200 || !strings.Contains(body, "You are unsubscribed") {
			t.Errorf("POST: %d\n%s", code, body)
		}
		if !unsubscribed() {
			t.Error("not recorded")
		}
	})
	t.Run("Idempotent", func(t *testing.T) {
		if code, _ := do(t, "POST", "/unsubscribe/"+tok, url.Values{}); code != 200 || !unsubscribed() {
			t.Errorf("second POST: %d", code)
		}
	})
	t.Run("WithoutPattern", func(t *testing.T) {
		rec := httptest.NewRecorder()
		tok2 := Token([]byte("test secret"), "weekly", "x@example.com")
		e.svc.UnsubscribeHandler().ServeHTTP(rec, httptest.NewRequest("POST", "/prefix/unsubscribe/"+tok2, nil))
		l, _ := e.st.Unsubscribed(e.ctx, "weekly")
		if rec.Code != 200 || len(l) != 1 {
			t.Errorf("POST on a plain path: %d, unsubscribed %v", rec.Code, l)
		}
	})
	t.Run("LinksInMessageWork", func(t *testing.T) {
		e.st.add(art("S", "one", h(1), h(1)))
		e.send(Digest{Name: "morning", To: []string{"m@example.com"}}, t0)
		m := e.m.to("m@example.com")[0]
		link := strings.Trim(m.ListUnsubscribe, "<>")
		path := strings.TrimPrefix(link, "https://news.example.org")
		if code, _ := do(t, "POST", path, url.Values{"List-Unsubscribe": {"One-Click"}}); code != 200 {
			t.Fatalf("POST %s: %d", path, code)
		}
		l, _ := e.st.Unsubscribed(e.ctx, "morning")
		if len(l) != 1 || l[0] != "m@example.com" {
			t.Errorf("unsubscribed %v, want m@example.com", l)
		}
		if !strings.Contains(m.HTML, link) {
			t.Errorf("the HTML part lacks the unsubscribe link %s", link)
		}
	})
}
