package cluster

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/rpc"
)

func TestResolveURL(t *testing.T) {
	for in, want := range map[string]string{
		"localnet":                    "http://127.0.0.1:8899",
		"l":                           "http://127.0.0.1:8899",
		"devnet":                      "https://api.devnet.solana.com",
		"Mainnet-Beta":                "https://api.mainnet-beta.solana.com",
		"m":                           "https://api.mainnet-beta.solana.com",
		"testnet":                     "https://api.testnet.solana.com",
		"http://127.0.0.1:34183":      "http://127.0.0.1:34183",
		"https://rpc.example.org/key": "https://rpc.example.org/key",
	} {
		if got, err := ResolveURL(in); err != nil || got != want {
			t.Errorf("ResolveURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "mainnet", "ftp://x", "127.0.0.1:8899", "http://"} {
		if _, err := ResolveURL(bad); !errors.Is(err, ErrBadURL) {
			t.Errorf("ResolveURL(%q) = %v, want ErrBadURL", bad, err)
		}
	}
}

func writeConfig(t *testing.T, home, body string) {
	t.Helper()
	p := SolanaCLIPath(home)
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestResolvePrecedence(t *testing.T) {
	// No config file: built-in defaults.
	home := t.TempDir()
	c, err := Resolve(Flags{}, home)
	if err != nil {
		t.Fatal(err)
	}
	if c.URL != DefaultURL || c.KeypairPath != filepath.Join(home, ".config/solana/id.json") || c.Commitment != rpc.CommitmentConfirmed {
		t.Errorf("defaults = %+v", c)
	}

	// The Solana CLI config overrides the defaults.
	writeConfig(t, home, "json_rpc_url: \"https://api.devnet.solana.com\"\nkeypair_path: ~/keys/me.json\ncommitment: finalized\nwebsocket_url: \"\"\n")
	c, err = Resolve(Flags{}, home)
	if err != nil {
		t.Fatal(err)
	}
	if c.URL != "https://api.devnet.solana.com" || c.KeypairPath != filepath.Join(home, "keys/me.json") || c.Commitment != rpc.CommitmentFinalized {
		t.Errorf("from config.yml = %+v", c)
	}

	// Flags override the config file.
	c, err = Resolve(Flags{URL: "localnet", Keypair: "/k.json", Commitment: "processed"}, home)
	if err != nil {
		t.Fatal(err)
	}
	if c.URL != "http://127.0.0.1:8899" || c.KeypairPath != "/k.json" || c.Commitment != rpc.CommitmentProcessed {
		t.Errorf("from flags = %+v", c)
	}

	// --config names another file, which must exist.
	if _, err := Resolve(Flags{ConfigFile: filepath.Join(home, "missing.yml")}, home); err == nil {
		t.Error("a missing --config file was accepted")
	}
}

func TestResolveRejects(t *testing.T) {
	home := t.TempDir()
	for _, f := range []Flags{{URL: "nowhere"}, {Commitment: "max"}} {
		if _, err := Resolve(f, home); err == nil {
			t.Errorf("Resolve(%+v) accepted", f)
		}
	}
	writeConfig(t, home, "json_rpc_url: [not, a, string\n")
	if _, err := Resolve(Flags{}, home); err == nil {
		t.Error("a malformed config.yml was accepted")
	}
}

func TestLoadKeypair(t *testing.T) {
	dir := t.TempDir()
	if _, err := LoadKeypair(filepath.Join(dir, "none.json")); !errors.Is(err, ErrNoKeypair) {
		t.Errorf("missing file: %v", err)
	}
	key := solana.NewWallet().PrivateKey
	good := filepath.Join(dir, "id.json")
	data := "["
	for i, b := range key {
		if i > 0 {
			data += ","
		}
		data += strconv.Itoa(int(b))
	}
	data += "]"
	if err := os.WriteFile(good, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := LoadKeypair(good)
	if err != nil || !got.PublicKey().Equals(key.PublicKey()) {
		t.Fatalf("LoadKeypair = %v, %v", got, err)
	}
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"not":"a keypair"}`), 0o600)
	if _, err := LoadKeypair(bad); err == nil {
		t.Error("a malformed keypair file was accepted")
	}
	// A file whose public half does not match its secret half.
	other := solana.NewWallet().PrivateKey
	mixed := append(append([]byte{}, key[:32]...), other[32:]...)
	data = "["
	for i, b := range mixed {
		if i > 0 {
			data += ","
		}
		data += strconv.Itoa(int(b))
	}
	os.WriteFile(bad, []byte(data+"]"), 0o600)
	if _, err := LoadKeypair(bad); err == nil {
		t.Error("an inconsistent keypair was accepted")
	}
}

func TestPublic(t *testing.T) {
	for url, want := range map[string]string{
		"https://api.mainnet-beta.solana.com": "mainnet-beta",
		"https://mainnet.helius-rpc.com/?k=1": "mainnet-beta",
		"https://api.devnet.solana.com":       "devnet",
		"https://api.testnet.solana.com":      "testnet",
		"http://127.0.0.1:8899":               "",
		"http://localhost:8899":               "",
		"https://rpc.example.org":             "",
	} {
		if got := Public(url); got != want {
			t.Errorf("Public(%q) = %q, want %q", url, got, want)
		}
	}
}

func TestWriteKeypairRoundTripsAndNeverOverwrites(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "id.json")
	key := solana.NewWallet().PrivateKey
	if err := WriteKeypair(path, key); err != nil {
		t.Fatal(err)
	}
	got, err := LoadKeypair(path)
	if err != nil || !got.PublicKey().Equals(key.PublicKey()) {
		t.Fatalf("read back: %v, %v", got, err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode: %v, %v", fi.Mode(), err)
	}
	other := solana.NewWallet().PrivateKey
	if err := WriteKeypair(path, other); !errors.Is(err, ErrKeypairExists) {
		t.Fatalf("second write: %v, want ErrKeypairExists", err)
	}
	if got, _ := LoadKeypair(path); !got.PublicKey().Equals(key.PublicKey()) {
		t.Fatal("the existing keypair was overwritten")
	}
	if err := WriteKeypair(filepath.Join(dir, "short.json"), key[:32]); err == nil {
		t.Fatal("a 32-byte key was written")
	}
}
