package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"strings"
	"time"

	"github.com/gagliardetto/solana-go"

	"github.com/modelcommons/modelcommons/clients/allowlist"
	"github.com/modelcommons/modelcommons/clients/ix"
	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
	"github.com/modelcommons/modelcommons/clients/pda"
	"github.com/modelcommons/modelcommons/tests/treasury"
)

const native = treasury.NativeUnit

// runTreasury sends mt_treasury's stage-1/2 lifecycle: protocol set-up, a
// launch with the longest metadata allowed, contributions (first, repeat,
// with allowlist proofs of 11 and 20 hashes), a sold-out finalisation,
// claims and vesting, then a failed raise and its refund.
func runTreasury(ctx context.Context, b *bench) ([]row, error) {
	t := &treasuryBench{b: b}
	if err := t.run(ctx); err != nil {
		return nil, err
	}
	return t.rows, nil
}

type treasuryBench struct {
	b    *bench
	e    *treasury.Env
	rows []row
}

func (t *treasuryBench) send(ctx context.Context, name string, payer solana.PrivateKey, extra []solana.PrivateKey, names map[solana.PublicKey]string, build func() (solana.Instruction, error)) error {
	ix, err := build()
	if err != nil {
		return fmt.Errorf("build %s: %w", name, err)
	}
	r, err := t.b.measure(ctx, "mt_treasury", name, t.e.Tx(payer, extra, ix), names)
	if err != nil {
		return err
	}
	t.rows = append(t.rows, r)
	return nil
}

// modelNames names the accounts of model for the "created" column.
func modelNames(model solana.PublicKey) map[solana.PublicKey]string {
	v := pda.Vaults(model)
	return map[solana.PublicKey]string{
		model: "Model", pda.MtMint(model): "MT mint (metadata)",
		v.Raise: "raise vault", v.Treasury: "treasury vault", v.Revenue: "revenue vault", v.LiquidityNative: "liquidity-native vault",
		v.Sale: "sale vault", v.Creator: "creator vault", v.Liquidity: "liquidity vault", v.Rewards: "rewards vault",
	}
}

