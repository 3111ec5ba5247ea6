// Package cluster resolves where and as whom a program acts (the mt CLI, the
// keeper), the way the Solana CLI does: the cluster URL (--url/-u: a
// moniker — localnet, devnet, testnet, mainnet-beta, or their one-letter
// forms l, d, t, m — or an http(s) URL), the keypair file (--keypair/-k,
// else the Solana CLI config's keypair_path, else ~/.config/solana/id.json)
// and the commitment.
//
// Flags win over the Solana CLI config file (~/.config/solana/cli/config.yml,
// or --config), which wins over the built-in defaults. Unlike the Solana
// CLI, the default cluster is localnet, so that a command never reaches a
// public cluster unless asked to. Resolve reads files but never the network.
package cluster

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/gagliardetto/solana-go/rpc"
	"gopkg.in/yaml.v3"
)

// Cluster monikers and their RPC endpoints.
var monikers = map[string]string{
	"localnet":     "http://127.0.0.1:8899",
	"localhost":    "http://127.0.0.1:8899",
	"devnet":       "https://api.devnet.solana.com",
	"testnet":      "https://api.testnet.solana.com",
	"mainnet-beta": "https://api.mainnet-beta.solana.com",
	"l":            "http://127.0.0.1:8899",
	"d":            "https://api.devnet.solana.com",
	"t":            "https://api.testnet.solana.com",
	"m":            "https://api.mainnet-beta.solana.com",
}

// DefaultURL is used when neither --url nor the Solana CLI config names a cluster.
const DefaultURL = "http://127.0.0.1:8899"

// ErrBadURL is returned for a --url that is neither a moniker nor an http(s) URL.
var ErrBadURL = errors.New("not a cluster")

// ResolveURL turns a moniker or URL into an RPC endpoint.
func ResolveURL(s string) (string, error) {
	s = strings.TrimSpace(s)
	if u, ok := monikers[strings.ToLower(s)]; ok {
		return u, nil
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("--url %q: %w: use localnet, devnet, testnet, mainnet-beta or an http(s):// URL", s, ErrBadURL)
	}
	return s, nil
}

// SolanaCLI is the part of the Solana CLI's config.yml the CLI honours.
type SolanaCLI struct {
	JSONRPCURL  string `yaml:"json_rpc_url"`
	KeypairPath string `yaml:"keypair_path"`
	Commitment  string `yaml:"commitment"`
}

// SolanaCLIPath is the Solana CLI's config file under home.
func SolanaCLIPath(home string) string {
	return filepath.Join(home, ".config", "solana", "cli", "config.yml")
}

// LoadSolanaCLI reads a Solana CLI config file. A missing file is not an
// error when optional (the default location); it returns the zero config.
func LoadSolanaCLI(path string, optional bool) (SolanaCLI, error) {
	var c SolanaCLI
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) && optional {
		return c, nil
	}
	if err != nil {
		return c, fmt.Errorf("read Solana CLI config: %w", err)
	}
	if err := yaml.Unmarshal(data, &c); err != nil {
		return c, fmt.Errorf("Solana CLI config %s is not valid YAML: %w", path, err)
	}
	return c, nil
}

// Flags are the values given on the command line; empty means not given.
type Flags struct {
	URL        string
	Keypair    string
	Commitment string
	// ConfigFile is --config; empty means the default location.
	ConfigFile string
}

// Config is the resolved configuration of one invocation.
type Config struct {
	URL string
	// KeypairPath is where the signer's key is read from, if one is needed.
	KeypairPath string
	Commitment  rpc.CommitmentType
}

// Resolve combines flags, the Solana CLI config and defaults. home is the
// user's home directory.
func Resolve(f Flags, home string) (Config, error) {
	path, optional := f.ConfigFile, false
	if path == "" {
		path, optional = SolanaCLIPath(home), true
	}
	sc, err := LoadSolanaCLI(expandHome(path, home), optional)
	if err != nil {
		return Config{}, err
	}
	var c Config

	switch {
	case f.URL != "":
		c.URL, err = ResolveURL(f.URL)
	case sc.JSONRPCURL != "":
		c.URL, err = ResolveURL(sc.JSONRPCURL)
		if err != nil {
			err = fmt.Errorf("json_rpc_url in %s: %w", path, err)
		}
	default:
		c.URL = DefaultURL
	}
	if err != nil {
		return Config{}, err
	}

	switch {
	case f.Keypair != "":
		c.KeypairPath = expandHome(f.Keypair, home)
	case sc.KeypairPath != "":
		c.KeypairPath = expandHome(sc.KeypairPath, home)
	default:
		c.KeypairPath = filepath.Join(home, ".config", "solana", "id.json")
	}

	commitment := f.Commitment
	if commitment == "" {
		commitment = sc.Commitment
	}
	if c.Commitment, err = ParseCommitment(commitment); err != nil {
		return Config{}, err
	}
	return c, nil
}

// ParseCommitment accepts processed, confirmed (the default) or finalized.
func ParseCommitment(s string) (rpc.CommitmentType, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "confirmed":
		return rpc.CommitmentConfirmed, nil
	case "processed":
		return rpc.CommitmentProcessed, nil
	case "finalized":
		return rpc.CommitmentFinalized, nil
	}
	return "", fmt.Errorf("--commitment %q: use processed, confirmed or finalized", s)
}

func expandHome(p, home string) string {
	if p == "~" {
		return home
	}
	if rest, ok := strings.CutPrefix(p, "~/"); ok {
		return filepath.Join(home, rest)
	}
	return p
}

// ExpandHome expands a leading "~/" (or a lone "~") in a path to the
// user's home directory; other paths, and any path when the home directory
// is unknown, are returned unchanged.
func ExpandHome(p string) string {
	home, err := os.UserHomeDir()
	if err != nil {
		return p
	}
	return expandHome(p, home)
}

// MainnetGenesisHash is mainnet-beta's genesis hash (getGenesisHash), which
// tells mainnet apart whatever URL reaches it.
const MainnetGenesisHash = "5eykt4UsFv8P8NJdTREpY1vzqKqZKvdpKuc147dw2N9d"

// Public names the well-known public cluster an RPC URL points at —
// "mainnet-beta", "devnet" or "testnet" — from its host (the Solana
// Foundation's endpoints, and providers' hosts that name the cluster), or
// "" if the URL names none. It reads no network: a private URL of a public
// cluster is only recognised by its genesis hash.
func Public(rpcURL string) string {
	u, err := url.Parse(strings.TrimSpace(rpcURL))
	if err != nil {
		return ""
	}
	host := strings.ToLower(u.Hostname())
	for _, name := range []string{"mainnet", "devnet", "testnet"} {
		if strings.Contains(host, name) {
			if name == "mainnet" {
				return "mainnet-beta"
			}
			return name
		}
	}
	return ""
}
