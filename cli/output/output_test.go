package output

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

type thing struct {
	A int    `json:"a"`
	B string `json:"b"`
}

func (t thing) Text() string {
	return Fields{{Label: "A", Value: t.A}, {Label: "Longer", Value: t.B}}.Text()
}

func TestPrint(t *testing.T) {
	for _, tt := range []struct {
		format string
		want   string
	}{
		{"", "A:       1\nLonger:  <x>\n"},
		{"json", "{\n  \"a\": 1,\n  \"b\": \"<x>\"\n}\n"},
		{"json-compact", "{\"a\":1,\"b\":\"<x>\"}\n"},
	} {
		f, err := ParseFormat(tt.format)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := New(&buf, f).Print(thing{1, "<x>"}); err != nil {
			t.Fatal(err)
		}
		if buf.String() != tt.want {
			t.Errorf("format %q: got %q, want %q", tt.format, buf.String(), tt.want)
		}
	}
	if _, err := ParseFormat("yaml"); err == nil {
		t.Error("yaml accepted")
	}
	// A value without a text form prints as JSON in text mode too.
	var buf bytes.Buffer
	New(&buf, Text).Print(map[string]int{"n": 2})
	var back map[string]int
	if json.Unmarshal(buf.Bytes(), &back) != nil || back["n"] != 2 {
		t.Errorf("fallback = %q", buf.String())
	}
}

func TestTable(t *testing.T) {
	got := Table([]string{"ID", "NAME"}, [][]string{{"10", "a"}, {"2", "bbb"}})
	want := "ID  NAME\n10  a\n2   bbb\n"
	if got != want || strings.Count(got, "\n") != 3 {
		t.Errorf("Table = %q, want %q", got, want)
	}
}
