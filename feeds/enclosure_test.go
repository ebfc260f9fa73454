package feeds

import "testing"

func TestEnclosure_Label(t *testing.T) {
	for _, tt := range []struct {
		e    Enclosure
		want string
	}{
		{Enclosure{Type: "audio/mpeg", Length: 34_567_890}, "audio, 35 MB"},
		{Enclosure{Type: "video/mp4", Length: 1_260_000_000}, "video, 1.3 GB"},
		{Enclosure{Type: "image/png", Length: 2_048}, "image, 2 kB"},
		{Enclosure{Type: "application/pdf", Length: 12}, "file, 12 bytes"},
		{Enclosure{Type: "audio/ogg"}, "audio"},
		{Enclosure{}, "file"},
	} {
		if got := tt.e.Label(); got != tt.want {
			t.Errorf("%+v.Label() = %q, want %q", tt.e, got, tt.want)
		}
	}
}
