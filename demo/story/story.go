// Package story is the product's main job, told end to end on a local
// chain with the real binaries: the protocol with a native token, a
// creator's two models launched from spec files, a crowdfund that sells
// out and is finalised by the keeper's crank, contributors who claim MT
// and deposit it to vote and earn, a node operator's keeper in front of
// two simulated GPU workers, an API user paying through an escrow (with a
// lane to that node: only it can charge the escrow, at most the lane) with the
// official OpenAI Python client (streaming, not, and a mixture of both
// models), settlement and the money trail checked to the base unit, a
// governance vote that changes the price (and the next queries paying
// it), and a swap whose fee lands in the model's revenue and the
// protocol's fee vault.
//
// Run drives everything as a user would and narrates it; every figure it
// prints is read from mt's --output json, the keeper's receipts or the
// chain, and checked against clients/settlement and clients/market. It
// returns a Summary (the money trail, JSON) whose OK is false if any check
// failed. cmd/mcdemo runs it for ./scripts/demo.sh; tests/e2e runs a
// shorter telling.
package story

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/gagliardetto/solana-go"

	mtc "github.com/modelcommons/modelcommons/clients/mt_treasury"
	"github.com/modelcommons/modelcommons/clients/pda"
	"github.com/modelcommons/modelcommons/clients/rules"
	"github.com/modelcommons/modelcommons/clients/tokens"
	"github.com/modelcommons/modelcommons/demo/driver"
	"github.com/modelcommons/modelcommons/demo/moneytrail"
	"github.com/modelcommons/modelcommons/keepers/gateway"
	"github.com/modelcommons/modelcommons/keepers/receipts"
	"github.com/modelcommons/modelcommons/localnet/golocal"
)

// Config configures a telling.
type Config struct {
	Bins driver.Bins
	// OutDir receives wallets, logs, the keeper's files and money-trail.json.
	OutDir string
	Out    io.Writer
	Color  bool
	// Short sends fewer requests (the end-to-end test).
	Short bool
	// Chain, if set, is used instead of starting a local chain.
	Chain *golocal.Chain
	// Workers is the GPU workers' software: WorkersSim (default) or
	// WorkersLlamaCpp, two real llama.cpp llama-server processes with the
	// tiny test model (scripts/setup.sh builds them).
	Workers string
}

// The GPU workers the demo can run.
const (
	WorkersSim      = "workersim"
	WorkersLlamaCpp = "llama.cpp"
)

// Summary is the money trail and every check, written to money-trail.json.
type Summary struct {
	OK       bool              `json:"ok"`
	RPC      string            `json:"rpc"`
	Elapsed  string            `json:"elapsed"`
	OpenAI   string            `json:"openai_python"`
	Models   []Model           `json:"models"`
	Escrow   string            `json:"escrow"`
	Node     string            `json:"node"`
	Requests []driver.Result   `json:"requests"`
	Trail    *moneytrail.Trail `json:"settlement"`
	Price    PriceChange       `json:"price_change"`
	Swap     *Swap             `json:"swap"`
	Domain   *DomainStep       `json:"domain"`
	Bounty   *Bounty           `json:"bounty"`
	// Checks are the story's own checks (the trails hold theirs).
	Checks []moneytrail.Check `json:"checks"`
}

// Model is a launched model.
type Model struct {
	ID      uint64 `json:"id"`
	Name    string `json:"name"`
	Symbol  string `json:"symbol"`
	Address string `json:"address"`
	Spec    string `json:"spec"`
}

// PriceChange is the governance step and what the next queries paid.
type PriceChange struct {
	Proposal         uint64            `json:"proposal"`
	OldInputPer1k    uint64            `json:"old_input_per_1k"`
	OldOutputPer1k   uint64            `json:"old_output_per_1k"`
	NewInputPer1k    uint64            `json:"new_input_per_1k"`
	NewOutputPer1k   uint64            `json:"new_output_per_1k"`
	EffectiveAt      int64             `json:"effective_at"`
	Requests         []driver.Result   `json:"requests"`
	ReceiptsAtNew    int               `json:"receipts_at_new_price"`
	AfterPriceChange *moneytrail.Trail `json:"settlement"`
}

// Swap is the market step.
type Swap struct {
	Trader         string `json:"trader"`
	Paid           uint64 `json:"paid_native"`
	ReceivedMT     uint64 `json:"received_mt"`
	Fee            uint64 `json:"fee"`
	ProtocolFee    uint64 `json:"protocol_fee"`
	ModelFee       uint64 `json:"model_fee"`
	FeeVaultDelta  uint64 `json:"fee_vault_delta"`
	RevenueDelta   uint64 `json:"revenue_vault_delta"`
	TreasuryDelta  uint64 `json:"treasury_vault_delta"`
	PredictedToDep uint64 `json:"predicted_to_depositors"`
	PredictedToTr  uint64 `json:"predicted_to_treasury"`
}

// The demo's numbers.
const (
	chatName = "tiny-chat"
	codeName = "tiny-code"
	// The protocol's shortest period (raise window, voting period,
	// hold-up): the specs (demo/specs) use days, as a real model would,
	// and the story moves the chain's clock past them (travel); the
	// keeper's default price refresh (2 s) is well below it.
	minPeriod = "1h"
)

type teller struct {
	cfg Config
	// proven counts the user's receipts whose Merkle proof `keeper
	// receipts` verified against the on-chain root, at the last waitSettled.
	proven int
	n      *narrator
	ctx    context.Context
	chain  *golocal.Chain
	procs  *driver.Procs
	mt     *driver.MT
	dir    string
	sum    *Summary

	admin, creator, alice, bob, carol, operator, keeperKey, user driver.Wallet
	protocol                                                     protocolView
	chat, code                                                   modelView
	keeper                                                       *driver.Keeper
	workers                                                      []driver.KeeperWorker
	apiKey                                                       string
	escrow                                                       string
	warmAt                                                       time.Time
	before                                                       *moneytrail.Snapshot
}

// Run tells the story. The error is for what stopped it; failed checks
// are in the Summary (OK false).
func Run(ctx context.Context, cfg Config) (*Summary, error) {
	t := &teller{cfg: cfg, ctx: ctx, dir: cfg.OutDir, sum: &Summary{},
		n: &narrator{w: cfg.Out, start: time.Now(), steps: 12, color: cfg.Color}}
	for _, d := range []string{"wallets", "logs", "keeper"} {
		if err := os.MkdirAll(filepath.Join(t.dir, d), 0o700); err != nil {
			return nil, err
		}
	}
	procs, err := driver.NewProcs(filepath.Join(t.dir, "logs"))
	if err != nil {
		return nil, err
	}
	t.procs = procs
	defer procs.StopAll()
	err = t.run()
	t.sum.Elapsed = time.Since(t.n.start).Round(time.Second).String()
	t.sum.OK = err == nil && allOK(t.sum)
	if werr := t.writeSummary(); werr != nil && err == nil {
		err = werr
	}
	return t.sum, err
}

