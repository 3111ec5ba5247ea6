// Package output prints a command's result as text for people or as JSON
// for scripts (--output json, or json-compact for one line).
//
// A result is any value that marshals to JSON; if it also implements Texter
// it decides its text form, otherwise text output is its JSON, indented.
// Text goes to stdout; diagnostics never do, so `--output json` stdout is
// always exactly one JSON document per command.
package output

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Format is how results are printed.
type Format int

const (
	Text Format = iota
	JSON
	JSONCompact
)

// ParseFormat accepts "", "text", "json" and "json-compact".
func ParseFormat(s string) (Format, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "text":
		return Text, nil
	case "json":
		return JSON, nil
	case "json-compact":
		return JSONCompact, nil
	}
	return Text, fmt.Errorf("--output %q: use text, json or json-compact", s)
}

// Texter is a result that knows its text form.
type Texter interface {
	Text() string
}

// Printer writes results in one format.
type Printer struct {
	w      io.Writer
	format Format
}

// New returns a Printer writing to w.
func New(w io.Writer, f Format) *Printer { return &Printer{w: w, format: f} }

// Format is the printer's format.
func (p *Printer) Format() Format { return p.format }

// JSON reports whether output is JSON (either form).
func (p *Printer) JSON() bool { return p.format != Text }

// Print writes one result.
func (p *Printer) Print(v any) error {
	switch p.format {
	case JSON:
		return p.json(v, "  ")
	case JSONCompact:
		return p.json(v, "")
	}
	if t, ok := v.(Texter); ok {
		s := t.Text()
		if !strings.HasSuffix(s, "\n") {
			s += "\n"
		}
		_, err := io.WriteString(p.w, s)
		return err
	}
	return p.json(v, "  ")
}

func (p *Printer) json(v any, indent string) error {
	enc := json.NewEncoder(p.w)
	enc.SetEscapeHTML(false)
	if indent != "" {
		enc.SetIndent("", indent)
	}
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("encode output: %w", err)
	}
	return nil
}

// Fields renders label/value pairs as aligned text lines.
type Fields []Field

// Field is one line of Fields. An empty Value with a Label ending in ':'
// is a section heading.
type Field struct {
	Label string
	Value any
}

// Text aligns the values in one column.
func (fs Fields) Text() string {
	width := 0
	for _, f := range fs {
		width = max(width, len(f.Label))
	}
	var b strings.Builder
	for _, f := range fs {
		if f.Value == nil {
			fmt.Fprintf(&b, "%s\n", f.Label)
			continue
		}
		fmt.Fprintf(&b, "%-*s  %v\n", width+1, f.Label+":", f.Value)
	}
	return b.String()
}

// Table renders rows under a header with aligned columns.
func Table(header []string, rows [][]string) string {
	widths := make([]int, len(header))
	for i, h := range header {
		widths[i] = len(h)
	}
	for _, r := range rows {
		for i, c := range r {
			if i < len(widths) {
				widths[i] = max(widths[i], len(c))
			}
		}
	}
	var b strings.Builder
	line := func(cells []string) {
		for i, c := range cells {
			if i == len(cells)-1 {
				b.WriteString(c)
			} else {
				fmt.Fprintf(&b, "%-*s  ", widths[i], c)
			}
		}
		b.WriteByte('\n')
	}
	line(header)
	for _, r := range rows {
		line(r)
	}
	return b.String()
}
