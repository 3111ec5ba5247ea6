package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	binary "github.com/gagliardetto/binary"

	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
)

// The committed client encodes a unit variant of a data-carrying enum as
// its tag alone, and decodes it without reading past it.
func TestGeneratedUnitVariantIsOneByte(t *testing.T) {
	var buf bytes.Buffer
	if err := mt.EncodeProposalAction(binary.NewBorshEncoder(&buf), &mt.ProposalAction_Signal{}); err != nil {
		t.Fatal(err)
	}
	if got := buf.Bytes(); !bytes.Equal(got, []byte{5}) {
		t.Fatalf("Signal encodes as %x, want 05", got)
	}
	buf.WriteByte(0xAB)
	dec := binary.NewBorshDecoder(buf.Bytes())
	v, err := mt.DecodeProposalAction(dec)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := v.(*mt.ProposalAction_Signal); !ok {
		t.Fatalf("decoded %T, want *ProposalAction_Signal", v)
	}
	if next, _ := dec.ReadByte(); next != 0xAB {
		t.Fatalf("decoder read past the variant (next byte %x)", next)
	}
}

func TestUnitVariantRewrite(t *testing.T) {
	src := "type E_Unit uint8\n\nfunc (obj E_Unit) MarshalWithEncoder(encoder *binary.Encoder) (err error) {\n\treturn nil\n}\n" +
		"\t\tcase 1:\n\t\t\treturn (*E_Unit)(&tmp.Enum), nil\n"
	path := filepath.Join(t.TempDir(), "types.go")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := fixUnitEnumVariants(path); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	for _, want := range []string{"type E_Unit struct{}", "return &tmp.Unit, nil"} {
		if !strings.Contains(string(got), want) {
			t.Errorf("rewrite lacks %q:\n%s", want, got)
		}
	}
}
