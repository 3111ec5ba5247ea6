package duration

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestParseSeconds(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		err  error
	}{
		{"90s", 90, nil},
		{"15m", 900, nil},
		{"36h", 129_600, nil},
		{"7d", 604_800, nil},
		{"2w", 1_209_600, nil},
		{"1d12h", 129_600, nil},
		{"1w2d3h4m5s", 788_645, nil},
		{"0s", 0, nil},
		{"+5m", 300, nil},
		{" 10s ", 10, nil},
		{"9223372036854775807s", 9223372036854775807, nil},

		{"", 0, ErrEmpty},
		{"90", 0, ErrNoUnit},
		{"1d12", 0, ErrNoUnit},
		{"-5m", 0, ErrNegative},
		{"5y", 0, ErrSyntax},
		{"5 m", 0, ErrSyntax},
		{"1.5h", 0, ErrSyntax},
		{"m", 0, ErrSyntax},
		{"+", 0, ErrSyntax},
		{"1d1d", 0, ErrSyntax},
		{"5ms", 0, ErrSyntax},
		{"9223372036854775808s", 0, ErrOverflow},
		{"15250284452472w", 0, ErrOverflow},
		{"15250284452471w7d", 0, ErrOverflow},
		{"99999999999999999999999d", 0, ErrOverflow},
	}
	for _, tt := range tests {
		got, err := ParseSeconds(tt.in)
		if tt.err != nil {
			if !errors.Is(err, tt.err) {
				t.Errorf("ParseSeconds(%q) = %d, %v; want %v", tt.in, got, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseSeconds(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
}

func TestFormat(t *testing.T) {
	for secs, want := range map[int64]string{0: "0s", 90: "1m30s", 604_800: "1w", 129_600: "1d12h", -60: "-1m", 788_645: "1w2d3h4m5s"} {
		if got := Format(secs); got != want {
			t.Errorf("Format(%d) = %q, want %q", secs, got, want)
		}
	}
}

func TestParseTime(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Time
		err  bool
	}{
		{"now", now, false},
		{"NOW", now, false},
		{"7d", now.Add(7 * 24 * time.Hour), false},
		{"+90s", now.Add(90 * time.Second), false},
		{"2026-12-01T18:00:00Z", time.Date(2026, 12, 1, 18, 0, 0, 0, time.UTC), false},
		{"2026-12-01T18:00:00+02:00", time.Date(2026, 12, 1, 16, 0, 0, 0, time.UTC), false},
		{"2026-12-01", time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), false},
		{"", time.Time{}, true},
		{"tomorrow", time.Time{}, true},
		{"-1d", time.Time{}, true},
		{"2026-13-01", time.Time{}, true},
		{"1700000000", time.Time{}, true},
	}
	for _, tt := range tests {
		got, err := ParseTime(tt.in, now)
		if tt.err {
			if !errors.Is(err, ErrTime) {
				t.Errorf("ParseTime(%q) = %v, %v; want ErrTime", tt.in, got, err)
			}
			continue
		}
		if err != nil || !got.Equal(tt.want) {
			t.Errorf("ParseTime(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

// FuzzParseSeconds checks ParseSeconds never panics, never returns a
// negative span, and that Format's output parses back to the same value.
func FuzzParseSeconds(f *testing.F) {
	for _, s := range []string{"90s", "7d", "1w2d3h4m5s", "-5m", "90", "9223372036854775807s", "1d1d", "+"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		secs, err := ParseSeconds(s)
		if err != nil {
			return
		}
		if secs < 0 {
			t.Fatalf("ParseSeconds(%q) = %d < 0", s, secs)
		}
		back, err := ParseSeconds(Format(secs))
		if err != nil || back != secs {
			t.Fatalf("ParseSeconds(Format(%d) = %q) = %d, %v", secs, Format(secs), back, err)
		}
	})
}

// FuzzParseTime checks ParseTime never panics and that spans land after now.
func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"now", "7d", "2026-12-01T18:00:00Z", "2026-12-01", "x", "-1d"} {
		f.Add(s, int64(1_764_072_000))
	}
	f.Fuzz(func(t *testing.T, s string, unix int64) {
		if unix < 0 || unix > 1<<40 {
			return
		}
		now := time.Unix(unix, 0).UTC()
		got, err := ParseTime(s, now)
		if err != nil {
			return
		}
		if secs, err := ParseSeconds(s); err == nil && got.Unix()-now.Unix() != secs {
			t.Fatalf("ParseTime(%q) = %v, %d s from now; want %d", s, got, got.Unix()-now.Unix(), secs)
		}
	})
}

func TestParsePeriod(t *testing.T) {
	tests := []struct {
		in, err string
		want    int64
	}{
		{"2h", "", 7200},
		{"1h", "", 3600},
		{"59m", "--voting-period 59m is shorter than the protocol's minimum period 1h", 3540},
		{"soon", `--voting-period: "soon": not a duration (` + Hint + `)`, 0},
	}
	for _, tc := range tests {
		got, err := ParsePeriod("voting-period", tc.in, 3600)
		if got != tc.want || fmt.Sprint(err) != map[bool]string{true: "<nil>", false: tc.err}[tc.err == ""] {
			t.Errorf("ParsePeriod(%q) = %d, %v; want %d, %q", tc.in, got, err, tc.want, tc.err)
		}
	}
}
