package cli_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gagliardetto/solana-go"

	tok "github.com/modelcommons/modelcommons/clients/tokens"
)

type protocolView struct {
	Address         string `json:"address"`
	Admin           string `json:"admin"`
	PendingAdmin    string `json:"pending_admin"`
	Paused          bool   `json:"paused"`
	NativeMint      string `json:"native_mint"`
	NativeDecimals  uint8  `json:"native_decimals"`
	FeeVault        string `json:"fee_vault"`
	FeeVaultBalance tokens `json:"fee_vault_balance"`
	SetupFee        tokens `json:"setup_fee"`
	ProtocolFeeBps  uint16 `json:"protocol_fee_bps"`
	MinPeriodSecs   int64  `json:"min_period_secs"`
	ModelCount      uint64 `json:"model_count"`
	Signature       string `json:"signature"`
}

type modelView struct {
	ID     uint64 `json:"id"`
	Stage  string `json:"stage"`
	Status string `json:"status"`
	MTMint string `json:"mt_mint"`
	Token  struct {
		Name, Symbol, URI string
	} `json:"token"`
	Supply struct {
		Hard   tokens `json:"hard"`
		Minted tokens `json:"minted"`
		Fixed  bool   `json:"fixed"`
	} `json:"supply"`
	Vesting struct {
		Claimed tokens `json:"claimed"`
	} `json:"vesting"`
	Crowdfund struct {
		Raised       tokens `json:"raised"`
		Sold         tokens `json:"sold"`
		Contributors uint32 `json:"contributors"`
		ProtocolFee  tokens `json:"protocol_fee"`
		Open         bool   `json:"open"`
		CanFinalize  bool   `json:"can_finalize"`
		End          time.Time
	} `json:"crowdfund"`
	Vaults []struct {
		Name    string `json:"name"`
		Balance tokens `json:"balance"`
	} `json:"vaults"`
	Signatures []string `json:"signatures"`
}

func (m modelView) vault(t *testing.T, name string) uint64 {
	t.Helper()
	for _, v := range m.Vaults {
		if v.Name == name {
			return v.Balance.BaseUnits
		}
	}
	t.Fatalf("model has no vault %q", name)
	return 0
}

type position struct {
	Model    uint64  `json:"model"`
	Stage    string  `json:"stage"`
	Paid     tokens  `json:"paid"`
	MT       tokens  `json:"mt"`
	Claimed  bool    `json:"claimed"`
	Refunded bool    `json:"refunded"`
	Bought   *tokens `json:"bought"`
	Cost     *tokens `json:"cost"`
	Received *tokens `json:"received"`
	// Set when the command closed the contribution record.
	RecordClosed bool   `json:"record_closed"`
	RentReturned uint64 `json:"rent_returned_lamports"`
}

