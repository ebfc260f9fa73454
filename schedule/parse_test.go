package schedule

import (
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	from := time.Date(2025, 3, 10, 6, 20, 0, 0, time.UTC) // a Monday
	seoul, _ := time.LoadLocation("Asia/Seoul")
	tests := []struct {
		spec     string
		next     time.Time // the first run after from, when valid
		interval time.Duration
		zone     string
		wantErr  string
	}{
		{spec: "CRON_TZ=UTC 0 7 * * *", next: time.Date(2025, 3, 10, 7, 0, 0, 0, time.UTC), zone: "UTC"},
		{spec: "TZ=UTC */15 * * * *", next: time.Date(2025, 3, 10, 6, 30, 0, 0, time.UTC), zone: "UTC"},
		{spec: "CRON_TZ=Asia/Seoul 0 7 * * *", next: time.Date(2025, 3, 11, 7, 0, 0, 0, seoul), zone: "Asia/Seoul"},
		{spec: "CRON_TZ=UTC 0 9 * * 6", next: time.Date(2025, 3, 15, 9, 0, 0, 0, time.UTC), zone: "UTC"},
		{spec: "CRON_TZ=UTC\t@hourly", next: time.Date(2025, 3, 10, 7, 0, 0, 0, time.UTC), zone: "UTC"},
		{spec: "CRON_TZ=UTC @daily", next: time.Date(2025, 3, 11, 0, 0, 0, 0, time.UTC), zone: "UTC"},
		// Intervals are counted from midnight (in the zone), not from
		// whenever a process started.
		{spec: "CRON_TZ=UTC @every 15m", next: time.Date(2025, 3, 10, 6, 30, 0, 0, time.UTC), interval: 15 * time.Minute, zone: "UTC"},
		{spec: "TZ=UTC @every 1d", next: time.Date(2025, 3, 11, 0, 0, 0, 0, time.UTC), interval: 24 * time.Hour, zone: "UTC"},
		{spec: "  TZ=UTC @every 1h30m  ", next: time.Date(2025, 3, 10, 7, 30, 0, 0, time.UTC), interval: 90 * time.Minute, zone: "UTC"},
		{spec: "CRON_TZ=Asia/Seoul @every 2h", next: time.Date(2025, 3, 10, 16, 0, 0, 0, seoul), interval: 2 * time.Hour, zone: "Asia/Seoul"},
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
			s, err := Parse(tc.spec)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Parse(%q) error = %v, want one containing %q", tc.spec, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q): %v", tc.spec, err)
			}
			if got := s.Next(from); !got.Equal(tc.next) {
				t.Errorf("Next(%s) = %s, want %s", from, got, tc.next)
			}
			if got := s.Interval(); got != tc.interval {
				t.Errorf("Interval = %v, want %v", got, tc.interval)
			}
			zone := ""
			if s.Location() != nil {
				zone = s.Location().String()
			}
			if zone != tc.zone {
				t.Errorf("Location = %q, want %q", zone, tc.zone)
			}
			if s.String() != strings.TrimSpace(tc.spec) {
				t.Errorf("String = %q, want %q", s.String(), strings.TrimSpace(tc.spec))
			}
		})
	}
	t.Run("LeapDayFires", func(t *testing.T) {
		s, err := Parse("CRON_TZ=UTC 0 0 29 2 *")
		if err != nil {
			t.Fatal(err)
		}
		if got, want := s.Next(from), time.Date(2028, 2, 29, 0, 0, 0, 0, time.UTC); !got.Equal(want) {
			t.Errorf("Next = %s, want %s", got, want)
		}
	})
	t.Run("NoZoneIsLocal", func(t *testing.T) {
		s, err := Parse("@every 6h")
		if err != nil {
			t.Fatal(err)
		}
		want := time.Date(from.Year(), from.Month(), from.Day(), 0, 0, 0, 0, time.Local)
		for !want.After(from) {
			want = want.Add(6 * time.Hour)
		}
		if got := s.Next(from); !got.Equal(want) || s.Location() != nil {
			t.Errorf("Next = %s, Location %v; want %s, nil", got, s.Location(), want)
		}
	})
}

