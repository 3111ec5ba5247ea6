package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestArglessBuildersGetTheirDiscriminator(t *testing.T) {
	src := `package p

func NewWithArgsInstruction(a Args, x solanago.PublicKey) (solanago.Instruction, error) {
	return solanago.NewInstruction(
		ProgramID,
		accounts__,
		buf__.Bytes(),
	), nil
}

func NewArglessInstruction(x solanago.PublicKey) (solanago.Instruction, error) {
	return solanago.NewInstruction(
		ProgramID,
		accounts__,
		nil,
	), nil
}
`
	path := filepath.Join(t.TempDir(), "instructions.go")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := fixArglessDiscriminators(path); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	if !strings.Contains(string(got), "Instruction_Argless[:],") {
		t.Errorf("argless builder not fixed:\n%s", got)
	}
	if strings.Contains(string(got), "Instruction_WithArgs") || !strings.Contains(string(got), "buf__.Bytes(),") {
		t.Errorf("builder with arguments was changed:\n%s", got)
	}
}

func TestPrepareFlattensNestedAccountsAndInlinesAliases(t *testing.T) {
	idl := map[string]any{
		"instructions": []any{map[string]any{"name": "x", "accounts": []any{
			map[string]any{"name": "a"},
			map[string]any{"name": "group", "accounts": []any{map[string]any{"name": "b"}, map[string]any{"name": "c"}}},
			map[string]any{"name": "d"},
		}}},
		"types": []any{
			map[string]any{"name": "Amount", "type": map[string]any{"kind": "type", "alias": "u64"}},
			map[string]any{"name": "S", "type": map[string]any{"kind": "struct", "fields": []any{
				map[string]any{"name": "f", "type": map[string]any{"defined": map[string]any{"name": "Amount"}}},
			}}},
		},
		"constants": []any{map[string]any{"name": "BIG", "type": "u128", "value": "1"}},
	}
	out, err := prepare(idl)
	if err != nil {
		t.Fatal(err)
	}
	s := string(out)
	for _, want := range []string{`"name": "b"`, `"type": "u64"`} {
		if !strings.Contains(s, want) {
			t.Errorf("prepared IDL lacks %s:\n%s", want, s)
		}
	}
	for _, unwanted := range []string{`"group"`, `"Amount"`, `"BIG"`} {
		if strings.Contains(s, unwanted) {
			t.Errorf("prepared IDL still has %s", unwanted)
		}
	}
}
