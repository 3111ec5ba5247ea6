package driver

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/gagliardetto/solana-go"

	"github.com/modelcommons/modelcommons/clients/cluster"
	"github.com/modelcommons/modelcommons/localnet/golocal"
)

// Wallet is a keypair with its solana-keygen style file.
type Wallet struct {
	Name string
	Key  solana.PrivateKey
	Path string
}

// Pub is the wallet's address.
func (w Wallet) Pub() string { return w.Key.PublicKey().String() }

// PublicKey is the wallet's address.
func (w Wallet) PublicKey() solana.PublicKey { return w.Key.PublicKey() }

// NewWallet creates a keypair and writes it to dir/<name>.json (mode 0600).
func NewWallet(dir, name string) (Wallet, error) {
	key, err := solana.NewRandomPrivateKey()
	if err != nil {
		return Wallet{}, err
	}
	return WalletOf(dir, name, key)
}

// NewUpgradeAuthorityWallet writes the programs' upgrade authority (the
// only key `mt protocol init` accepts; see golocal.UpgradeAuthorityKey) as
// dir/<name>.json.
func NewUpgradeAuthorityWallet(dir, name string) (Wallet, error) {
	key, err := golocal.UpgradeAuthorityKey()
	if err != nil {
		return Wallet{}, err
	}
	return WalletOf(dir, name, key)
}

// WalletOf writes key to dir/<name>.json as a wallet (e.g. the local
// chain's upgrade authority, the only key that may initialise the protocol).
func WalletOf(dir, name string, key solana.PrivateKey) (Wallet, error) {
	path := filepath.Join(dir, name+".json")
	if err := cluster.WriteKeypair(path, key); err != nil {
		return Wallet{}, err
	}
	return Wallet{Name: name, Key: key, Path: path}, nil
}

// MT runs the mt CLI against one cluster, in a HOME of its own so no user
// configuration leaks in.
type MT struct {
	Bin  string
	URL  string
	Home string
	// Trace, if set, is called with every command line run (for narration).
	Trace func(args []string)
}

// CLIError is a failed mt command: its exit status and the JSON error it
// printed on stderr.
type CLIError struct {
	Args         []string
	Exit         int
	Stderr       string
	Message      string   `json:"error"`
	Fix          string   `json:"fix"`
	ProgramError string   `json:"program_error"`
	Logs         []string `json:"logs"`
}

func (e *CLIError) Error() string {
	msg := e.Message
	if msg == "" {
		msg = strings.TrimSpace(e.Stderr)
	}
	s := fmt.Sprintf("mt %s: %s", strings.Join(e.Args, " "), msg)
	if e.Fix != "" {
		s += " (fix: " + e.Fix + ")"
	}
	return s
}

// JSON runs `mt <args> --url … --output json [--keypair signer]` and
// decodes stdout into out (nil: ignore it). A failure is a *CLIError.
func (m *MT) JSON(ctx context.Context, out any, signer *Wallet, args ...string) error {
	full := append(append([]string{}, args...), "--url", m.URL, "--output", "json")
	if signer != nil {
		full = append(full, "--keypair", signer.Path)
	}
	if m.Trace != nil {
		m.Trace(args)
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, m.Bin, full...)
	cmd.Env = append(os.Environ(), "HOME="+m.Home, "MC_API_KEY=", "MT_API_KEY=")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil {
		ce := &CLIError{Args: args, Stderr: stderr.String(), Exit: -1}
		if ee, ok := err.(*exec.ExitError); ok {
			ce.Exit = ee.ExitCode()
		}
		_ = json.Unmarshal(stderr.Bytes(), ce)
		if ce.Message == "" {
			ce.Message = fmt.Sprintf("%v: %s", err, strings.TrimSpace(stderr.String()))
		}
		return ce
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(stdout.Bytes(), out); err != nil {
		return fmt.Errorf("mt %s: output is not JSON (%v): %s", strings.Join(args, " "), err, stdout.String())
	}
	return nil
}

// Text runs mt without --output json and returns what it prints for people.
func (m *MT) Text(ctx context.Context, signer *Wallet, args ...string) (string, error) {
	full := append(append([]string{}, args...), "--url", m.URL)
	if signer != nil {
		full = append(full, "--keypair", signer.Path)
	}
	cmd := exec.CommandContext(ctx, m.Bin, full...)
	cmd.Env = append(os.Environ(), "HOME="+m.Home, "MC_API_KEY=", "MT_API_KEY=")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("mt %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// Tokens is an amount as mt prints it under --output json.
type Tokens struct {
	Amount    string `json:"amount"`
	BaseUnits uint64 `json:"base_units"`
	Decimals  uint8  `json:"decimals"`
}
