package actions

import (
	"errors"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestTokenParse(t *testing.T) {
	native := token{Decimals: 6, Symbol: "USDC"}
	for _, tc := range []struct {
		in   string
		want uint64
		says string // a 400 whose message contains this
	}{
		{"12.5", 12_500_000, ""},
		{" 1_000 ", 1_000_000_000, ""},
		{"0.000001", 1, ""},
		{"3.100000", 3_100_000, ""},
		{"", 0, "Enter the amount"},
		{"abc", 0, "not a number"},
		{"1,5", 0, "not a number"},
		{"-1", 0, "negative"},
		{"1e6", 0, "digits"},
		{"0.0000001", 0, "6 decimal places"},
		{"0", 0, "greater than zero"},
		{"18446744073709.551616", 0, "too large"},
	} {
		got, err := native.Parse("amount", tc.in)
		if tc.says == "" {
			if err != nil || got != tc.want {
				t.Errorf("Parse(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
			}
			continue
		}
		var e *Error
		if !errors.As(err, &e) || e.Status != http.StatusBadRequest || !strings.Contains(e.Message, tc.says) {
			t.Errorf("Parse(%q) = %d, %v; want a 400 saying %q", tc.in, got, err, tc.says)
		}
	}
}

// The pattern a client checks matches what the server accepts, for plain inputs.
func TestTokenPatternAgreesWithParse(t *testing.T) {
	for _, decimals := range []uint8{0, 2, 6, 9} {
		tok := token{Decimals: decimals, Symbol: "X"}
		pattern, desc := tok.pattern()
		if desc == "" {
			t.Fatal("no pattern description")
		}
		re := regexp.MustCompile(pattern)
		for _, in := range []string{"1", "10", "0.5", "1.25", "3.000001", "2.123456789", "1.", ".5", "x", "1.2.3", "12.1234567890"} {
			_, err := tok.Parse("amount", in)
			if re.MatchString(in) && err != nil {
				t.Errorf("decimals %d: %q matches the client pattern but the server refuses it: %v", decimals, in, err)
			}
		}
	}
}

func TestGrouped(t *testing.T) {
	for in, want := range map[string]string{
		"0": "0", "999": "999", "1000": "1,000", "60000": "60,000", "1234567.891": "1,234,567.891", "100000": "100,000",
	} {
		if got := grouped(in); got != want {
			t.Errorf("grouped(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestWhen(t *testing.T) {
	at := time.Date(2026, 12, 1, 14, 0, 0, 0, time.UTC).Unix()
	for now, want := range map[int64]string{
		at - 3*3600 - 60:   "2026-12-01 14:00 UTC (in 3h 1m)",
		at + 2*86400 + 300: "2026-12-01 14:00 UTC (2d 5m ago)",
		at:                 "2026-12-01 14:00 UTC (now)",
		at - 10:            "2026-12-01 14:00 UTC (in 10s)",
	} {
		if got := when(at, now); got != want {
			t.Errorf("when(%d) = %q, want %q", now-at, got, want)
		}
	}
}
