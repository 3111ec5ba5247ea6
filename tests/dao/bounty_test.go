package dao_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/gagliardetto/solana-go"

	"github.com/modelcommons/modelcommons/clients/ix"
	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
	"github.com/modelcommons/modelcommons/clients/pda"
	"github.com/modelcommons/modelcommons/clients/rules"
	"github.com/modelcommons/modelcommons/clients/tokens"
	"github.com/modelcommons/modelcommons/keepers/cranks"
	"github.com/modelcommons/modelcommons/tests/dao"
	"github.com/modelcommons/modelcommons/tests/treasury"
)

// bountyEnv is the whole-bounty scenario's chain, model and helpers.
type bountyEnv struct {
	t      *testing.T
	ctx    context.Context
	e      dao.Env
	model  solana.PublicKey
	native ix.Native
}

func (b *bountyEnv) send(payer solana.PrivateKey, ixs ...solana.Instruction) {
	b.t.Helper()
	if _, err := b.e.Send(b.ctx, payer, nil, ixs...); err != nil {
		b.t.Fatal(err)
	}
}

func (b *bountyEnv) must(i solana.Instruction, err error) solana.Instruction {
	b.t.Helper()
	if err != nil {
		b.t.Fatal(err)
	}
	return i
}

func (b *bountyEnv) balance(addr solana.PublicKey) uint64 {
	b.t.Helper()
	v, err := tokens.Balance(b.ctx, b.e.Chain.RPC, addr)
	if err != nil {
		b.t.Fatal(err)
	}
	return v
}

func (b *bountyEnv) pool() *mt.BountyPool {
	b.t.Helper()
	info, err := b.e.Chain.RPC.GetAccountInfo(b.ctx, pda.BountyPool(b.model))
	if err != nil {
		b.t.Fatal(err)
	}
	p, err := mt.ParseAccount_BountyPool(info.Value.Data.GetBinary())
	if err != nil {
		b.t.Fatal(err)
	}
	return p
}

func (b *bountyEnv) bounty(id uint64) *mt.Bounty {
	b.t.Helper()
	info, err := b.e.Chain.RPC.GetAccountInfo(b.ctx, pda.Bounty(b.model, id))
	if err != nil {
		b.t.Fatal(err)
	}
	v, err := mt.ParseAccount_Bounty(info.Value.Data.GetBinary())
	if err != nil {
		b.t.Fatal(err)
	}
	return v
}

func (b *bountyEnv) waitUntil(unix int64) {
	b.t.Helper()
	if err := b.e.WaitUntil(b.ctx, time.Unix(unix, 0)); err != nil {
		b.t.Fatal(err)
	}
}

// booksBalance: the pool vault holds exactly what the pool's books say.
func (b *bountyEnv) booksBalance() {
	b.t.Helper()
	p := b.pool()
	if got := b.balance(pda.BountyVault(b.model)); got != p.Available+p.Reserved+p.Held {
		b.t.Fatalf("pool vault %d ≠ available %d + reserved %d + held %d", got, p.Available, p.Reserved, p.Held)
	}
}

