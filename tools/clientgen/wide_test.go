package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Seeds (bytes) reach anchor-go; 128-bit constants, which it cannot
// express, are written by clientgen itself, exact.
func TestConstantsEveryKindIsGenerated(t *testing.T) {
	idl := map[string]any{
		"constants": []any{
			map[string]any{"name": "SEED", "type": "bytes", "value": "[109, 111]"},
			map[string]any{"name": "SCALE", "type": "u128", "value": "340282366920938463463374607431768211455", "docs": []any{"The scale."}},
			map[string]any{"name": "LIMIT", "type": "u32", "value": "8"},
		},
	}
	wide, err := wideConstants(idl)
	if err != nil {
		t.Fatal(err)
	}
	if len(wide) != 1 || wide[0].Name != "SCALE" {
		t.Fatalf("wide constants %+v, want SCALE only", wide)
	}
	out, err := prepare(idl)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"SEED"`, `"LIMIT"`} {
		if !strings.Contains(string(out), want) {
			t.Errorf("prepared IDL lost %s:\n%s", want, out)
		}
	}
	if strings.Contains(string(out), `"SCALE"`) {
		t.Errorf("prepared IDL still has the u128 constant anchor-go cannot read")
	}
	path := filepath.Join(t.TempDir(), "constants_wide.go")
	if err := writeWideConstants(wide, "p", "p.json", path); err != nil {
		t.Fatal(err)
	}
	src, _ := os.ReadFile(path)
	for _, want := range []string{"// The scale.", "SCALE = 340282366920938463463374607431768211455"} {
		if !strings.Contains(string(src), want) {
			t.Errorf("constants_wide.go lacks %q:\n%s", want, src)
		}
	}
}

func TestWideConstantThatIsNoNumberIsRefused(t *testing.T) {
	idl := map[string]any{"constants": []any{map[string]any{"name": "X", "type": "u128", "value": "1 << 64"}}}
	if _, err := wideConstants(idl); err == nil {
		t.Fatal("a u128 constant whose value is not a decimal integer was accepted")
	}
}
