package keeper_test

import (
	"context"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/rpc"

	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
	"github.com/modelcommons/modelcommons/clients/txsend"
	"github.com/modelcommons/modelcommons/keepers/cranks"
	"github.com/modelcommons/modelcommons/localnet/golocal"
	"github.com/modelcommons/modelcommons/tests/dao"
	"github.com/modelcommons/modelcommons/tests/treasury"
)

type crankEnv struct {
	t   *testing.T
	ctx context.Context
	e   dao.Env
}

func newCrankEnv(t *testing.T) *crankEnv {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	t.Cleanup(cancel)
	c := golocal.Start(t)
	s := txsend.New(txsend.Config{RPC: c.RPC, Errors: txsend.Tables{mt.ProgramID: mt.Errors}, PollInterval: 50 * time.Millisecond})
	te, err := treasury.Setup(ctx, c, s, solana.TokenProgramID)
	if err != nil {
		t.Fatal(err)
	}
	return &crankEnv{t: t, ctx: ctx, e: dao.Env{Env: te}}
}

func (c *crankEnv) must(ix solana.Instruction, err error) solana.Instruction {
	c.t.Helper()
	if err != nil {
		c.t.Fatal(err)
	}
	return ix
}

func (c *crankEnv) send(payer solana.PrivateKey, ix solana.Instruction) {
	c.t.Helper()
	if _, err := c.e.Send(c.ctx, payer, nil, ix); err != nil {
		c.t.Fatal(err)
	}
}

// raise launches a model whose window closes after window, and buys
// native worth of it.
func (c *crankEnv) raise(window time.Duration, native uint64) solana.PublicKey {
	c.t.Helper()
	now, err := c.e.Chain.Now(c.ctx)
	if err != nil {
		c.t.Fatal(err)
	}
	creator, err := c.e.Wallet(c.ctx, 100*treasury.NativeUnit)
	if err != nil {
		c.t.Fatal(err)
	}
	model, err := c.e.Launch(c.ctx, creator, treasury.DefaultTerms(now, window))
	if err != nil {
		c.t.Fatal(err)
	}
	if native > 0 {
		backer, err := c.e.Wallet(c.ctx, native)
		if err != nil {
			c.t.Fatal(err)
		}
		c.send(backer, c.must(c.e.ContributeIx(backer.PublicKey(), model, mt.ContributeArgs{Amount: native})))
	}
	return model
}

func (c *crankEnv) cranker(payer solana.PrivateKey, mod func(*cranks.Config)) *cranks.Cranker {
	c.t.Helper()
	cfg := cranks.Config{
		RPC: rpc.New(c.e.Chain.URL), Payer: payer, NoJitter: true,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: logLevel()})),
	}
	if mod != nil {
		mod(&cfg)
	}
	k, err := cranks.New(cfg)
	if err != nil {
		c.t.Fatal(err)
	}
	return k
}

func (c *crankEnv) stage(model solana.PublicKey) mt.Stage {
	c.t.Helper()
	m, err := c.e.Model(c.ctx, model)
	if err != nil {
		c.t.Fatal(err)
	}
	return m.Stage
}

