package keeperd

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gagliardetto/solana-go"

	"github.com/modelcommons/modelcommons/clients/cluster"
	"github.com/modelcommons/modelcommons/keepers/gateway"
	"github.com/modelcommons/modelcommons/keepers/journal"
	"github.com/modelcommons/modelcommons/keepers/keeperapi"
	"github.com/modelcommons/modelcommons/keepers/keeperconfig"
	"github.com/modelcommons/modelcommons/keepers/receipts"
	"github.com/modelcommons/modelcommons/keepers/workers/workersim"
)

const apiKey = "sk-keeperd-test-000000001"

func writeKeypair(t testing.TB, dir string, mode os.FileMode) string {
	t.Helper()
	path := filepath.Join(dir, "keeper.json")
	if err := cluster.WriteKeypair(path, solana.NewWallet().PrivateKey); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
	return path
}

func offlineConfig(t testing.TB, dir, workerURL string) keeperconfig.Config {
	return keeperconfig.Config{
		Listen: "127.0.0.1:0", AdminListen: "127.0.0.1:0",
		Keypair: writeKeypair(t, dir, 0o600),
		Journal: keeperconfig.JournalConfig{Path: filepath.Join(dir, "journal.db")},
		Models:  []keeperconfig.ModelEntry{{Name: "sim-model", ID: 7, InputPer1k: 100, OutputPer1k: 300}},
		Workers: []keeperconfig.WorkerEntry{{Name: "w0", URL: workerURL, Kind: "vllm", Models: []string{"sim-model"}}},
		Offline: &keeperconfig.OfflineConfig{Escrows: []keeperconfig.OfflineEscrow{{KeyID: keeperconfig.KeyID(apiKey), Balance: 1 << 40}}},
		Pool:    keeperconfig.PoolConfig{HealthInterval: keeperconfig.Duration{Duration: 50 * time.Millisecond}},
	}
}

func startDaemon(t *testing.T, cfg keeperconfig.Config) (d *Daemon, api, admin string, stop func()) {
	t.Helper()
	d, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	api, admin, err = d.Listen()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Error(err)
			}
		})
	}
	t.Cleanup(stop)
	deadline := time.Now().Add(5 * time.Second)
	for !d.gw.Ready() {
		if time.Now().After(deadline) {
			t.Fatal("daemon never ready")
		}
		time.Sleep(10 * time.Millisecond)
	}
	return d, api, admin, stop
}

