package dao_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gagliardetto/solana-go"

	"github.com/modelcommons/modelcommons/clients/events"
	meter "github.com/modelcommons/modelcommons/clients/inference_meter"
	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
	"github.com/modelcommons/modelcommons/clients/pda"
	"github.com/modelcommons/modelcommons/clients/rules"
	"github.com/modelcommons/modelcommons/clients/tokens"
	"github.com/modelcommons/modelcommons/clients/txsend"
	"github.com/modelcommons/modelcommons/localnet/golocal"
	"github.com/modelcommons/modelcommons/tests/dao"
	"github.com/modelcommons/modelcommons/tests/treasury"
)

const (
	native = treasury.NativeUnit
	mtUnit = treasury.MtUnit
)

// setup starts a chain with the protocol and an active model (voting
// period, hold-up and warm-up of one hour).
func setup(t *testing.T) (context.Context, dao.Env, *dao.Active) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	c := golocal.Start(t)
	s := txsend.New(txsend.Config{
		RPC:          c.RPC,
		Errors:       txsend.Tables{mt.ProgramID: mt.Errors, meter.ProgramID: meter.Errors},
		PollInterval: 50 * time.Millisecond,
	})
	te, err := treasury.Setup(ctx, c, s, solana.TokenProgramID)
	if err != nil {
		t.Fatal(err)
	}
	e := dao.Env{Env: te}
	now, err := c.Now(ctx)
	if err != nil {
		t.Fatal(err)
	}
	a, err := e.LaunchActive(ctx, dao.Terms(now, time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	return ctx, e, a
}

func must(t *testing.T) func(solana.Instruction, error) solana.Instruction {
	return func(ix solana.Instruction, err error) solana.Instruction {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return ix
	}
}

func send(ctx context.Context, t *testing.T, e dao.Env, payer solana.PrivateKey, ix solana.Instruction) solana.Signature {
	t.Helper()
	sig, err := e.Send(ctx, payer, nil, ix)
	if err != nil {
		t.Fatal(err)
	}
	return sig
}

func balance(ctx context.Context, t *testing.T, e dao.Env, account solana.PublicKey) uint64 {
	t.Helper()
	b, err := tokens.Balance(ctx, e.Chain.RPC, account)
	if err != nil {
		t.Fatalf("balance of %s: %v", account, err)
	}
	return b
}

// event decodes the only mt_treasury event of sig.
func event[T any](ctx context.Context, t *testing.T, e dao.Env, sig solana.Signature) *T {
	t.Helper()
	payloads, err := events.Fetch(ctx, e.Chain.RPC, sig, mt.ProgramID)
	if err != nil || len(payloads) != 1 {
		t.Fatalf("events of %s: %v (%d)", sig, err, len(payloads))
	}
	ev, err := mt.ParseAnyEvent(payloads[0])
	if err != nil {
		t.Fatal(err)
	}
	got, ok := ev.(*T)
	if !ok {
		t.Fatalf("event %T, want %T", ev, got)
	}
	return got
}

func proposal(ctx context.Context, t *testing.T, e dao.Env, model solana.PublicKey, index uint64) *mt.Proposal {
	t.Helper()
	p, err := e.Proposal(ctx, model, index)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Propose → vote → finalise → execute a treasury transfer, moving the
// chain's clock past the voting period and the hold-up.
func TestProposalExecutesATreasuryTransferOverJSONRPC(t *testing.T) {
	ctx, e, a := setup(t)
	alice, bob := a.Holders[0], a.Holders[1]
	for _, h := range []struct {
		who solana.PrivateKey
		mt  uint64
	}{{alice, 30_000 * mtUnit}, {bob, 20_000 * mtUnit}} {
		send(ctx, t, e, h.who, must(t)(e.DepositMtIx(h.who.PublicKey(), a.Model, h.mt)))
	}
	// Deposits vote on proposals created after their warm-up.
	if err := e.WaitVotes(ctx, a.Model, alice.PublicKey(), bob.PublicKey()); err != nil {
		t.Fatal(err)
	}
	grantee, err := e.Wallet(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	action := &mt.ProposalAction_TransferNative{Destination: e.NativeATA(grantee.PublicKey()), Amount: 2_500 * native}
	args := mt.CreateProposalArgs{Action: action, ContentHash: [32]uint8{1}, Uri: "https://example.org/grant.md"}
	created := event[mt.ProposalCreated](ctx, t, e, send(ctx, t, e, alice, must(t)(e.CreateProposalIx(alice.PublicKey(), a.Model, 0, args))))
	if created.CirculatingSupply != 70_000*mtUnit {
		t.Errorf("circulating supply %d, want the 50 000 MT sold and the creator's 20 000 vested", created.CirculatingSupply)
	}
	send(ctx, t, e, alice, must(t)(e.CastVoteIx(alice.PublicKey(), a.Model, 0, mt.VoteChoice_Yes)))
	vote := event[mt.VoteCast](ctx, t, e, send(ctx, t, e, bob, must(t)(e.CastVoteIx(bob.PublicKey(), a.Model, 0, mt.VoteChoice_No))))
	if vote.Yes != 30_000*mtUnit || vote.No != 20_000*mtUnit {
		t.Errorf("tally %d yes / %d no", vote.Yes, vote.No)
	}
	// Locked until the voting ends, by name over RPC.
	if _, err := e.Send(ctx, bob, nil, must(t)(e.WithdrawMtIx(bob.PublicKey(), a.Model, treasury.MtATA(bob.PublicKey(), a.Model), mtUnit))); !errors.Is(err, mt.ErrDepositLocked) {
		t.Fatalf("withdraw while locked: %v, want DepositLocked", err)
	}
	if _, err := e.Send(ctx, bob, nil, must(t)(e.FinalizeProposalIx(a.Model, 0))); !errors.Is(err, mt.ErrVotingNotOver) {
		t.Fatalf("early finalize: %v, want VotingNotOver", err)
	}

	p := proposal(ctx, t, e, a.Model, 0)
	if err := e.WaitUntil(ctx, time.Unix(p.VotingEnds, 0)); err != nil {
		t.Fatal(err)
	}
	fin := event[mt.ProposalFinalized](ctx, t, e, send(ctx, t, e, bob, must(t)(e.FinalizeProposalIx(a.Model, 0))))
	if fin.State != mt.ProposalState_Passed || !fin.QuorumMet || !fin.ThresholdMet {
		t.Fatalf("finalized %+v", fin)
	}
	if _, err := e.Send(ctx, bob, nil, must(t)(e.ExecuteProposalIx(a.Model, 0, action))); !errors.Is(err, mt.ErrHoldUpNotOver) {
		t.Fatalf("execute during the hold-up: %v, want HoldUpNotOver", err)
	}
	if err := e.WaitUntil(ctx, time.Unix(fin.ExecuteAfter, 0)); err != nil {
		t.Fatal(err)
	}
	treasuryBefore := balance(ctx, t, e, pda.TreasuryVault(a.Model))
	event[mt.ProposalExecuted](ctx, t, e, send(ctx, t, e, bob, must(t)(e.ExecuteProposalIx(a.Model, 0, action))))
	if got := balance(ctx, t, e, e.NativeATA(grantee.PublicKey())); got != 2_500*native {
		t.Errorf("grantee holds %d, want %d", got, 2_500*native)
	}
	if got := balance(ctx, t, e, pda.TreasuryVault(a.Model)); got != treasuryBefore-2_500*native {
		t.Errorf("treasury %d, want %d", got, treasuryBefore-2_500*native)
	}
	if _, err := e.Send(ctx, bob, nil, must(t)(e.ExecuteProposalIx(a.Model, 0, action))); !errors.Is(err, mt.ErrProposalAlreadyExecuted) {
		t.Fatalf("second execute: %v, want ProposalAlreadyExecuted", err)
	}
	// The voting window is over: bob's MT is free again.
	send(ctx, t, e, bob, must(t)(e.WithdrawMtIx(bob.PublicKey(), a.Model, treasury.MtATA(bob.PublicKey(), a.Model), 20_000*mtUnit)))
}

// A revenue deposit shared with warmed-up depositors, and their claims.
func TestRevenueDepositAndClaimOverJSONRPC(t *testing.T) {
	ctx, e, a := setup(t)
	alice, bob := a.Holders[0], a.Holders[1]
	send(ctx, t, e, alice, must(t)(e.DepositMtIx(alice.PublicKey(), a.Model, 30_000*mtUnit)))
	send(ctx, t, e, bob, must(t)(e.DepositMtIx(bob.PublicKey(), a.Model, 10_000*mtUnit)))
	// The two deposits may land in different seconds: wait for the later
	// warm-up, or bob's checkpoint can come a second early.
	var warmAt int64
	for _, h := range []solana.PrivateKey{alice, bob} {
		v, err := e.Voter(ctx, a.Model, h.PublicKey())
		if err != nil {
			t.Fatal(err)
		}
		warmAt = max(warmAt, v.WarmAt)
	}
	sponsor, err := e.Wallet(ctx, 10_000*native)
	if err != nil {
		t.Fatal(err)
	}
	// Still warming up: all to the treasury.
	ev := event[mt.RevenueDeposited](ctx, t, e, send(ctx, t, e, sponsor, must(t)(e.DepositRevenueIx(sponsor.PublicKey(), a.Model, 100*native))))
	if ev.ToDepositors != 0 || ev.ToTreasury != 100*native {
		t.Errorf("during warm-up: %+v", ev)
	}
	if err := e.WaitUntil(ctx, time.Unix(warmAt, 0)); err != nil {
		t.Fatal(err)
	}
	// Anyone (here the sponsor) starts warmed-up deposits earning.
	for _, h := range []solana.PrivateKey{alice, bob} {
		send(ctx, t, e, sponsor, must(t)(e.CheckpointVoterIx(a.Model, h.PublicKey())))
	}
	ev = event[mt.RevenueDeposited](ctx, t, e, send(ctx, t, e, sponsor, must(t)(e.DepositRevenueIx(sponsor.PublicKey(), a.Model, 1_000*native))))
	if ev.ToDepositors != 700*native || ev.EarningMt != 40_000*mtUnit {
		t.Errorf("after warm-up: %+v", ev)
	}
	for _, c := range []struct {
		who  solana.PrivateKey
		want uint64
	}{{alice, 525 * native}, {bob, 175 * native}} {
		before := balance(ctx, t, e, e.NativeATA(c.who.PublicKey()))
		claimed := event[mt.RewardsClaimed](ctx, t, e, send(ctx, t, e, c.who, must(t)(e.ClaimRewardsIx(c.who.PublicKey(), a.Model, e.NativeATA(c.who.PublicKey())))))
		if claimed.Amount != c.want || balance(ctx, t, e, e.NativeATA(c.who.PublicKey())) != before+c.want {
			t.Errorf("%s claimed %d, want %d", c.who.PublicKey(), claimed.Amount, c.want)
		}
	}
	if _, err := e.Send(ctx, bob, nil, must(t)(e.ClaimRewardsIx(bob.PublicKey(), a.Model, e.NativeATA(bob.PublicKey())))); !errors.Is(err, mt.ErrNothingToClaim) {
		t.Fatalf("second claim: %v, want NothingToClaim", err)
	}
}

// Swaps on chain pay exactly what clients/market quotes, both ways.
func TestSwapPaysExactlyTheGoQuote(t *testing.T) {
	ctx, e, a := setup(t)
	send(ctx, t, e, e.Admin, must(t)(e.OpenMarketIx(a.Model)))
	trader, err := e.Wallet(ctx, 5_000*native)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Send(ctx, trader, nil, treasury.CreateMtATA(trader.PublicKey(), trader.PublicKey(), a.Model)); err != nil {
		t.Fatal(err)
	}
	pool := func() rules.Pool {
		m, err := e.Model(ctx, a.Model)
		if err != nil {
			t.Fatal(err)
		}
		p, err := e.Protocol(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pl, err := rules.FromAccounts(m, p)
		if err != nil {
			t.Fatal(err)
		}
		return pl
	}
	swap := func(side rules.SwapSide, amount uint64) {
		t.Helper()
		q, err := rules.QuoteSwap(pool(), side, amount)
		if err != nil {
			t.Fatal(err)
		}
		// A bound one unit above the quote fails by name; the quote itself is exact.
		args := mt.SwapArgs{Side: side.Program(), AmountIn: amount, MinOut: q.AmountOut + 1}
		if _, err := e.Send(ctx, trader, nil, must(t)(e.SwapIx(trader.PublicKey(), a.Model, args))); !errors.Is(err, mt.ErrSlippageExceeded) {
			t.Fatalf("min_out above the quote: %v, want SlippageExceeded", err)
		}
		nativeBefore := balance(ctx, t, e, e.NativeATA(trader.PublicKey()))
		mtBefore := balance(ctx, t, e, treasury.MtATA(trader.PublicKey(), a.Model))
		feeBefore := balance(ctx, t, e, pda.FeeVault())
		args.MinOut = q.AmountOut
		ev := event[mt.Swapped](ctx, t, e, send(ctx, t, e, trader, must(t)(e.SwapIx(trader.PublicKey(), a.Model, args))))
		if ev.AmountOut != q.AmountOut || ev.Fee != q.Fee || ev.ProtocolFee != q.ProtocolFee ||
			ev.ToDepositors != q.ToDepositors || ev.ToTreasury != q.ToTreasury || ev.ReserveMt != q.ReserveMt || ev.ReserveNative != q.ReserveNative {
			t.Fatalf("%v %d: chain %+v, quote %+v", side, amount, ev, q)
		}
		nativeAfter := balance(ctx, t, e, e.NativeATA(trader.PublicKey()))
		mtAfter := balance(ctx, t, e, treasury.MtATA(trader.PublicKey(), a.Model))
		if side == rules.SwapBuy && (nativeBefore-nativeAfter != amount || mtAfter-mtBefore != q.AmountOut) ||
			side == rules.SwapSell && (nativeAfter-nativeBefore != q.AmountOut || mtBefore-mtAfter != amount) {
			t.Fatalf("%v %d: balances moved native %d→%d, MT %d→%d; quote %+v", side, amount, nativeBefore, nativeAfter, mtBefore, mtAfter, q)
		}
		if got := balance(ctx, t, e, pda.FeeVault()) - feeBefore; got != q.ProtocolFee {
			t.Fatalf("fee vault +%d, want %d", got, q.ProtocolFee)
		}
		if p := pool(); p.ReserveMt != q.ReserveMt || p.ReserveNative != q.ReserveNative {
			t.Fatalf("reserves %+v, quote %+v", p, q)
		}
	}
	swap(rules.SwapBuy, 1_234*native+567)
	swap(rules.SwapBuy, 10)
	// One base unit is all fee: refused alike by the quote and the program.
	if _, err := rules.QuoteSwap(pool(), rules.SwapBuy, 1); !errors.Is(err, rules.ErrTooSmall) {
		t.Fatalf("quote of 1: %v", err)
	}
	tiny := mt.SwapArgs{Side: mt.SwapSide_Buy, AmountIn: 1}
	if _, err := e.Send(ctx, trader, nil, must(t)(e.SwapIx(trader.PublicKey(), a.Model, tiny))); !errors.Is(err, mt.ErrSwapTooSmall) {
		t.Fatalf("swap of 1: %v, want SwapTooSmall", err)
	}
	swap(rules.SwapSell, 1_000*mtUnit+1)
	// "Buy exactly 100 MT": the smallest input that pays it.
	in, q, err := rules.AmountInFor(pool(), rules.SwapBuy, 100*mtUnit)
	if err != nil || q.AmountOut < 100*mtUnit {
		t.Fatalf("AmountInFor: %v %+v", err, q)
	}
	swap(rules.SwapBuy, in)
}
