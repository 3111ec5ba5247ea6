// Package e2e tells the product's story and its failure paths end to end,
// the way users meet it: each test starts its own local chain and drives
// the real binaries (mt with --output json, keeper run with settlement and
// cranks, workersim, and in the happy path the official OpenAI Python
// client), then checks the chain. Tests run in parallel, each on its own
// chain and ports.
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gagliardetto/solana-go"

	"github.com/modelcommons/modelcommons/clients/pda"
	"github.com/modelcommons/modelcommons/clients/tokens"
	"github.com/modelcommons/modelcommons/demo/driver"
	"github.com/modelcommons/modelcommons/demo/moneytrail"
	"github.com/modelcommons/modelcommons/keepers/gateway"
	"github.com/modelcommons/modelcommons/keepers/receipts"
	"github.com/modelcommons/modelcommons/localnet/golocal"
)

// bins are the binaries under test, built once by TestMain.
var bins driver.Bins

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "e2e-bins")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	root, err := golocal.RepoRoot()
	if err == nil {
		bins, err = driver.Build(context.Background(), root, dir)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: ", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type amount = driver.Tokens

type modelView struct {
	ID        uint64 `json:"id"`
	Address   string `json:"address"`
	Stage     string `json:"stage"`
	Status    string `json:"status"`
	MTMint    string `json:"mt_mint"`
	Crowdfund struct {
		End time.Time `json:"end"`
	} `json:"crowdfund"`
	Pricing struct {
		InputPer1k  amount `json:"input_per_1k"`
		OutputPer1k amount `json:"output_per_1k"`
		EffectiveAt int64  `json:"effective_at"`
	} `json:"pricing"`
	Vaults []struct {
		Name    string `json:"name"`
		Balance amount `json:"balance"`
	} `json:"vaults"`
}

func (m modelView) vault(name string) (uint64, bool) {
	for _, v := range m.Vaults {
		if v.Name == name {
			return v.Balance.BaseUnits, true
		}
	}
	return 0, false
}

type escrowView struct {
	Address string `json:"address"`
	// Balance is unallocated plus the lanes.
	Balance     amount `json:"balance"`
	Unallocated amount `json:"unallocated"`
	Lanes       []struct {
		Node    string `json:"node"`
		Balance amount `json:"balance"`
		Spent   amount `json:"spent"`
	} `json:"lanes"`
	Spent  amount `json:"spent"`
	Unpaid amount `json:"unpaid"`
	APIKey string `json:"api_key"`
}

type proposalView struct {
	Index        uint64     `json:"index"`
	State        string     `json:"state"`
	QuorumMet    bool       `json:"quorum_met"`
	ThresholdMet bool       `json:"threshold_met"`
	VotingEnds   time.Time  `json:"voting_ends"`
	ExecuteAfter *time.Time `json:"execute_after"`
}

// world is one test's chain, wallets, protocol, meter and node.
type world struct {
	t     *testing.T
	ctx   context.Context
	chain *golocal.Chain
	procs *driver.Procs
	mt    *driver.MT
	dir   string

	admin, creator, alice, bob, carol, operator, keeperKey, user driver.Wallet
	nativeMint                                                   solana.PublicKey
	node                                                         string
	nodeListen                                                   string
	keeper                                                       *driver.Keeper
}

// newWorld starts a chain, funds wallets, initialises the protocol (a
// fresh native mint, 2 s minimum period) and the meter, and registers the
// operator's node.
func newWorld(t *testing.T) *world {
	t.Helper()
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	t.Cleanup(cancel)
	dir := t.TempDir()
	procs, err := driver.NewProcs(filepath.Join(dir, "logs"))
	if err != nil {
		t.Fatal(err)
	}
	w := &world{t: t, ctx: ctx, chain: golocal.Start(t), procs: procs, dir: dir}
	t.Cleanup(func() {
		procs.StopAll()
		if t.Failed() && w.keeper != nil {
			t.Logf("keeper log %s:\n%s", w.keeper.LogPath(), driver.Tail(w.keeper.LogPath(), 40))
		}
	})
	w.mt = &driver.MT{Bin: bins.MT, URL: w.chain.URL, Home: dir}
	mk := func(name string, sol float64) driver.Wallet {
		newWallet := driver.NewWallet
		if name == "admin" {
			newWallet = driver.NewUpgradeAuthorityWallet // only it may initialise the protocol
		}
		wl, err := newWallet(dir, name)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.chain.Airdrop(ctx, wl.PublicKey(), uint64(sol*float64(solana.LAMPORTS_PER_SOL))); err != nil {
			t.Fatal(err)
		}
		return wl
	}
	w.admin, w.creator, w.alice, w.bob, w.carol = mk("admin", 10), mk("creator", 2), mk("alice", 2), mk("bob", 2), mk("carol", 2)
	w.operator, w.keeperKey, w.user = mk("operator", 2), mk("keeper", 2), mk("user", 2)
	var p struct {
		NativeMint string `json:"native_mint"`
	}
	w.ok(&p, &w.admin, "protocol", "init", "--create-native-mint", "--setup-fee", "5", "--min-period", "2s")
	w.nativeMint = solana.MustPublicKeyFromBase58(p.NativeMint)
	for _, wl := range []driver.Wallet{w.creator, w.alice, w.bob, w.carol, w.operator, w.user} {
		w.ok(nil, &w.admin, "protocol", "mint-native", wl.Pub(), "1000")
	}
	w.ok(nil, &w.admin, "meter", "init", "--settlement-fee-bps", "100", "--operator-share-bps", "2000", "--min-node-stake", "100",
		"--unbonding", "1h", "--withdrawal-notice", "1h")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	w.nodeListen = ln.Addr().String()
	ln.Close()
	var n struct {
		Address string `json:"address"`
	}
	w.ok(&n, &w.operator, "node", "register", "--keeper", w.keeperKey.Pub(), "--endpoint", "http://"+w.nodeListen+"/v1", "--stake", "100")
	w.node = n.Address
	return w
}

// ok runs mt and requires success.
func (w *world) ok(out any, signer *driver.Wallet, args ...string) {
	w.t.Helper()
	if err := w.mt.JSON(w.ctx, out, signer, args...); err != nil {
		w.t.Fatal(err)
	}
}

// fails runs mt and requires the explained failure the CLI promises.
func (w *world) fails(signer *driver.Wallet, args ...string) *driver.CLIError {
	w.t.Helper()
	err := w.mt.JSON(w.ctx, nil, signer, args...)
	ce, ok := err.(*driver.CLIError)
	if !ok || ce.Exit != 1 || ce.Message == "" {
		w.t.Fatalf("mt %s: want an explained failure (exit 1, JSON error), got %v", strings.Join(args, " "), err)
	}
	return ce
}

// spec writes a launch spec: price 0.01 native per MT, the crowdfund's
// caps as given, 6 s voting, 12 s hold-up, prices 0.02 / 0.06 per 1k.
func (w *world) spec(name string, softCap, hardCap, perWallet int) string {
	w.t.Helper()
	s := fmt.Sprintf(`[token]
name = %[1]q
symbol = "E2E"
uri = "https://example.org/e2e.json"
[supply]
hard = "100000"
creator = "20000"
crowdfund = "%[3]d"
liquidity = "%[4]d"
contributor_rewards = "10000"
[vesting]
cliff = "30d"
duration = "365d"
[crowdfund]
price = "0.01"
soft_cap = "%[2]d"
hard_cap = "%[5]d"
end = "1h"
per_wallet_cap = "%[6]d"
liquidity_bps = 2000
[governance]
quorum_bps = 2000
threshold_bps = 5000
voting_period = "6s"
hold_up = "12s"
min_propose = "1000"
[revenue]
depositor_share_bps = 7000
[price]
input_per_1k = "0.02"
output_per_1k = "0.06"
`, name, softCap, hardCap*100, 70000-hardCap*100, hardCap, perWallet)
	path := filepath.Join(w.dir, name+".toml")
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		w.t.Fatal(err)
	}
	return path
}

