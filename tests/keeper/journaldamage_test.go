package keeper_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcommons/modelcommons/keepers/receipts"
)

// TestKeeperRefusesDamagedJournal is the SIGKILL harness with the journal
// damaged between runs: the keeper is killed under load, then its journal
// is truncated in the middle of a page, truncated at a page boundary below
// the pages in use, overwritten with random bytes on a page in use, or
// truncated to 0 bytes (with its receipt log gone too), or its receipt log
// is truncated or has both headers overwritten with random bytes. `keeper run` and `keeper status` must refuse with
// one line naming the file (exit non-zero, no Go dump, nothing sent: the
// node's on-chain marks do not move); the operator then restores the copy
// taken after the kill and the keeper goes on. One trial also takes a hot
// backup through the running keeper and verifies it. At the end every
// response a client received completely is settled exactly once and the
// escrows paid exactly the settled runs' cost.
func TestKeeperRefusesDamagedJournal(t *testing.T) {
	trials := slowTrials(t, "KEEPER_DAMAGE_TRIALS", 8)
	keeperBin, simBin := binaries(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute+time.Duration(trials)*10*time.Second)
	defer cancel()
	sw := newSimWorld(ctx, t, simBin, 2)
	w, dir, keys := sw.w, sw.dir, sw.keys
	journalPath, cfgPath := sw.journal, sw.config

	// refused runs the binary and checks it refused with one line that
	// says want, without a Go dump, and that nothing moved on chain.
	refused := func(label string, want []string, args ...string) string {
		t.Helper()
		node, err := w.LastBatchSeq(ctx)
		if err != nil {
			t.Fatal(err)
		}
		rctx, rcancel := context.WithTimeout(ctx, time.Minute)
		defer rcancel()
		out, err := exec.CommandContext(rctx, keeperBin, args...).CombinedOutput()
		text := string(out)
		if err == nil {
			t.Fatalf("%s: keeper %v succeeded on a damaged journal:\n%s", label, args, text)
		}
		for _, dump := range []string{"goroutine ", "panic:", "SIGBUS", "fatal error", "unexpected fault"} {
			if strings.Contains(text, dump) {
				t.Fatalf("%s: keeper %v crashed (%q):\n%s", label, args, dump, text)
			}
		}
		if strings.Contains(text, `"keeper serving"`) {
			t.Fatalf("%s: keeper %v served on a damaged journal:\n%s", label, args, text)
		}
		lines := strings.Split(strings.TrimSpace(text), "\n")
		last := lines[len(lines)-1]
		for _, s := range want {
			if !strings.Contains(last, s) {
				t.Fatalf("%s: keeper %v: the last line does not say %q:\n%s", label, args, s, text)
			}
		}
		if after, err := w.LastBatchSeq(ctx); err != nil || after != node {
			t.Fatalf("%s: the node's last batch moved from %d to %d (%v) while the keeper refused", label, node, after, err)
		}
		return last
	}

	l := &load{runs: map[string]observed{}, keys: keys, client: &http.Client{Timeout: 10 * time.Second}}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	const clients = 4
	l.run(clients, stop, &wg)
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 16))
	modes := []string{"mid-page", "page boundary", "random page", "empty", "log truncated", "log headers"}
	good := filepath.Join(dir, "journal-good.db")
	for trial := 0; trial < trials; trial++ {
		k := startKeeper(t, keeperBin, cfgPath, filepath.Join(dir, fmt.Sprintf("keeper-%03d.log", trial)))
		l.api.Store(&k.api)
		time.Sleep(time.Duration(300+rng.IntN(700)) * time.Millisecond)
		if trial == 1 {
			hotBackup(t, keeperBin, k.admin, dir)
		}
		// The empty journal is tried once the chain has settled batches
		// (before that nothing witnesses the lost runs: see the README).
		mode := modes[trial%len(modes)]
		if mode == "empty" {
			for st, err := k.status(); err != nil || st.Settlement == nil || st.Settlement.ChainLastBatch == 0; st, err = k.status() {
				time.Sleep(100 * time.Millisecond)
			}
		}
		k.p.kill()
		l.api.Store(nil)
		copyFile(t, journalPath, good)
		copyFile(t, journalPath+"-log", good+"-log")

		damage(t, rng, keeperBin, journalPath, mode)
		want := []string{"error: journal " + journalPath, "is damaged", "restore", "salvage"}
		if mode == "empty" {
			want = []string{"error: journal " + journalPath + " is behind node", "--accept-journal-loss"}
		}
		line := refused(mode, want, "run", "--config", cfgPath)
		t.Logf("trial %d, %s: %s", trial, mode, line)
		if mode != "empty" {
			refused(mode+" (status)", []string{"journal " + journalPath, "is damaged"}, "status", "--config", cfgPath)
		}
		if mode == "random page" {
			out, err := exec.Command(keeperBin, "journal", "salvage", journalPath, filepath.Join(dir, fmt.Sprintf("salvaged-%d.db", trial))).CombinedOutput()
			if err != nil {
				t.Fatalf("salvage: %v\n%s", err, out)
			}
			t.Logf("salvage: %s", strings.ReplaceAll(strings.TrimSpace(string(out)), "\n", " | "))
		}
		// The operator restores the copy taken after the kill.
		copyFile(t, good, journalPath)
		copyFile(t, good+"-log", journalPath+"-log")
	}
	close(stop)
	wg.Wait()

	k := sw.drain(t, keeperBin)
	k.p.stop()

	_, res := sw.audit(ctx, t)
	var settledCost uint64
	for _, e := range res.Settled {
		settledCost += e.Signed.Receipt.Cost
	}
	completed := 0
	for id, ob := range l.runs {
		if !ob.complete {
			continue
		}
		completed++
		rid, err := receipts.ParseRunID(id)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := res.Settled[rid]; !ok {
			t.Fatalf("run %s reached its client but is not settled", id)
		}
	}
	var debits uint64
	for _, d := range res.Debits {
		debits += d
	}
	if debits != settledCost || res.Charged != settledCost || res.Shortfall != 0 {
		t.Fatalf("escrows paid %d (batches charged %d, shortfall %d); the settled runs cost %d", debits, res.Charged, res.Shortfall, settledCost)
	}
	if completed == 0 {
		t.Fatal("no response completed")
	}
	t.Logf("%d trials: %d responses complete, %d settled runs in %d batches, %d base units debited = their cost", trials, completed, len(res.Settled), res.Batches, debits)
}