// The spec every test launches, with the crowdfund's caps as parameters.
// Price 0.01 native per MT: 1 native buys 100 MT.
func writeSpec(t *testing.T, dir, softCap, hardCap string) string {
	t.Helper()
	spec := fmt.Sprintf(`# launch spec
[token]
name = "Tiny Llama Commons"
symbol = "TLC"
uri = "https://example.org/tlc.json"

[supply]
hard = "1000000"
creator = "200000"
crowdfund = "500000"
liquidity = "200000"
contributor_rewards = "100000"

[vesting]
cliff = "1h"
duration = "10h"

[crowdfund]
price = "0.01"
soft_cap = %q
hard_cap = %q
end = "2h"
per_wallet_cap = "500"
liquidity_bps = 2000

[governance]
quorum_bps = 2000
threshold_bps = 5000
voting_period = "1h"
hold_up = "10m"
min_propose = "100"

[revenue]
depositor_share_bps = 7000

[price]
input_per_1k = "0.001"
output_per_1k = "0.002"
`, softCap, hardCap)
	path := filepath.Join(dir, "spec.toml")
	if err := os.WriteFile(path, []byte(spec), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// setup initialises the protocol with a fresh native mint (6 decimals, 5
// native set-up fee, 2.5% protocol fee) and gives each wallet 1000 native.
func (e *env) setup(wallets ...wallet) (admin wallet, p protocolView) {
	e.t.Helper()
	admin = e.upgradeAuthority("admin", 10)
	e.ok(&p, &admin, "protocol", "init", "--create-native-mint", "--setup-fee", "5", "--protocol-fee-bps", "250", "--min-period", "1m")
	if p.Admin != admin.Pub() || p.NativeDecimals != 6 || p.SetupFee.BaseUnits != 5_000_000 || p.ModelCount != 0 || p.Signature == "" {
		e.t.Fatalf("protocol init: %+v", p)
	}
	for _, w := range wallets {
		var minted struct {
			Balance tokens `json:"balance"`
		}
		e.ok(&minted, &admin, "protocol", "mint-native", w.Pub(), "1000")
		if minted.Balance.BaseUnits != 1_000_000_000 {
			e.t.Fatalf("mint-native to %s: %+v", w.Pub(), minted)
		}
	}
	return admin, p
}

func (e *env) nativeBalance(owner wallet, p protocolView) uint64 {
	e.t.Helper()
	bal, err := tok.Balance(e.ctx, e.chain.RPC, tok.ATA(owner.Key.PublicKey(), solana.MustPublicKeyFromBase58(p.NativeMint), solana.TokenProgramID))
	if err != nil {
		e.t.Fatal(err)
	}
	return bal
}

func (e *env) mtBalance(owner wallet, mint string) uint64 {
	e.t.Helper()
	bal, err := tok.Balance(e.ctx, e.chain.RPC, tok.ATA(owner.Key.PublicKey(), solana.MustPublicKeyFromBase58(mint), solana.Token2022ProgramID))
	if err != nil {
		e.t.Fatal(err)
	}
	return bal
}

// A model from launch to claimed MT: launch from a spec file, three
// contributors, the failures the CLI must catch before sending, finalise
// after the deadline, claims and the creator's vesting.
func TestModelLifecycle(t *testing.T) {
	e := newEnv(t)
	creator, alice, bob, carol := e.wallet("creator", 5), e.wallet("alice", 5), e.wallet("bob", 5), e.wallet("carol", 5)
	_, p := e.setup(creator, alice, bob, carol)
	spec := writeSpec(t, e.dir, "50", "1000")

	// A broken spec: every problem listed, nothing sent.
	ce := e.fails(&creator, "model", "launch", "--spec", spec, "--symbol", "MUCHTOOLONGSYMBOL", "--soft-cap", "5000", "--vesting-cliff", "20h")
	for _, want := range []string{"3 problems", "InvalidSymbol", "SoftCapAboveHardCap", "InvalidVesting"} {
		if !strings.Contains(ce.Error, want) {
			t.Errorf("broken spec: %q missing from %q", want, ce.Error)
		}
	}
	var after protocolView
	e.ok(&after, nil, "protocol", "show")
	if after.ModelCount != 0 || e.nativeBalance(creator, p) != 1_000_000_000 {
		t.Fatalf("a rejected spec changed the chain: %+v", after)
	}

	// Launch: three transactions, one command.
	var m modelView
	e.ok(&m, &creator, "model", "launch", "--spec", spec)
	if m.ID != 0 || m.Stage != "funding" || len(m.Signatures) != 3 || m.Token.Symbol != "TLC" || m.Token.Name != "Tiny Llama Commons" || !m.Crowdfund.Open {
		t.Fatalf("launched model: %+v", m)
	}
	if got := e.nativeBalance(creator, p); got != 995_000_000 {
		t.Errorf("creator paid the set-up fee: balance %d, want 995000000", got)
	}

	// Dry run: the accounts, fee, size and compute units; nothing sent.
	var dry struct {
		DryRun   bool `json:"dry_run"`
		Accounts []struct {
			Address, Label string
			Signer         bool
			Writable       bool
		} `json:"accounts"`
		FeeLamports  uint64 `json:"fee_lamports"`
		SizeBytes    int    `json:"size_bytes"`
		ComputeUnits uint64 `json:"compute_units"`
	}
	e.ok(&dry, &alice, "crowdfund", "contribute", "0", "50", "--dry-run")
	labels := map[string]bool{}
	for _, a := range dry.Accounts {
		labels[a.Label] = true
	}
	if !dry.DryRun || dry.FeeLamports < 5000 || dry.SizeBytes == 0 || dry.SizeBytes > 1232 || dry.ComputeUnits == 0 || !labels["raise vault"] || !labels["your contribution record"] {
		t.Fatalf("dry run: %+v", dry)
	}
	if e.nativeBalance(alice, p) != 1_000_000_000 {
		t.Fatal("--dry-run sent the contribution")
	}
	// A priority fee is the unit price times the unit limit, on top of the signature fee.
	var priced struct {
		FeeLamports      uint64 `json:"fee_lamports"`
		ComputeUnitLimit uint64 `json:"compute_unit_limit"`
	}
	e.ok(&priced, &alice, "crowdfund", "contribute", "0", "50", "--dry-run", "--with-compute-unit-price", "2000000")
	if priced.FeeLamports != 5000+priced.ComputeUnitLimit*2 {
		t.Errorf("priority fee: %+v", priced)
	}
	// The same for people.
	if out := e.text(&alice, "crowdfund", "contribute", "0", "50", "--dry-run"); !strings.Contains(out, "Dry run: contribute 50 native tokens to model 0") || !strings.Contains(out, "raise vault") || !strings.Contains(out, "of 1232 bytes") {
		t.Errorf("text dry run:\n%s", out)
	}

	// Three contributors. Price 0.01: 1 native buys 100 MT.
	for _, c := range []struct {
		w      wallet
		amount string
		paid   uint64
	}{{alice, "50", 50_000_000}, {bob, "30.5", 30_500_000}, {carol, "0.25", 250_000}} {
		var pos position
		e.ok(&pos, &c.w, "crowdfund", "contribute", "0", c.amount)
		if pos.Bought == nil || pos.Cost.BaseUnits != c.paid || pos.Bought.BaseUnits != c.paid*100 || pos.Paid.BaseUnits != c.paid {
			t.Fatalf("%s contributes %s: %+v", c.w.Pub(), c.amount, pos)
		}
	}
	// Caught before sending: amounts with too many decimals, past the wallet
	// cap, finalising early, claiming or refunding while open.
	if ce := e.fails(&alice, "crowdfund", "contribute", "0", "0.0000001"); !strings.Contains(ce.Error, "decimal places") {
		t.Errorf("7 decimals: %+v", ce)
	}
	if ce := e.fails(&alice, "crowdfund", "contribute", "0", "-5"); !strings.Contains(ce.Error, "negative") {
		t.Errorf("negative: %+v", ce)
	}
	if ce := e.fails(&alice, "crowdfund", "contribute", "0", "451"); !strings.Contains(ce.Error, "per-wallet cap") || !strings.Contains(ce.Fix, "450") {
		t.Errorf("over the wallet cap: %+v", ce)
	}
	if ce := e.fails(&bob, "model", "finalize", "0"); !strings.Contains(ce.Error, "still open") {
		t.Errorf("finalize early: %+v", ce)
	}
	if ce := e.fails(&bob, "crowdfund", "refund", "0"); !strings.Contains(ce.Error, "still open") {
		t.Errorf("refund while open: %+v", ce)
	}
	if e.nativeBalance(alice, p) != 950_000_000 {
		t.Fatal("a rejected command moved alice's tokens")
	}

	// The deadline passes; contributing is refused with what to do instead.
	e.travel(m.Crowdfund.End.Add(time.Second))
	if ce := e.fails(&carol, "crowdfund", "contribute", "0", "1"); !strings.Contains(ce.Error, "raise ended at") || !strings.Contains(ce.Fix, "mt model finalize 0") {
		t.Errorf("contribute after the end: %+v", ce)
	}

	// Anyone finalises: 80.75 raised ≥ the soft cap of 50, so the model is
	// active, the whole hard supply is minted and fixed, and the proceeds are
	// split: 2.5% protocol fee (rounded up), 20% of the rest seeds the
	// market (rounded down), the remainder is the treasury.
	e.ok(&m, &bob, "model", "finalize", "0")
	const raised = 50_000_000 + 30_500_000 + 250_000
	const fee = raised * 250 / 10_000 // exact here
	const seed = (raised - fee) * 2_000 / 10_000
	if m.Stage != "active" || !m.Supply.Fixed || m.Supply.Minted.BaseUnits != 1_000_000*1_000_000 || m.Crowdfund.Raised.BaseUnits != raised {
		t.Fatalf("finalize: %+v", m)
	}
	if m.Crowdfund.ProtocolFee.BaseUnits != fee || m.vault(t, "treasury (native)") != raised-fee-seed || m.vault(t, "market seed (native)") != seed ||
		m.vault(t, "raise (native)") != 0 || m.vault(t, "sale (MT)") != raised*100 {
		t.Errorf("proceeds and vaults after finalize: %+v", m)
	}
	e.ok(&after, nil, "protocol", "show")
	if after.FeeVaultBalance.BaseUnits != 5_000_000+fee {
		t.Errorf("fee vault = %d, want set-up fee + protocol fee %d", after.FeeVaultBalance.BaseUnits, 5_000_000+fee)
	}
	if ce := e.fails(&bob, "model", "finalize", "0"); !strings.Contains(ce.Error, "already finalised") {
		t.Errorf("finalize twice: %+v", ce)
	}

	// Claims: each contributor gets exactly what they bought, once.
	for _, c := range []struct {
		w    wallet
		paid uint64
	}{{alice, 50_000_000}, {bob, 30_500_000}, {carol, 250_000}} {
		var pos position
		e.ok(&pos, &c.w, "crowdfund", "claim", "0")
		if pos.Received == nil || pos.Received.BaseUnits != c.paid*100 || !pos.Claimed {
			t.Fatalf("claim: %+v", pos)
		}
		if got := e.mtBalance(c.w, m.MTMint); got != c.paid*100 {
			t.Errorf("MT balance after claim = %d, want %d", got, c.paid*100)
		}
	}
	if ce := e.fails(&alice, "crowdfund", "claim", "0"); !strings.Contains(ce.Error, "already claimed") {
		t.Errorf("claim twice: %+v", ce)
	}
	if ce := e.fails(&alice, "crowdfund", "refund", "0"); !strings.Contains(ce.Error, "succeeded") || !strings.Contains(ce.Fix, "crowdfund claim 0") {
		t.Errorf("refund after success: %+v", ce)
	}
	if ce := e.fails(&creator, "crowdfund", "claim", "0"); !strings.Contains(ce.Error, "did not contribute") {
		t.Errorf("claim without contributing: %+v", ce)
	}

	// Revenue: with no MT deposited for voting yet, all of it goes to the treasury.
	var rev struct {
		Paid         tokens `json:"paid"`
		ToTreasury   tokens `json:"to_treasury"`
		ToDepositors tokens `json:"to_depositors"`
		TotalRevenue tokens `json:"total_revenue"`
	}
	e.ok(&rev, &carol, "rewards", "deposit-revenue", "0", "10")
	if rev.Paid.BaseUnits != 10_000_000 || rev.ToTreasury.BaseUnits != 10_000_000 || rev.ToDepositors.BaseUnits != 0 || rev.TotalRevenue.BaseUnits != 10_000_000 {
		t.Errorf("deposit-revenue: %+v", rev)
	}
	e.ok(&m, nil, "model", "show", "0")
	if m.vault(t, "treasury (native)") != raised-fee-seed+10_000_000 {
		t.Errorf("treasury after revenue = %d", m.vault(t, "treasury (native)"))
	}

	// The creator's vesting: nothing before the 1h cliff, all after 10h.
	if ce := e.fails(&creator, "model", "claim-vested", "0"); !strings.Contains(ce.Error, "nothing has vested") {
		t.Errorf("claim-vested before the cliff: %+v", ce)
	}
	if ce := e.fails(&alice, "model", "claim-vested", "0"); !strings.Contains(ce.Error, "creator") {
		t.Errorf("claim-vested by a stranger: %+v", ce)
	}

	// The mini-DAO, revenue sharing and the market.
	e.govern(t, p, alice, bob, carol)
	now, err := e.chain.Now(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	e.travel(now.Add(10*time.Hour + time.Minute))
	var vested struct {
		Claimed tokens `json:"claimed"`
		Balance tokens `json:"balance"`
	}
	e.ok(&vested, &creator, "model", "claim-vested", "0")
	if vested.Claimed.BaseUnits != 200_000*1_000_000 || vested.Balance.BaseUnits != 200_000*1_000_000 {
		t.Errorf("claim-vested: %+v", vested)
	}

	// Contribute and earn: a bounty funded and created by the DAO.
	e.contribute(t, p, creator, alice, bob, carol)

	// For people: the model in text.
	if out := e.text(nil, "model", "show", "0"); !strings.Contains(out, "Tiny Llama Commons (TLC)") || !strings.Contains(out, "active") || !strings.Contains(out, "(fixed: no mint authority)") {
		t.Errorf("text model show:\n%s", out)
	}

	// The list shows it.
	var list []struct {
		ID     uint64 `json:"id"`
		Symbol string `json:"symbol"`
		Stage  string `json:"stage"`
	}
	e.ok(&list, nil, "model", "list")
	if len(list) != 1 || list[0].Symbol != "TLC" || list[0].Stage != "active" {
		t.Errorf("model list: %+v", list)
	}
}

// A raise that misses its soft cap: finalised as failed, every contributor
// refunded exactly once, to the base unit; no MT to claim.
func TestFailedRaiseRefunds(t *testing.T) {
	e := newEnv(t)
	creator, alice, bob := e.wallet("creator", 5), e.wallet("alice", 5), e.wallet("bob", 5)
	_, p := e.setup(creator, alice, bob)
	spec := writeSpec(t, e.dir, "500", "1000")
	var m modelView
	e.ok(&m, &creator, "model", "launch", "--spec", spec)
	var pos position
	e.ok(&pos, &alice, "crowdfund", "contribute", "0", "120.000001")
	e.ok(&pos, &bob, "crowdfund", "contribute", "0", "79")

	e.travel(m.Crowdfund.End)
	if ce := e.fails(&alice, "crowdfund", "refund", "0"); !strings.Contains(ce.Fix, "mt model finalize 0") {
		t.Errorf("refund before finalize: %+v", ce)
	}
	e.ok(&m, &bob, "model", "finalize", "0")
	if m.Stage != "failed" || !strings.Contains(m.Status, "crowdfund refund 0") || m.vault(t, "raise (native)") != 199_000_001 {
		t.Fatalf("finalize a failed raise: %+v", m)
	}
	if ce := e.fails(&bob, "crowdfund", "close", "0"); !strings.Contains(ce.Error, "not refunded yet") || !strings.Contains(ce.Fix, "--close-record") {
		t.Errorf("close before the refund: %+v", ce)
	}
	for _, c := range []struct {
		w     wallet
		paid  uint64
		close bool
	}{{alice, 120_000_001, false}, {bob, 79_000_000, true}} {
		args := []string{"crowdfund", "refund", "0"}
		if c.close {
			args = append(args, "--close-record")
		}
		var pos position
		e.ok(&pos, &c.w, args...)
		if pos.Received == nil || pos.Received.BaseUnits != c.paid || !pos.Refunded || pos.Paid.BaseUnits != c.paid || pos.RecordClosed != c.close {
			t.Fatalf("refund (close %v): %+v", c.close, pos)
		}
		if c.close && pos.RentReturned == 0 {
			t.Errorf("refund --close-record returned no rent: %+v", pos)
		}
		if got := e.nativeBalance(c.w, p); got != 1_000_000_000 {
			t.Errorf("balance after refund = %d, want everything back (1000000000)", got)
		}
	}
	if ce := e.fails(&alice, "crowdfund", "refund", "0"); !strings.Contains(ce.Error, "already refunded") {
		t.Errorf("refund twice: %+v", ce)
	}
	// Alice closes her record afterwards: its rent comes back, once.
	var closed position
	e.ok(&closed, &alice, "crowdfund", "close", "0")
	if !closed.RecordClosed || closed.RentReturned == 0 || !closed.Refunded || closed.Paid.BaseUnits != 120_000_001 {
		t.Errorf("close: %+v", closed)
	}
	if ce := e.fails(&alice, "crowdfund", "close", "0"); !strings.Contains(ce.Error, "did not contribute") {
		t.Errorf("close twice: %+v", ce)
	}
	if ce := e.fails(&alice, "crowdfund", "claim", "0"); !strings.Contains(ce.Error, "failed") || !strings.Contains(ce.Fix, "refund") {
		t.Errorf("claim after failure: %+v", ce)
	}
	if ce := e.fails(&alice, "rewards", "deposit-revenue", "0", "1"); !strings.Contains(ce.Error, "not active") {
		t.Errorf("revenue into a failed model: %+v", ce)
	}
	e.ok(&m, nil, "model", "show", "0")
	if m.vault(t, "raise (native)") != 0 {
		t.Errorf("raise vault not empty after all refunds: %+v", m.Vaults)
	}
}

// A crowdfund restricted to an allowlist: the spec names the wallet list
// (relative to the spec file); contributors prove membership from the list.
func TestAllowlistedCrowdfund(t *testing.T) {
	e := newEnv(t)
	creator, alice, bob := e.wallet("creator", 5), e.wallet("alice", 5), e.wallet("bob", 5)
	e.setup(creator, alice, bob)
	spec := writeSpec(t, e.dir, "50", "1000")
	data, _ := os.ReadFile(spec)
	os.WriteFile(spec, []byte(strings.Replace(string(data), "liquidity_bps = 2000", "liquidity_bps = 2000\nallowlist = \"wallets.txt\"", 1)), 0o600)
	list := filepath.Join(e.dir, "wallets.txt")
	os.WriteFile(list, []byte("# allowed contributors\n"+alice.Pub()+"\n"+creator.Pub()+"\n"), 0o600)

	var m modelView
	e.ok(&m, &creator, "model", "launch", "--spec", spec)
	if ce := e.fails(&alice, "crowdfund", "contribute", "0", "5"); !strings.Contains(ce.Fix, "--allowlist") {
		t.Errorf("contribute without the list: %+v", ce)
	}
	if ce := e.fails(&bob, "crowdfund", "contribute", "0", "5", "--allowlist", list); !strings.Contains(ce.Error, "not on model 0's allowlist") {
		t.Errorf("contribute from a wallet not on the list: %+v", ce)
	}
	other := filepath.Join(e.dir, "other.txt")
	os.WriteFile(other, []byte(alice.Pub()+"\n"), 0o600)
	if ce := e.fails(&alice, "crowdfund", "contribute", "0", "5", "--allowlist", other); !strings.Contains(ce.Error, "does not match") {
		t.Errorf("contribute with another list: %+v", ce)
	}
	var pos position
	e.ok(&pos, &alice, "crowdfund", "contribute", "0", "5", "--allowlist", list)
	if pos.Bought == nil || pos.Bought.BaseUnits != 500_000_000 {
		t.Errorf("allowed contribution: %+v", pos)
	}
}
