// Package duration reads the time spans and instants people type on the
// command line: spans like "90s", "15m", "36h", "7d", "2w" or "1d12h"
// (seconds, minutes, hours, days of 24 h, weeks of 7 days), and instants as
// RFC 3339 ("2026-12-01T18:00:00Z"), a date ("2026-12-01", midnight UTC),
// "now", or a span from now ("7d" or "+7d").
//
// Spans are whole seconds (the programs count in seconds), never negative,
// and fit in an i64. Instants are resolved against a caller-supplied "now",
// which the CLI takes from the chain's clock rather than the wall clock.
package duration

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Errors callers branch on.
var (
	ErrEmpty    = errors.New("empty duration")
	ErrSyntax   = errors.New("not a duration")
	ErrNoUnit   = errors.New("a number needs a unit")
	ErrNegative = errors.New("durations cannot be negative")
	ErrOverflow = errors.New("duration too long")
	ErrTime     = errors.New("not a time")
)

var units = map[byte]int64{
	's': 1,
	'm': 60,
	'h': 3600,
	'd': 86_400,
	'w': 7 * 86_400,
}

// Hint is the accepted syntax, for error messages and flag usage.
const Hint = "a number with a unit: s, m, h, d (24 h) or w (7 d), e.g. 90s, 15m, 7d, 1d12h"

// TimeHint is the accepted syntax of instants.
const TimeHint = `RFC 3339 (2026-12-01T18:00:00Z), a date (2026-12-01, midnight UTC), "now", or a span from now (7d)`

// ParseSeconds reads a span such as "90s", "7d" or "1w2d" as whole seconds.
func ParseSeconds(s string) (int64, error) {
	in := s
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, ErrEmpty
	}
	if s[0] == '-' {
		return 0, fmt.Errorf("%q: %w", in, ErrNegative)
	}
	s = strings.TrimPrefix(s, "+")
	if s == "" {
		return 0, fmt.Errorf("%q: %w (%s)", in, ErrSyntax, Hint)
	}
	var total int64
	seen := map[byte]bool{}
	for s != "" {
		i := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == 0 {
			return 0, fmt.Errorf("%q: %w (%s)", in, ErrSyntax, Hint)
		}
		if i == len(s) {
			return 0, fmt.Errorf("%q: %w (%s)", in, ErrNoUnit, Hint)
		}
		unit, ok := units[s[i]]
		if !ok {
			return 0, fmt.Errorf("%q: %w: unknown unit %q (%s)", in, ErrSyntax, string(s[i]), Hint)
		}
		if seen[s[i]] {
			return 0, fmt.Errorf("%q: %w: unit %q given twice", in, ErrSyntax, string(s[i]))
		}
		seen[s[i]] = true
		n, err := strconv.ParseInt(s[:i], 10, 64)
		if err != nil || n > math.MaxInt64/unit || total > math.MaxInt64-n*unit {
			return 0, fmt.Errorf("%q: %w", in, ErrOverflow)
		}
		total += n * unit
		s = s[i+1:]
	}
	return total, nil
}

// ParsePeriod reads the span given to --flag, which may be no shorter than
// min seconds. Its errors name the flag, to be listed with other problems;
// the span is returned even when it is too short.
func ParsePeriod(flag, s string, min int64) (int64, error) {
	v, err := ParseSeconds(s)
	if err != nil {
		return v, fmt.Errorf("--%s: %w", flag, err)
	}
	if v < min {
		return v, fmt.Errorf("--%s %s is shorter than the protocol's minimum period %s", flag, Format(v), Format(min))
	}
	return v, nil
}

// Format renders seconds in the largest units that divide it exactly
// ("7d", "1d12h", "90s" → "1m30s", "0s").
func Format(secs int64) string {
	if secs == 0 {
		return "0s"
	}
	var b strings.Builder
	if secs < 0 {
		b.WriteByte('-')
		if secs == math.MinInt64 {
			return "-" + strconv.FormatUint(uint64(math.MaxInt64)+1, 10) + "s"
		}
		secs = -secs
	}
	for _, u := range []struct {
		c byte
		n int64
	}{{'w', 7 * 86_400}, {'d', 86_400}, {'h', 3600}, {'m', 60}, {'s', 1}} {
		if secs >= u.n {
			b.WriteString(strconv.FormatInt(secs/u.n, 10))
			b.WriteByte(u.c)
			secs %= u.n
		}
	}
	return b.String()
}

// ParseTime reads an instant (see the package documentation) relative to now.
func ParseTime(s string, now time.Time) (time.Time, error) {
	in := s
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return time.Time{}, fmt.Errorf("%w: empty (%s)", ErrTime, TimeHint)
	case strings.EqualFold(s, "now"):
		return now, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	secs, err := ParseSeconds(s)
	if err != nil {
		if errors.Is(err, ErrNegative) {
			return time.Time{}, fmt.Errorf("%q: %w: times in the past are not accepted as spans", in, ErrTime)
		}
		return time.Time{}, fmt.Errorf("%q: %w (%s)", in, ErrTime, TimeHint)
	}
	if now.Unix() > math.MaxInt64-secs {
		return time.Time{}, fmt.Errorf("%q: %w", in, ErrOverflow)
	}
	return time.Unix(now.Unix()+secs, 0).UTC(), nil
}