// launch launches a model from a spec.
func (w *world) launch(name string, softCap, hardCap, perWallet int) modelView {
	w.t.Helper()
	var m modelView
	w.ok(&m, &w.creator, "model", "launch", "--spec", w.spec(name, softCap, hardCap, perWallet))
	if m.Stage != "funding" {
		w.t.Fatalf("launched model: %+v", m)
	}
	return m
}

// startKeeper runs keeper run with settlement (1 s rounds) and cranks, in
// front of the given workers, reading prices every 500 ms (below the
// protocol's 2 s minimum hold-up, as the keeper's operator rule asks).
func (w *world) startKeeper(models []driver.KeeperModel, workers []driver.KeeperWorker) *driver.Keeper {
	w.t.Helper()
	k, err := driver.StartKeeper(w.ctx, bins, w.procs, driver.KeeperConfig{
		Dir: filepath.Join(w.dir, "keeper"), RPCURL: w.chain.URL, Keypair: w.keeperKey.Path, Models: models, Workers: workers,
		Listen: w.nodeListen,
		Extra: fmt.Sprintf("[chain]\nprice_refresh = \"500ms\"\n\n[settle]\nnode = %q\ninterval = \"1s\"\n\n"+
			"[cranks]\nenabled = true\ninterval = \"1s\"\njitter = \"100ms\"\n", w.node),
	})
	if err != nil {
		w.t.Fatal(err)
	}
	w.keeper = k
	return k
}