func allOK(s *Summary) bool {
	for _, c := range s.Checks {
		if !c.OK {
			return false
		}
	}
	if s.Domain == nil {
		return false
	}
	for _, tr := range []*moneytrail.Trail{s.Trail, s.Price.AfterPriceChange, s.Domain.Trail} {
		if tr == nil || !tr.OK() {
			return false
		}
	}
	return s.Swap != nil
}

func (t *teller) writeSummary() error {
	data, err := json.MarshalIndent(t.sum, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(t.dir, "money-trail.json"), append(data, '\n'), 0o644)
}

func (t *teller) check(name string, ok bool, format string, args ...any) {
	detail := fmt.Sprintf(format, args...)
	t.sum.Checks = append(t.sum.Checks, moneytrail.Check{Name: name, OK: ok, Detail: detail})
	if ok {
		t.n.ok("%s: %s", name, detail)
	} else {
		t.n.bad("%s: %s", name, detail)
	}
}

// run is the story, step by step.
func (t *teller) run() error {
	steps := []struct {
		title string
		fn    func() error
	}{
		{"Local chain with mt_treasury and inference_meter", t.startChain},
		{"Protocol admin: native token, fees, meter; wallets funded", t.initProtocol},
		{"Creator launches two models from launch spec files", t.launchModels},
		{"Node operator registers a node; keeper run with two " + t.workersTitle(), t.startNode},
		{"Contributors buy in the crowdfunds; the keeper's crank finalises the raises", t.crowdfund},
		{"Contributors claim MT and deposit it to vote and earn", t.claimAndDeposit},
		{"API user opens an escrow with a lane to the node and gets an API key", t.openEscrow},
		{"Paid queries with the official OpenAI Python client (streamed, not, mixture)", t.query},
		{"Settlement by the keeper, and the money trail to the base unit", t.settle},
		{"Governance: a proposal doubles the price of " + chatName, t.govern},
		{"Queries at the new price, settled and checked", t.queryAfterPriceChange},
		{"A swap on the secondary market: the fee goes to model revenue and the protocol", t.swap},
		{"A domain: a front door keeper in front of an admitted member node; its fee to the base unit", t.domain},
		{"Contribute and earn: a bounty funded by the DAO, reviewed by MT holders, settled by the keeper", t.contributeAndEarn},
	}
	t.n.steps = len(steps)
	for _, s := range steps {
		if err := t.ctx.Err(); err != nil {
			return err
		}
		t.n.section(s.title)
		if err := s.fn(); err != nil {
			t.n.bad("%v", err)
			return fmt.Errorf("%s: %w", s.title, err)
		}
	}
	t.printSummary()
	return nil
}

// printSummary is the money trail in one view, across both settlements.
func (t *teller) printSummary() {
	a, b := t.sum.Trail, t.sum.Price.AfterPriceChange
	if a == nil || b == nil || t.sum.Swap == nil {
		return
	}
	fmt.Fprintf(t.n.w, "\nMONEY TRAIL, whole demo\n")
	fmt.Fprintf(t.n.w, "  the API user's escrow paid      %s for %d runs (%d at the old price, %d at the new)\n",
		nativeLabeled(a.Debited+b.Debited), len(t.sum.Requests)+len(t.sum.Price.Requests), len(t.sum.Requests), len(t.sum.Price.Requests))
	fmt.Fprintf(t.n.w, "  models' revenue                 %s\n", nativeLabeled(a.ToModels+b.ToModels))
	for i := range a.Models {
		if i < len(b.Models) {
			fmt.Fprintf(t.n.w, "    model %d: depositors %s, treasury %s\n", a.Models[i].ID,
				nativeLabeled(a.Models[i].ToDepositors+b.Models[i].ToDepositors), nativeLabeled(a.Models[i].ToTreasury+b.Models[i].ToTreasury))
		}
	}
	fmt.Fprintf(t.n.w, "  node operator                   %s\n", nativeLabeled(a.ToOperator+b.ToOperator))
	fmt.Fprintf(t.n.w, "  protocol (settlement fee)       %s\n", nativeLabeled(a.ToProtocol+b.ToProtocol))
	for _, h := range b.Holders {
		fmt.Fprintf(t.n.w, "  %-6s can claim                %s\n", h.Name, nativeLabeled(h.After))
	}
	s := t.sum.Swap
	fmt.Fprintf(t.n.w, "  swap fee %s: protocol %s, model revenue %s (depositors %s, treasury %s)\n",
		nativeLabeled(s.Fee), nativeLabeled(s.FeeVaultDelta), nativeLabeled(s.RevenueDelta+s.TreasuryDelta), nativeLabeled(s.RevenueDelta), nativeLabeled(s.TreasuryDelta))
	if d := t.sum.Domain; d != nil && d.Trail != nil && d.Trail.Domain != nil {
		fmt.Fprintf(t.n.w, "  through domain %s…: escrow paid %s = models %s + node operator %s + domain operator %s + protocol %s\n",
			d.Domain[:8], nativeLabeled(d.Trail.Debited), nativeLabeled(d.Trail.ToModels), nativeLabeled(d.Trail.ToOperator), nativeLabeled(d.Trail.ToDomain), nativeLabeled(d.Trail.ToProtocol))
	}
	if bt := t.sum.Bounty; bt != nil {
		fmt.Fprintf(t.n.w, "  bounty %d (%s): %s paid %s; reviewers alice %s, bob %s, carol %s; pool keeps %s\n", bt.ID, bt.Outcome, bt.Contributor,
			nativeLabeled(bt.Paid[bt.Contributor]), nativeLabeled(bt.Paid["alice"]), nativeLabeled(bt.Paid["bob"]), nativeLabeled(bt.Paid["carol"]), nativeLabeled(bt.PoolLeft))
	}
	n := len(t.sum.Checks) + len(a.Checks) + len(b.Checks)
	if d := t.sum.Domain; d != nil && d.Trail != nil {
		n += len(d.Trail.Checks)
	}
	fmt.Fprintf(t.n.w, "  %d checks, every figure to the base unit against clients/settlement and clients/market\n", n)
}

// mtRun runs an mt command, showing it as a user would type it.
func (t *teller) mtRun(out any, signer *driver.Wallet, args ...string) error {
	shown := append([]string{}, args...)
	if signer != nil {
		shown = append(shown, "-k", "wallets/"+signer.Name+".json")
	}
	t.n.command("mt", shown)
	return t.mt.JSON(t.ctx, out, signer, args...)
}

// mtQuiet runs an mt command without showing it (reads for checks).
func (t *teller) mtQuiet(out any, signer *driver.Wallet, args ...string) error {
	return t.mt.JSON(t.ctx, out, signer, args...)
}

// --- 1. the chain ---

