package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gagliardetto/solana-go"

	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
	"github.com/modelcommons/modelcommons/clients/pda"
	"github.com/modelcommons/modelcommons/clients/rules"
	"github.com/modelcommons/modelcommons/tests/dao"
	"github.com/modelcommons/modelcommons/tests/treasury"
)

// runDao measures mt_treasury's stage 3 on the protocol the mt_treasury
// suite created: MT deposits (first one creating the voter record and the
// deposit vault), rewards, every kind of proposal (the longest URI the
// program accepts for the signal), votes, finalisation, execution of each
// action, the market's opening and both swap directions. Voting period,
// hold-up and warm-up are 10 s, so a real cluster only waits that long.
func runDao(ctx context.Context, b *bench) ([]row, error) {
	if b.protocol == nil {
		return nil, errors.New("the mt_treasury suite must run first: it creates the protocol")
	}
	d := &daoBench{b: b, e: dao.Env{Env: b.protocol}}
	if err := d.run(ctx); err != nil {
		return nil, err
	}
	return d.rows, nil
}

type daoBench struct {
	b    *bench
	e    dao.Env
	rows []row
}

func (d *daoBench) send(ctx context.Context, name string, payer solana.PrivateKey, names map[solana.PublicKey]string, build func() (solana.Instruction, error)) error {
	ix, err := build()
	if err != nil {
		return fmt.Errorf("build %s: %w", name, err)
	}
	r, err := d.b.measure(ctx, "mt_treasury", name, d.e.Tx(payer, nil, ix), names)
	if err != nil {
		return err
	}
	d.rows = append(d.rows, r)
	return nil
}

func (d *daoBench) quiet(ctx context.Context, payer solana.PrivateKey, ixs ...solana.Instruction) error {
	_, err := d.e.Send(ctx, payer, nil, ixs...)
	return err
}

func (d *daoBench) waitUntil(ctx context.Context, unix int64) error {
	return d.e.WaitUntil(ctx, time.Unix(unix, 0))
}