func TestSchedule_Last(t *testing.T) {
	seoul, _ := time.LoadLocation("Asia/Seoul")
	t0 := time.Date(2025, 3, 3, 7, 0, 0, 0, seoul) // a daily tick
	parse := func(spec string) *Schedule {
		s, err := Parse(spec)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	daily := parse("CRON_TZ=Asia/Seoul 0 7 * * *")
	monthly := parse("CRON_TZ=UTC 0 7 1 * *")
	every := parse("CRON_TZ=UTC @every 1h")
	for _, tc := range []struct {
		name string
		s    *Schedule
		now  time.Time
		want time.Time
	}{
		{"AtTick", daily, t0, t0},
		{"AfterTick", daily, t0.Add(3 * time.Hour), t0},
		{"BeforeTick", daily, t0.Add(-time.Minute), t0.Add(-24 * time.Hour)},
		{"DaysLate", daily, t0.Add(100 * time.Hour), t0.Add(96 * time.Hour)},
		{"Monthly", monthly, time.Date(2025, 3, 20, 0, 0, 0, 0, time.UTC), time.Date(2025, 3, 1, 7, 0, 0, 0, time.UTC)},
		{"EveryAtTick", every, time.Date(2025, 3, 3, 5, 0, 0, 0, time.UTC), time.Date(2025, 3, 3, 5, 0, 0, 0, time.UTC)},
		{"EveryBetween", every, time.Date(2025, 3, 3, 5, 59, 59, 0, time.UTC), time.Date(2025, 3, 3, 5, 0, 0, 0, time.UTC)},
		{"EveryDaysLate", every, time.Date(2025, 3, 9, 5, 30, 0, 0, time.UTC), time.Date(2025, 3, 9, 5, 0, 0, 0, time.UTC)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.s.Last(tc.now); !got.Equal(tc.want) {
				t.Errorf("Last(%s) = %s, want %s", tc.now, got, tc.want)
			}
			// Next of the last tick is the first one after now.
			if next := tc.s.Next(tc.s.Last(tc.now)); !next.After(tc.now) {
				t.Errorf("Next(Last(now)) = %s, not after %s", next, tc.now)
			}
		})
	}
	t.Run("EveryBeforeEpoch", func(t *testing.T) {
		at := time.Date(1999, 12, 31, 22, 30, 0, 0, time.UTC)
		if got, want := every.Next(at), time.Date(1999, 12, 31, 23, 0, 0, 0, time.UTC); !got.Equal(want) {
			t.Errorf("Next(%s) = %s, want %s", at, got, want)
		}
	})
}

func TestEvery(t *testing.T) {
	s := Every(5 * time.Minute)
	at := time.Date(2025, 3, 3, 5, 7, 0, 0, time.UTC)
	if got, want := s.Next(at), time.Date(2025, 3, 3, 5, 10, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("Next = %s, want %s", got, want)
	}
}

// FuzzParse checks that no schedule text panics, and that an accepted
// schedule has a next run, and a last one at or before it.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"0 7 * * *", "CRON_TZ=Asia/Seoul 0 7 * * 1-5", "@every 1d12h", "TZ=UTC", "@hourly", "*/5 1-3,7 * 1 MON", "0 0 30 2 *"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		s, err := Parse(spec)
		if err != nil {
			return
		}
		next := s.Next(ref)
		if next.IsZero() {
			t.Fatalf("Parse(%q) accepted a schedule that never fires", spec)
		}
		if last := s.Last(next); !last.Equal(next) {
			t.Fatalf("Parse(%q): Last(Next(t)) = %s, want %s", spec, last, next)
		}
	})
}
