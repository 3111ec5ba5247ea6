package clitest

import "testing"

// The one-line rule: one line, or a heading with one line per problem.
func TestOneLineEach(t *testing.T) {
	for _, tc := range []struct {
		what string
		ok   bool
	}{
		{"the amount must be greater than zero", true},
		{"invalid arguments:\n  - --a is wrong\n  - --b is wrong", true},
		{"", false},
		{"panic: runtime error\ngoroutine 1 [running]:", false},
		{"invalid arguments:\n  - --a is wrong\n    and more", false},
	} {
		if got := oneLineEach(tc.what); got != tc.ok {
			t.Errorf("oneLineEach(%q) = %v, want %v", tc.what, got, tc.ok)
		}
	}
}
