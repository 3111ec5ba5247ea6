package keeper_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gagliardetto/solana-go"

	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
	"github.com/modelcommons/modelcommons/keepers/journal"
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

// audit opens the keeper's journal (the keeper has stopped) and audits the
// chain against it; the journal closes when the test ends.
func (sw *simWorld) audit(ctx context.Context, t *testing.T) (*journal.Journal, *keeper.AuditResult) {
	t.Helper()
	j, err := journal.Open(journal.Config{Path: sw.journal, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	res, err := sw.w.Audit(ctx, j, sw.before)
	if err != nil {
		t.Fatal(err)
	}
	return j, res
}

// slowTrials skips a slow keeper-binary test under -short and returns how
// many trials it runs: def, or the number in the environment variable env.
func slowTrials(t *testing.T, env string, def int) int {
	t.Helper()
	if testing.Short() {
		t.Skip("runs the keeper binary under SIGKILL (slow)")
	}
	v := os.Getenv(env)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		t.Fatalf("%s=%q", env, v)
	}
	return n
}

// drain starts the keeper once more (logging to keeper-final.log) and
// returns it once everything it journaled is settled on chain.
func (sw *simWorld) drain(t *testing.T, keeperBin string) keeperRun {
	t.Helper()
	logPath := filepath.Join(sw.dir, "keeper-final.log")
	k := startKeeper(t, keeperBin, sw.config, logPath)
	deadline := time.Now().Add(3 * time.Minute)
	for {
		st, err := k.status()
		if err == nil && st.Unbatched == 0 && st.PendingBatches == 0 && st.Settlement != nil && st.Settlement.ChainLastBatch == st.Settlement.LocalLastSettled {
			return k
		}
		if time.Now().After(deadline) {
			k.p.kill()
			t.Fatalf("settlement did not drain: %+v %v; log:\n%s", st, err, tailFile(logPath, 30))
		}
		time.Sleep(200 * time.Millisecond)
	}
}
