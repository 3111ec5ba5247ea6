package keeper_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gagliardetto/solana-go"

	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
	"github.com/modelcommons/modelcommons/localnet/golocal"
	"github.com/modelcommons/modelcommons/tests/keeper"
)

// simWorld is what a test of the keeper binary runs against: a local chain
// with a registered node and model (1 and 2 base units per input and output
// token, so every run's cost is exact), funded escrows with their API keys
// and their balances before the test, the workersim binary serving
// "sim-model", and a keeper config file for all of it (settling every
// 300ms, at most 4 entries a batch).
type simWorld struct {
	chain   *golocal.Chain
	w       *keeper.World
	dir     string
	keys    []string
	escrows []solana.PublicKey
	before  *keeper.Snapshot
	// journal, keypair and config are the keeper's files in dir.
	journal, keypair, config string
}

// newSimWorld sets up a simWorld with n escrows of 1 000 000 native each;
// workersim is killed when the test ends.
func newSimWorld(ctx context.Context, t *testing.T, simBin string, n int) *simWorld {
	t.Helper()
	c := golocal.Start(t)
	w, err := keeper.NewWorld(ctx, c, mt.QueryPrice{InputPer1k: 1_000, OutputPer1k: 2_000})
	if err != nil {
		t.Fatal(err)
	}
	sw := &simWorld{chain: c, w: w, dir: t.TempDir()}
	for i := 0; i < n; i++ {
		key := keeper.NewAPIKey()
		esc, err := w.OpenEscrow(ctx, key, 1_000_000*native, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		sw.keys, sw.escrows = append(sw.keys, key), append(sw.escrows, esc)
	}
	if sw.before, err = w.Snapshot(ctx, sw.escrows); err != nil {
		t.Fatal(err)
	}
	sim, simURL := start(t, simBin, filepath.Join(sw.dir, "workersim.log"), func(line string) (string, bool) {
		rest, ok := strings.CutPrefix(line, "workersim ready url=")
		url, _, _ := strings.Cut(rest, " ")
		return url, ok
	}, "--listen", "127.0.0.1:0", "--model", "sim-model", "--per-token", "2ms", "--min-tokens", "3", "--max-tokens", "12")
	t.Cleanup(sim.kill)

	sw.keypair = filepath.Join(sw.dir, "keeper.json")
	writeKeypair(t, sw.keypair, w.Node.Keeper)
	sw.journal = filepath.Join(sw.dir, "journal.db")
	sw.config = filepath.Join(sw.dir, "keeper.toml")
	// max_entries: a batch is a prefix of the runs in run-number order, so
	// with fewer entries than the load's escrows (interleaved at random) a
	// batch would hold a handful of runs and settlement would not keep up.
	simKeeper{Keypair: sw.keypair, RPC: c.URL, Journal: sw.journal, SimURL: simURL, Node: w.NodeAddr.String(),
		ModelID: w.Models[0].ID, Interval: "300ms", MaxEntries: 4}.write(t, sw.config)
	return sw
}