func (t *treasuryBench) run(ctx context.Context) error {
	e, err := treasury.NewEnv(ctx, t.b.chain, t.b.sender, solana.TokenProgramID)
	if err != nil {
		return err
	}
	t.e = e
	t.b.protocol = e
	if info, err := e.Chain.RPC.GetAccountInfo(ctx, pda.Protocol()); err == nil && info.Value != nil {
		return fmt.Errorf("the protocol already exists at %s on %s: point MC_RPC_URL at a fresh validator", pda.Protocol(), e.Chain.URL)
	}
	admin := e.Admin
	if err := t.send(ctx, "init_protocol", admin, nil,
		map[solana.PublicKey]string{pda.Protocol(): "Protocol", pda.FeeVault(): "fee vault"},
		func() (solana.Instruction, error) { return e.InitProtocolIx(treasury.ProtocolArgs()) }); err != nil {
		return err
	}
	paused := false
	if err := t.send(ctx, "update_protocol (one setting)", admin, nil, nil, func() (solana.Instruction, error) {
		return e.UpdateProtocolIx(admin.PublicKey(), mt.UpdateProtocolArgs{Paused: &paused})
	}); err != nil {
		return err
	}
	fee, bps, swap, share, period := uint64(5*native), uint16(250), uint16(30), uint16(5_000), int64(1)
	newAdmin := admin.PublicKey()
	if err := t.send(ctx, "update_protocol (every setting)", admin, nil, nil, func() (solana.Instruction, error) {
		return e.UpdateProtocolIx(admin.PublicKey(), mt.UpdateProtocolArgs{SetupFee: &fee, ProtocolFeeBps: &bps, SwapFeeBps: &swap,
			SwapProtocolShareBps: &share, MinPeriodSecs: &period, Paused: &paused, NewAdmin: &newAdmin})
	}); err != nil {
		return err
	}
	// An admin handover, both steps, then back (later steps sign as e.Admin).
	next, err := e.Wallet(ctx, 0)
	if err != nil {
		return err
	}
	nominate := func(from solana.PrivateKey, to solana.PublicKey) func() (solana.Instruction, error) {
		return func() (solana.Instruction, error) {
			return e.UpdateProtocolIx(from.PublicKey(), mt.UpdateProtocolArgs{NewAdmin: &to})
		}
	}
	accept := func(by solana.PrivateKey) func() (solana.Instruction, error) {
		return func() (solana.Instruction, error) {
			return ix.AcceptAdmin(by.PublicKey())
		}
	}
	if err := t.send(ctx, "update_protocol (nominate an admin)", admin, nil, nil, nominate(admin, next.PublicKey())); err != nil {
		return err
	}
	if err := t.send(ctx, "accept_admin", next, nil, nil, accept(next)); err != nil {
		return err
	}
	if err := t.sendQuiet(ctx, next, nominate(next, admin.PublicKey())); err != nil {
		return err
	}
	if err := t.sendQuiet(ctx, admin, accept(admin)); err != nil {
		return err
	}

	// The main model: sells out, so it finalises without waiting for a deadline.
	creator, err := e.Wallet(ctx, 100*native)
	if err != nil {
		return err
	}
	now, err := e.Chain.Now(ctx)
	if err != nil {
		return err
	}
	terms := treasury.DefaultTerms(now, time.Hour)
	terms.Crowdfund.PerWalletCap = terms.Crowdfund.HardCap
	terms.Vesting = mt.VestingTerms{CliffSecs: 0, DurationSecs: 2}
	model, err := t.launch(ctx, creator, terms)
	if err != nil {
		return err
	}

	a, err := e.Wallet(ctx, 100_000*native)
	if err != nil {
		return err
	}
	bWallet, err := e.Wallet(ctx, 100_000*native)
	if err != nil {
		return err
	}
	contribution := func(w solana.PrivateKey) map[solana.PublicKey]string {
		return map[solana.PublicKey]string{pda.Contribution(model, w.PublicKey()): "Contribution"}
	}
	if err := t.send(ctx, "contribute (first: creates the Contribution)", a, nil, contribution(a), func() (solana.Instruction, error) {
		return e.ContributeIx(a.PublicKey(), model, mt.ContributeArgs{Amount: 10_000 * native})
	}); err != nil {
		return err
	}
	if err := t.send(ctx, "contribute (again)", a, nil, contribution(a), func() (solana.Instruction, error) {
		return e.ContributeIx(a.PublicKey(), model, mt.ContributeArgs{Amount: 10_000 * native})
	}); err != nil {
		return err
	}
	// The rest of the hard cap, with a partial fill: the raise sells out.
	if err := t.sendQuiet(ctx, bWallet, func() (solana.Instruction, error) {
		return e.ContributeIx(bWallet.PublicKey(), model, mt.ContributeArgs{Amount: 100_000 * native})
	}); err != nil {
		return fmt.Errorf("sell out: %w", err)
	}
	if err := t.send(ctx, "finalize_raise (success: pays out, mints 4 allocations, fixes supply)", admin, nil, nil, func() (solana.Instruction, error) {
		return e.FinalizeRaiseIx(model)
	}); err != nil {
		return err
	}
	if _, err := e.Send(ctx, a, nil, treasury.CreateMtATA(a.PublicKey(), a.PublicKey(), model)); err != nil {
		return err
	}
	if err := t.send(ctx, "claim_mt", a, nil, nil, func() (solana.Instruction, error) {
		return e.ClaimMtIx(a.PublicKey(), model, treasury.MtATA(a.PublicKey(), model))
	}); err != nil {
		return err
	}
	if err := t.send(ctx, "close_contribution", a, nil, nil, func() (solana.Instruction, error) {
		return ix.CloseContribution(a.PublicKey(), model)
	}); err != nil {
		return err
	}
	m, err := e.Model(ctx, model)
	if err != nil {
		return err
	}
	if err := e.WaitUntil(ctx, time.Unix(m.Vesting.Start+m.Vesting.DurationSecs, 0)); err != nil {
		return err
	}
	if _, err := e.Send(ctx, creator, nil, treasury.CreateMtATA(creator.PublicKey(), creator.PublicKey(), model)); err != nil {
		return err
	}
	if err := t.send(ctx, "claim_vested", creator, nil, nil, func() (solana.Instruction, error) {
		return e.ClaimVestedIx(creator.PublicKey(), model, treasury.MtATA(creator.PublicKey(), model))
	}); err != nil {
		return err
	}

	// Allowlisted models: the proof is the only part of contribute that grows.
	for _, size := range []int{1_024, 1_025, allowlist.MaxWallets} {
		if err := t.allowlisted(ctx, size); err != nil {
			return err
		}
	}

	// A failed raise and its refund.
	now, err = e.Chain.Now(ctx)
	if err != nil {
		return err
	}
	failing := treasury.DefaultTerms(now, 5*time.Second)
	failedModel, err := t.launchQuiet(ctx, creator, failing)
	if err != nil {
		return err
	}
	if err := t.sendQuiet(ctx, a, func() (solana.Instruction, error) {
		return e.ContributeIx(a.PublicKey(), failedModel, mt.ContributeArgs{Amount: 1_000 * native})
	}); err != nil {
		return err
	}
	if err := e.WaitUntil(ctx, time.Unix(failing.Crowdfund.End, 0)); err != nil {
		return err
	}
	if err := t.send(ctx, "finalize_raise (failure)", admin, nil, nil, func() (solana.Instruction, error) {
		return e.FinalizeRaiseIx(failedModel)
	}); err != nil {
		return err
	}
	return t.send(ctx, "refund", a, nil, nil, func() (solana.Instruction, error) {
		return e.RefundIx(a.PublicKey(), failedModel, e.NativeATA(a.PublicKey()))
	})
}

