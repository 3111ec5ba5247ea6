package session

import (
	"github.com/urfave/cli/v2"

	"github.com/modelcommons/modelcommons/cli/duration"
	"github.com/modelcommons/modelcommons/clients/explain"
)

// Settings reads the flags that set a command's values (fees, amounts,
// periods), collecting every problem so that all are reported at once. A
// flag that was not given keeps the current value, unless Defaults is set:
// then every flag is read, its default when it was not given (the init
// commands, whose flags have defaults).
type Settings struct {
	C        *cli.Context
	Defaults bool
	Problems explain.Problems
	// Given is whether any flag read was given on the command line.
	Given bool
}

func (f *Settings) read(name string) bool {
	if f.C.IsSet(name) {
		f.Given = true
		return true
	}
	return f.Defaults
}

// Bps reads a basis-point flag.
func (f *Settings) Bps(name string, current uint16) uint16 {
	if !f.read(name) {
		return current
	}
	v, err := ParseBps(name, f.C.Uint64(name))
	if err != nil {
		f.Problems.Add(err.Error())
	}
	return v
}

// Amount reads a flag holding an amount of a token with the given decimals;
// what names the token ("native tokens", "MT").
func (f *Settings) Amount(name string, current uint64, decimals uint8, what string) uint64 {
	if !f.read(name) {
		return current
	}
	v, err := ParseAmount("--"+name, f.C.String(name), decimals, what)
	if err != nil {
		f.Problems.Add(err.Error())
	}
	return v
}

// Period reads a span flag that may be no shorter than min seconds.
func (f *Settings) Period(name string, current, min int64) int64 {
	if !f.read(name) {
		return current
	}
	v, err := duration.ParsePeriod(name, f.C.String(name), min)
	if err != nil {
		f.Problems.Add(err.Error())
	}
	return v
}
