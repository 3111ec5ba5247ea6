package actions

import (
	"context"
	"fmt"

	"github.com/gagliardetto/solana-go"

	"github.com/modelcommons/modelcommons/clients/ix"
	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
	chainrules "github.com/modelcommons/modelcommons/clients/rules"
	"github.com/modelcommons/modelcommons/clients/tokens"
)

// Claiming rewards: a depositor's share of the model's revenue, paid from
// its revenue vault.

func (s *Server) rewardsEndpoints() map[string]endpoint {
	return map[string]endpoint{
		"rewards": {get: s.rewardsGet, post: s.rewardsPost, done: s.rewardsDone},
	}
}

// owed is what claim_rewards would pay v now: its settled rewards plus
// what its earning MT accrued since its last checkpoint.
func (s *Server) owed(m *modelState, v *mt.Voter) uint64 {
	total := v.RewardsOwed + chainrules.Pending(m.Model.Revenue, v)
	if total < v.RewardsOwed {
		return ^uint64(0)
	}
	return total
}

func (s *Server) rewardsLink(m *modelState) LinkedAction {
	return LinkedAction{Type: linkTransaction, Label: "Claim rewards", Href: s.url(actionPath(m.ID, "rewards"))}
}

func (s *Server) rewardsGet(_ context.Context, c *call) (*Action, error) {
	m := c.model
	r := m.Model.Revenue
	a := &Action{Icon: s.icon(m), Title: m.Title() + ": claim rewards", Label: "Claim rewards",
		Description: fmt.Sprintf("%s Paid to depositors so far: %s of %s revenue; %s claimed.",
			s.governanceSummary(m), m.Native.Format(r.DepositorsRevenue), m.Native.Format(r.TotalRevenue), m.Native.Format(r.RewardsClaimed)),
		Links: &ActionLinks{Actions: []LinkedAction{s.rewardsLink(m)}}}
	disable(a, activeBlocked(m))
	return a, nil
}

func (s *Server) rewardsPost(ctx context.Context, c *call) (*plan, error) {
	m, wallet := c.model, c.wallet
	if why := activeBlocked(m); why != "" {
		return nil, conflict("%s", why)
	}
	v, err := s.voter(ctx, m, wallet)
	if err != nil {
		return nil, err
	}
	if v == nil {
		return nil, conflict("Nothing to claim: your wallet has never deposited %s in %s. Deposit to vote and earn.", m.MT.Symbol, m.Title())
	}
	owed := s.owed(m, v)
	if owed == 0 && v.Warming > 0 && m.Now >= v.WarmAt {
		// Warmed-up MT earns from its record's next checkpoint: with nothing
		// to claim yet, the button takes that checkpoint instead.
		ix, err := ix.CheckpointVoter(m.Addr, wallet)
		if err != nil {
			return nil, fmt.Errorf("build checkpoint_voter: %w", err)
		}
		return &plan{Instructions: []solana.Instruction{ix},
			Message: fmt.Sprintf("Nothing to claim yet, but %s of your deposit finished its warm-up: this transaction starts it earning your share of the revenue of %s from now on.",
				m.MT.Format(v.Warming), m.Title())}, nil
	}
	if owed == 0 {
		why := "Nothing to claim yet: no revenue has reached your deposit since your last claim."
		if v.Warming > 0 && m.Now < v.WarmAt {
			why += fmt.Sprintf(" %s of your deposit is still warming up and starts earning %s.", m.MT.Format(v.Warming), when(v.WarmAt, m.Now))
		} else if v.Deposited == 0 {
			why = fmt.Sprintf("Nothing to claim: you have no %s deposited.", m.MT.Symbol)
		}
		return nil, conflict("%s", why)
	}
	dest := tokens.ATA(wallet, m.Native.Mint, m.Native.Program)
	ix, err := ix.ClaimRewards(wallet, m.Addr, dest, ix.NativeOf(m.Protocol))
	if err != nil {
		return nil, fmt.Errorf("build claim_rewards: %w", err)
	}
	return &plan{
		Instructions: []solana.Instruction{tokens.CreateATAIdempotent(wallet, wallet, m.Native.Mint, m.Native.Program), ix},
		Message:      fmt.Sprintf("Claim %s: your share of the revenue of %s, earned by your deposit of %s.", m.Native.Format(owed), m.Title(), m.MT.Format(v.Deposited)),
	}, nil
}

func (s *Server) rewardsDone(ctx context.Context, c *call) (*Action, error) {
	m := c.model
	v, err := s.voter(ctx, m, c.wallet)
	if err != nil {
		return nil, err
	}
	claimed := uint64(0)
	if v != nil {
		claimed = v.RewardsClaimed
	}
	return &Action{Icon: s.icon(m), Title: m.Title() + ": rewards claimed", Label: "Claimed",
		Description: fmt.Sprintf("Your deposit has earned you %s in all so far.", m.Native.Format(claimed))}, nil
}