// The cranks find due raises (window closed: above the soft cap it goes
// Active, below it Failed) and due proposals by getProgramAccounts and
// finalise them; a raise still open and a proposal still voting are left
// alone; with voter checkpoints on, a record whose warm-up is over starts
// earning. A second round finds nothing due.
func TestCranksFinaliseWhatIsDue(t *testing.T) {
	c := newCrankEnv(t)
	succeeds := c.raise(100*time.Second, 50_000*treasury.NativeUnit)
	fails := c.raise(100*time.Second, 10_000*treasury.NativeUnit)
	open := c.raise(time.Hour, 50_000*treasury.NativeUnit)

	now, err := c.e.Chain.Now(c.ctx)
	if err != nil {
		t.Fatal(err)
	}
	a, err := c.e.LaunchActive(c.ctx, dao.Terms(now, 60*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	alice, bob := a.Holders[0], a.Holders[1]
	c.send(alice, c.must(c.e.DepositMtIx(alice.PublicKey(), a.Model, 30_000*treasury.MtUnit)))
	c.send(bob, c.must(c.e.DepositMtIx(bob.PublicKey(), a.Model, 10_000*treasury.MtUnit)))
	// Deposits vote (and count towards the proposal threshold) once their
	// warm-up is over; the raises' windows are measured from here too.
	if err := c.e.WaitVotes(c.ctx, a.Model, alice.PublicKey(), bob.PublicKey()); err != nil {
		t.Fatal(err)
	}
	if now, err = c.e.Chain.Now(c.ctx); err != nil {
		t.Fatal(err)
	}
	signal := mt.CreateProposalArgs{Action: &mt.ProposalAction_Signal{}, ContentHash: [32]uint8{7}, Uri: "https://example.org/signal.md"}
	c.send(alice, c.must(c.e.CreateProposalIx(alice.PublicKey(), a.Model, 0, signal)))
	c.send(alice, c.must(c.e.CastVoteIx(alice.PublicKey(), a.Model, 0, mt.VoteChoice_Yes)))

	if err := c.e.WaitUntil(c.ctx, now.Add(101*time.Second)); err != nil {
		t.Fatal(err)
	}
	// Created after the clock moved: still voting.
	c.send(alice, c.must(c.e.CreateProposalIx(alice.PublicKey(), a.Model, 1, signal)))

	payer, err := c.e.Chain.Fund(c.ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	k := c.cranker(payer, func(cfg *cranks.Config) {
		cfg.Raises, cfg.Proposals, cfg.CheckpointVoters = true, true, true
		cfg.Models = []solana.PublicKey{a.Model}
	})
	res, err := k.Round(c.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.stage(succeeds); got != mt.Stage_Active {
		t.Errorf("raise above the soft cap: %v", got)
	}
	if got := c.stage(fails); got != mt.Stage_Failed {
		t.Errorf("raise below the soft cap: %v", got)
	}
	if got := c.stage(open); got != mt.Stage_Funding {
		t.Errorf("open raise: %v", got)
	}
	p0, err := c.e.Proposal(c.ctx, a.Model, 0)
	if err != nil {
		t.Fatal(err)
	}
	p1, err := c.e.Proposal(c.ctx, a.Model, 1)
	if err != nil {
		t.Fatal(err)
	}
	if p0.State != mt.ProposalState_Passed || p1.State != mt.ProposalState_Voting {
		t.Errorf("proposals: %v, %v", p0.State, p1.State)
	}
	v, err := c.e.Voter(c.ctx, a.Model, bob.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	if v.Warming != 0 {
		t.Errorf("bob's record still warming %d after the checkpoint crank", v.Warming)
	}
	if len(res.Signatures[cranks.KindRaise]) != 2 || len(res.Signatures[cranks.KindProposal]) != 1 || len(res.Signatures[cranks.KindCheckpoint]) < 1 || res.Failed != 0 {
		t.Fatalf("round: %+v", res)
	}
	again, err := k.Round(c.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if again.Due != 0 {
		t.Fatalf("second round found %d due", again.Due)
	}
}

// Two keepers see the same due raise; with jitter the first one's crank
// makes it not due for the other, which pays nothing.
func TestCrankJitterOneKeeperPays(t *testing.T) {
	c := newCrankEnv(t)
	model := c.raise(30*time.Second, 50_000*treasury.NativeUnit)
	now, err := c.e.Chain.Now(c.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.e.WaitUntil(c.ctx, now.Add(31*time.Second)); err != nil {
		t.Fatal(err)
	}
	var payers []solana.PrivateKey
	var ks []*cranks.Cranker
	for i := 0; i < 2; i++ {
		p, err := c.e.Chain.Fund(c.ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		payers = append(payers, p)
		ks = append(ks, c.cranker(p, func(cfg *cranks.Config) { cfg.NoJitter, cfg.Jitter = false, 3*time.Second }))
	}
	results := make([]cranks.Result, 2)
	var wg sync.WaitGroup
	for i, k := range ks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := k.Round(c.ctx)
			if err != nil {
				t.Error(err)
			}
			results[i] = r
		}()
	}
	wg.Wait()
	if c.stage(model) != mt.Stage_Active {
		t.Fatal("raise not finalised")
	}
	sent, taken := results[0].Sent+results[1].Sent, results[0].Taken+results[1].Taken
	if sent != 1 || taken != 1 {
		t.Fatalf("results %+v %+v: want one crank sent and one found taken", results[0], results[1])
	}
	paid := 0
	for _, p := range payers {
		bal, err := c.e.Chain.RPC.GetBalance(c.ctx, p.PublicKey(), rpc.CommitmentConfirmed)
		if err != nil {
			t.Fatal(err)
		}
		if bal.Value < solana.LAMPORTS_PER_SOL {
			paid++
		}
	}
	if paid != 1 {
		t.Fatalf("%d keepers paid a fee", paid)
	}
}