func (t *teller) startChain() error {
	if t.cfg.Chain != nil {
		t.chain = t.cfg.Chain
	} else {
		c, stop, err := golocal.Launch(filepath.Join(t.dir, "logs", "localnet.log"))
		if err != nil {
			return err
		}
		t.chain = c
		// Stopped with the other processes when Run returns.
		t.procs.OnStop(stop)
	}
	t.sum.RPC = t.chain.URL
	t.mt = &driver.MT{Bin: t.cfg.Bins.MT, URL: t.chain.URL, Home: t.dir}
	if t.cfg.Chain != nil {
		t.n.ok("the chain at %s, as given (logs in %s)", t.chain.URL, filepath.Join(t.dir, "logs"))
		return nil
	}
	t.n.command("bin/localnet", []string{"--port", "0"})
	t.n.ok("local chain at %s (logs in %s)", t.chain.URL, filepath.Join(t.dir, "logs"))
	return nil
}

// --- 2. protocol ---

func (t *teller) initProtocol() error {
	var err error
	mk := func(name string, sol float64) driver.Wallet {
		if err != nil {
			return driver.Wallet{}
		}
		newWallet := driver.NewWallet
		if name == "admin" {
			newWallet = driver.NewUpgradeAuthorityWallet // only it may initialise the protocol
		}
		var w driver.Wallet
		if w, err = newWallet(filepath.Join(t.dir, "wallets"), name); err == nil && sol > 0 {
			err = t.chain.Airdrop(t.ctx, w.PublicKey(), uint64(sol*float64(solana.LAMPORTS_PER_SOL)))
		}
		return w
	}
	t.admin, t.creator, t.alice, t.bob, t.carol = mk("admin", 10), mk("creator", 2), mk("alice", 2), mk("bob", 2), mk("carol", 2)
	t.operator, t.keeperKey, t.user = mk("operator", 2), mk("keeper", 2), mk("user", 2)
	if err != nil {
		return fmt.Errorf("wallets: %w", err)
	}
	t.n.ok("8 wallets in %s, each airdropped SOL for fees: admin, creator, alice, bob, carol, operator, keeper (hot key), user", filepath.Join(t.dir, "wallets"))
	// A chain the demo ran on before (mcdemo --url) keeps its protocol and
	// meter: the story reuses them rather than stopping at "already
	// initialised"; every figure it checks is read from the chain.
	if t.mtQuiet(&t.protocol, nil, "protocol", "show") == nil {
		t.n.ok("protocol already initialised on this chain (native mint %s): reusing it", t.protocol.NativeMint)
	} else {
		if err := t.mtRun(&t.protocol, &t.admin, "protocol", "init", "--create-native-mint", "--setup-fee", "5", "--protocol-fee-bps", "250",
			"--swap-fee-bps", "30", "--swap-protocol-share-bps", "5000", "--min-period", minPeriod); err != nil {
			return err
		}
		t.n.ok("protocol initialised: native mint %s (6 decimals), set-up fee 5 native, protocol fee 2.5%% of raises, swap fee 0.3%% (half to the protocol)", t.protocol.NativeMint)
	}
	for _, w := range []driver.Wallet{t.creator, t.alice, t.bob, t.carol, t.operator, t.user} {
		if err := t.mtRun(nil, &t.admin, "protocol", "mint-native", w.Pub(), "1000"); err != nil {
			return fmt.Errorf("%w\n(the demo hands out native tokens as the native mint's authority, the local chain's upgrade authority; "+
				"a protocol initialised with another mint cannot be reused: run the demo on a fresh chain, without --url)", err)
		}
	}
	t.n.ok("1000 native tokens to each of creator, alice, bob, carol, operator, user")
	var m meterView
	if t.mtQuiet(&m, nil, "meter", "show") == nil {
		t.n.ok("meter already initialised on this chain: %d bps of every settled run to the protocol, %d bps to the node operator; node stake ≥ %s native; reusing it",
			m.SettlementFeeBps, m.OperatorShareBps, m.MinNodeStake.Amount)
		return nil
	}
	if err := t.mtRun(&m, &t.admin, "meter", "init", "--settlement-fee-bps", "100", "--operator-share-bps", "2000",
		"--min-node-stake", "100", "--unbonding", "1h", "--withdrawal-notice", "1h"); err != nil {
		return err
	}
	t.n.ok("meter: 1%% of every settled run to the protocol, 20%% to the node operator, the rest to the model; node stake ≥ %s native", m.MinNodeStake.Amount)
	return nil
}

// --- 3. models ---

func (t *teller) specPath(name string) string {
	return filepath.Join(t.cfg.Bins.Root, "demo", "specs", name+".toml")
}

func (t *teller) launchModels() error {
	t.n.say("(a launch spec starts from `mt model spec-template`; the demo's are demo/specs/*.toml)")
	for i, name := range []string{chatName, codeName} {
		var m modelView
		if err := t.mtRun(&m, &t.creator, "model", "launch", "--spec", t.specPath(name)); err != nil {
			return err
		}
		// On a chain the demo ran on before, the models get the next ids.
		if (i == 1 && m.ID != t.chat.ID+1) || m.Stage != "funding" || len(m.Signatures) != 3 {
			return fmt.Errorf("launched model: id %d, stage %s, %d transactions", m.ID, m.Stage, len(m.Signatures))
		}
		t.n.ok("model %d %s (%s) launched in 3 transactions: crowdfund of %s native open until %s; price %s in / %s out per 1k tokens",
			m.ID, m.Token.Name, m.Token.Symbol, m.Crowdfund.HardCap.Amount, chainTime(m.Crowdfund.End), m.Pricing.InputPer1k.Amount, m.Pricing.OutputPer1k.Amount)
		t.sum.Models = append(t.sum.Models, Model{ID: m.ID, Name: name, Symbol: m.Token.Symbol, Address: m.Address, Spec: "demo/specs/" + name + ".toml"})
		if i == 0 {
			t.chat = m
		} else {
			t.code = m
		}
	}
	return nil
}

// --- 4. node and keeper ---

// keeperExtra is the keeper configuration beyond the gateway: settlement
// of node's runs and the permissionless cranks (finalising raises and
// proposals when due), with short intervals for the demo.
func keeperExtra(node string) string {
	return fmt.Sprintf("[settle]\nnode = %q\ninterval = \"1s\"\n\n[cranks]\nenabled = true\ninterval = \"1s\"\njitter = \"200ms\"\n", node)
}

func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func (t *teller) startNode() error {
	addr, err := freePort()
	if err != nil {
		return err
	}
	var node nodeView
	if err := t.mtRun(&node, &t.operator, "node", "register", "--keeper", t.keeperKey.Pub(), "--endpoint", "http://"+addr+"/v1", "--stake", "100"); err != nil {
		return err
	}
	t.sum.Node = node.Address
	t.n.ok("node %s registered: %s staked, keeper hot key %s (it can only settle)", node.Address, node.Stake.Amount, node.Keeper)

	workers, err := t.startWorkers()
	if err != nil {
		return err
	}
	t.workers = workers
	k, err := driver.StartKeeper(t.ctx, t.cfg.Bins, t.procs, driver.KeeperConfig{
		Dir: filepath.Join(t.dir, "keeper"), RPCURL: t.chain.URL, Keypair: t.keeperKey.Path,
		Models:  t.models(),
		Workers: t.workers,
		Extra:   keeperExtra(node.Address),
		Listen:  addr,
	})
	if err != nil {
		return err
	}
	t.keeper = k
	t.n.command("keeper", []string{"run", "--config", k.ConfigPath})
	t.n.ok("keeper serving the OpenAI API at %s/v1 (operator endpoints at %s); log %s", k.API, k.Admin, k.LogPath())
	return nil
}

