// Package apikey makes the API keys that pay for inference and derives
// their on-chain id. A key is 32 random bytes, printed as "mc_" + base58.
//
// Its id is the ed25519 public key whose 32-byte secret seed is the SHA-256
// of the key exactly as the client sends it as a bearer token. The escrow
// lives at the PDA of that id, so a keeper finds it from the bearer key
// alone; and because opening (or rotating to) an escrow needs the id's
// signature, only someone holding the key can open an escrow at its id —
// nobody who merely saw the id on chain can take the address first. The key
// itself never goes on chain and must be kept secret by its holder.
package apikey

import (
	"crypto/ed25519"
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

// Signer is the keypair of key's id: it signs open_escrow and rotate_key.
func Signer(key string) solana.PrivateKey {
	seed := sha256.Sum256([]byte(key))
	return solana.PrivateKey(ed25519.NewKeyFromSeed(seed[:]))
}

// ID is key's public id, the escrow's PDA seed (the Escrow account's
// key_hash field).
func ID(key string) solana.PublicKey { return Signer(key).PublicKey() }

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
