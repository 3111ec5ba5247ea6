// Package golocal gives each Go test package, the demo and the benchmarks a
// local chain to run against.
//
// Start launches the repository's local chain (bin/localnet, built by
// scripts/setup.sh; LOCALNET_BIN overrides the path) on a free port and
// stops it when the test ends. With MC_RPC_URL set, tests target that
// cluster instead (e.g. solana-test-validator with the programs deployed as
// SBF); features only a local chain has, such as time travel, then report
// ErrNoTimeTravel.
package golocal

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/rpc"
	"github.com/gagliardetto/solana-go/rpc/jsonrpc"
)

// ErrNoTimeTravel is returned by TimeTravel against an external cluster.
var ErrNoTimeTravel = errors.New("time travel needs the local chain (MC_RPC_URL points elsewhere)")

// Chain is a running chain.
type Chain struct {
	URL      string
	RPC      *rpc.Client
	external bool
	logPath  string
}

// Start returns a chain for t, started for it unless MC_RPC_URL is set.
func Start(t testing.TB) *Chain {
	t.Helper()
	if url := os.Getenv("MC_RPC_URL"); url != "" {
		return &Chain{URL: url, RPC: rpc.New(url), external: true}
	}
	c, stop, err := Launch(filepath.Join(t.TempDir(), "localnet.log"))
	if err != nil {
		t.Fatalf("start local chain: %v", err)
	}
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			t.Logf("local chain log: %s\n%s", c.logPath, tail(c.logPath, 40))
		}
	})
	return c
}

// Launch starts the local chain, writing its output to logPath, and returns
// it with a function that stops it. For programs that are not tests (the
// demo, benchmarks).
func Launch(logPath string) (*Chain, func(), error) {
	bin, err := Binary()
	if err != nil {
		return nil, nil, err
	}
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, nil, err
	}
	cmd := exec.Command(bin, "--port", "0")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, nil, err
	}
	cmd.Stderr = logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, nil, fmt.Errorf("start %s: %w", bin, err)
	}
	ready := make(chan string, 1)
	var copying sync.WaitGroup
	copying.Add(1)
	go func() {
		defer copying.Done()
		scanner := bufio.NewScanner(stdout)
		scanner.Buffer(make([]byte, 64*1024), 1024*1024)
		for scanner.Scan() {
			line := scanner.Text()
			fmt.Fprintln(logFile, line)
			if url, ok := strings.CutPrefix(line, "localnet ready rpc="); ok {
				select {
				case ready <- url:
				default:
				}
			}
		}
		_, _ = io.Copy(logFile, stdout)
	}()
	stop := func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		copying.Wait()
		logFile.Close()
	}
	select {
	case url := <-ready:
		return &Chain{URL: url, RPC: rpc.New(url), logPath: logPath}, stop, nil
	case <-time.After(30 * time.Second):
		stop()
		return nil, nil, fmt.Errorf("local chain did not report ready within 30s; log: %s\n%s", logPath, tail(logPath, 20))
	}
}

// Binary locates the local chain executable.
func Binary() (string, error) {
	if p := os.Getenv("LOCALNET_BIN"); p != "" {
		return p, nil
	}
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	p := filepath.Join(root, "bin", "localnet")
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("%s not found: run ./scripts/setup.sh first (or set LOCALNET_BIN)", p)
	}
	return p, nil
}

// RepoRoot is the directory holding go.mod, found upwards from the working directory.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found above the working directory")
		}
		dir = parent
	}
}

// TimeTravel moves the chain's clock forward to at (surfnet_timeTravel).
func (c *Chain) TimeTravel(ctx context.Context, at time.Time) error {
	if c.external {
		return ErrNoTimeTravel
	}
	var out any
	err := c.RPC.RPCCallForInto(ctx, &out, "surfnet_timeTravel", []any{map[string]any{"absoluteTimestamp": at.UnixMilli()}})
	if err != nil {
		return fmt.Errorf("time travel to %s: %w", at.Format(time.RFC3339), err)
	}
	return nil
}