func TestDaemonServesRecordsAndReports(t *testing.T) {
	sim := httptest.NewServer(workersim.New(workersim.Config{}))
	defer sim.Close()
	dir := t.TempDir()
	cfg := offlineConfig(t, dir, sim.URL)
	d, api, admin, stop := startDaemon(t, cfg)

	req, _ := http.NewRequest("POST", "http://"+api+"/v1/chat/completions", strings.NewReader(`{"model":"sim-model","messages":[{"role":"user","content":"hello"}],"max_tokens":8}`))
	req.Header.Set("Authorization", "Bearer "+apiKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("X-Run-Id") == "" {
		t.Fatalf("HTTP %d", resp.StatusCode)
	}
	// Metrics are on the admin listener only.
	if r, _ := http.Get("http://" + api + "/metrics"); r.StatusCode != 404 {
		t.Fatalf("metrics on the API listener: %d", r.StatusCode)
	}
	r, err := http.Get("http://" + admin + "/metrics")
	if err != nil || r.StatusCode != 200 {
		t.Fatalf("metrics on the admin listener: %v %v", r, err)
	}
	// The settler's lag series is there (as 0) even when nothing settles;
	// each part's series is registered by the part.
	m, _ := io.ReadAll(r.Body)
	for _, want := range []string{"keeper_settlement_lag_seconds 0", "keeper_journal_records_total", "keeper_requests_total", "keeper_worker_up"} {
		if !strings.Contains(string(m), want) {
			t.Fatalf("admin metrics lack %s:\n%.2000s", want, m)
		}
	}

	ctx := context.Background()
	st, err := keeperapi.FetchStatus(ctx, admin)
	if err != nil {
		t.Fatal(err)
	}
	if !st.Ready || st.Unbatched != 1 || st.UnsettledValue == 0 || len(st.Workers) != 1 || !st.Workers[0].Healthy || st.KeeperKey != d.gw.KeeperKey().String() {
		t.Fatalf("status %+v", st)
	}

	escrow := gateway.EscrowAddress(apiKey)
	for name, q := range map[string]keeperapi.ReceiptQuery{
		"user via gateway":   {GatewayURL: "http://" + api, APIKey: apiKey},
		"operator via admin": {AdminAddr: admin, Escrow: escrow},
	} {
		page, err := keeperapi.FetchReceipts(ctx, q)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		v, err := keeperapi.VerifyPage(page, d.gw.KeeperKey())
		if err != nil || len(v) != 1 || v[0].Signed.Receipt.RunID.String() != resp.Header.Get("X-Run-Id") {
			t.Fatalf("%s: %d verified, %v", name, len(v), err)
		}
		// Tampering with the signed bytes is detected; so is another key.
		enc := mustB64(t, page.Data[0].Encoded)
		enc[len(enc)-20] ^= 1 // a bit of the token counts
		page.Data[0].Encoded = base64.StdEncoding.EncodeToString(enc)
		if _, err := keeperapi.VerifyPage(page, d.gw.KeeperKey()); err == nil {
			t.Fatalf("%s: tampered receipt verified", name)
		}
		page, _ = keeperapi.FetchReceipts(ctx, q)
		if _, err := keeperapi.VerifyPage(page, solana.NewWallet().PublicKey()); !errors.Is(err, keeperapi.ErrForeignReceipt) {
			t.Fatalf("%s: wrong keeper key: %v", name, err)
		}
	}
	stop()

	// With the keeper stopped, status and receipts come from the journal file.
	if _, err := keeperapi.FetchStatus(ctx, admin); !errors.Is(err, keeperapi.ErrNotRunning) {
		t.Fatalf("status of a stopped keeper: %v", err)
	}
	st, err = keeperapi.OfflineStatus(cfg.Journal.Path)
	if err != nil || st.Unbatched != 1 {
		t.Fatalf("offline status %+v %v", st, err)
	}
	page, err := keeperapi.FetchReceipts(ctx, keeperapi.ReceiptQuery{Journal: cfg.Journal.Path, Escrow: escrow})
	if err != nil {
		t.Fatal(err)
	}
	if v, err := keeperapi.VerifyPage(page, solana.PublicKey{}); err != nil || len(v) != 1 {
		t.Fatalf("offline receipts: %d %v", len(v), err)
	}
}

func mustB64(t *testing.T, s string) []byte {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestKeeperRunSurvivesSIGKILL runs a keeper (offline, with a simulated
// worker) in a child process, drives it with concurrent clients, kills it
// with SIGKILL at a random moment, and checks against its journal that
// every response a client received completely (a non-streaming body, or a
// stream that ended with [DONE]) has its receipt, and that no receipt
// exists for a run no client could have completed. Several trials.
func TestKeeperRunSurvivesSIGKILL(t *testing.T) {
	if dir := os.Getenv("KEEPERD_CRASH_CHILD"); dir != "" {
		crashChild(dir)
		return
	}
	if testing.Short() {
		t.Skip("spawns processes")
	}
	for trial := 0; trial < 3; trial++ {
		dir := t.TempDir()
		cmd := exec.Command(os.Args[0], "-test.run=^TestKeeperRunSurvivesSIGKILL$")
		cmd.Env = append(os.Environ(), "KEEPERD_CRASH_CHILD="+dir)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(out)
		api := ""
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "api "); ok {
				api = a
				break
			}
		}
		go io.Copy(io.Discard, out)
		if api == "" {
			cmd.Process.Kill()
			t.Fatal("child did not start")
		}
		var mu sync.Mutex
		completed := map[string]bool{}
		var sent atomic.Int64
		stopLoad := make(chan struct{})
		var wg sync.WaitGroup
		for c := 0; c < 16; c++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ; i++ {
					select {
					case <-stopLoad:
						return
					default:
					}
					stream := (c+i)%2 == 0
					id, ok := oneRequest(api, stream)
					sent.Add(1)
					if ok {
						mu.Lock()
						completed[id] = true
						mu.Unlock()
					}
				}
			}()
		}
		time.Sleep(time.Duration(200+rand.IntN(800)) * time.Millisecond)
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		_ = cmd.Wait()
		close(stopLoad)
		wg.Wait()

		j, err := journal.Open(journal.Config{Path: filepath.Join(dir, "journal.db")})
		if err != nil {
			t.Fatal(err)
		}
		onDisk, err := j.Receipts(gateway.EscrowAddress(apiKey), receipts.RunID{}, 1_000_000)
		if err != nil {
			t.Fatal(err)
		}
		j.Close()
		have := map[string]bool{}
		for _, e := range onDisk {
			have[e.Signed.Receipt.RunID.String()] = true
		}
		for id := range completed {
			if !have[id] {
				t.Fatalf("trial %d: run %s was delivered to its client but is not in the journal after SIGKILL", trial, id)
			}
		}
		// A receipt without a completed client is only possible for the runs
		// in flight at the kill (recorded, final bytes not yet delivered).
		if extra := len(have) - len(completed); extra < 0 || extra > 16 {
			t.Fatalf("trial %d: %d receipts for %d completed responses", trial, len(have), len(completed))
		}
		if len(completed) < 10 {
			t.Fatalf("trial %d: only %d requests completed before the kill", trial, len(completed))
		}
		t.Logf("trial %d: %d requests, %d completed, %d receipts on disk", trial, sent.Load(), len(completed), len(have))
	}
}

// oneRequest returns the run id and whether the response arrived complete.
func oneRequest(api string, stream bool) (string, bool) {
	body := fmt.Sprintf(`{"model":"sim-model","messages":[{"role":"user","content":"hi"}],"max_tokens":6,"stream":%v}`, stream)
	req, _ := http.NewRequest("POST", "http://"+api+"/v1/chat/completions", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+apiKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", false
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		return "", false
	}
	if stream {
		return resp.Header.Get("X-Run-Id"), strings.HasSuffix(string(b), "data: [DONE]\n\n")
	}
	var v map[string]any
	return resp.Header.Get("X-Run-Id"), json.Unmarshal(b, &v) == nil
}

func crashChild(dir string) {
	sim := httptest.NewServer(workersim.New(workersim.Config{PerToken: time.Millisecond}))
	cfg := offlineConfig(&testing.T{}, dir, sim.URL)
	cfg.AdminListen = ""
	d, err := New(cfg, nil)
	if err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	api, _, err := d.Listen()
	if err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	go func() { _ = d.Run(context.Background()) }()
	for !d.gw.Ready() {
		time.Sleep(5 * time.Millisecond)
	}
	fmt.Println("api " + api)
	select {} // until killed
}
