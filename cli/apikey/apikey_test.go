package apikey

import (
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
		if Hash(k) != sha256.Sum256([]byte(k)) {
			t.Fatal("Hash is not sha256 of the key's bytes")
		}
	}
	for _, s := range []string{"", "mc_", "mc_0OIl", "sk-abc", "4nhLKgVL8bunSAbBnvRN6Sqx9t9mKsCPEcANtWZ2UoVx", "mc_3yZe7d"} {
		if LooksLikeKey(s) {
			t.Errorf("LooksLikeKey(%q) = true", s)
		}
	}
}