func (w *world) workersim(name string, models []string, extra ...string) *driver.Workersim {
	w.t.Helper()
	ws, err := driver.StartWorkersim(w.ctx, bins, w.procs, name, models, extra...)
	if err != nil {
		w.t.Fatal(err)
	}
	return ws
}

// waitModel polls mt model show until the model reaches stage.
func (w *world) waitModel(id uint64, stage string, timeout time.Duration) modelView {
	w.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		var m modelView
		w.ok(&m, nil, "model", "show", strconv.FormatUint(id, 10))
		if m.Stage == stage {
			return m
		}
		if time.Now().After(deadline) {
			w.t.Fatalf("model %d still %s after %s: %s", id, m.Stage, timeout, m.Status)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// waitProposal polls mt dao show until proposal index of model reaches state.
func (w *world) waitProposal(model, index uint64, state string, timeout time.Duration) proposalView {
	w.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		var d struct {
			Proposals []proposalView `json:"proposals"`
		}
		w.ok(&d, nil, "dao", "show", strconv.FormatUint(model, 10))
		for _, p := range d.Proposals {
			if p.Index == index && p.State == state {
				return p
			}
		}
		if time.Now().After(deadline) {
			w.t.Fatalf("proposal %d of model %d not %s after %s: %+v", index, model, state, timeout, d.Proposals)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// travel moves the chain's clock to at and waits until the chain shows it.
func (w *world) travel(at time.Time) {
	w.t.Helper()
	if err := w.chain.TimeTravel(w.ctx, at); err != nil {
		w.t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if now, err := w.chain.Now(w.ctx); err == nil && !now.Before(at) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	w.t.Fatalf("chain clock did not reach %s", at)
}

func (w *world) nativeBalance(owner driver.Wallet) uint64 {
	w.t.Helper()
	b, err := tokens.Balance(w.ctx, w.chain.RPC, tokens.ATA(owner.PublicKey(), w.nativeMint, solana.TokenProgramID))
	if err != nil {
		w.t.Fatal(err)
	}
	return b
}

// activeModels launches n models whose raises the contributors sell out
// (hard cap 300: alice, bob and carol pay 100 each), starts a keeper with
// the given workers, and waits until its crank has finalised them all.
func (w *world) activeModels(names []string, workers []driver.KeeperWorker) []modelView {
	w.t.Helper()
	var ms []modelView
	var km []driver.KeeperModel
	for _, n := range names {
		m := w.launch(n, 150, 300, 100)
		ms = append(ms, m)
		km = append(km, driver.KeeperModel{Name: n, ID: m.ID})
	}
	w.startKeeper(km, workers)
	for i := range ms {
		for _, c := range []driver.Wallet{w.alice, w.bob, w.carol} {
			w.ok(nil, &c, "crowdfund", "contribute", strconv.FormatUint(ms[i].ID, 10), "100")
		}
	}
	for i := range ms {
		ms[i] = w.waitModel(ms[i].ID, "active", time.Minute)
	}
	w.requireServed(names)
	return ms
}

// requireServed checks that the keeper serves models the moment they are
// active on chain: a request for a model it serves but has no active price
// for makes it read the model at once, so the request of an escrow with an
// empty lane is refused with 402 (nothing served), never 404.
func (w *world) requireServed(models []string) {
	w.t.Helper()
	key, _ := w.openEscrow("")
	for _, m := range models {
		if r := w.chat(key, m, false, 8); r.Status != http.StatusPaymentRequired {
			w.t.Fatalf("probe of %s, active on chain, with an empty escrow: HTTP %d %s", m, r.Status, r.Body)
		}
	}
}

// openEscrow opens the user's escrow with deposit native tokens, all of it
// in a lane to the keeper's node (`mt escrow open --deposit --node`); with
// no deposit the lane is open and empty.
func (w *world) openEscrow(deposit string) (key string, addr solana.PublicKey) {
	w.t.Helper()
	args := []string{"--node", w.node}
	if deposit != "" {
		args = append(args, "--deposit", deposit)
	}
	return w.openEscrowWith(args...)
}

// openEscrowWith opens an escrow for the user with the given flags.
func (w *world) openEscrowWith(flags ...string) (key string, addr solana.PublicKey) {
	w.t.Helper()
	var e escrowView
	w.ok(&e, &w.user, append([]string{"escrow", "open"}, flags...)...)
	return e.APIKey, solana.MustPublicKeyFromBase58(e.Address)
}

func (w *world) escrow(addr solana.PublicKey) escrowView {
	w.t.Helper()
	var e escrowView
	w.ok(&e, nil, "escrow", "show", addr.String())
	return e
}

// accounts is what a money trail of the user's escrow follows.
func (w *world) accounts(escrows []solana.PublicKey, models []modelView) moneytrail.Accounts {
	a := moneytrail.Accounts{
		Node:            solana.MustPublicKeyFromBase58(w.node),
		OperatorAccount: tokens.ATA(w.operator.PublicKey(), w.nativeMint, solana.TokenProgramID),
		Escrows:         escrows,
	}
	for _, m := range models {
		a.Models = append(a.Models, solana.MustPublicKeyFromBase58(m.Address))
	}
	_ = pda.Meter
	return a
}

// response is one raw chat request's outcome.
type response struct {
	Status int
	RunID  string
	Code   string // OpenAI error code
	Body   string
	// Done: a stream ended with data: [DONE]; ErrorEvent: it carried an error.
	Done, ErrorEvent bool
}

// chat sends one chat completion with key, as any HTTP client would.
func (w *world) chat(key, model string, stream bool, maxTokens int) response {
	w.t.Helper()
	r, err := chatRequest(w.ctx, w.keeper.API, key, model, stream, maxTokens, nil)
	if err != nil {
		w.t.Fatal(err)
	}
	return r
}

// chatRequest sends a chat completion; onFirst, if set, is called once the
// first streamed event has arrived.
func chatRequest(ctx context.Context, base, key, model string, stream bool, maxTokens int, onFirst func()) (response, error) {
	body := fmt.Sprintf(`{"model":%q,"messages":[{"role":"user","content":"Tell me about community-owned models."}],"max_tokens":%d,"stream":%v}`, model, maxTokens, stream)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/v1/chat/completions", strings.NewReader(body))
	if err != nil {
		return response{}, err
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	out := response{Status: resp.StatusCode, RunID: resp.Header.Get("X-Run-Id")}
	if resp.StatusCode != http.StatusOK || !stream {
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		out.Body = string(data)
		var e struct {
			Error struct {
				Code string `json:"code"`
			} `json:"error"`
		}
		if json.Unmarshal(data, &e) == nil {
			out.Code = e.Error.Code
		}
		return out, nil
	}
	var sb bytes.Buffer
	sc := bufio.NewScanner(resp.Body)
	first := true
	for sc.Scan() {
		line := sc.Text()
		sb.WriteString(line + "\n")
		if !strings.HasPrefix(line, "data: ") {
			continue
		}
		if first && onFirst != nil {
			first = false
			onFirst()
		}
		data := strings.TrimPrefix(line, "data: ")
		if data == "[DONE]" {
			out.Done = true
			continue
		}
		if strings.Contains(data, `"error"`) {
			out.ErrorEvent = true
		}
	}
	out.Body = sb.String()
	return out, nil
}

// keeperStatus is the part of the keeper's /status the tests read.
type keeperStatus struct {
	Unbatched      int `json:"unbatched_runs"`
	PendingBatches int `json:"pending_batches"`
}

// waitSettled waits until the keeper has nothing unsettled and returns the
// user's receipts (keeper receipts --gateway, signatures verified).
func (w *world) waitSettled(key string, timeout time.Duration) []gateway.ReceiptView {
	w.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		var st keeperStatus
		if err := w.keeper.Status(w.ctx, &st); err == nil && st.Unbatched == 0 && st.PendingBatches == 0 {
			rs, proofs := w.provenReceipts(key)
			settled := 0
			for _, r := range rs {
				if r.State == "settled" {
					settled++
				}
			}
			if settled == len(rs) {
				// Every settled receipt is a leaf of the root its settle
				// transaction recorded on chain, as the user checks it.
				verified := 0
				for _, p := range proofs {
					if p.Status == "verified" {
						verified++
					}
				}
				if verified != len(rs) {
					w.t.Fatalf("%d receipts settled, %d proofs verified against the chain: %+v", len(rs), verified, proofs)
				}
				return rs
			}
		}
		if time.Now().After(deadline) {
			w.t.Fatalf("keeper did not settle within %s (status %+v)", timeout, st)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// receipts runs `keeper receipts --gateway … --output json` as the user.
func (w *world) receipts(key string) []gateway.ReceiptView {
	w.t.Helper()
	rs, _ := w.provenReceipts(key)
	return rs
}

// provenReceipts is receipts with each receipt's proof check against the
// chain (--url), as the CLI reports it.
func (w *world) provenReceipts(key string) ([]gateway.ReceiptView, []receipts.ProofCheck) {
	w.t.Helper()
	cmdCtx, cancel := context.WithTimeout(w.ctx, time.Minute)
	defer cancel()
	out, err := runWithEnv(cmdCtx, []string{"MC_API_KEY=" + key}, bins.Keeper, "receipts", "--gateway", w.keeper.API,
		"--url", w.chain.URL, "--output", "json", "--limit", "1000")
	if err != nil {
		w.t.Fatalf("keeper receipts: %v: %s", err, out)
	}
	var page struct {
		gateway.ReceiptPage
		Proofs []receipts.ProofCheck `json:"proofs"`
	}
	if err := json.Unmarshal(out, &page); err != nil {
		w.t.Fatalf("keeper receipts: %v: %s", err, out)
	}
	return page.Data, page.Proofs
}
