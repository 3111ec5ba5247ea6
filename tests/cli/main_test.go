// Package cli_test drives the mt binary itself against the local chain:
// every step is a command line, every result is read from --output json.
package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gagliardetto/solana-go"

	"github.com/modelcommons/modelcommons/clients/cluster"
	"github.com/modelcommons/modelcommons/localnet/golocal"
)

// mtBin is the binary under test, built once by TestMain.
var mtBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "mt-cli-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	mtBin = filepath.Join(dir, "mt")
	root, err := golocal.RepoRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	build := exec.Command("go", "build", "-o", mtBin, "./cmd/mt")
	build.Dir = root
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build mt:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// env is one test's chain and wallets.
type env struct {
	t     *testing.T
	ctx   context.Context
	chain *golocal.Chain
	dir   string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	return &env{t: t, ctx: ctx, chain: golocal.Start(t), dir: t.TempDir()}
}

// wallet is a funded keypair with its key file.
type wallet struct {
	Key  solana.PrivateKey
	Path string
}

func (w wallet) Pub() string { return w.Key.PublicKey().String() }

// wallet creates a keypair file holding sol SOL.
func (e *env) wallet(name string, sol float64) wallet {
	e.t.Helper()
	key, err := e.chain.Fund(e.ctx, sol)
	if err != nil {
		e.t.Fatal(err)
	}
	return e.keyFile(name, key)
}

// upgradeAuthority is the programs' upgrade authority (the only key `mt
// protocol init` accepts) with sol more SOL, as a keypair file.
func (e *env) upgradeAuthority(name string, sol float64) wallet {
	e.t.Helper()
	key, err := e.chain.FundUpgradeAuthority(e.ctx, sol)
	if err != nil {
		e.t.Fatal(err)
	}
	return e.keyFile(name, key)
}

func (e *env) keyFile(name string, key solana.PrivateKey) wallet {
	e.t.Helper()
	path := filepath.Join(e.dir, name+".json")
	if err := cluster.WriteKeypair(path, key); err != nil {
		e.t.Fatal(err)
	}
	return wallet{Key: key, Path: path}
}

// result of one mt run.
type result struct {
	Stdout, Stderr string
	Err            error
}

// text runs mt with --url (and --keypair) but no --output, requires
// success and returns what it printed for people.
func (e *env) text(signer *wallet, args ...string) string {
	e.t.Helper()
	full := append(append([]string{}, args...), "--url", e.chain.URL)
	if signer != nil {
		full = append(full, "--keypair", signer.Path)
	}
	cmd := exec.CommandContext(e.ctx, mtBin, full...)
	cmd.Env = append(os.Environ(), "HOME="+e.dir)
	out, err := cmd.Output()
	if err != nil {
		e.t.Fatalf("mt %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// run runs mt with --url and --output json added (and --keypair when
// signer is set), in a clean HOME so no user config leaks in.
func (e *env) run(signer *wallet, args ...string) result {
	e.t.Helper()
	full := append([]string{}, args...)
	full = append(full, "--url", e.chain.URL, "--output", "json")
	if signer != nil {
		full = append(full, "--keypair", signer.Path)
	}
	cmd := exec.CommandContext(e.ctx, mtBin, full...)
	cmd.Env = append(os.Environ(), "HOME="+e.dir)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return result{Stdout: stdout.String(), Stderr: stderr.String(), Err: err}
}

// ok runs mt, requires success and decodes its JSON output into out.
func (e *env) ok(out any, signer *wallet, args ...string) {
	e.t.Helper()
	r := e.run(signer, args...)
	if r.Err != nil {
		e.t.Fatalf("mt %s: %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.Err, r.Stdout, r.Stderr)
	}
	if out == nil {
		return
	}
	if err := json.Unmarshal([]byte(r.Stdout), out); err != nil {
		e.t.Fatalf("mt %s: output is not JSON (%v): %s", strings.Join(args, " "), err, r.Stdout)
	}
}

// cliError is what mt prints on stderr for a failure under --output json.
type cliError struct {
	Error        string   `json:"error"`
	Fix          string   `json:"fix"`
	ProgramError string   `json:"program_error"`
	Logs         []string `json:"logs"`
}

// fails runs mt, requires it to fail, and returns the explained error. It
// checks the contract every failure keeps: exit status 1, nothing on
// stdout, one JSON object on stderr with what went wrong and what to do.
func (e *env) fails(signer *wallet, args ...string) cliError {
	e.t.Helper()
	r := e.run(signer, args...)
	if r.Err == nil {
		e.t.Fatalf("mt %s succeeded, want a failure\nstdout: %s", strings.Join(args, " "), r.Stdout)
	}
	if exit, ok := r.Err.(*exec.ExitError); !ok || exit.ExitCode() != 1 {
		e.t.Fatalf("mt %s: %v, want exit status 1", strings.Join(args, " "), r.Err)
	}
	if strings.TrimSpace(r.Stdout) != "" {
		e.t.Errorf("mt %s failed but printed a result: %s", strings.Join(args, " "), r.Stdout)
	}
	var ce cliError
	if err := json.Unmarshal([]byte(r.Stderr), &ce); err != nil {
		e.t.Fatalf("mt %s: stderr is not one JSON error (%v): %s", strings.Join(args, " "), err, r.Stderr)
	}
	if ce.Error == "" || ce.Fix == "" {
		e.t.Errorf("mt %s: error without what/fix: %+v", strings.Join(args, " "), ce)
	}
	if strings.Contains(ce.Error, "goroutine ") || strings.Contains(ce.Error, "panic") {
		e.t.Errorf("mt %s: raw failure leaked: %s", strings.Join(args, " "), ce.Error)
	}
	return ce
}

// travel moves the chain's clock to at.
func (e *env) travel(at time.Time) {
	e.t.Helper()
	if err := e.chain.TimeTravel(e.ctx, at); err != nil {
		e.t.Fatal(err)
	}
	// Wait until the clock sysvar shows it.
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		now, err := e.chain.Now(e.ctx)
		if err == nil && !now.Before(at) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	e.t.Fatalf("chain clock did not reach %s", at)
}

// tokens is amount.Tokens as JSON.
type tokens struct {
	Amount    string `json:"amount"`
	BaseUnits uint64 `json:"base_units"`
	Decimals  uint8  `json:"decimals"`
}
