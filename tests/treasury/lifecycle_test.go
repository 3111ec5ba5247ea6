package treasury_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gagliardetto/solana-go"

	"github.com/modelcommons/modelcommons/clients/allowlist"
	"github.com/modelcommons/modelcommons/clients/events"
	meter "github.com/modelcommons/modelcommons/clients/inference_meter"
	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
	"github.com/modelcommons/modelcommons/clients/pda"
	"github.com/modelcommons/modelcommons/clients/tokens"
	"github.com/modelcommons/modelcommons/clients/txsend"
	"github.com/modelcommons/modelcommons/localnet/golocal"
	"github.com/modelcommons/modelcommons/tests/treasury"
)

const (
	native = treasury.NativeUnit
	mtUnit = treasury.MtUnit
)

func setup(t *testing.T) (context.Context, *treasury.Env) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	c := golocal.Start(t)
	s := txsend.New(txsend.Config{
		RPC:          c.RPC,
		Errors:       txsend.Tables{mt.ProgramID: mt.Errors, meter.ProgramID: meter.Errors},
		PollInterval: 50 * time.Millisecond,
	})
	e, err := treasury.Setup(ctx, c, s, solana.TokenProgramID)
	if err != nil {
		t.Fatal(err)
	}
	return ctx, e
}

// must(t)(e.XIx(...)) unwraps an instruction builder's result.
func must(t *testing.T) func(solana.Instruction, error) solana.Instruction {
	return func(ix solana.Instruction, err error) solana.Instruction {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return ix
	}
}