func (t *teller) workersTitle() string {
	if t.cfg.Workers == WorkersLlamaCpp {
		return "llama.cpp llama-server workers"
	}
	return "simulated GPU workers"
}

// startWorkers starts the two GPU workers, each serving both models.
func (t *teller) startWorkers() ([]driver.KeeperWorker, error) {
	both := []string{chatName, codeName}
	if t.cfg.Workers == WorkersLlamaCpp {
		// One model file behind both public names: the keeper maps each to
		// the server's alias ("public=upstream").
		var out []driver.KeeperWorker
		for _, name := range []string{"gpu-0", "gpu-1"} {
			s, err := golocal.StartLlamaServer(t.ctx, "tiny", filepath.Join(t.procs.Dir(), name+".log"))
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			t.procs.OnStop(s.Kill)
			out = append(out, driver.KeeperWorker{Name: name, URL: s.URL, Kind: "llamacpp", Models: []string{chatName + "=tiny", codeName + "=tiny"}})
		}
		t.n.command("llama-server", []string{"-m", "tiny.gguf", "-a", "tiny", "-c", "512", "-np", "1", "-t", "2", "--seed", "42"})
		t.n.ok("two llama.cpp llama-server workers (the tiny random-weight test model: its text is noise, its usage real): gpu-0 at %s, gpu-1 at %s", out[0].URL, out[1].URL)
		return out, nil
	}
	perToken := "5ms"
	gpu0, err := driver.StartWorkersim(t.ctx, t.cfg.Bins, t.procs, "gpu-0", both, "--ttft", "30ms", "--per-token", perToken, "--seed", "1")
	if err != nil {
		return nil, err
	}
	gpu1, err := driver.StartWorkersim(t.ctx, t.cfg.Bins, t.procs, "gpu-1", both, "--ttft", "30ms", "--per-token", perToken, "--seed", "2")
	if err != nil {
		return nil, err
	}
	t.n.command("workersim", []string{"--model", chatName + "," + codeName, "--ttft", "30ms", "--per-token", perToken})
	t.n.ok("two simulated GPU workers (vLLM-compatible): gpu-0 at %s, gpu-1 at %s", gpu0.URL, gpu1.URL)
	return []driver.KeeperWorker{{Name: "gpu-0", URL: gpu0.URL, Models: both}, {Name: "gpu-1", URL: gpu1.URL, Models: both}}, nil
}

// --- 5. crowdfund ---

func (t *teller) crowdfund() error {
	for _, c := range []struct {
		w     driver.Wallet
		model uint64
	}{{t.alice, t.chat.ID}, {t.bob, t.chat.ID}, {t.carol, t.chat.ID}, {t.bob, t.code.ID}} {
		var pos position
		if err := t.mtRun(&pos, &c.w, "crowdfund", "contribute", strconv.FormatUint(c.model, 10), "100"); err != nil {
			return err
		}
		if pos.Bought == nil {
			return fmt.Errorf("%s bought nothing", c.w.Name)
		}
		t.n.ok("%s paid %s native for %s MT of model %d", c.w.Name, pos.Cost.Amount, pos.Bought.Amount, c.model)
	}
	t.n.say("both raises reached their hard caps: due now; waiting for the keeper's crank to finalise them …")
	for _, m := range []*modelView{&t.chat, &t.code} {
		if err := t.waitModel(m, "active", time.Minute); err != nil {
			return err
		}
		t.n.ok("model %d finalised by the keeper: stage %s, raised %s native (protocol fee %s), supply fixed",
			m.ID, m.Stage, m.Crowdfund.Raised.Amount, m.Crowdfund.ProtocolFee.Amount)
	}
	// The market's pool was seeded at finalisation; anyone opens it.
	var mk struct {
		ReserveMT     amount `json:"reserve_mt"`
		ReserveNative amount `json:"reserve_native"`
		Price         string `json:"price"`
	}
	if err := t.mtRun(&mk, &t.carol, "market", "open", strconv.FormatUint(t.chat.ID, 10)); err != nil {
		return err
	}
	t.n.ok("market of %s open: %s MT against %s native (%s native per MT)", chatName, mk.ReserveMT.Amount, mk.ReserveNative.Amount, mk.Price)
	return nil
}

func (t *teller) waitModel(m *modelView, stage string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		if err := t.mtQuiet(m, nil, "model", "show", strconv.FormatUint(m.ID, 10)); err != nil {
			return err
		}
		if m.Stage == stage {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("model %d is still %q after %s (%s): the keeper's cranks (keepers/cranks) did not finalise it; keeper log %s",
				m.ID, m.Stage, timeout, m.Status, t.keeper.LogPath())
		}
		if err := sleep(t.ctx, 300*time.Millisecond); err != nil {
			return err
		}
	}
}

// --- 6. claims and deposits ---

func (t *teller) claimAndDeposit() error {
	for _, c := range []struct {
		w     driver.Wallet
		model uint64
	}{{t.alice, t.chat.ID}, {t.bob, t.chat.ID}, {t.carol, t.chat.ID}, {t.bob, t.code.ID}} {
		var pos position
		// --close-record: the contribution record has done its job; its rent goes back.
		if err := t.mtRun(&pos, &c.w, "crowdfund", "claim", strconv.FormatUint(c.model, 10), "--close-record"); err != nil {
			return err
		}
		t.check("claimed and closed ("+c.w.Name+")", pos.RecordClosed && pos.RentReturned > 0, "%s claimed %s MT of model %d; contribution record closed, %d lamports of rent back",
			c.w.Name, pos.Received.Amount, c.model, pos.RentReturned)
	}
	var warmAt time.Time
	for _, d := range []struct {
		w      driver.Wallet
		amount string
	}{{t.alice, "10000"}, {t.bob, "8000"}, {t.carol, "5000"}} {
		var v voterView
		if err := t.mtRun(&v, &d.w, "dao", "deposit", strconv.FormatUint(t.chat.ID, 10), d.amount); err != nil {
			return err
		}
		if v.WarmAt != nil && v.WarmAt.After(warmAt) {
			warmAt = *v.WarmAt
		}
		t.n.ok("%s deposited %s MT of %s: after the warm-up it earns revenue and votes on proposals created from then on", d.w.Name, v.Deposited.Amount, chatName)
	}
	t.warmAt = warmAt
	return nil
}

// --- 7. escrow ---

