// Package programerr names the errors our on-chain programs return.
//
// A failed instruction reaches a client as a bare custom error code. Each
// generated client package declares its program's errors as *Error values
// (from the IDL) and Anchor's framework errors are declared here (from the
// pinned anchor-lang); Lookup turns a code from a given program back into a
// named error that errors.Is matches against those values.
package programerr

import "fmt"

// Error is one named program error.
type Error struct {
	Program string // program name, e.g. "mt_treasury"; "anchor" for framework errors
	Code    uint32
	Name    string
	Msg     string
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s: %s (error %d): %s", e.Program, e.Name, e.Code, e.Msg)
}

// Is reports whether target names the same error, so that an error decoded
// from a transaction matches the declared value with errors.Is.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code && t.Program == e.Program
}

// Table maps codes to errors.
type Table map[uint32]*Error

// Lookup names a custom error code returned by a program whose own errors
// are in table: codes from 6000 are the program's, lower codes are Anchor's.
// It returns nil when the code is in neither.
func Lookup(table Table, code uint32) *Error {
	if e, ok := table[code]; ok {
		return e
	}
	if e, ok := AnchorErrors[code]; ok {
		return e
	}
	return nil
}
