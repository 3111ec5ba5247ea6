package story

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gagliardetto/solana-go"

	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
	"github.com/modelcommons/modelcommons/clients/pda"
	"github.com/modelcommons/modelcommons/clients/rules"
	"github.com/modelcommons/modelcommons/clients/tokens"
	"github.com/modelcommons/modelcommons/demo/driver"
)

// Bounty is the contribute-and-earn step: who was paid what, to the base unit.
type Bounty struct {
	ID          uint64            `json:"id"`
	Reward      uint64            `json:"reward"`
	Contributor string            `json:"contributor"`
	Outcome     string            `json:"outcome"`
	Paid        map[string]uint64 `json:"paid"`
	Predicted   map[string]uint64 `json:"predicted"`
	PoolLeft    uint64            `json:"pool_available"`
}

type bountyView struct {
	ID         uint64    `json:"id"`
	Settled    bool      `json:"settled"`
	Award      amount    `json:"award"`
	CommitEnds time.Time `json:"commit_ends"`
	RevealEnds time.Time `json:"reveal_ends"`
	Entries    []struct {
		Outcome string `json:"outcome"`
	} `json:"entries"`
}

// contributeAndEarn: the DAO funds tiny-chat's bounty pool and creates a
// bounty by proposal (the keeper's crank finalises both); the API user
// submits work; alice and bob approve it and carol rejects it with
// commit–reveal; the keeper's crank finalises and settles it; everyone
// claims, each payment checked against clients/rules.
func (t *teller) contributeAndEarn() error {
	id := strconv.FormatUint(t.chat.ID, 10)
	chat := solana.MustPublicKeyFromBase58(t.chat.Address)
	var prop struct {
		Proposal uint64 `json:"proposal"`
	}
	if err := t.mtRun(&prop, &t.alice, "bounty", "fund", id, "2"); err != nil {
		return err
	}
	fund := prop.Proposal
	task := strings.Repeat("7a", 32)
	if err := t.mtRun(&prop, &t.alice, "bounty", "create", id, "--reward", "1", "--review-fee", "0.1", "--submission-bond", "0.05", "--review-bond", "0.02",
		"--max-submissions", "2", "--min-reviewers", "2", "--submit-window", "1d", "--review-window", "1d", "--content-hash", task, "--uri", "https://example.org/tasks/eval-set"); err != nil {
		return err
	}
	create := prop.Proposal
	var p proposalView
	for _, idx := range []uint64{fund, create} {
		for _, w := range []driver.Wallet{t.alice, t.bob, t.carol} {
			if err := t.mtQuiet(&p, &w, "dao", "vote", id, strconv.FormatUint(idx, 10), "yes"); err != nil {
				return err
			}
		}
	}
	t.n.ok("alice proposed #%d (fund the bounty pool with 2 native) and #%d (a bounty of 1 native); alice, bob and carol voted yes", fund, create)
	if err := t.travel("the end of the voting period", p.VotingEnds); err != nil {
		return err
	}
	for _, idx := range []uint64{fund, create} {
		p.Index = idx
		if err := t.waitProposal(&p, "passed", time.Minute); err != nil {
			return err
		}
	}
	t.n.ok("both passed (finalised by the keeper's crank)")
	if err := t.travel("the end of the hold-up", *p.ExecuteAfter); err != nil {
		return err
	}
	for _, idx := range []uint64{fund, create} {
		if err := t.mtRun(&p, &t.carol, "dao", "execute", id, strconv.FormatUint(idx, 10)); err != nil {
			return err
		}
	}
	var b bountyView
	if err := t.mtRun(&b, &t.user, "bounty", "submit", id, "0", "--content-hash", strings.Repeat("5c", 32), "--uri", "https://example.org/work/eval-set.jsonl"); err != nil {
		return err
	}
	for _, r := range []struct {
		w      driver.Wallet
		choice string
	}{{t.alice, "approve"}, {t.bob, "approve"}, {t.carol, "reject"}} {
		if err := t.mtRun(&b, &r.w, "bounty", "review", id, "0", t.user.Pub(), r.choice); err != nil {
			return err
		}
	}
	if err := t.travel("the end of the commit window", b.CommitEnds); err != nil {
		return err
	}
	for _, r := range []struct {
		w      driver.Wallet
		choice string
	}{{t.alice, "approve"}, {t.bob, "approve"}, {t.carol, "reject"}} {
		if err := t.mtQuiet(&b, &r.w, "bounty", "review", id, "0", t.user.Pub(), r.choice); err != nil {
			return err
		}
	}
	t.n.ok("alice, bob and carol revealed their reviews")
	if err := t.travel("the end of the reveal window", b.RevealEnds); err != nil {
		return err
	}
	t.n.say("waiting for the keeper's crank to finalise the submission and settle the bounty …")
	deadline := time.Now().Add(time.Minute)
	for !b.Settled {
		if time.Now().After(deadline) {
			return fmt.Errorf("bounty 0 is not settled after a minute: the keeper's cranks did not finalise it; keeper log %s", t.keeper.LogPath())
		}
		if err := sleep(t.ctx, 300*time.Millisecond); err != nil {
			return err
		}
		if err := t.mtQuiet(&b, nil, "bounty", "show", id, "0"); err != nil {
			return err
		}
	}

	// Predict every payment from the decided accounts with clients/rules.
	bounty := pda.Bounty(chat, 0)
	subAddr := pda.Submission(bounty, t.user.PublicKey())
	sub, err := readAccount(t.ctx, t.chain, subAddr, mt.ParseAccount_Submission)
	if err != nil {
		return err
	}
	s := &Bounty{ID: 0, Reward: 1_000_000, Contributor: t.user.Name, Paid: map[string]uint64{}, Predicted: map[string]uint64{}}
	if len(b.Entries) == 1 {
		s.Outcome = b.Entries[0].Outcome
	}
	if s.Predicted[t.user.Name], err = rules.ContributorPayout(sub, b.Award.BaseUnits); err != nil {
		return err
	}
	for _, w := range []driver.Wallet{t.alice, t.bob, t.carol} {
		r, err := readAccount(t.ctx, t.chain, pda.Review(subAddr, w.PublicKey()), mt.ParseAccount_Review)
		if err != nil {
			return err
		}
		pay, err := rules.PayReview(r, sub)
		if err != nil {
			return err
		}
		s.Predicted[w.Name] = pay.Amount
	}
	nativeMint := solana.MustPublicKeyFromBase58(t.protocol.NativeMint)
	for _, w := range []driver.Wallet{t.user, t.alice, t.bob, t.carol} {
		ata := tokens.ATA(w.PublicKey(), nativeMint, solana.TokenProgramID)
		before, err := tokens.Balance(t.ctx, t.chain.RPC, ata)
		if err != nil {
			return err
		}
		if err := t.mtQuiet(nil, &w, "bounty", "claim", id, "0"); err != nil {
			return err
		}
		after, err := tokens.Balance(t.ctx, t.chain.RPC, ata)
		if err != nil {
			return err
		}
		s.Paid[w.Name] = after - before
	}
	pool, err := readAccount(t.ctx, t.chain, pda.BountyPool(chat), mt.ParseAccount_BountyPool)
	if err != nil {
		return err
	}
	vault, err := tokens.Balance(t.ctx, t.chain.RPC, pda.BountyVault(chat))
	if err != nil {
		return err
	}
	s.PoolLeft = pool.Available
	t.sum.Bounty = s
	t.n.ok("%s's work was %s: paid %s (award %s + bond back); reviewers alice %s, bob %s, carol %s", t.user.Name, s.Outcome,
		native(s.Paid[t.user.Name]), native(b.Award.BaseUnits), native(s.Paid[t.alice.Name]), native(s.Paid[t.bob.Name]), native(s.Paid[t.carol.Name]))
	t.check("bounty award", s.Outcome == "accepted" && b.Award.BaseUnits == s.Reward && s.Paid[t.user.Name] == s.Reward+sub.Bond,
		"the contributor was paid %d = award %d + bond %d", s.Paid[t.user.Name], b.Award.BaseUnits, sub.Bond)
	for _, w := range []driver.Wallet{t.user, t.alice, t.bob, t.carol} {
		t.check("bounty claim: "+w.Name, s.Paid[w.Name] == s.Predicted[w.Name], "paid %d, clients/rules predicts %d", s.Paid[w.Name], s.Predicted[w.Name])
	}
	t.check("bounty pool books", pool.Reserved == 0 && pool.Held == 0 && vault == pool.Available,
		"pool vault %d = available %d (reserved %d, held %d)", vault, pool.Available, pool.Reserved, pool.Held)
	return nil
}