// damage breaks the journal at path (mode: see modes above). For a random
// page it overwrites pages until `keeper journal verify` finds the damage
// (a free page is harmless).
func damage(t *testing.T, rng *rand.Rand, bin, path, mode string) {
	t.Helper()
	const ps = 4096
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	pages := fi.Size() / ps
	switch mode {
	case "mid-page":
		err = os.Truncate(path, (1+rng.Int64N(pages-1))*ps+1+rng.Int64N(ps-1))
	case "page boundary":
		// Verify tells whether the pages cut were in use.
		for cut := pages / 2; cut >= 2; cut /= 2 {
			if err = os.Truncate(path, cut*ps); err != nil {
				break
			}
			if exec.Command(bin, "journal", "verify", path).Run() != nil {
				return
			}
		}
		t.Fatalf("no truncation at a page boundary damaged %s", path)
	case "random page":
		orig, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		// Every page at most once, in random order: most of a grown file can
		// be free pages, so a fixed number of random picks could miss
		// every page in use.
		order := rng.Perm(int(pages - 2))
		for _, n := range order {
			b := append([]byte(nil), orig...)
			p := 2 + int64(n)
			for i := p * ps; i < (p+1)*ps; i++ {
				b[i] = byte(rng.Uint32())
			}
			if err := os.WriteFile(path, b, 0o600); err != nil {
				t.Fatal(err)
			}
			if exec.Command(bin, "journal", "verify", path).Run() != nil {
				return
			}
		}
		t.Fatalf("no page of %s was in use", path)
	case "empty":
		// The journal's files are lost: the chain is the witness.
		if err = os.Truncate(path, 0); err == nil {
			err = os.Remove(path + "-log")
		}
	case "log truncated":
		err = os.Truncate(path+"-log", 3*ps+rng.Int64N(ps))
	case "log headers":
		var f *os.File
		if f, err = os.OpenFile(path+"-log", os.O_RDWR, 0); err != nil {
			break
		}
		b := make([]byte, 1024)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		_, err = f.WriteAt(b, 0)
		f.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
}

// hotBackup copies the journal through the running keeper, verifies the
// copy, and checks that a second backup will not overwrite it.
func hotBackup(t *testing.T, bin, admin, dir string) {
	t.Helper()
	dst := filepath.Join(dir, "hot-backup.db")
	out, err := exec.Command(bin, "journal", "backup", "--admin", admin, dst).CombinedOutput()
	if err != nil {
		t.Fatalf("keeper journal backup: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "backed up the running keeper's journal to "+dst) {
		t.Fatalf("keeper journal backup said:\n%s", out)
	}
	if out, err := exec.Command(bin, "journal", "verify", dst).CombinedOutput(); err != nil {
		t.Fatalf("keeper journal verify of the hot backup: %v\n%s", err, out)
	}
	if out, err := exec.Command(bin, "journal", "backup", "--admin", admin, dst).CombinedOutput(); err == nil || !strings.Contains(string(out), "exists") {
		t.Fatalf("a second backup to %s: %v\n%s", dst, err, out)
	}
	t.Logf("hot backup: %s", strings.ReplaceAll(strings.TrimSpace(string(out)), "\n", " | "))
}
