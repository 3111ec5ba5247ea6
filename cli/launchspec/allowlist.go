package launchspec

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strings"

	"github.com/gagliardetto/solana-go"

	"github.com/modelcommons/modelcommons/clients/allowlist"
)

// ReadWallets reads an allowlist file: one wallet address per line; blank
// lines and text after '#' are ignored. Every malformed line is reported.
func ReadWallets(path string) ([]solana.PublicKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read allowlist: %w", err)
	}
	return ParseWallets(data)
}

// ParseWallets parses the content of an allowlist file.
func ParseWallets(data []byte) ([]solana.PublicKey, error) {
	var wallets []solana.PublicKey
	var bad []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line, _, _ := strings.Cut(sc.Text(), "#")
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		k, err := solana.PublicKeyFromBase58(line)
		if err != nil {
			bad = append(bad, fmt.Sprintf("line %d: %q is not a wallet address", n, line))
			continue
		}
		wallets = append(wallets, k)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(bad) > 0 {
		return nil, fmt.Errorf("%s", strings.Join(bad, "; "))
	}
	if len(wallets) == 0 {
		return nil, fmt.Errorf("the allowlist names no wallet")
	}
	return wallets, nil
}

// AllowlistRoot is the Merkle root of the wallets in an allowlist file, as
// mt_treasury verifies contributors against it.
func AllowlistRoot(path string) ([32]byte, int, error) {
	wallets, err := ReadWallets(path)
	if err != nil {
		return [32]byte{}, 0, err
	}
	tree, err := allowlist.New(wallets)
	if err != nil {
		return [32]byte{}, 0, err
	}
	return tree.Root(), tree.Len(), nil
}
