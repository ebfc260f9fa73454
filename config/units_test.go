package config

import (
	"strings"
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr string
	}{
		{"90s", 90 * time.Second, ""},
		{"15m", 15 * time.Minute, ""},
		{"72h", 72 * time.Hour, ""},
		{"1h30m", 90 * time.Minute, ""},
		{"7d", 7 * 24 * time.Hour, ""},
		{"1d12h", 36 * time.Hour, ""},
		{"1d12h30m", 36*time.Hour + 30*time.Minute, ""},
		{"0d", 0, ""},
		{" 2d ", 48 * time.Hour, ""},
		{"-1d", -24 * time.Hour, ""},
		{"-1d2h", -26 * time.Hour, ""},
		{"0", 0, ""},
		{"", 0, "empty duration"},
		{"d", 0, "days come first"},
		{"1.5d", 0, "days come first"},
		{"1h2d", 0, "days come first"},
		{"1d-2h", 0, "sign only at the start"},
		{"3 days", 0, "is not a duration"},
		{"30", 0, "is not a duration"},
		{"99999999d", 0, "too long"},
		{"106751d23h48m", 0, "too long"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseDuration(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ParseDuration(%q) = %v, %v; want error containing %q", tc.in, got, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("ParseDuration(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		in      string
		want    int64
		wantErr string
	}{
		{"1048576", 1 << 20, ""},
		{"16MiB", 16 << 20, ""},
		{"16mib", 16 << 20, ""},
		{"512KB", 512000, ""},
		{"512KiB", 512 << 10, ""},
		{"1 GiB", 1 << 30, ""},
		{"1.5MiB", 3 << 19, ""},
		{"2GB", 2e9, ""},
		{"100B", 100, ""},
		{"0", 0, ""},
		{"", 0, "is not a size"},
		{"MiB", 0, "is not a size"},
		{"-1", 0, "is not a size"},
		{"16 megabytes", 0, "is not a size"},
		{"16M", 0, "is not a size"},
		{"1.2.3KB", 0, "is not a size"},
		{"9223372036854775808", 0, "too large"},
		{"9000000TiB", 0, "too large"},
		{"9e18TB", 0, "is not a size"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseSize(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ParseSize(%q) = %v, %v; want error containing %q", tc.in, got, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("ParseSize(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestParse_SizesAndDurations(t *testing.T) {
	src := "fetch:\n  max_body_bytes: 1048576\n  timeout: 2m\nclustering:\n  window: 2d12h\ndigests:\n  - name: w\n    schedule: \"@weekly\"\n    to: [a@example.com]\n    max_age: 14d\n"
	c, err := parseWith("t.yaml", []byte(src), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if c.Fetch.MaxBodyBytes != 1<<20 || c.Fetch.Timeout != 2*time.Minute || c.Clustering.Window != 60*time.Hour || c.Digests[0].MaxAge != 14*24*time.Hour {
		t.Errorf("max_body_bytes %d, timeout %s, window %s, max_age %s; want 1048576, 2m, 60h, 336h",
			c.Fetch.MaxBodyBytes, c.Fetch.Timeout, c.Clustering.Window, c.Digests[0].MaxAge)
	}
}

func TestFormat(t *testing.T) {
	tests := []struct{ got, want string }{
		{FormatDuration(72 * time.Hour), "3d"},
		{FormatDuration(90 * time.Minute), "1h30m0s"},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}
