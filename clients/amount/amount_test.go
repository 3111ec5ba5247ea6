package amount

import (
	"encoding/json"
	"errors"
	"math/big"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in       string
		decimals uint8
		want     uint64
		err      error
	}{
		{"12.5", 6, 12_500_000, nil},
		{"0.000001", 6, 1, nil},
		{"1", 6, 1_000_000, nil},
		{"0", 6, 0, nil},
		{".5", 6, 500_000, nil},
		{"5.", 6, 5_000_000, nil},
		{"+3", 0, 3, nil},
		{" 7 ", 2, 700, nil},
		{"1_000_000", 0, 1_000_000, nil},
		{"1.50000000000", 6, 1_500_000, nil}, // trailing zeros lose nothing
		{"007.25", 2, 725, nil},
		{"18446744073709551615", 0, ^uint64(0), nil},
		{"18446744073709.551615", 6, ^uint64(0), nil},
		{"0.18446744073709551615", 20, ^uint64(0), nil},
		{"0.0000000000000000000000000000001", 40, 1_000_000_000, nil},

		{"", 6, 0, ErrEmpty},
		{"   ", 6, 0, ErrEmpty},
		{"-1", 6, 0, ErrNegative},
		{"-0.5", 6, 0, ErrNegative},
		{"1e6", 6, 0, ErrExponent},
		{"1E-3", 6, 0, ErrExponent},
		{"0.0000001", 6, 0, ErrTooPrecise},
		{"0.5", 0, 0, ErrTooPrecise},
		{"18446744073709551616", 0, 0, ErrOverflow},
		{"18446744073709.551616", 6, 0, ErrOverflow},
		{"99999999999999999999999999999", 0, 0, ErrOverflow},
		{"1", 20, 0, ErrOverflow},
		{".", 6, 0, ErrSyntax},
		{"1.2.3", 6, 0, ErrSyntax},
		{"1,000", 6, 0, ErrSyntax},
		{"12 MT", 6, 0, ErrSyntax},
		{"0x10", 6, 0, ErrSyntax},
		{"_1", 6, 0, ErrSyntax},
		{"1__0", 6, 0, ErrSyntax},
		{"1.0_0", 6, 0, ErrSyntax},
		{"NaN", 6, 0, ErrSyntax},
		{"Inf", 6, 0, ErrSyntax},
		{"++1", 6, 0, ErrSyntax},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in, tt.decimals)
		if tt.err != nil {
			if !errors.Is(err, tt.err) {
				t.Errorf("Parse(%q, %d) = %d, %v; want error %v", tt.in, tt.decimals, got, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("Parse(%q, %d) = %d, %v; want %d", tt.in, tt.decimals, got, err, tt.want)
		}
	}
}

func TestFormat(t *testing.T) {
	tests := []struct {
		v        uint64
		decimals uint8
		want     string
	}{
		{12_500_000, 6, "12.5"},
		{1, 6, "0.000001"},
		{0, 6, "0"},
		{1_000_000, 6, "1"},
		{5, 0, "5"},
		{^uint64(0), 0, "18446744073709551615"},
		{^uint64(0), 6, "18446744073709.551615"},
		{1, 25, "0.0000000000000000000000001"},
	}
	for _, tt := range tests {
		if got := Format(tt.v, tt.decimals); got != tt.want {
			t.Errorf("Format(%d, %d) = %q, want %q", tt.v, tt.decimals, got, tt.want)
		}
	}
}

func TestTokensJSON(t *testing.T) {
	b, err := json.Marshal(Of(12_500_000, 6))
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `{"amount":"12.5","base_units":12500000,"decimals":6}` {
		t.Fatalf("json = %s", b)
	}
	var back Tokens
	if err := json.Unmarshal(b, &back); err != nil || back != Of(12_500_000, 6) {
		t.Fatalf("round trip = %+v, %v", back, err)
	}
}

// FuzzParse checks that Parse never panics, that what it accepts is exactly
// the decimal value typed (checked with big.Rat), and that Format inverts it.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"12.5", "0.000001", "-1", "1e6", "18446744073709551615", "1_000", ".5", "5.", "0.0000001", "+", ""} {
		f.Add(s, uint8(6))
	}
	f.Add("1", uint8(0))
	f.Add("0.18446744073709551615", uint8(20))
	f.Fuzz(func(t *testing.T, s string, decimals uint8) {
		v, err := Parse(s, decimals)
		if err != nil {
			if v != 0 {
				t.Fatalf("Parse(%q) returned %d with error %v", s, v, err)
			}
			return
		}
		// The accepted string, read as an exact rational, equals v / 10^decimals.
		clean := strings.ReplaceAll(strings.TrimPrefix(strings.TrimSpace(s), "+"), "_", "")
		if strings.HasPrefix(clean, ".") {
			clean = "0" + clean
		}
		clean = strings.TrimSuffix(clean, ".")
		want, ok := new(big.Rat).SetString(clean)
		if !ok {
			t.Fatalf("Parse accepted %q, which is not a decimal", s)
		}
		got := new(big.Rat).SetFrac(new(big.Int).SetUint64(v), new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(decimals)), nil))
		if got.Cmp(want) != 0 {
			t.Fatalf("Parse(%q, %d) = %d, which is %s, not %s", s, decimals, v, got.FloatString(int(decimals)), want.FloatString(int(decimals)))
		}
		back, err := Parse(Format(v, decimals), decimals)
		if err != nil || back != v {
			t.Fatalf("Parse(Format(%d, %d) = %q) = %d, %v", v, decimals, Format(v, decimals), back, err)
		}
	})
}

// FuzzFormat checks the round trip from base units.
func FuzzFormat(f *testing.F) {
	f.Add(uint64(12_500_000), uint8(6))
	f.Add(^uint64(0), uint8(0))
	f.Add(uint64(1), uint8(30))
	f.Fuzz(func(t *testing.T, v uint64, decimals uint8) {
		s := Format(v, decimals)
		back, err := Parse(s, decimals)
		if err != nil || back != v {
			t.Fatalf("Parse(Format(%d, %d) = %q) = %d, %v", v, decimals, s, back, err)
		}
	})
}

func TestBaseUnits(t *testing.T) {
	for v, want := range map[uint64]string{0: "0 base units", 1: "1 base unit", 620: "620 base units", ^uint64(0): "18446744073709551615 base units"} {
		if got := BaseUnits(v); got != want {
			t.Errorf("BaseUnits(%d) = %q, want %q", v, got, want)
		}
	}
}

func TestWithUnit(t *testing.T) {
	for _, c := range []struct {
		v        uint64
		decimals uint8
		unit     string
		want     string
	}{
		{12_500_000, 6, "MT", "12.5 MT"},
		{3_000_000, 6, "native", "3 native"},
		{2080, 6, "native", "0.00208 native"},
		{1, 6, " MINE ", "0.000001 MINE"},
		{7, 0, "", "7 tokens"},
	} {
		if got := WithUnit(c.v, c.decimals, c.unit); got != c.want {
			t.Errorf("WithUnit(%d, %d, %q) = %q, want %q", c.v, c.decimals, c.unit, got, c.want)
		}
	}
	if got := Of(12_500_000, 6).Labeled("MT"); got != "12.5 MT" {
		t.Errorf("Labeled = %q", got)
	}
}
