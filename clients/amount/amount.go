// Package amount converts token amounts between the decimal strings people
// type ("12.5", "0.000001", "1_000") and the integer base units the programs
// use, given a mint's decimals.
//
// Parse is exact or fails: it never rounds. It rejects negative numbers,
// exponents, more significant fractional digits than the mint has, and
// values above the u64 range, each with its own sentinel error. Trailing
// zeros beyond the mint's precision are accepted because they lose nothing.
// Format is Parse's inverse: Parse(Format(v, d), d) == v for every v and d.
package amount

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
)

// Errors callers branch on; each Parse error wraps exactly one of them.
var (
	ErrEmpty       = errors.New("empty amount")
	ErrSyntax      = errors.New("not a decimal number")
	ErrNegative    = errors.New("amounts cannot be negative")
	ErrExponent    = errors.New("exponent notation is not accepted; write the digits out")
	ErrTooPrecise  = errors.New("too many decimal places")
	ErrOverflow    = errors.New("amount too large")
	ErrMaxDecimals = errors.New("mint decimals out of range")
)

// MaxDecimals is the largest mint precision Parse and Format accept (SPL
// mints store decimals as a u8; anything above 19 cannot hold even one whole
// token in a u64, but such mints are legal, so Parse handles them exactly).
const MaxDecimals = 255

var maxU64 = new(big.Int).SetUint64(^uint64(0))

// Parse converts a human amount to base units for a mint with the given decimals.
func Parse(s string, decimals uint8) (uint64, error) {
	in := s
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, ErrEmpty
	}
	if s[0] == '-' {
		return 0, fmt.Errorf("%q: %w", in, ErrNegative)
	}
	if s[0] == '+' {
		s = s[1:]
	}
	if strings.ContainsAny(s, "eE") {
		return 0, fmt.Errorf("%q: %w", in, ErrExponent)
	}
	whole, frac, _ := strings.Cut(s, ".")
	if strings.Contains(frac, ".") {
		return 0, fmt.Errorf("%q: %w (more than one decimal point)", in, ErrSyntax)
	}
	whole, err := digits(whole, true)
	if err != nil {
		return 0, fmt.Errorf("%q: %w", in, err)
	}
	frac, err = digits(frac, false)
	if err != nil {
		return 0, fmt.Errorf("%q: %w", in, err)
	}
	if whole == "" && frac == "" {
		return 0, fmt.Errorf("%q: %w", in, ErrSyntax)
	}
	significant := strings.TrimRight(frac, "0")
	if len(significant) > int(decimals) {
		return 0, fmt.Errorf("%q: %w (%d; the token has %d)", in, ErrTooPrecise, len(significant), decimals)
	}
	// value = whole·10^decimals + significant·10^(decimals-len(significant))
	if len(strings.TrimLeft(whole, "0")) > 20 {
		return 0, fmt.Errorf("%q: %w (at most %s)", in, ErrOverflow, Format(^uint64(0), decimals))
	}
	v := new(big.Int)
	if whole != "" {
		v.SetString(whole, 10)
	}
	scale := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(decimals)), nil)
	v.Mul(v, scale)
	if significant != "" {
		f, _ := new(big.Int).SetString(significant, 10)
		f.Mul(f, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(int(decimals)-len(significant))), nil))
		v.Add(v, f)
	}
	if v.Cmp(maxU64) > 0 {
		return 0, fmt.Errorf("%q: %w (at most %s)", in, ErrOverflow, Format(^uint64(0), decimals))
	}
	return v.Uint64(), nil
}

// digits checks a run of decimal digits, allowing '_' between digits in the
// whole part ("1_000_000"), and returns it without separators.
func digits(s string, separators bool) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			b.WriteByte(c)
		case c == '_' && separators && i > 0 && i < len(s)-1 && isDigit(s[i-1]) && isDigit(s[i+1]):
		case c == ',':
			return "", fmt.Errorf("%w: use '.' as the decimal point and no thousands separators (or '_')", ErrSyntax)
		default:
			return "", fmt.Errorf("%w: unexpected %q", ErrSyntax, string(rune(c)))
		}
	}
	return b.String(), nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// Format renders base units as a decimal string with no trailing zeros
// ("12.5", "0.000001", "3").
func Format(v uint64, decimals uint8) string {
	s := new(big.Int).SetUint64(v).String()
	if decimals == 0 {
		return s
	}
	d := int(decimals)
	if len(s) <= d {
		s = strings.Repeat("0", d-len(s)+1) + s
	}
	whole, frac := s[:len(s)-d], strings.TrimRight(s[len(s)-d:], "0")
	if frac == "" {
		return whole
	}
	return whole + "." + frac
}

// Tokens is an amount of a token with known decimals, as the CLI prints it:
// text shows "12.5"; JSON carries both the decimal string and the exact
// base units, so scripts need not know the mint's decimals.
type Tokens struct {
	Base     uint64
	Decimals uint8
}

// Of returns base units of a token with the given decimals.
func Of(base uint64, decimals uint8) Tokens { return Tokens{Base: base, Decimals: decimals} }

func (t Tokens) String() string { return Format(t.Base, t.Decimals) }

type tokensJSON struct {
	Amount    string `json:"amount"`
	BaseUnits uint64 `json:"base_units"`
	Decimals  uint8  `json:"decimals"`
}

// MarshalJSON writes {"amount":"12.5","base_units":12500000,"decimals":6}.
func (t Tokens) MarshalJSON() ([]byte, error) {
	return json.Marshal(tokensJSON{Amount: t.String(), BaseUnits: t.Base, Decimals: t.Decimals})
}

// UnmarshalJSON reads what MarshalJSON writes (base units are authoritative).
func (t *Tokens) UnmarshalJSON(b []byte) error {
	var v tokensJSON
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*t = Tokens{Base: v.BaseUnits, Decimals: v.Decimals}
	return nil
}

// The two ways a person reads an amount, each with its unit: base units
// where the decimals are not known (receipts, keeper logs and status), and
// whole tokens with the token's symbol where they are (the CLI, the demo).

// BaseUnits labels an integer amount of base units: "620 base units".
func BaseUnits(v uint64) string {
	if v == 1 {
		return "1 base unit"
	}
	return fmt.Sprintf("%d base units", v)
}

// WithUnit renders base units as whole tokens followed by the token's
// symbol or name: "12.5 MINE", "0.00208 native". Without a unit it says
// "tokens": a figure is never printed bare.
func WithUnit(v uint64, decimals uint8, unit string) string {
	if unit = strings.TrimSpace(unit); unit == "" {
		unit = "tokens"
	}
	return Format(v, decimals) + " " + unit
}

// Labeled is t as whole tokens with its unit (WithUnit).
func (t Tokens) Labeled(unit string) string { return WithUnit(t.Base, t.Decimals, unit) }
