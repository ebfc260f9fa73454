package config

import (
	"strings"
	"testing"
	"time"

	"github.com/robfig/cron/v3"
)

func TestParseSchedule(t *testing.T) {
	from := time.Date(2025, 3, 10, 6, 20, 0, 0, time.UTC) // a Monday
	seoul, _ := time.LoadLocation("Asia/Seoul")
	tests := []struct {
		spec    string
		next    time.Time // the first run after from, when valid
		wantErr string
	}{
		{spec: "CRON_TZ=UTC 0 7 * * *", next: time.Date(2025, 3, 10, 7, 0, 0, 0, time.UTC)},
		{spec: "TZ=UTC */15 * * * *", next: time.Date(2025, 3, 10, 6, 30, 0, 0, time.UTC)},
		{spec: "CRON_TZ=Asia/Seoul 0 7 * * *", next: time.Date(2025, 3, 11, 7, 0, 0, 0, seoul)},
		{spec: "CRON_TZ=UTC 0 9 * * 6", next: time.Date(2025, 3, 15, 9, 0, 0, 0, time.UTC)},
		{spec: "CRON_TZ=UTC\t@hourly", next: time.Date(2025, 3, 10, 7, 0, 0, 0, time.UTC)},
		{spec: "CRON_TZ=UTC @daily", next: time.Date(2025, 3, 11, 0, 0, 0, 0, time.UTC)},
		{spec: "@every 15m", next: from.Add(15 * time.Minute)},
		{spec: "@every 1d", next: from.Add(24 * time.Hour)},
		{spec: "  @every 1h30m  ", next: from.Add(90 * time.Minute)},
		{spec: "CRON_TZ=Asia/Seoul @every 2h", next: from.Add(2 * time.Hour)},
		{spec: "", wantErr: "empty schedule"},
		{spec: "CRON_TZ=UTC", wantErr: "has a time zone but no schedule"},
		{spec: "TZ=", wantErr: "has a time zone but no schedule"},
		{spec: "CRON_TZ= 0 7 * * *", wantErr: "is not a known time zone"},
		{spec: "CRON_TZ=Nowhere/City 0 7 * * *", wantErr: "is not a known time zone"},
		{spec: "0 7 * *", wantErr: "expected exactly 5 fields"},
		{spec: "0 0 7 * * *", wantErr: "expected exactly 5 fields"},
		{spec: "61 * * * *", wantErr: "not a valid schedule"},
		{spec: "*/0 * * * *", wantErr: "not a valid schedule"},
		{spec: "@fortnightly", wantErr: "not a valid schedule"},
		{spec: "@every", wantErr: "empty duration"},
		{spec: "@every soon", wantErr: "is not a duration"},
		{spec: "@every 500ms", wantErr: "at least 1s"},
		{spec: "@every -1h", wantErr: "at least 1s"},
		{spec: "0 0 30 2 *", wantErr: "never fires"},
		{spec: "0 0 31 4 *", wantErr: "never fires"},
	}
	for _, tc := range tests {
		t.Run(tc.spec, func(t *testing.T) {
			s, err := ParseSchedule(tc.spec)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ParseSchedule(%q) error = %v, want one containing %q", tc.spec, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseSchedule(%q): %v", tc.spec, err)
			}
			if got := s.Next(from); !got.Equal(tc.next) {
				t.Errorf("Next(%s) = %s, want %s", from, got, tc.next)
			}
		})
	}
	t.Run("LeapDayFires", func(t *testing.T) {
		s, err := ParseSchedule("CRON_TZ=UTC 0 0 29 2 *")
		if err != nil {
			t.Fatal(err)
		}
		if got, want := s.Next(from), time.Date(2028, 2, 29, 0, 0, 0, 0, time.UTC); !got.Equal(want) {
			t.Errorf("Next = %s, want %s", got, want)
		}
	})
	t.Run("EveryIsConstantDelay", func(t *testing.T) {
		s, err := ParseSchedule("@every 1d")
		if err != nil {
			t.Fatal(err)
		}
		if e, ok := s.(cron.ConstantDelaySchedule); !ok || e.Delay != 24*time.Hour {
			t.Errorf("@every 1d = %#v, want a 24h ConstantDelaySchedule", s)
		}
	})
}
