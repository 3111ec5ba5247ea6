package cluster

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/gagliardetto/solana-go"
)

// ErrNoKeypair is returned when the keypair file does not exist.
var ErrNoKeypair = errors.New("keypair file not found")

// LoadKeypair reads a Solana keypair file (a JSON array of 64 bytes).
func LoadKeypair(path string) (solana.PrivateKey, error) {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s; create one with `mt keygen -o %s` or pass --keypair <file>", ErrNoKeypair, path, path)
	}
	key, err := solana.PrivateKeyFromSolanaKeygenFile(path)
	if err != nil {
		return nil, fmt.Errorf("read keypair %s (expected a JSON array of 64 bytes, as solana-keygen writes): %w", path, err)
	}
	if len(key) != 64 {
		return nil, fmt.Errorf("keypair %s holds %d bytes, want 64", path, len(key))
	}
	if !key.PublicKey().Equals(solana.PublicKeyFromBytes(key[32:])) {
		return nil, fmt.Errorf("keypair %s is inconsistent: its public half does not match its secret half", path)
	}
	return key, nil
}

// ErrKeypairExists is returned by WriteKeypair for a path that exists: a
// keypair file may be someone's only copy of a wallet.
var ErrKeypairExists = errors.New("keypair file exists")

// WriteKeypair writes key to path in the Solana CLI's format (a JSON array
// of the 64 secret-key bytes, what LoadKeypair and solana-keygen read), mode
// 0600, creating its directory (0700) if needed. It never overwrites: an
// existing path fails with ErrKeypairExists. The file is synced before it
// counts as written; a failed write removes it.
func WriteKeypair(path string, key solana.PrivateKey) error {
	if len(key) != 64 {
		return fmt.Errorf("keypair holds %d bytes, want 64", len(key))
	}
	ints := make([]int, len(key))
	for i, b := range key {
		ints[i] = int(b)
	}
	data, err := json.Marshal(ints)
	if err != nil {
		return fmt.Errorf("encode keypair: %w", err)
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("create %s: %w", dir, err)
		}
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return fmt.Errorf("%w: %s", ErrKeypairExists, path)
	}
	if err != nil {
		return fmt.Errorf("create keypair file: %w", err)
	}
	_, werr := f.Write(data)
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		os.Remove(path)
		return fmt.Errorf("write keypair %s: %w", path, werr)
	}
	return nil
}