func (t *teller) openEscrow() error {
	var e escrowView
	keyFile := filepath.Join(t.dir, "wallets", "api.key")
	_ = os.Remove(keyFile)
	// One transaction opens the escrow, deposits and puts the deposit in a
	// lane to the demo node: only that node can charge it, and at most 5.
	node := t.operator.Pub()
	if err := t.mtRun(&e, &t.user, "escrow", "open", "--deposit", "5", "--node", node, "--key-out", keyFile); err != nil {
		return err
	}
	lane := e.lane(t.sum.Node)
	if !strings.HasPrefix(e.APIKey, "mc_") || e.Balance.BaseUnits != 5_000_000 || e.Unallocated.BaseUnits != 0 || lane == nil || lane.Balance.BaseUnits != 5_000_000 {
		return fmt.Errorf("escrow open --node: key %q…, balance %d, unallocated %d, lanes %+v", e.APIKey[:min(4, len(e.APIKey))], e.Balance.BaseUnits, e.Unallocated.BaseUnits, e.Lanes)
	}
	t.apiKey, t.escrow = e.APIKey, e.Address
	t.sum.Escrow = e.Address
	t.n.ok("escrow %s holds %s native, all in a lane to node %s…; API key %s… printed once (saved to %s)", e.Address, e.Balance.Amount, t.sum.Node[:8], e.APIKey[:8], keyFile)
	if err := t.showEscrow(keyFile); err != nil {
		return err
	}

	// Two escrows the keeper must refuse (402) without serving them — and
	// answering 402 rather than 404 shows it has read both models' prices
	// since they became active: one with an empty lane to this node, one
	// with money the user has not allowed to any node.
	refused := []struct {
		name, file string
		args       []string
	}{
		{"an empty lane to this node", "empty.key", []string{"--node", node}},
		{"1 native, allowed to no node", "unallocated.key", []string{"--deposit", "1"}},
	}
	for _, r := range refused {
		var v escrowView
		path := filepath.Join(t.dir, "wallets", r.file)
		_ = os.Remove(path)
		if err := t.mtRun(&v, &t.user, append([]string{"escrow", "open", "--key-out", path}, r.args...)...); err != nil {
			return err
		}
		for _, model := range []string{chatName, codeName, "mix:" + chatName + "+" + codeName} {
			status, code, err := t.refusal(v.APIKey, model)
			if err != nil {
				return err
			}
			t.check("escrow with "+r.name+" refused for "+model, status == http.StatusPaymentRequired && code == "insufficient_quota", "HTTP %d %s", status, code)
		}
	}
	return nil
}

// showEscrow prints `mt escrow show` as the user sees it: the lane, what
// is unallocated.
func (t *teller) showEscrow(keyFile string) error {
	t.n.command("mt", []string{"escrow", "show", "--key-file", "wallets/" + filepath.Base(keyFile)})
	out, err := t.mt.Text(t.ctx, nil, "escrow", "show", "--key-file", keyFile)
	if err != nil {
		return err
	}
	for _, line := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		t.n.say("  %s", line)
	}
	return nil
}

// refusal sends one chat request with key and returns the keeper's
// answer. The models became active moments ago: the keeper reads a model it
// serves but has no active price for on demand, so its first answer is
// already 402 (the escrow is empty), not 404.
func (t *teller) refusal(key, model string) (int, string, error) {
	body := fmt.Sprintf(`{"model":%q,"messages":[{"role":"user","content":"hello"}],"max_tokens":8}`, model)
	req, err := http.NewRequestWithContext(t.ctx, http.MethodPost, t.keeper.API+"/v1/chat/completions", strings.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	var e struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	_ = json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&e)
	return resp.StatusCode, e.Error.Code, nil
}

// --- 8. queries ---

func (t *teller) plan() []driver.Request {
	mix := "mix:" + chatName + "+" + codeName
	reqs := []driver.Request{
		{Name: "chat", Model: chatName, MaxTokens: 48, Prompt: "What is a community-owned model?"},
		{Name: "chat, streamed", Model: chatName, Stream: true, MaxTokens: 48, Prompt: "Explain MT tokens in one paragraph."},
		{Name: "code", Model: codeName, MaxTokens: 32, Prompt: "Write a haiku about Go channels."},
		{Name: "code, streamed", Model: codeName, Stream: true, MaxTokens: 32, Prompt: "Fizzbuzz in one line."},
		{Name: "mixture of agents", Model: mix, MaxTokens: 24, Prompt: "Two models, one answer: what is settlement?"},
	}
	if !t.cfg.Short {
		reqs = append(reqs,
			driver.Request{Name: "mixture, streamed", Model: mix, Stream: true, MaxTokens: 24, Prompt: "And what is an escrow?"},
			driver.Request{Name: "chat again", Model: chatName, MaxTokens: 64, Prompt: "Summarise the keeper's job."},
			driver.Request{Name: "chat again, streamed", Model: chatName, Stream: true, MaxTokens: 64, Prompt: "And the node operator's?"},
		)
	}
	return reqs
}

func (t *teller) send(reqs []driver.Request) ([]driver.Result, error) {
	return t.sendTo(t.keeper.API, t.apiKey, reqs)
}

// sendTo sends reqs with the official OpenAI client to the API at api
// (a keeper or a domain's front door) with key.
func (t *teller) sendTo(api, key string, reqs []driver.Request) ([]driver.Result, error) {
	res, err := t.openai(api, key, reqs)
	if err != nil {
		return nil, err
	}
	t.tell(res)
	return res, nil
}

// openai runs the official OpenAI client with reqs against api.
func (t *teller) openai(api, key string, reqs []driver.Request) ([]driver.Result, error) {
	t.n.command(".venv/bin/python", []string{"demo/openai_user.py", "# OpenAI(base_url=" + api + "/v1, api_key=<key>)"})
	res, version, err := driver.OpenAIClient(t.ctx, t.cfg.Bins, api, key, reqs)
	if err != nil {
		return nil, err
	}
	t.sum.OpenAI = version
	return res, nil
}

// tell narrates the answers; a failed one is a failed check.
func (t *teller) tell(res []driver.Result) {
	for _, r := range res {
		if !r.OK {
			t.check("request "+r.Name, false, "HTTP %d %s: %s", r.Status, r.ErrorCode, r.Error)
			continue
		}
		kind := "complete"
		if r.Stream {
			kind = fmt.Sprintf("streamed, %d chunks", r.Chunks)
		}
		usage := "no usage"
		if r.Usage != nil {
			usage = fmt.Sprintf("%d prompt + %d completion tokens", r.Usage.PromptTokens, r.Usage.CompletionTokens)
		}
		t.n.ok("%-22s %-28s %s, %s; run %s", r.Name, r.Model, kind, usage, r.RunID)
	}
}

func (t *teller) query() error {
	// Earning starts at the deposits' first checkpoint after the warm-up:
	// move the chain's clock past it and checkpoint each depositor. The
	// keeper dates its runs by the chain's clock, days ahead of this host's
	// from here on.
	if err := t.travel("the end of the deposits' warm-up", t.warmAt); err != nil {
		return err
	}
	for _, w := range []driver.Wallet{t.alice, t.bob, t.carol} {
		if err := t.mtRun(nil, &t.admin, "dao", "checkpoint", strconv.FormatUint(t.chat.ID, 10), "--wallet", w.Pub()); err != nil {
			return err
		}
	}
	t.n.ok("alice's, bob's and carol's deposits now earn (anyone may checkpoint them)")
	before, err := moneytrail.Take(t.ctx, t.chain.RPC, t.accounts())
	if err != nil {
		return err
	}
	t.before = before
	res, err := t.send(t.plan())
	if err != nil {
		return err
	}
	t.sum.Requests = res
	okN := 0
	for _, r := range res {
		if r.OK {
			okN++
		}
	}
	t.check("paid queries answered", okN == len(res), "%d of %d through the keeper with openai %s", okN, len(res), t.sum.OpenAI)
	return nil
}