// A whole bounty over JSON-RPC: two proposals (fund the pool with 2 000,
// create a bounty of 900 with a 30 review fee per submission) finalised by
// the keeper's crank and executed; three contributors submit (one spam);
// five MT depositors commit and reveal (one never reveals one review);
// the crank finalises every submission and settles the bounty; everyone
// claims; every payment is checked to the base unit and the pool's vault
// ends holding exactly its available funds.
func TestWholeBountyToTheBaseUnit(t *testing.T) {
	ctx, e, a := setup(t)
	b := &bountyEnv{t: t, ctx: ctx, e: e, model: a.Model}
	p, err := e.Protocol(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b.native = ix.NativeOf(p)
	m, err := e.Model(ctx, a.Model)
	if err != nil {
		t.Fatal(err)
	}

	// Five reviewers: the two holders (30 000 and 20 000 MT) hand 4 000,
	// 3 000 and 2 000 MT to three new wallets; everyone deposits all of it.
	reviewers := []solana.PrivateKey{a.Holders[0], a.Holders[1]}
	mtWeights := []uint64{23_000, 18_000, 4_000, 3_000, 2_000}
	for i, from := range []solana.PrivateKey{a.Holders[0], a.Holders[0], a.Holders[1]} {
		w, err := e.Wallet(ctx, 1_000*native)
		if err != nil {
			t.Fatal(err)
		}
		to := treasury.MtATA(w.PublicKey(), a.Model)
		b.send(from, treasury.CreateMtATA(from.PublicKey(), w.PublicKey(), a.Model),
			tokens.TransferChecked(treasury.MtATA(from.PublicKey(), a.Model), m.MtMint, to, from.PublicKey(), mtWeights[i+2]*mtUnit, mt.MT_DECIMALS, solana.Token2022ProgramID))
		reviewers = append(reviewers, w)
	}
	for i, r := range reviewers {
		b.send(r, b.must(e.DepositMtIx(r.PublicKey(), a.Model, mtWeights[i]*mtUnit)))
	}
	keys := make([]solana.PublicKey, len(reviewers))
	for i, r := range reviewers {
		keys[i] = r.PublicKey()
	}
	if err := e.WaitVotes(ctx, a.Model, keys...); err != nil {
		t.Fatal(err)
	}

	// Two proposals, voted by holder 0 alone (23 000 MT ≥ the 10 % quorum).
	terms := mt.BountyTerms{TaskHash: [32]byte{1}, Reward: 900 * native, ReviewFee: 30 * native, SubmissionBond: 10 * native,
		ReviewBond: 4 * native, MaxSubmissions: 3, MinReviewers: 3, ThresholdBps: 6_000, SubmitSecs: 600, ReviewSecs: 600}
	h0 := reviewers[0]
	for i, action := range []mt.ProposalAction{&mt.ProposalAction_FundBountyPool{Amount: 2_000 * native}, &mt.ProposalAction_CreateBounty{Terms: terms}} {
		args := mt.CreateProposalArgs{Action: action, ContentHash: [32]byte{2}, Uri: "https://example.org/bounty.md"}
		b.send(h0, b.must(e.CreateProposalIx(h0.PublicKey(), a.Model, uint64(i), args)))
		b.send(h0, b.must(e.CastVoteIx(h0.PublicKey(), a.Model, uint64(i), mt.VoteChoice_Yes)))
	}
	prop, err := e.Proposal(ctx, a.Model, 1)
	if err != nil {
		t.Fatal(err)
	}
	b.waitUntil(prop.VotingEnds)
	crank, err := cranks.New(cranks.Config{RPC: e.Chain.RPC, Payer: h0, NoJitter: true, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if res, err := crank.Round(ctx); err != nil || len(res.Signatures[cranks.KindProposal]) != 2 {
		t.Fatalf("crank round: %+v %v", res, err)
	}
	if prop, err = e.Proposal(ctx, a.Model, 1); err != nil || prop.State != mt.ProposalState_Passed {
		t.Fatalf("proposal 1: %+v %v", prop, err)
	}
	b.waitUntil(prop.ExecuteAfter)
	treasuryBefore := b.balance(pda.TreasuryVault(a.Model))
	b.send(h0, b.must(ix.FundBountyPool(h0.PublicKey(), a.Model, 0, b.native)))
	b.send(h0, b.must(ix.CreateBounty(h0.PublicKey(), a.Model, 1, 0)))
	if got := treasuryBefore - b.balance(pda.TreasuryVault(a.Model)); got != 2_000*native {
		t.Fatalf("treasury paid %d into the pool", got)
	}
	if pl := b.pool(); pl.Available != 1_010*native || pl.Reserved != 990*native {
		t.Fatalf("pool after creation: %+v", pl)
	}
	b.booksBalance()

	// Three contributors; z's work is spam.
	var contributors []solana.PrivateKey
	for i := range 3 {
		w, err := e.Wallet(ctx, 100*native)
		if err != nil {
			t.Fatal(err)
		}
		args := mt.SubmitWorkArgs{ContentHash: [32]byte{byte(11 + i)}, Uri: "https://example.org/work.md"}
		b.send(w, b.must(ix.SubmitWork(w.PublicKey(), a.Model, 0, e.NativeATA(w.PublicKey()), b.native, args)))
		contributors = append(contributors, w)
	}
	x, y, z := contributors[0], contributors[1], contributors[2]
	const (
		A = mt.ReviewChoice_Approve
		R = mt.ReviewChoice_Reject
		S = mt.ReviewChoice_Spam
	)
	plan := map[solana.PublicKey][]mt.ReviewChoice{
		x.PublicKey(): {A, A, A, R, A}, // reviewer 4 never reveals this one
		y.PublicKey(): {A, A, A, A, A},
		z.PublicKey(): {S, S, R, A, S},
	}
	salt := [32]byte{9}
	reviewerNative := make([]uint64, len(reviewers))
	for i, r := range reviewers {
		for _, c := range contributors {
			sub := pda.Submission(pda.Bounty(a.Model, 0), c.PublicKey())
			commitment := rules.ReviewCommitment(plan[c.PublicKey()][i], salt, sub, r.PublicKey())
			b.send(r, b.must(ix.CommitReview(r.PublicKey(), a.Model, 0, c.PublicKey(), e.NativeATA(r.PublicKey()), b.native, commitment)))
		}
		reviewerNative[i] = b.balance(e.NativeATA(r.PublicKey()))
	}
	bounty := b.bounty(0)
	b.waitUntil(bounty.CommitEnds)
	for i, r := range reviewers {
		for _, c := range contributors {
			if c.PublicKey() == x.PublicKey() && i == 4 {
				continue
			}
			b.send(r, b.must(ix.RevealReview(r.PublicKey(), a.Model, 0, c.PublicKey(), plan[c.PublicKey()][i], salt)))
		}
	}
	b.waitUntil(bounty.RevealEnds)
	res, err := crank.Round(ctx)
	if err != nil || len(res.Signatures[cranks.KindSubmission]) != 3 || len(res.Signatures[cranks.KindBounty]) != 1 {
		t.Fatalf("crank round: %+v %v", res, err)
	}
	if again, err := crank.Round(ctx); err != nil || again.Due != 0 {
		t.Fatalf("second round: %+v %v", again, err)
	}
	if bounty = b.bounty(0); !bounty.Settled || bounty.Accepted != 2 || bounty.Award != 450*native {
		t.Fatalf("bounty after the crank: %+v", bounty)
	}
	b.booksBalance()

	// Contributors: 450 award + 10 bond for x and y; z's bond is gone.
	for _, c := range []solana.PrivateKey{x, y} {
		b.send(c, b.must(ix.ClaimSubmission(c.PublicKey(), a.Model, 0, e.NativeATA(c.PublicKey()), b.native)))
		if got := b.balance(e.NativeATA(c.PublicKey())); got != 90*native+460*native {
			t.Fatalf("contributor holds %d", got)
		}
	}
	// Reviewers, to the base unit: fee pools x 36 (30 + 4 no-show + 2
	// slash) over 45 000, y 30 over 50 000, z 42 (30 + 2 slash + 10 spam
	// bond) over 47 000, pro rata, rounded down.
	want := map[solana.PublicKey][]uint64{
		x.PublicKey(): {4*native + 18_400_000, 4*native + 14_400_000, 4*native + 3_200_000, 2 * native, 0},
		y.PublicKey(): {4*native + 13_800_000, 4*native + 10_800_000, 4*native + 2_400_000, 4*native + 1_800_000, 4*native + 1_200_000},
		z.PublicKey(): {4*native + 20_553_191, 4*native + 16_085_106, 4*native + 3_574_468, 2 * native, 4*native + 1_787_234},
	}
	for i, r := range reviewers {
		total := uint64(0)
		for _, c := range contributors {
			amount := want[c.PublicKey()][i]
			total += amount
			if amount == 0 {
				continue
			}
			b.send(r, b.must(ix.ClaimReview(r.PublicKey(), a.Model, 0, c.PublicKey(), e.NativeATA(r.PublicKey()), b.native)))
		}
		if got := b.balance(e.NativeATA(r.PublicKey())) - reviewerNative[i]; got != total {
			t.Errorf("reviewer %d was paid %d, want %d", i, got, total)
		}
	}
	pl := b.pool()
	if pl.Reserved != 0 || pl.Held != 0 || pl.Available != 1_010*native+1 {
		t.Fatalf("pool at the end: %+v (the 1 is z's rounding dust)", pl)
	}
	if got := b.balance(pda.BountyVault(a.Model)); got != pl.Available {
		t.Fatalf("pool vault %d ≠ available %d", got, pl.Available)
	}
}
