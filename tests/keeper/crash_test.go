package keeper_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gagliardetto/solana-go"

	"github.com/modelcommons/modelcommons/clients/cluster"
	"github.com/modelcommons/modelcommons/keepers/receipts"
	"github.com/modelcommons/modelcommons/localnet/golocal"
)

var (
	buildOnce sync.Once
	binDir    string
	buildErr  error
)

// binaries builds keeper and workersim once per test binary.
func binaries(t *testing.T) (keeperBin, workersimBin string) {
	t.Helper()
	buildOnce.Do(func() {
		root, err := golocal.RepoRoot()
		if err != nil {
			buildErr = err
			return
		}
		if binDir, buildErr = os.MkdirTemp("", "keeper-crash-bin"); buildErr != nil {
			return
		}
		for _, pkg := range []string{"keeper", "workersim"} {
			cmd := exec.Command("go", "build", "-o", filepath.Join(binDir, pkg), "./cmd/"+pkg)
			cmd.Dir = root
			if out, err := cmd.CombinedOutput(); err != nil {
				buildErr = fmt.Errorf("build %s: %v\n%s", pkg, err, out)
				return
			}
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return filepath.Join(binDir, "keeper"), filepath.Join(binDir, "workersim")
}

// proc is a started binary.
type proc struct {
	cmd  *exec.Cmd
	log  string
	done chan struct{}
}

// start runs bin with args, logging to logPath, and returns once ready
// reports the first line it accepts (with what it extracted).
func start(t *testing.T, bin, logPath string, ready func(string) (string, bool), args ...string) (*proc, string) {
	t.Helper()
	f, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	out, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = cmd.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, log: logPath, done: make(chan struct{})}
	found := make(chan string, 1)
	go func() {
		defer f.Close()
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(f, line)
			if v, ok := ready(line); ok {
				select {
				case found <- v:
				default:
				}
			}
		}
		_, _ = io.Copy(f, out)
	}()
	go func() { _ = cmd.Wait(); close(p.done) }()
	select {
	case v := <-found:
		return p, v
	case <-p.done:
		t.Fatalf("%s exited before it was ready; log %s:\n%s", bin, logPath, tailFile(logPath, 30))
	case <-time.After(30 * time.Second):
		p.kill()
		t.Fatalf("%s not ready within 30s; log %s:\n%s", bin, logPath, tailFile(logPath, 30))
	}
	return nil, ""
}

func (p *proc) kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

func (p *proc) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		p.kill()
	}
}

func tailFile(path string, n int) string {
	b, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// observed is what the load's clients saw of one run.
type observed struct {
	complete bool
	// in, out tokens from the response's usage (complete responses).
	in, out uint64
}

// load sends chat requests from n clients to the keeper at *api until stop
// is closed, recording every run id a response carried.
type load struct {
	mu     sync.Mutex
	runs   map[string]observed
	sent   atomic.Int64
	api    atomic.Pointer[string]
	keys   []string
	client *http.Client
}

func (l *load) run(n int, stop <-chan struct{}, wg *sync.WaitGroup) {
	for c := 0; c < n; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(c), 99))
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				api := l.api.Load()
				if api == nil {
					time.Sleep(20 * time.Millisecond)
					continue
				}
				l.one(*api, l.keys[rng.IntN(len(l.keys))], (c+i)%2 == 0)
			}
		}()
	}
}

