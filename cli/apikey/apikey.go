// Package apikey makes the API keys that pay for inference: 32 random
// bytes, printed as "mc_" + base58. An escrow lives at the PDA of
// sha256(key) — the SHA-256 of the key exactly as the client sends it as a
// bearer token, which is what the keeper's gateway hashes — so the key
// itself never goes on chain and must be kept secret by its holder.
package apikey

import (
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"strings"

	"github.com/gagliardetto/solana-go"
)

// Prefix starts every key this package generates.
const Prefix = "mc_"

// Generate returns a new random key.
func Generate() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("generate API key: %w", err)
	}
	// Base58 of 32 bytes, the alphabet and encoding of Solana addresses.
	return Prefix + solana.PublicKeyFromBytes(b[:]).String(), nil
}

// Hash is the escrow seed of key.
func Hash(key string) [32]byte { return sha256.Sum256([]byte(key)) }

// LooksLikeKey reports whether s has the shape of a generated key (so a
// command can tell a key from an escrow address).
func LooksLikeKey(s string) bool {
	rest, ok := strings.CutPrefix(s, Prefix)
	if !ok {
		return false
	}
	_, err := solana.PublicKeyFromBase58(rest)
	return err == nil
}

// Escrow is the escrow address of key.
func Escrow(key string, derive func([32]byte) solana.PublicKey) solana.PublicKey {
	return derive(Hash(key))
}