// --- 9. settlement ---

func (t *teller) accounts() moneytrail.Accounts {
	chat := solana.MustPublicKeyFromBase58(t.chat.Address)
	code := solana.MustPublicKeyFromBase58(t.code.Address)
	a := moneytrail.Accounts{
		Node:            pda.Node(t.operator.PublicKey()),
		OperatorAccount: tokens.ATA(t.operator.PublicKey(), solana.MustPublicKeyFromBase58(t.protocol.NativeMint), solana.TokenProgramID),
		Escrows:         []solana.PublicKey{solana.MustPublicKeyFromBase58(t.escrow)},
		Models:          []solana.PublicKey{chat, code},
	}
	for _, w := range []driver.Wallet{t.alice, t.bob, t.carol} {
		a.Holders = append(a.Holders, moneytrail.Holder{Name: w.Name, Owner: w.PublicKey(), Model: chat, Voter: pda.Voter(chat, w.PublicKey())})
	}
	return a
}

// keeperStatus is the part of the keeper's /status the story reads.
type keeperStatus struct {
	Unbatched      int    `json:"unbatched_runs"`
	PendingBatches int    `json:"pending_batches"`
	UnsettledValue uint64 `json:"unsettled_value"`
}

// waitSettled waits until the keeper has settled every run it served and
// the user's receipts say so; it returns the receipts (the user's view,
// signatures verified by `keeper receipts`).
func (t *teller) waitSettled(runs int, timeout time.Duration) ([]gateway.ReceiptView, error) {
	return t.waitSettledAt(t.keeper, t.apiKey, runs, timeout)
}

// waitSettledAt is waitSettled for keeper k and the user's key.
func (t *teller) waitSettledAt(k *driver.Keeper, key string, runs int, timeout time.Duration) ([]gateway.ReceiptView, error) {
	deadline := time.Now().Add(timeout)
	var last []gateway.ReceiptView
	for {
		var st keeperStatus
		err := k.Status(t.ctx, &st)
		if err == nil && st.Unbatched == 0 && st.PendingBatches == 0 {
			rs, proofs, err := t.userReceipts(k, key)
			if err != nil {
				return nil, err
			}
			last = rs
			t.proven = 0
			for _, p := range proofs {
				if p.Status == "verified" {
					t.proven++
				}
			}
			settled := 0
			for _, r := range rs {
				if r.State == "settled" {
					settled++
				}
			}
			if settled == len(rs) && len(rs) >= runs {
				return rs, nil
			}
		}
		if time.Now().After(deadline) {
			return last, fmt.Errorf("the keeper has not settled %d runs within %s (status %+v, %v); keeper log %s", runs, timeout, st, err, k.LogPath())
		}
		if err := sleep(t.ctx, 300*time.Millisecond); err != nil {
			return nil, err
		}
	}
}

// userReceipts runs `keeper receipts --gateway … --url … --output json`
// with the user's key, as the user would: the receipts, signatures
// verified, and each one's Merkle proof checked against the root on chain.
func (t *teller) userReceipts(k *driver.Keeper, key string) ([]gateway.ReceiptView, []receipts.ProofCheck, error) {
	cmd := exec.CommandContext(t.ctx, t.cfg.Bins.Keeper, "receipts", "--gateway", k.API, "--url", t.chain.URL,
		"--output", "json", "--limit", "1000")
	cmd.Env = append(os.Environ(), "MC_API_KEY="+key)
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return nil, nil, fmt.Errorf("keeper receipts: %v: %s", err, ee.Stderr)
		}
		return nil, nil, fmt.Errorf("keeper receipts: %w", err)
	}
	var page struct {
		gateway.ReceiptPage
		Proofs []receipts.ProofCheck `json:"proofs"`
	}
	if err := json.Unmarshal(out, &page); err != nil {
		return nil, nil, fmt.Errorf("keeper receipts: %w", err)
	}
	if page.HasMore {
		return nil, nil, errors.New("keeper receipts: more than 1000 receipts")
	}
	return page.Data, page.Proofs, nil
}

func (t *teller) settle() error {
	served := 0
	for _, r := range t.sum.Requests {
		if r.OK {
			served++
		}
	}
	if served == 0 {
		return errors.New("no request was answered: nothing to settle")
	}
	t.n.say("waiting for the keeper to batch the %d runs into settle transactions …", served)
	rs, err := t.waitSettled(served, 90*time.Second)
	if err != nil {
		return err
	}
	t.n.command("keeper", []string{"receipts", "--gateway", t.keeper.API, "--url", t.chain.URL, "--output", "json", "# MC_API_KEY=<key>: the user's signed receipts, verified"})
	t.check("every answered request has a settled receipt", matchRuns(t.sum.Requests, rs) == served, "%d receipts, %d requests answered", len(rs), served)
	t.check("every receipt proven on chain", t.proven == len(rs), "%d of %d receipts are leaves of the Merkle root their settle transaction recorded", t.proven, len(rs))
	trail, err := moneytrail.Audit(t.ctx, t.chain.RPC, t.accounts(), t.before, rs)
	if err != nil {
		return err
	}
	t.sum.Trail = trail
	t.printTrail(trail)
	// What each holder sees with the CLI is what the trail predicts.
	for _, h := range trail.Holders {
		var rv rewardsView
		if err := t.mtRun(&rv, nil, "rewards", "show", strconv.FormatUint(h.ModelID, 10), "--wallet", h.Owner); err != nil {
			return err
		}
		t.check("mt rewards show ("+h.Name+")", rv.Claimable.BaseUnits == h.After, "claimable %s native, predicted %s", rv.Claimable.Amount, native(h.Predicted))
	}
	if !trail.OK() {
		return fmt.Errorf("the money trail does not add up: %v", trail.Failed())
	}
	return nil
}

// matchRuns counts answered requests whose run id has a receipt.
func matchRuns(res []driver.Result, rs []gateway.ReceiptView) int {
	ids := map[string]bool{}
	for _, r := range rs {
		ids[r.RunID] = true
	}
	n := 0
	for _, r := range res {
		if r.OK && ids[r.RunID] {
			n++
		}
	}
	return n
}

