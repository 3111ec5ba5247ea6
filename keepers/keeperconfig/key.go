package keeperconfig

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"os"

	"github.com/modelcommons/modelcommons/clients/apikey"
	"github.com/modelcommons/modelcommons/clients/cluster"
)

// ErrKeyPermissions: the keypair file is readable by group or others.
var ErrKeyPermissions = errors.New("keypair file is accessible to group or others")

// LoadKey reads the keeper hot key after checking that only its owner can
// read it.
func LoadKey(path string) (ed25519.PrivateKey, error) {
	path = cluster.ExpandHome(path)
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("keeper keypair: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("keeper keypair %s: not a regular file", path)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("%w: %s has mode %04o; run `chmod 600 %s`", ErrKeyPermissions, path, perm, path)
	}
	k, err := cluster.LoadKeypair(path)
	if err != nil {
		return nil, err
	}
	return ed25519.PrivateKey(k), nil
}

// KeyID is an API key's id, base58, as [offline] escrows list it.
func KeyID(apiKey string) string { return apikey.ID(apiKey).String() }
