package sanitize

import "testing"

func TestRedactURL(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "https://example.com/feed.xml", "https://example.com/feed.xml"},
		{"harmless query kept in order", "https://example.com/feed?tag=go&page=2&author=lois", "https://example.com/feed?tag=go&page=2&author=lois"},
		{"token", "https://example.com/feed?token=s3cr3t", "https://example.com/feed"},
		{"token among others", "https://example.com/feed?a=1&token=s3cr3t&b=2", "https://example.com/feed?a=1&b=2"},
		{"key", "https://example.com/rss?key=abc&lang=en", "https://example.com/rss?lang=en"},
		{"apikey", "https://example.com/rss?apikey=abc", "https://example.com/rss"},
		{"api_key", "https://example.com/rss?api_key=abc", "https://example.com/rss"},
		{"api-key", "https://example.com/rss?api-key=abc", "https://example.com/rss"},
		{"secret", "https://example.com/rss?secret=abc", "https://example.com/rss"},
		{"client_secret", "https://example.com/rss?client_secret=abc", "https://example.com/rss"},
		{"password", "https://example.com/rss?password=abc&user=x", "https://example.com/rss?user=x"},
		{"auth", "https://example.com/rss?auth=abc", "https://example.com/rss"},
		{"sig", "https://example.com/rss?sig=abc", "https://example.com/rss"},
		{"signature", "https://example.com/rss?Signature=abc&Expires=1", "https://example.com/rss?Expires=1"},
		{"access_token", "https://example.com/rss?access_token=abc", "https://example.com/rss"},
		{"private_token", "https://gitlab.example/x.atom?private_token=abc", "https://gitlab.example/x.atom"},
		{"upper case", "https://example.com/rss?TOKEN=abc", "https://example.com/rss"},
		{"escaped name", "https://example.com/rss?%74oken=abc", "https://example.com/rss"},
		{"amz", "https://b.s3.example/f.xml?X-Amz-Credential=a&X-Amz-Signature=b&X-Amz-Date=c", "https://b.s3.example/f.xml?X-Amz-Date=c"},
		{"semicolon segment", "https://example.com/rss?a=1;token=x&b=2", "https://example.com/rss?b=2"},
		{"empty value", "https://example.com/rss?token=", "https://example.com/rss"},
		{"no value", "https://example.com/rss?token", "https://example.com/rss"},
		{"user and password", "https://user:pass@example.com/feed", "https://example.com/feed"},
		{"user only", "https://user@example.com/feed", "https://example.com/feed"},
		{"fragment", "https://example.com/feed#access_token=abc", "https://example.com/feed"},
		{"everything", "http://u:p@example.com:8080/f?q=1&key=2#k", "http://example.com:8080/f?q=1"},
		{"keyword is not key", "https://example.com/search.rss?keyword=go&monkey=1", "https://example.com/search.rss?keyword=go&monkey=1"},
		{"not http", "ftp://example.com/feed", ""},
		{"javascript", "javascript:alert(1)", ""},
		{"relative", "/feed.xml", ""},
		{"garbage", "http://[::1", ""},
		{"control character", "https://example.com/feed\x00?token=1", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := RedactURL(tt.in); got != tt.want {
				t.Errorf("RedactURL(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