func (l *load) one(api, key string, stream bool) {
	l.sent.Add(1)
	body := fmt.Sprintf(`{"model":"sim-model","messages":[{"role":"user","content":"count to ten"}],"max_tokens":8,"stream":%v,"stream_options":{"include_usage":true}}`, stream)
	req, _ := http.NewRequest(http.MethodPost, "http://"+api+"/v1/chat/completions", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := l.client.Do(req)
	if err != nil {
		time.Sleep(10 * time.Millisecond)
		return
	}
	defer resp.Body.Close()
	id := resp.Header.Get("X-Run-Id")
	b, err := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || id == "" {
		time.Sleep(10 * time.Millisecond)
		return
	}
	ob := observed{}
	type usage struct {
		Prompt     uint64 `json:"prompt_tokens"`
		Completion uint64 `json:"completion_tokens"`
	}
	if err == nil {
		if stream {
			text := string(b)
			if strings.HasSuffix(text, "data: [DONE]\n\n") {
				for _, line := range strings.Split(text, "\n") {
					data, ok := strings.CutPrefix(line, "data: ")
					if !ok || data == "[DONE]" {
						continue
					}
					var chunk struct {
						Usage *usage `json:"usage"`
					}
					if json.Unmarshal([]byte(data), &chunk) == nil && chunk.Usage != nil {
						ob = observed{complete: true, in: chunk.Usage.Prompt, out: chunk.Usage.Completion}
					}
				}
			}
		} else {
			var full struct {
				Usage *usage `json:"usage"`
			}
			if json.Unmarshal(b, &full) == nil && full.Usage != nil {
				ob = observed{complete: true, in: full.Usage.Prompt, out: full.Usage.Completion}
			}
		}
	}
	l.mu.Lock()
	l.runs[id] = ob
	l.mu.Unlock()
}

// keeperRun is one `keeper run`.
type keeperRun struct {
	p          *proc
	api, admin string
}

func startKeeper(t *testing.T, bin, cfgPath, logPath string) keeperRun {
	t.Helper()
	p, addrs := start(t, bin, logPath, func(line string) (string, bool) {
		var l struct {
			Msg, API, Admin string
		}
		if json.Unmarshal([]byte(line), &l) != nil || l.Msg != "keeper serving" {
			return "", false
		}
		return l.API + " " + l.Admin, true
	}, "run", "--config", cfgPath)
	api, admin, _ := strings.Cut(addrs, " ")
	k := keeperRun{p: p, api: api, admin: admin}
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + api + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return k
			}
		}
		select {
		case <-p.done:
			t.Fatalf("keeper exited; log %s:\n%s", logPath, tailFile(logPath, 30))
		case <-time.After(20 * time.Millisecond):
		}
	}
	k.p.kill()
	t.Fatalf("keeper not ready; log %s:\n%s", logPath, tailFile(logPath, 30))
	return k
}

// status is the part of the admin /status the harness reads.
type status struct {
	Unbatched      int `json:"unbatched_runs"`
	PendingBatches int `json:"pending_batches"`
	Settlement     *struct {
		ChainLastBatch   uint64 `json:"chain_last_batch_seq"`
		LocalLastSettled uint64 `json:"local_last_settled_seq"`
		LastError        string `json:"last_error"`
	} `json:"settlement"`
}

func (k keeperRun) status() (status, error) {
	var st status
	resp, err := http.Get("http://" + k.admin + "/status")
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	return st, json.NewDecoder(resp.Body).Decode(&st)
}

func writeKeypair(t *testing.T, path string, key solana.PrivateKey) {
	t.Helper()
	if err := cluster.WriteKeypair(path, key); err != nil {
		t.Fatal(err)
	}
}

// simKeeper is a keeper.toml for the keeper binary in front of one
// workersim serving "sim-model", settling for node.
type simKeeper struct {
	Keypair, RPC, Journal, SimURL, Node string
	ModelID                             uint64
	Interval                            string // [settle] interval
	MaxEntries                          int    // 0: as many as fit
}

