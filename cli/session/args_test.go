package session

import "testing"

func TestParseAmountArgs(t *testing.T) {
	tests := []struct {
		name string
		got  func() (uint64, error)
		want uint64
		err  string
	}{
		{"amount", func() (uint64, error) { return ParseAmountArg("1.5", 2, "MT", "give MT") }, 150, ""},
		{"zero amount", func() (uint64, error) { return ParseAmountArg("0", 2, "MT", "give MT") }, 0,
			"the amount must be greater than zero; give MT"},
		{"bad amount", func() (uint64, error) { return ParseAmountArg("1.555", 2, "MT", "give MT") }, 0,
			`amount: "1.555": too many decimal places (3; the token has 2); write it as a decimal number of MT with at most 2 decimal places, e.g. 12.5`},
		{"all", func() (uint64, error) { return ParseAmountOrAll(" ALL ", 42, 2, "MT") }, 42, ""},
		{"some", func() (uint64, error) { return ParseAmountOrAll("0.01", 42, 2, "MT") }, 1, ""},
		{"zero of all", func() (uint64, error) { return ParseAmountOrAll("0", 42, 2, "MT") }, 0, ""},
	}
	for _, tc := range tests {
		got, err := tc.got()
		if got != tc.want || (err == nil) != (tc.err == "") || (err != nil && err.Error() != tc.err) {
			t.Errorf("%s: got %d, %v; want %d, %q", tc.name, got, err, tc.want, tc.err)
		}
	}
}