// launch measures the three launch steps; the MT metadata has the longest
// name, symbol and URI the program accepts, the worst case for size and rent.
func (t *treasuryBench) launch(ctx context.Context, creator solana.PrivateKey, terms mt.LaunchModelArgs) (solana.PublicKey, error) {
	e := t.e
	p, err := e.Protocol(ctx)
	if err != nil {
		return solana.PublicKey{}, err
	}
	model := pda.Model(p.ModelCount)
	names := modelNames(model)
	if err := t.send(ctx, "launch_model (1/3: terms, set-up fee)", creator, nil, names, func() (solana.Instruction, error) {
		return e.LaunchModelIx(creator.PublicKey(), p.ModelCount, terms)
	}); err != nil {
		return solana.PublicKey{}, err
	}
	longest := mt.CreateModelTokenArgs{Name: strings.Repeat("N", 32), Symbol: strings.Repeat("S", 10), Uri: "https://" + strings.Repeat("u", 192)}
	if err := t.send(ctx, "create_model_token (2/3: MT mint, longest metadata)", creator, nil, names, func() (solana.Instruction, error) {
		return e.CreateModelTokenIx(creator.PublicKey(), model, longest)
	}); err != nil {
		return solana.PublicKey{}, err
	}
	if err := t.send(ctx, "open_model_vaults (3/3: 8 vaults)", creator, nil, names, func() (solana.Instruction, error) {
		return e.OpenModelVaultsIx(creator.PublicKey(), model)
	}); err != nil {
		return solana.PublicKey{}, err
	}
	return model, nil
}

// launchQuiet launches without measuring.
func (t *treasuryBench) launchQuiet(ctx context.Context, creator solana.PrivateKey, terms mt.LaunchModelArgs) (solana.PublicKey, error) {
	return t.e.Launch(ctx, creator, terms)
}

// allowlisted launches a model whose allowlist holds size wallets (one of
// them a real contributor) and measures a contribution with its proof.
func (t *treasuryBench) allowlisted(ctx context.Context, size int) error {
	e := t.e
	w, err := e.Wallet(ctx, 100*native)
	if err != nil {
		return err
	}
	wallets := make([]solana.PublicKey, size)
	wallets[size/2] = w.PublicKey()
	for i := range wallets {
		if i != size/2 {
			if _, err := rand.Read(wallets[i][:]); err != nil {
				return err
			}
		}
	}
	tree, err := allowlist.New(wallets)
	if err != nil {
		return err
	}
	proof, err := tree.ProofBytes(w.PublicKey())
	if err != nil {
		return err
	}
	creator, err := e.Wallet(ctx, 100*native)
	if err != nil {
		return err
	}
	now, err := e.Chain.Now(ctx)
	if err != nil {
		return err
	}
	terms := treasury.DefaultTerms(now, time.Hour)
	root := [32]uint8(tree.Root())
	terms.Crowdfund.AllowlistRoot = &root
	model, err := t.launchQuiet(ctx, creator, terms)
	if err != nil {
		return err
	}
	name := fmt.Sprintf("contribute (allowlist of %d, %d-hash proof)", tree.Len(), len(proof))
	return t.send(ctx, name, w, nil, map[solana.PublicKey]string{pda.Contribution(model, w.PublicKey()): "Contribution"}, func() (solana.Instruction, error) {
		return e.ContributeIx(w.PublicKey(), model, mt.ContributeArgs{Amount: native, Proof: proof})
	})
}

// sendQuiet sends a set-up instruction without measuring it.
func (t *treasuryBench) sendQuiet(ctx context.Context, payer solana.PrivateKey, build func() (solana.Instruction, error)) error {
	ix, err := build()
	if err != nil {
		return err
	}
	_, err = t.e.Send(ctx, payer, nil, ix)
	return err
}