func (d *daoBench) run(ctx context.Context) error {
	e := d.e
	now, err := e.Chain.Now(ctx)
	if err != nil {
		return err
	}
	a, err := e.LaunchActive(ctx, dao.Terms(now, 10*time.Second))
	if err != nil {
		return err
	}
	model := a.Model
	alice, bob := a.Holders[0], a.Holders[1]
	voterNames := func(owners ...solana.PrivateKey) map[solana.PublicKey]string {
		n := map[solana.PublicKey]string{pda.DepositVault(model): "deposit vault"}
		for _, o := range owners {
			n[pda.Voter(model, o.PublicKey())] = "Voter"
		}
		return n
	}

	// ---- deposits and revenue ----
	if err := d.send(ctx, "deposit_mt (first of the model: creates the Voter and the deposit vault)", alice, voterNames(alice), func() (solana.Instruction, error) {
		return e.DepositMtIx(alice.PublicKey(), model, 20_000*treasury.MtUnit)
	}); err != nil {
		return err
	}
	if err := d.send(ctx, "deposit_mt (first of a wallet: creates its Voter)", bob, voterNames(bob), func() (solana.Instruction, error) {
		return e.DepositMtIx(bob.PublicKey(), model, 10_000*treasury.MtUnit)
	}); err != nil {
		return err
	}
	if err := d.send(ctx, "deposit_mt (again)", alice, voterNames(alice), func() (solana.Instruction, error) {
		return e.DepositMtIx(alice.PublicKey(), model, 10_000*treasury.MtUnit)
	}); err != nil {
		return err
	}
	if err := d.send(ctx, "withdraw_mt", bob, nil, func() (solana.Instruction, error) {
		return e.WithdrawMtIx(bob.PublicKey(), model, treasury.MtATA(bob.PublicKey(), model), treasury.MtUnit)
	}); err != nil {
		return err
	}
	v, err := e.Voter(ctx, model, alice.PublicKey())
	if err != nil {
		return err
	}
	if err := d.waitUntil(ctx, v.WarmAt); err != nil {
		return err
	}
	if err := d.send(ctx, "checkpoint_voter (starts warmed-up MT earning)", e.Admin, nil, func() (solana.Instruction, error) {
		return e.CheckpointVoterIx(model, alice.PublicKey())
	}); err != nil {
		return err
	}
	if err := d.quiet(ctx, e.Admin, must(e.CheckpointVoterIx(model, bob.PublicKey()))); err != nil {
		return err
	}
	sponsor, err := e.Wallet(ctx, 10_000*native)
	if err != nil {
		return err
	}
	if err := d.send(ctx, "deposit_revenue (shared with earning depositors)", sponsor, nil, func() (solana.Instruction, error) {
		return e.DepositRevenueIx(sponsor.PublicKey(), model, 1_000*native)
	}); err != nil {
		return err
	}
	if err := d.send(ctx, "claim_rewards", alice, nil, func() (solana.Instruction, error) {
		return e.ClaimRewardsIx(alice.PublicKey(), model, e.NativeATA(alice.PublicKey()))
	}); err != nil {
		return err
	}

	// ---- proposals ----
	grantee, err := e.Wallet(ctx, 0)
	if err != nil {
		return err
	}
	if err := d.quiet(ctx, grantee, treasury.CreateMtATA(grantee.PublicKey(), grantee.PublicKey(), model)); err != nil {
		return err
	}
	doc := [32]uint8{0xd0, 0xc}
	proposals := []struct {
		name string
		args mt.CreateProposalArgs
	}{
		{"treasury transfer, native; 60-byte URI", mt.CreateProposalArgs{
			Action:      &mt.ProposalAction_TransferNative{Destination: e.NativeATA(grantee.PublicKey()), Amount: 100 * native},
			ContentHash: doc, Uri: "https://example.org/proposals/" + strings.Repeat("g", 30)}},
		{"treasury transfer, MT; no document", mt.CreateProposalArgs{
			Action: &mt.ProposalAction_TransferMt{Destination: treasury.MtATA(grantee.PublicKey(), model), Amount: 100 * treasury.MtUnit}}},
		{"price change; no document", mt.CreateProposalArgs{Action: &mt.ProposalAction_SetPrice{InputPer1k: 20, OutputPer1k: 60}}},
		{"governance rules; no document", mt.CreateProposalArgs{Action: &mt.ProposalAction_SetGovernance{Rules: mt.GovernanceRules{
			QuorumBps: 1_500, ThresholdBps: 6_000, VotingPeriodSecs: 10, HoldUpSecs: 10, MinProposeMt: 500 * treasury.MtUnit}}}},
		{"signal, longest URI (200 bytes)", mt.CreateProposalArgs{Action: &mt.ProposalAction_Signal{}, ContentHash: doc, Uri: "https://" + strings.Repeat("u", 192)}},
	}
	p0, err := e.Model(ctx, model)
	if err != nil {
		return err
	}
	first := p0.ProposalCount
	for i, p := range proposals {
		index := first + uint64(i)
		args := p.args
		if err := d.send(ctx, "create_proposal ("+p.name+")", alice, map[solana.PublicKey]string{pda.Proposal(model, index): "Proposal"}, func() (solana.Instruction, error) {
			return e.CreateProposalIx(alice.PublicKey(), model, index, args)
		}); err != nil {
			return err
		}
	}
	for i := range proposals {
		index := first + uint64(i)
		name := "cast_vote (creates the VoteRecord)"
		if i > 0 {
			if err := d.quiet(ctx, alice, must(e.CastVoteIx(alice.PublicKey(), model, index, mt.VoteChoice_Yes))); err != nil {
				return err
			}
			continue
		}
		voter := pda.Voter(model, alice.PublicKey())
		if err := d.send(ctx, name, alice, map[solana.PublicKey]string{pda.Vote(pda.Proposal(model, index), voter): "VoteRecord"}, func() (solana.Instruction, error) {
			return e.CastVoteIx(alice.PublicKey(), model, index, mt.VoteChoice_Yes)
		}); err != nil {
			return err
		}
	}
	// A proposal withdrawn before any vote.
	cancelled := first + uint64(len(proposals))
	if err := d.quiet(ctx, alice, must(e.CreateProposalIx(alice.PublicKey(), model, cancelled, mt.CreateProposalArgs{Action: &mt.ProposalAction_Signal{}, ContentHash: doc, Uri: "https://example.org/x"}))); err != nil {
		return err
	}
	if err := d.send(ctx, "cancel_proposal", alice, nil, func() (solana.Instruction, error) {
		return e.CancelProposalIx(alice.PublicKey(), model, cancelled)
	}); err != nil {
		return err
	}
	last, err := e.Proposal(ctx, model, first+uint64(len(proposals))-1)
	if err != nil {
		return err
	}
	if err := d.waitUntil(ctx, last.VotingEnds); err != nil {
		return err
	}
	for i := range proposals {
		index := first + uint64(i)
		if i == 0 {
			if err := d.send(ctx, "finalize_proposal", bob, nil, func() (solana.Instruction, error) { return e.FinalizeProposalIx(model, index) }); err != nil {
				return err
			}
			continue
		}
		if err := d.quiet(ctx, bob, must(e.FinalizeProposalIx(model, index))); err != nil {
			return err
		}
	}
	lastPassed, err := e.Proposal(ctx, model, first+uint64(len(proposals))-1)
	if err != nil {
		return err
	}
	if err := d.waitUntil(ctx, lastPassed.ExecuteAfter); err != nil {
		return err
	}
	for i, p := range proposals {
		index, action := first+uint64(i), p.args.Action
		kind := strings.SplitN(p.name, ";", 2)[0]
		if err := d.send(ctx, "execute_proposal ("+kind+")", bob, nil, func() (solana.Instruction, error) {
			return e.ExecuteProposalIx(model, index, action)
		}); err != nil {
			return err
		}
	}

	// ---- rent back ----
	firstVote := pda.Vote(pda.Proposal(model, first), pda.Voter(model, alice.PublicKey()))
	if err := d.send(ctx, fmt.Sprintf("close_vote_record (returns %d lamports)", d.lamports(ctx, firstVote)), alice, nil, func() (solana.Instruction, error) {
		return e.CloseVoteRecordIx(alice.PublicKey(), model, first)
	}); err != nil {
		return err
	}
	bv, err := e.Voter(ctx, model, bob.PublicKey())
	if err != nil {
		return err
	}
	if err := d.quiet(ctx, bob,
		must(e.ClaimRewardsIx(bob.PublicKey(), model, e.NativeATA(bob.PublicKey()))),
		must(e.WithdrawMtIx(bob.PublicKey(), model, treasury.MtATA(bob.PublicKey(), model), bv.Deposited))); err != nil {
		return err
	}
	if err := d.send(ctx, fmt.Sprintf("close_voter (returns %d lamports)", d.lamports(ctx, pda.Voter(model, bob.PublicKey()))), bob, nil, func() (solana.Instruction, error) {
		return e.CloseVoterIx(bob.PublicKey(), model)
	}); err != nil {
		return err
	}

	// ---- market ----
	if err := d.send(ctx, "open_market", e.Admin, nil, func() (solana.Instruction, error) { return e.OpenMarketIx(model) }); err != nil {
		return err
	}
	trader, err := e.Wallet(ctx, 1_000*native)
	if err != nil {
		return err
	}
	if err := d.quiet(ctx, trader, treasury.CreateMtATA(trader.PublicKey(), trader.PublicKey(), model)); err != nil {
		return err
	}
	for _, s := range []struct {
		side   rules.SwapSide
		amount uint64
	}{{rules.SwapBuy, 100 * native}, {rules.SwapSell, 50 * treasury.MtUnit}} {
		m, err := e.Model(ctx, model)
		if err != nil {
			return err
		}
		p, err := e.Protocol(ctx)
		if err != nil {
			return err
		}
		pool, err := rules.FromAccounts(m, p)
		if err != nil {
			return err
		}
		q, err := rules.QuoteSwap(pool, s.side, s.amount)
		if err != nil {
			return err
		}
		args := mt.SwapArgs{Side: s.side.Program(), AmountIn: s.amount, MinOut: rules.MinOut(q.AmountOut, 50)}
		if err := d.send(ctx, "swap ("+s.side.String()+")", trader, nil, func() (solana.Instruction, error) {
			return e.SwapIx(trader.PublicKey(), model, args)
		}); err != nil {
			return err
		}
	}
	return nil
}

// lamports is what account holds (0 if it does not exist or cannot be read).
func (d *daoBench) lamports(ctx context.Context, account solana.PublicKey) uint64 {
	accs, err := d.b.accounts(ctx, []solana.PublicKey{account})
	if err != nil || len(accs) == 0 || accs[0] == nil {
		return 0
	}
	return accs[0].Lamports
}

// must drops a builder's error for instructions the bench sends unmeasured
// (their builders fail only on malformed arguments, which are constants here).
func must(ix solana.Instruction, err error) solana.Instruction {
	if err != nil {
		panic(err)
	}
	return ix
}