func wallet(ctx context.Context, t *testing.T, e *treasury.Env, nativeAmount uint64) solana.PrivateKey {
	t.Helper()
	w, err := e.Wallet(ctx, nativeAmount)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func balance(ctx context.Context, t *testing.T, e *treasury.Env, account solana.PublicKey) uint64 {
	t.Helper()
	b, err := tokens.Balance(ctx, e.Chain.RPC, account)
	if err != nil {
		t.Fatalf("balance of %s: %v", account, err)
	}
	return b
}

func wantBalance(ctx context.Context, t *testing.T, e *treasury.Env, name string, account solana.PublicKey, want uint64) {
	t.Helper()
	if got := balance(ctx, t, e, account); got != want {
		t.Errorf("%s: balance %d, want %d", name, got, want)
	}
}

func launch(ctx context.Context, t *testing.T, e *treasury.Env, args mt.LaunchModelArgs) (solana.PrivateKey, solana.PublicKey) {
	t.Helper()
	creator := wallet(ctx, t, e, 10*native)
	model, err := e.Launch(ctx, creator, args)
	if err != nil {
		t.Fatal(err)
	}
	return creator, model
}

func contribute(ctx context.Context, t *testing.T, e *treasury.Env, who solana.PrivateKey, model solana.PublicKey, amount uint64) *mt.Contributed {
	t.Helper()
	ix := must(t)(e.ContributeIx(who.PublicKey(), model, mt.ContributeArgs{Amount: amount}))
	sig, err := e.Send(ctx, who, nil, ix)
	if err != nil {
		t.Fatalf("contribute %d: %v", amount, err)
	}
	payloads, err := events.Fetch(ctx, e.Chain.RPC, sig, mt.ProgramID)
	if err != nil || len(payloads) != 1 {
		t.Fatalf("contribute events: %v (%d)", err, len(payloads))
	}
	ev, err := mt.ParseEvent_Contributed(payloads[0])
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

func finalize(ctx context.Context, t *testing.T, e *treasury.Env, payer solana.PrivateKey, model solana.PublicKey) *mt.RaiseFinalized {
	t.Helper()
	sig, err := e.Send(ctx, payer, nil, must(t)(e.FinalizeRaiseIx(model)))
	if err != nil {
		t.Fatalf("finalize_raise: %v", err)
	}
	payloads, err := events.Fetch(ctx, e.Chain.RPC, sig, mt.ProgramID)
	if err != nil || len(payloads) != 1 {
		t.Fatalf("finalize events: %v (%d)", err, len(payloads))
	}
	ev, err := mt.ParseEvent_RaiseFinalized(payloads[0])
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

// The happy path over JSON-RPC: launch, contribute, time-travel past the
// deadline, finalise, claim MT and vested MT; balances to the base unit.
func TestSuccessfulRaiseOverJSONRPC(t *testing.T) {
	ctx, e := setup(t)
	now, err := e.Chain.Now(ctx)
	if err != nil {
		t.Fatal(err)
	}
	creator, model := launch(ctx, t, e, treasury.DefaultTerms(now, time.Hour))
	wantBalance(ctx, t, e, "fee vault after launch", pda.FeeVault(), 5*native)
	wantBalance(ctx, t, e, "creator after launch", e.NativeATA(creator.PublicKey()), 5*native)
	m, err := e.Model(ctx, model)
	if err != nil {
		t.Fatal(err)
	}
	if m.Stage != mt.Stage_Funding || !m.MtMint.Equals(pda.MtMint(model)) {
		t.Fatalf("model after launch: stage %v, mint %s", m.Stage, m.MtMint)
	}
	mint, err := tokens.GetMint(ctx, e.Chain.RPC, pda.MtMint(model))
	if err != nil {
		t.Fatal(err)
	}
	if !mint.TokenProgram.Equals(solana.Token2022ProgramID) || mint.Decimals != 6 || !mint.HasMintAuthority || mint.Supply != 0 {
		t.Fatalf("MT mint before the raise: %+v", mint)
	}

	a := wallet(ctx, t, e, 60_000*native)
	b := wallet(ctx, t, e, 60_000*native)
	contribute(ctx, t, e, a, model, 40_000*native)
	ev := contribute(ctx, t, e, b, model, 30_000*native+1) // 1 base unit too little for one more MT base unit
	if ev.Paid != 30_000*native || ev.Mt != 15_000*mtUnit || ev.Raised != 70_000*native || ev.Contributors != 2 || ev.SoldOut {
		t.Fatalf("contributed event: %+v", ev)
	}
	wantBalance(ctx, t, e, "b paid only what it bought", e.NativeATA(b.PublicKey()), 30_000*native)

	// Not due yet: the window is open and the hard cap not reached.
	if _, err := e.Send(ctx, a, nil, must(t)(e.FinalizeRaiseIx(model))); !errors.Is(err, mt.ErrRaiseNotOver) {
		t.Fatalf("early finalize: got %v, want %v", err, mt.ErrRaiseNotOver)
	}
	if err := e.WaitUntil(ctx, time.Unix(m.Crowdfund.End, 0)); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Send(ctx, a, nil, must(t)(e.ContributeIx(a.PublicKey(), model, mt.ContributeArgs{Amount: native}))); !errors.Is(err, mt.ErrRaiseEnded) {
		t.Fatalf("contribution at the deadline: got %v, want %v", err, mt.ErrRaiseEnded)
	}

	anyone, err := e.Chain.Fund(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	fin := finalize(ctx, t, e, anyone, model)
	// 2.5% of 70 000 = 1 750; 20% of 68 250 = 13 650; 54 600 to the treasury.
	if fin.Stage != mt.Stage_Active || fin.ProtocolFee != 1_750*native || fin.ToLiquidity != 13_650*native || fin.ToTreasury != 54_600*native {
		t.Fatalf("finalized event: %+v", fin)
	}
	if fin.MtSale != 35_000*mtUnit || fin.MtRewards != 25_000*mtUnit || fin.MtSupply != 100_000*mtUnit {
		t.Fatalf("finalized MT: %+v", fin)
	}
	v := pda.Vaults(model)
	wantBalance(ctx, t, e, "raise vault", v.Raise, 0)
	wantBalance(ctx, t, e, "fee vault", pda.FeeVault(), 5*native+1_750*native)
	wantBalance(ctx, t, e, "liquidity-native vault", v.LiquidityNative, 13_650*native)
	wantBalance(ctx, t, e, "treasury vault", v.Treasury, 54_600*native)
	wantBalance(ctx, t, e, "sale vault", v.Sale, 35_000*mtUnit)
	wantBalance(ctx, t, e, "creator vault", v.Creator, 20_000*mtUnit)
	wantBalance(ctx, t, e, "liquidity vault", v.Liquidity, 20_000*mtUnit)
	wantBalance(ctx, t, e, "rewards vault", v.Rewards, 25_000*mtUnit)
	if mint, err = tokens.GetMint(ctx, e.Chain.RPC, pda.MtMint(model)); err != nil || mint.HasMintAuthority || mint.Supply != 100_000*mtUnit {
		t.Fatalf("MT mint after the raise: %+v %v", mint, err)
	}

	for _, c := range []struct {
		who solana.PrivateKey
		mt  uint64
	}{{a, 20_000 * mtUnit}, {b, 15_000 * mtUnit}} {
		dest := treasury.MtATA(c.who.PublicKey(), model)
		claim := must(t)(e.ClaimMtIx(c.who.PublicKey(), model, dest))
		if _, err := e.Send(ctx, c.who, nil, treasury.CreateMtATA(c.who.PublicKey(), c.who.PublicKey(), model), claim); err != nil {
			t.Fatalf("claim_mt: %v", err)
		}
		wantBalance(ctx, t, e, "claimed MT", dest, c.mt)
		if _, err := e.Send(ctx, c.who, nil, claim); !errors.Is(err, mt.ErrAlreadyClaimed) {
			t.Fatalf("second claim: got %v, want %v", err, mt.ErrAlreadyClaimed)
		}
	}
	wantBalance(ctx, t, e, "sale vault after claims", v.Sale, 0)
	if _, err := e.Send(ctx, a, nil, must(t)(e.RefundIx(a.PublicKey(), model, e.NativeATA(a.PublicKey())))); !errors.Is(err, mt.ErrRaiseNotFailed) {
		t.Fatalf("refund on success: got %v, want %v", err, mt.ErrRaiseNotFailed)
	}

	// Vesting: 100 s cliff, 1 000 s linear, from finalisation.
	m, err = e.Model(ctx, model)
	if err != nil {
		t.Fatal(err)
	}
	dest := treasury.MtATA(creator.PublicKey(), model)
	vest := must(t)(e.ClaimVestedIx(creator.PublicKey(), model, dest))
	if _, err := e.Send(ctx, creator, nil, treasury.CreateMtATA(creator.PublicKey(), creator.PublicKey(), model), vest); !errors.Is(err, mt.ErrNothingVested) {
		t.Fatalf("vesting claim before the cliff: got %v, want %v", err, mt.ErrNothingVested)
	}
	if err := e.WaitUntil(ctx, time.Unix(m.Vesting.Start+250, 0)); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Send(ctx, creator, nil, treasury.CreateMtATA(creator.PublicKey(), creator.PublicKey(), model), vest); err != nil {
		t.Fatalf("claim_vested: %v", err)
	}
	// The chain's clock may have moved a second past the target; recompute what vested.
	got := balance(ctx, t, e, dest)
	if got < 5_000*mtUnit || got > 5_200*mtUnit || got%(20*mtUnit) != 0 {
		t.Fatalf("vested claim %d, want 20 MT per second elapsed, 250 s or a little more", got)
	}
	if err := e.WaitUntil(ctx, time.Unix(m.Vesting.Start+1_000, 0)); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Send(ctx, creator, nil, vest); err != nil {
		t.Fatalf("claim_vested: %v", err)
	}
	wantBalance(ctx, t, e, "creator MT after full vesting", dest, 20_000*mtUnit)
	wantBalance(ctx, t, e, "creator vault", v.Creator, 0)
}

// The failed-raise path over JSON-RPC: below the soft cap at the deadline,
// finalise to Failed, every contributor refunded exactly, once.
func TestFailedRaiseRefundsOverJSONRPC(t *testing.T) {
	ctx, e := setup(t)
	now, err := e.Chain.Now(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, model := launch(ctx, t, e, treasury.DefaultTerms(now, time.Hour))
	a := wallet(ctx, t, e, 60_000*native)
	b := wallet(ctx, t, e, 60_000*native)
	contribute(ctx, t, e, a, model, 10_000*native)
	contribute(ctx, t, e, b, model, 3*native+3) // 1.5000015 MT rounded down, costs 3.000002
	m, err := e.Model(ctx, model)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.WaitUntil(ctx, time.Unix(m.Crowdfund.End, 0)); err != nil {
		t.Fatal(err)
	}
	fin := finalize(ctx, t, e, a, model)
	if fin.Stage != mt.Stage_Failed || fin.Raised != 10_003*native+2 || fin.MtSupply != 0 || fin.ProtocolFee != 0 {
		t.Fatalf("finalized event: %+v", fin)
	}
	if _, err := e.Send(ctx, a, nil, must(t)(e.FinalizeRaiseIx(model))); !errors.Is(err, mt.ErrNotFunding) {
		t.Fatalf("second finalize: got %v, want %v", err, mt.ErrNotFunding)
	}
	mint, err := tokens.GetMint(ctx, e.Chain.RPC, pda.MtMint(model))
	if err != nil || mint.HasMintAuthority || mint.Supply != 0 {
		t.Fatalf("MT mint after a failed raise: %+v %v", mint, err)
	}
	claim := must(t)(e.ClaimMtIx(a.PublicKey(), model, treasury.MtATA(a.PublicKey(), model)))
	if _, err := e.Send(ctx, a, nil, treasury.CreateMtATA(a.PublicKey(), a.PublicKey(), model), claim); !errors.Is(err, mt.ErrModelNotActive) {
		t.Fatalf("claim on failure: got %v, want %v", err, mt.ErrModelNotActive)
	}
	for _, w := range []solana.PrivateKey{a, b} {
		refund := must(t)(e.RefundIx(w.PublicKey(), model, e.NativeATA(w.PublicKey())))
		if _, err := e.Send(ctx, w, nil, refund); err != nil {
			t.Fatalf("refund: %v", err)
		}
		wantBalance(ctx, t, e, "refunded wallet", e.NativeATA(w.PublicKey()), 60_000*native)
		if _, err := e.Send(ctx, w, nil, refund); !errors.Is(err, mt.ErrAlreadyRefunded) {
			t.Fatalf("second refund: got %v, want %v", err, mt.ErrAlreadyRefunded)
		}
	}
	wantBalance(ctx, t, e, "raise vault", pda.RaiseVault(model), 0)
	wantBalance(ctx, t, e, "fee vault (set-up fee only)", pda.FeeVault(), 5*native)
}

// An allowlisted crowdfund: the Go tree's root and proofs are what the program verifies.
func TestAllowlistBuiltInGoIsAcceptedOnChain(t *testing.T) {
	ctx, e := setup(t)
	now, err := e.Chain.Now(ctx)
	if err != nil {
		t.Fatal(err)
	}
	members := []solana.PrivateKey{wallet(ctx, t, e, 10*native), wallet(ctx, t, e, 10*native), wallet(ctx, t, e, 10*native)}
	var keys []solana.PublicKey
	for _, m := range members {
		keys = append(keys, m.PublicKey())
	}
	tree, err := allowlist.New(keys)
	if err != nil {
		t.Fatal(err)
	}
	args := treasury.DefaultTerms(now, time.Hour)
	root := [32]uint8(tree.Root())
	args.Crowdfund.AllowlistRoot = &root
	_, model := launch(ctx, t, e, args)
	for _, m := range members {
		proof, err := tree.ProofBytes(m.PublicKey())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.Send(ctx, m, nil, must(t)(e.ContributeIx(m.PublicKey(), model, mt.ContributeArgs{Amount: native, Proof: proof}))); err != nil {
			t.Fatalf("allowlisted contribution: %v", err)
		}
	}
	outsider := wallet(ctx, t, e, 10*native)
	proof, _ := tree.ProofBytes(members[0].PublicKey())
	_, err = e.Send(ctx, outsider, nil, must(t)(e.ContributeIx(outsider.PublicKey(), model, mt.ContributeArgs{Amount: native, Proof: proof})))
	if !errors.Is(err, mt.ErrNotOnAllowlist) {
		t.Fatalf("outsider: got %v, want %v", err, mt.ErrNotOnAllowlist)
	}
}