func (t *teller) printTrail(tr *moneytrail.Trail) {
	t.n.say("")
	t.n.say("MONEY TRAIL (every figure in native base units; 1 native = 1 000 000 base units)")
	for _, b := range tr.Batches {
		if tr.Domain != nil {
			t.n.say("  batch %d  %s…  %d entries, %d runs, %d+%d tokens: charged %d = protocol %d + node operator %d + domain %d + models %d",
				b.Seq, b.Signature[:12], b.Entries, b.Runs, b.Input, b.Output, b.Charged, b.ToProtocol, b.ToOperator, b.ToDomain, b.ToModels)
			continue
		}
		t.n.say("  batch %d  %s…  %d entries, %d runs, %d+%d tokens: charged %d = protocol %d + operator %d + models %d",
			b.Seq, b.Signature[:12], b.Entries, b.Runs, b.Input, b.Output, b.Charged, b.ToProtocol, b.ToOperator, b.ToModels)
	}
	for _, e := range tr.Escrows {
		t.n.say("  escrow %s…  %d → %d: debited %d (receipts quoted %d over %d runs; unpaid %d)", e.Address[:8], e.Before, e.After, e.Debited, e.Quoted, e.Receipts, e.Unpaid)
	}
	for _, m := range tr.Models {
		t.n.say("  model %d  charged %d → revenue %d: depositors %d, treasury %d (dust left in the vault %d)", m.ID, m.Charged, m.Revenue, m.ToDepositors, m.ToTreasury, m.Dust)
	}
	t.n.say("  node operator  +%d (predicted %d)", tr.Operator.Received, tr.Operator.Predicted)
	if tr.Domain != nil {
		t.n.say("  domain         +%d (predicted %d): the domain operator's fee, out of the operator's cut", tr.Domain.Received, tr.Domain.Predicted)
	}
	t.n.say("  protocol       +%d (predicted %d)", tr.Protocol.Received, tr.Protocol.Predicted)
	for _, h := range tr.Holders {
		t.n.say("  holder %-6s earning %s MT of model %d: claimable %d → %d (predicted %d)", h.Name, native(h.EarningMT), h.ModelID, h.Before, h.After, h.Predicted)
	}
	if tr.Domain != nil {
		t.n.say("  total: escrows paid %d = models %d + node operator %d + domain %d + protocol %d", tr.Debited, tr.ToModels, tr.ToOperator, tr.ToDomain, tr.ToProtocol)
	} else {
		t.n.say("  total: escrows paid %d = models %d + operator %d + protocol %d", tr.Debited, tr.ToModels, tr.ToOperator, tr.ToProtocol)
	}
	failed := tr.Failed()
	if len(failed) == 0 {
		t.n.ok("%d checks: every base unit accounted for (clients/settlement's prediction = the chain)", len(tr.Checks))
		return
	}
	for _, c := range failed {
		t.n.bad("%s: %s", c.Name, c.Detail)
	}
}

// --- 10. governance ---

func (t *teller) govern() error {
	id := strconv.FormatUint(t.chat.ID, 10)
	old := t.chat.Pricing
	t.sum.Price.OldInputPer1k, t.sum.Price.OldOutputPer1k = old.InputPer1k.BaseUnits, old.OutputPer1k.BaseUnits
	newIn, newOut := old.InputPer1k.BaseUnits*2, old.OutputPer1k.BaseUnits*2
	var p proposalView
	if err := t.mtRun(&p, &t.alice, "dao", "propose", id, "--set-price", "--input-price", native(newIn), "--output-price", native(newOut)); err != nil {
		return err
	}
	t.sum.Price.Proposal = p.Index
	t.n.ok("alice proposed #%d: price %s → %s in, %s → %s out per 1k tokens; voting ends %s", p.Index,
		old.InputPer1k.Amount, native(newIn), old.OutputPer1k.Amount, native(newOut), chainTime(p.VotingEnds))
	idx := strconv.FormatUint(p.Index, 10)
	for _, v := range []struct {
		w      driver.Wallet
		choice string
	}{{t.alice, "yes"}, {t.bob, "yes"}, {t.carol, "no"}} {
		if err := t.mtRun(&p, &v.w, "dao", "vote", id, idx, v.choice); err != nil {
			return err
		}
	}
	t.n.ok("votes: yes %s, no %s MT of %s circulating (quorum met: %v, threshold met: %v)", p.Yes.Amount, p.No.Amount, p.Circulating.Amount, p.QuorumMet, p.ThresholdMet)
	if err := t.travel("the end of the voting period", p.VotingEnds); err != nil {
		return err
	}
	t.n.say("waiting for the keeper's crank to finalise the proposal …")
	if err := t.waitProposal(&p, "passed", time.Minute); err != nil {
		return err
	}
	t.n.ok("proposal #%d passed (finalised by the keeper); executable after the hold-up, at %s", p.Index, chainTime(*p.ExecuteAfter))
	if err := t.travel("the end of the hold-up", *p.ExecuteAfter); err != nil {
		return err
	}
	if err := t.mtRun(&p, &t.carol, "dao", "execute", id, idx); err != nil {
		return err
	}
	if err := t.mtQuiet(&t.chat, nil, "model", "show", id); err != nil {
		return err
	}
	pr := t.chat.Pricing
	t.sum.Price.NewInputPer1k, t.sum.Price.NewOutputPer1k, t.sum.Price.EffectiveAt = pr.InputPer1k.BaseUnits, pr.OutputPer1k.BaseUnits, pr.EffectiveAt
	t.check("price change executed", p.State == "executed" && pr.InputPer1k.BaseUnits == newIn && pr.OutputPer1k.BaseUnits == newOut &&
		pr.PreviousInputPer1k.BaseUnits == old.InputPer1k.BaseUnits,
		"proposal %s; price %s / %s from %s (the old one until then: never retroactive)", p.State, pr.InputPer1k.Amount, pr.OutputPer1k.Amount,
		chainTime(time.Unix(pr.EffectiveAt, 0)))
	return nil
}

func (t *teller) waitProposal(p *proposalView, state string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		var d daoView
		if err := t.mtQuiet(&d, nil, "dao", "show", strconv.FormatUint(t.chat.ID, 10)); err != nil {
			return err
		}
		for _, q := range d.Proposals {
			if q.Index == p.Index {
				*p = q
			}
		}
		if p.State == state {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("proposal %d is still %q after %s (%s): the keeper's cranks did not finalise it; keeper log %s", p.Index, p.State, timeout, p.Next, t.keeper.LogPath())
		}
		if err := sleep(t.ctx, 300*time.Millisecond); err != nil {
			return err
		}
	}
}

// --- 11. after the price change ---

