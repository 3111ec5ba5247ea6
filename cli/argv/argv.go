// Package argv lets flags follow positional arguments, as the Solana CLI
// does: urfave/cli v2 stops reading flags at the first positional argument,
// so `mt model show 3 --output json` would take "--output" as an argument.
// Reorder moves the leaf command's flags in front of its positional
// arguments and puts "--" before them, so that a positional argument that
// looks like a flag ("-5") reaches the command, which can then say why it
// is wrong. Tokens after a user's own "--" are never moved.
package argv

import (
	"strings"

	"github.com/urfave/cli/v2"
)

// Reorder returns args (args[0] is the program name) rearranged as
// described in the package documentation. It never adds, drops or changes a
// token other than the "--" it inserts.
func Reorder(app *cli.App, args []string) []string {
	if len(args) < 2 {
		return args
	}
	out := []string{args[0]}
	flags, commands := app.Flags, userCommands(app.Commands)
	i := 1
	// Walk the command path: flags before each command name stay where they are.
	for i < len(args) {
		tok := args[i]
		if tok == "--" {
			return append(out, args[i:]...)
		}
		if isFlag(tok) {
			out = append(out, tok)
			if takesValue(flags, tok) && i+1 < len(args) {
				out = append(out, args[i+1])
				i++
			}
			i++
			continue
		}
		cmd := find(commands, tok)
		if cmd == nil {
			break
		}
		out = append(out, tok)
		flags, commands = cmd.Flags, userCommands(cmd.Subcommands)
		i++
		if len(commands) == 0 {
			break
		}
	}
	if len(commands) > 0 {
		// Not at a leaf (no command, an unknown one, or a group): nothing to reorder.
		return args
	}
	// The leaf's own tokens: flags first, then "--" and the positional arguments.
	var moved, positional []string
	userDashes := false
	for ; i < len(args); i++ {
		tok := args[i]
		if tok == "--" {
			userDashes = true
			positional = append(positional, args[i+1:]...)
			break
		}
		if isFlag(tok) {
			moved = append(moved, tok)
			if takesValue(flags, tok) && i+1 < len(args) {
				moved = append(moved, args[i+1])
				i++
			}
			continue
		}
		positional = append(positional, tok)
	}
	out = append(out, moved...)
	// A user's trailing "--" is kept even with nothing after it.
	if len(positional) > 0 || userDashes {
		out = append(out, "--")
		out = append(out, positional...)
	}
	return out
}

// isFlag reports whether tok is a flag: "-x", "--xy", "--xy=1", but not "-"
// or a negative number ("-5", "-0.5").
func isFlag(tok string) bool {
	if len(tok) < 2 || tok[0] != '-' {
		return false
	}
	c := tok[1]
	return !(c >= '0' && c <= '9') && c != '.'
}

// takesValue reports whether the flag tok (without "=value") is defined in
// flags and takes a value. Unknown flags are treated as booleans; urfave/cli
// reports them.
func takesValue(flags []cli.Flag, tok string) bool {
	if strings.Contains(tok, "=") {
		return false
	}
	name := strings.TrimLeft(tok, "-")
	for _, f := range flags {
		for _, n := range f.Names() {
			if n == name {
				if v, ok := f.(cli.DocGenerationFlag); ok {
					return v.TakesValue()
				}
				return true
			}
		}
	}
	return false
}

func find(commands []*cli.Command, name string) *cli.Command {
	for _, c := range commands {
		if c.HasName(name) {
			return c
		}
	}
	return nil
}

// userCommands drops the "help" command urfave/cli adds to every command once an
// app has run, so a leaf stays a leaf.
func userCommands(commands []*cli.Command) []*cli.Command {
	var out []*cli.Command
	for _, c := range commands {
		if c.Name != "help" {
			out = append(out, c)
		}
	}
	return out
}

// FlagValue returns the value last given to a flag with one of names
// ("--output json", "-o=json"), scanning the raw command line; for use
// before (or without) parsing, e.g. to format an error from parsing itself.
func FlagValue(args []string, names ...string) string {
	value := ""
	for i := 1; i < len(args); i++ {
		tok := args[i]
		if tok == "--" {
			break
		}
		name, v, hasValue := strings.Cut(strings.TrimLeft(tok, "-"), "=")
		if !isFlag(tok) {
			continue
		}
		for _, n := range names {
			if name != n {
				continue
			}
			if hasValue {
				value = v
			} else if i+1 < len(args) {
				value = args[i+1]
			}
		}
	}
	return value
}