// WarpSlots moves the chain forward by at least n slots (expiring
// blockhashes as on a real chain).
func (c *Chain) WarpSlots(ctx context.Context, n uint64) error {
	if c.external {
		return ErrNoTimeTravel
	}
	for attempt := 0; ; attempt++ {
		slot, err := c.RPC.GetSlot(ctx, rpc.CommitmentConfirmed)
		if err != nil {
			return err
		}
		var out any
		err = c.RPC.RPCCallForInto(ctx, &out, "surfnet_timeTravel", []any{map[string]any{"absoluteSlot": slot + n}})
		// The chain produces blocks on its own too: one may have passed
		// the target between the two calls. Aim again from the new slot.
		if err != nil && attempt < 5 && strings.Contains(err.Error(), "cannot travel back") {
			continue
		}
		return err
	}
}

// Now is the chain's clock (the Clock sysvar's unix timestamp).
func (c *Chain) Now(ctx context.Context) (time.Time, error) {
	res, err := c.RPC.GetAccountInfo(ctx, solana.SysVarClockPubkey)
	if err != nil {
		return time.Time{}, fmt.Errorf("read clock sysvar: %w", err)
	}
	data := res.Value.Data.GetBinary()
	if len(data) < 40 {
		return time.Time{}, errors.New("clock sysvar too short")
	}
	return time.Unix(int64(binary.LittleEndian.Uint64(data[32:40])), 0), nil
}

// UpgradeAuthorityKey is the programs' upgrade authority, the only key
// mt_treasury's init_protocol accepts: on the local chain the development key
// keys/localnet-upgrade-authority.json (the chain writes it into each
// program's ProgramData account); against MC_RPC_URL, the keypair file named
// by MC_UPGRADE_AUTHORITY (the key the programs were deployed with).
func UpgradeAuthorityKey() (solana.PrivateKey, error) {
	path := os.Getenv("MC_UPGRADE_AUTHORITY")
	if path == "" {
		root, err := RepoRoot()
		if err != nil {
			return nil, err
		}
		path = filepath.Join(root, "keys", "localnet-upgrade-authority.json")
	}
	key, err := solana.PrivateKeyFromSolanaKeygenFile(path)
	if err != nil {
		return nil, fmt.Errorf("upgrade authority key %s: %w", path, err)
	}
	return key, nil
}

// FundUpgradeAuthority returns the upgrade authority (UpgradeAuthorityKey)
// with sol more SOL: the key that may initialise the protocol.
func (c *Chain) FundUpgradeAuthority(ctx context.Context, sol float64) (solana.PrivateKey, error) {
	key, err := UpgradeAuthorityKey()
	if err != nil {
		return nil, err
	}
	return key, c.Airdrop(ctx, key.PublicKey(), uint64(sol*float64(solana.LAMPORTS_PER_SOL)))
}

// Fund creates a keypair holding sol SOL.
func (c *Chain) Fund(ctx context.Context, sol float64) (solana.PrivateKey, error) {
	key, err := solana.NewRandomPrivateKey()
	if err != nil {
		return nil, err
	}
	return key, c.Airdrop(ctx, key.PublicKey(), uint64(sol*float64(solana.LAMPORTS_PER_SOL)))
}

// Airdrop sends lamports to to and waits until they arrive.
func (c *Chain) Airdrop(ctx context.Context, to solana.PublicKey, lamports uint64) error {
	sig, err := c.RPC.RequestAirdrop(ctx, to, lamports, rpc.CommitmentConfirmed)
	if err != nil {
		return fmt.Errorf("airdrop to %s: %w", to, err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		res, err := c.RPC.GetSignatureStatuses(ctx, true, sig)
		if err == nil && len(res.Value) == 1 && res.Value[0] != nil {
			if res.Value[0].Err != nil {
				return fmt.Errorf("airdrop %s failed: %v", sig, res.Value[0].Err)
			}
			return nil
		}
		var rpcErr *jsonrpc.RPCError
		if errors.As(err, &rpcErr) {
			return fmt.Errorf("airdrop status: %w", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Errorf("airdrop %s not confirmed within 30s", sig)
}

func tail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