func (t *teller) queryAfterPriceChange() error {
	eff := time.Unix(t.sum.Price.EffectiveAt, 0)
	if err := t.travel("the new price's effective time", eff); err != nil {
		return err
	}
	before, err := moneytrail.Take(t.ctx, t.chain.RPC, t.accounts())
	if err != nil {
		return err
	}
	reqs := []driver.Request{
		{Name: "chat at the new price", Model: chatName, MaxTokens: 48, Prompt: "What changed?"},
		{Name: "chat, streamed", Model: chatName, Stream: true, MaxTokens: 48, Prompt: "Is it dearer now?"},
	}
	res, err := t.send(reqs)
	if err != nil {
		return err
	}
	t.sum.Price.Requests = res
	served := 0
	for _, r := range res {
		if r.OK {
			served++
		}
	}
	all := len(t.sum.Requests) + served
	rs, err := t.waitSettled(all, 90*time.Second)
	if err != nil {
		return err
	}
	ids := map[string]bool{}
	for _, r := range res {
		ids[r.RunID] = true
	}
	var fresh []gateway.ReceiptView
	atNew := 0
	for _, r := range rs {
		if !ids[r.RunID] {
			continue
		}
		fresh = append(fresh, r)
		m := r.Receipt.Models
		if len(m) == 1 && m[0].InputPer1k == t.sum.Price.NewInputPer1k && m[0].OutputPer1k == t.sum.Price.NewOutputPer1k {
			atNew++
		}
	}
	t.sum.Price.ReceiptsAtNew = atNew
	t.check("next queries quoted at the new price", atNew == served && served == len(reqs), "%d of %d receipts at %d / %d per 1k", atNew, len(reqs),
		t.sum.Price.NewInputPer1k, t.sum.Price.NewOutputPer1k)
	trail, err := moneytrail.Audit(t.ctx, t.chain.RPC, t.accounts(), before, rs)
	if err != nil {
		return err
	}
	t.sum.Price.AfterPriceChange = trail
	t.printTrail(trail)
	// The charge is the new price's: recompute each receipt at the old one.
	var quoted, atOld uint64
	for _, r := range fresh {
		quoted += r.Receipt.Cost
		c := (r.Receipt.InputTokens*t.sum.Price.OldInputPer1k + r.Receipt.OutputTokens*t.sum.Price.OldOutputPer1k + 999) / 1000
		atOld += c
	}
	debited := uint64(0)
	for _, e := range trail.Escrows {
		debited += e.Debited
	}
	t.check("charged at the new price", debited > atOld && debited <= quoted, "debited %d for runs that cost %d at the old price (quoted %d at the new)", debited, atOld, quoted)
	if !trail.OK() {
		return fmt.Errorf("the money trail after the price change does not add up: %v", trail.Failed())
	}
	return nil
}

// --- 12. swap ---

func (t *teller) swap() error {
	id := strconv.FormatUint(t.chat.ID, 10)
	chat := solana.MustPublicKeyFromBase58(t.chat.Address)
	pool, err := t.pool(chat)
	if err != nil {
		return err
	}
	want, err := rules.QuoteSwap(pool, rules.SwapBuy, 5_000_000)
	if err != nil {
		return err
	}
	bal := func() (fee, rev, tr uint64, err error) {
		if fee, err = tokens.Balance(t.ctx, t.chain.RPC, pda.FeeVault()); err != nil {
			return
		}
		if rev, err = tokens.Balance(t.ctx, t.chain.RPC, pda.RevenueVault(chat)); err != nil {
			return
		}
		tr, err = tokens.Balance(t.ctx, t.chain.RPC, pda.TreasuryVault(chat))
		return
	}
	f0, r0, tr0, err := bal()
	if err != nil {
		return err
	}
	var q quoteView
	if err := t.mtRun(&q, nil, "market", "quote", id, "buy", "5"); err != nil {
		return err
	}
	var got quoteView
	if err := t.mtRun(&got, &t.carol, "market", "buy", id, "5", "--slippage-bps", "50"); err != nil {
		return err
	}
	f1, r1, tr1, err := bal()
	if err != nil {
		return err
	}
	s := &Swap{Trader: "carol", Paid: 5_000_000, Fee: q.Fee.BaseUnits, ProtocolFee: q.ProtocolFee.BaseUnits, ModelFee: q.ModelFee.BaseUnits,
		FeeVaultDelta: f1 - f0, RevenueDelta: r1 - r0, TreasuryDelta: tr1 - tr0, PredictedToDep: want.ToDepositors, PredictedToTr: want.ToTreasury}
	if got.Received != nil {
		s.ReceivedMT = got.Received.BaseUnits
	}
	t.sum.Swap = s
	t.n.ok("carol paid 5 native for %s MT; fee %s native", native(s.ReceivedMT), native(s.Fee))
	t.check("swap = clients/market's quote", s.ReceivedMT == want.AmountOut && s.Fee == want.Fee && q.Receive.BaseUnits == want.AmountOut,
		"received %d MT base units (quoted %d), fee %d (quoted %d)", s.ReceivedMT, want.AmountOut, s.Fee, want.Fee)
	t.check("swap fee to the protocol", s.FeeVaultDelta == want.ProtocolFee, "fee vault +%d, predicted %d", s.FeeVaultDelta, want.ProtocolFee)
	t.check("swap fee to the model's revenue", s.RevenueDelta == want.ToDepositors && s.TreasuryDelta == want.ToTreasury && want.ProtocolFee+want.ModelFee == want.Fee,
		"depositors' vault +%d, treasury +%d (predicted %d + %d = model fee %d)", s.RevenueDelta, s.TreasuryDelta, want.ToDepositors, want.ToTreasury, want.ModelFee)
	return nil
}

func (t *teller) pool(model solana.PublicKey) (rules.Pool, error) {
	md, err := readAccount(t.ctx, t.chain, model, mtc.ParseAccount_Model)
	if err != nil {
		return rules.Pool{}, err
	}
	p, err := readAccount(t.ctx, t.chain, pda.Protocol(), mtc.ParseAccount_Protocol)
	if err != nil {
		return rules.Pool{}, err
	}
	return rules.FromAccounts(md, p)
}

func readAccount[T any](ctx context.Context, c *golocal.Chain, key solana.PublicKey, parse func([]byte) (*T, error)) (*T, error) {
	res, err := c.RPC.GetAccountInfo(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", key, err)
	}
	return parse(res.Value.Data.GetBinary())
}

// travel moves the chain's clock to at (surfnet_timeTravel) instead of
// waiting for it, then waits until the keeper's own estimate of the
// chain's clock has followed (keeper status: chain_clock): the keeper dates
// runs and picks their price by the chain's clock, not this host's.
func (t *teller) travel(what string, at time.Time) error {
	t.n.say("moving the chain's clock to %s (%s) …", what, chainTime(at))
	if err := t.chain.TimeTravel(t.ctx, at); err != nil {
		return err
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		now, err := t.chain.Now(t.ctx)
		if err != nil {
			return err
		}
		var st struct {
			ChainClock *struct {
				Now time.Time `json:"now"`
			} `json:"chain_clock"`
		}
		if !now.Before(at) && t.keeper.Status(t.ctx, &st) == nil && st.ChainClock != nil && !st.ChainClock.Now.Before(at) {
			t.n.ok("chain clock at %s, %s ahead of this host's; the keeper follows it", chainTime(now), time.Until(now).Round(time.Hour))
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the chain (%s) or the keeper's clock has not reached %s; keeper log %s", chainTime(now), chainTime(at), t.keeper.LogPath())
		}
		if err := sleep(t.ctx, 100*time.Millisecond); err != nil {
			return err
		}
	}
}

// chainTime shows a time on the chain's clock (days ahead of this host's
// once the story has moved it).
func chainTime(at time.Time) string { return at.Format("Mon Jan 2 15:04:05") }

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}