// write writes the config to path.
func (k simKeeper) write(t *testing.T, path string) {
	t.Helper()
	cfg := fmt.Sprintf(`listen = "127.0.0.1:0"
admin_listen = "127.0.0.1:0"
keypair = %q
rpc_url = %q
log_format = "json"
log_level = "info"

[journal]
path = %q

[gateway]
shutdown_grace = "2s"

[pool]
health_interval = "200ms"
health_timeout = "1s"

[[model]]
name = "sim-model"
id = %d

[[worker]]
name = "sim"
url = %q
kind = "vllm"
models = ["sim-model"]

[settle]
node = %q
interval = %q
max_entries = %d
`, k.Keypair, k.RPC, k.Journal, k.ModelID, k.SimURL, k.Node, k.Interval, k.MaxEntries)
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestKeeperSIGKILLUnderLoadSettlesExactlyOnce runs the real keeper binary
// (gateway, journal, settler) in front of the real workersim against the
// local chain, under concurrent streaming and non-streaming clients, and
// kills it with SIGKILL at random moments: KEEPER_CRASH_TRIALS times
// (default 50; the documented long run is 500). A last run drains
// settlement. Then, against the chain: every response a client received
// completely is settled exactly once, at the cost its usage implies;
// nothing else is settled but runs whose response a kill cut short (a run
// is charged once its receipt is durable, just before its last byte);
// escrow debits equal the settled receipts' costs; the node's
// last_batch_seq and the journal agree, and the audit holds (each batch's
// outcome as predicted, roots = the receipts' Merkle roots).
func TestKeeperSIGKILLUnderLoadSettlesExactlyOnce(t *testing.T) {
	trials := slowTrials(t, "KEEPER_CRASH_TRIALS", 50)
	keeperBin, simBin := binaries(t)
	timeout := 10*time.Minute + time.Duration(trials)*2*time.Second
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	sw := newSimWorld(ctx, t, simBin, 4)
	dir, keys, escrows, cfgPath := sw.dir, sw.keys, sw.escrows, sw.config

	l := &load{runs: map[string]observed{}, keys: keys, client: &http.Client{Timeout: 10 * time.Second}}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	const clients = 6
	l.run(clients, stop, &wg)
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	began := time.Now()
	for trial := 0; trial < trials; trial++ {
		k := startKeeper(t, keeperBin, cfgPath, filepath.Join(dir, fmt.Sprintf("keeper-%03d.log", trial)))
		l.api.Store(&k.api)
		time.Sleep(time.Duration(50+rng.IntN(600)) * time.Millisecond)
		k.p.kill()
		l.api.Store(nil)
	}
	close(stop)
	wg.Wait()
	crashPhase := time.Since(began)

	// The last run settles everything, then stops cleanly.
	k := sw.drain(t, keeperBin)
	// The operator's view through the binary, running and stopped: the
	// journal and the chain agree, and every receipt proves into the root
	// its batch recorded on chain.
	checkCLI(t, keeperBin, cfgPath, k.admin, escrows)
	k.p.stop()
	checkCLI(t, keeperBin, cfgPath, "", escrows)

	j, res := sw.audit(ctx, t)
	completed, cut := 0, 0
	var settledCost uint64
	for id, e := range res.Settled {
		settledCost += e.Signed.Receipt.Cost
		// A run whose response a kill cut short (or whose non-streamed
		// body never left) may be settled: its receipt was durable.
		if ob := l.runs[id.String()]; !ob.complete {
			cut++
		}
	}
	for id, ob := range l.runs {
		if !ob.complete {
			continue
		}
		completed++
		rid, err := receipts.ParseRunID(id)
		if err != nil {
			t.Fatal(err)
		}
		e, ok := res.Settled[rid]
		if !ok {
			st := "no receipt"
			if got, err := j.Get(rid); err == nil {
				st = got.State.String()
			}
			t.Fatalf("run %s reached its client but is not settled (%s)", id, st)
		}
		if r := e.Signed.Receipt; r.InputTokens != ob.in || r.OutputTokens != ob.out || r.Cost != ob.in+2*ob.out {
			t.Fatalf("run %s: client saw %d in / %d out, receipt says %d / %d at cost %d", id, ob.in, ob.out, r.InputTokens, r.OutputTokens, r.Cost)
		}
	}
	// Runs cut short by a kill can only be the ones in flight at a kill.
	if cut > clients*trials {
		t.Fatalf("%d settled runs were cut short by kills; at most %d can have been in flight", cut, clients*trials)
	}
	var debits uint64
	for _, d := range res.Debits {
		debits += d
	}
	if debits != settledCost || res.Charged != settledCost || res.Shortfall != 0 {
		t.Fatalf("escrows paid %d (batches charged %d, shortfall %d); the settled runs cost %d", debits, res.Charged, res.Shortfall, settledCost)
	}
	recorded, err := j.UnbatchedCount()
	if err != nil || recorded != 0 {
		t.Fatalf("%d receipts still unbatched (%v)", recorded, err)
	}
	if completed < trials {
		t.Fatalf("only %d responses completed over %d trials", completed, trials)
	}
	t.Logf("settler log lines over all runs: %v", logCounts(dir, "resuming a batch left in flight", "batch settled",
		"batch transaction expired unseen; signing the same batch with a new blockhash", "batch cannot land as built; its runs are rebatched under the same sequence number"))
	t.Logf("%d trials (%.0fs of kills): %d requests, %d responses received complete, %d settled runs (%d cut short by a kill) in %d batches, "+
		"%d base units debited = their cost; duplicates 0", trials, crashPhase.Seconds(), l.sent.Load(), completed, len(res.Settled), cut, res.Batches, debits)
}

// logCounts counts the keeper log lines (JSON) with each message.
func logCounts(dir string, msgs ...string) map[string]int {
	out := map[string]int{}
	files, _ := filepath.Glob(filepath.Join(dir, "keeper-*.log"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			var l struct{ Msg string }
			if json.Unmarshal([]byte(line), &l) != nil {
				continue
			}
			for _, m := range msgs {
				if l.Msg == m {
					out[m]++
				}
			}
		}
	}
	return out
}

// checkCLI runs `keeper status` and `keeper receipts --escrow` (against the
// admin listener, or the journal file when admin is empty) and checks the
// settlement they show.
func checkCLI(t *testing.T, bin, cfgPath, admin string, escrows []solana.PublicKey) {
	t.Helper()
	run := func(args ...string) []byte {
		t.Helper()
		args = append(args, "--config", cfgPath)
		if !slices.Contains(args, "text") {
			args = append(args, "--output", "json")
		}
		if admin != "" {
			args = append(args, "--admin", admin)
		}
		out, err := exec.Command(bin, args...).Output()
		if err != nil {
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				t.Fatalf("keeper %v: %v\n%s", args, err, ee.Stderr)
			}
			t.Fatalf("keeper %v: %v", args, err)
		}
		return out
	}
	var st struct {
		Unbatched  int `json:"unbatched_runs"`
		Settlement *struct {
			ChainKnown       bool    `json:"chain_known"`
			ChainLastBatch   uint64  `json:"chain_last_batch_seq"`
			LocalLastSettled uint64  `json:"local_last_settled_seq"`
			LagSeconds       float64 `json:"lag_seconds"`
		} `json:"settlement"`
	}
	if err := json.Unmarshal(run("status"), &st); err != nil {
		t.Fatal(err)
	}
	if s := st.Settlement; s == nil || !s.ChainKnown || s.ChainLastBatch == 0 || s.ChainLastBatch != s.LocalLastSettled || s.LagSeconds != 0 || st.Unbatched != 0 {
		t.Fatalf("keeper status (admin %q): %+v %+v", admin, st, st.Settlement)
	}
	text := string(run("status", "--output", "text"))
	want := fmt.Sprintf("last settled batch: journal #%d, chain #%d; lag 0s", st.Settlement.LocalLastSettled, st.Settlement.ChainLastBatch)
	if !strings.Contains(text, want) {
		t.Fatalf("keeper status (admin %q) does not say %q:\n%s", admin, want, text)
	}
	for _, esc := range escrows {
		var page struct {
			Data   []struct{ State string } `json:"data"`
			Proofs []struct {
				Status      string `json:"status"`
				OnChainRoot string `json:"on_chain_root"`
				Error       string `json:"error"`
			} `json:"proofs"`
		}
		if err := json.Unmarshal(run("receipts", "--escrow", esc.String(), "--limit", "300"), &page); err != nil {
			t.Fatal(err)
		}
		if len(page.Proofs) != len(page.Data) {
			t.Fatalf("receipts of %s: %d receipts, %d proofs", esc, len(page.Data), len(page.Proofs))
		}
		for _, p := range page.Proofs {
			if p.Status != "verified" || p.OnChainRoot == "" {
				t.Fatalf("receipts of %s (admin %q): a proof is %s %s", esc, admin, p.Status, p.Error)
			}
		}
	}
}
