package apikey

import (
	"crypto/ed25519"
	"crypto/sha256"
	"strings"
	"testing"
)

func TestGenerate(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 100; i++ {
		k, err := Generate()
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(k, Prefix) || !LooksLikeKey(k) || seen[k] {
			t.Fatalf("key %q: bad shape or repeated", k)
		}
		seen[k] = true
	}
	for _, s := range []string{"", "mc_", "mc_0OIl", "sk-abc", "4nhLKgVL8bunSAbBnvRN6Sqx9t9mKsCPEcANtWZ2UoVx", "mc_3yZe7d"} {
		if LooksLikeKey(s) {
			t.Errorf("LooksLikeKey(%q) = true", s)
		}
	}
}

func TestIDIsTheEd25519KeyOfTheKeysSHA256(t *testing.T) {
	key := "mc_4nhLKgVL8bunSAbBnvRN6Sqx9t9mKsCPEcANtWZ2UoVx"
	seed := sha256.Sum256([]byte(key))
	want := ed25519.NewKeyFromSeed(seed[:]).Public().(ed25519.PublicKey)
	if got := ID(key); string(got[:]) != string(want) {
		t.Fatalf("ID = %s, want the ed25519 key of sha256(key)", got)
	}
	if Signer(key).PublicKey() != ID(key) {
		t.Fatal("Signer and ID disagree")
	}
	// The id reveals nothing usable: it is not the hash itself.
	if string(ID(key).Bytes()) == string(seed[:]) {
		t.Fatal("ID is the bare sha256")
	}
	// A fixed vector, so a change of derivation (which would orphan every
	// escrow) cannot pass unnoticed.
	if got := ID("mc_test").String(); got != fixedID {
		t.Fatalf("ID(mc_test) = %s, want %s", got, fixedID)
	}
}

const fixedID = "9AVLYVpabHd87RTpGADVqFc5qJPEcoTYVT5PLN4kLc91"
