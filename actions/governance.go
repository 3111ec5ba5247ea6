package actions

import (
	"context"
	"encoding/hex"
	"fmt"
	"math/big"
	"sort"
	"strconv"
	"strings"

	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/rpc"

	"github.com/modelcommons/modelcommons/clients/ix"
	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
	"github.com/modelcommons/modelcommons/clients/pda"
	chainrules "github.com/modelcommons/modelcommons/clients/rules"
	"github.com/modelcommons/modelcommons/clients/tokens"
)

// The governance actions: deposit MT to vote (and earn), withdraw it when
// it is not locked by an open vote, and vote yes / no / abstain on each
// open proposal with the whole deposit.

func (s *Server) governanceEndpoints() map[string]endpoint {
	return map[string]endpoint{
		"deposit":  {get: s.depositGet, post: s.depositPost, done: s.depositDone},
		"withdraw": {get: s.withdrawGet, post: s.withdrawPost, done: s.depositDone},
	}
}

// activeBlocked says why an action of an active model is not possible ("" when it is).
func activeBlocked(m *modelState) string {
	switch m.Model.Stage {
	case mt.Stage_Active:
		return ""
	case mt.Stage_Failed:
		return fmt.Sprintf("The raise of %s failed: it has no %s holders, only refunds.", m.Title(), m.MT.Symbol)
	}
	return fmt.Sprintf("%s is not active yet: its raise has to succeed first.", m.Title())
}

// voter reads wallet's voter record (nil when it has none).
func (s *Server) voter(ctx context.Context, m *modelState, wallet solana.PublicKey) (*mt.Voter, error) {
	return readAccount(ctx, s, pda.Voter(m.Addr, wallet), mt.ParseAccount_Voter)
}

// readAccount reads and decodes one of mt_treasury's accounts; nil when it does not exist.
func readAccount[T any](ctx context.Context, s *Server, addr solana.PublicKey, parse func([]byte) (*T, error)) (*T, error) {
	data, owner, ok, err := s.reader.Raw(ctx, addr)
	if err != nil {
		return nil, unavailable(err)
	}
	if !ok {
		return nil, nil
	}
	v, err := parse(data)
	if err != nil || !owner.Equals(mt.ProgramID) {
		return nil, versionMismatch(fmt.Errorf("decode %s (owner %s): %v", addr, owner, err))
	}
	return v, nil
}

func (s *Server) governanceSummary(m *modelState) string {
	r := m.Model.Revenue
	return fmt.Sprintf("%s holders deposit %s to vote on proposals and to share %s of the revenue of every paid query to the model. Deposited now: %s.",
		m.MT.Symbol, m.MT.Symbol, percent(uint64(r.DepositorShareBps)), m.MT.Format(r.TotalDeposited+r.Warming))
}

// ---- deposit / withdraw ----

func (s *Server) amountLink(m *modelState, label, name string, t token, what string) LinkedAction {
	pattern, desc := t.pattern()
	return LinkedAction{
		Type: linkTransaction, Label: label,
		Href: s.url(actionPath(m.ID, name) + "?amount={amount}"),
		Parameters: []Parameter{{
			Type: "number", Name: "amount", Label: fmt.Sprintf("%s (%s)", what, t.Symbol), Required: true,
			Pattern: pattern, PatternDescription: desc, Min: t.number(1),
		}},
	}
}

func (s *Server) depositLink(m *modelState) LinkedAction {
	return s.amountLink(m, "Deposit to vote", "deposit", m.MT, "Amount to deposit")
}

func (s *Server) withdrawLink(m *modelState) LinkedAction {
	return s.amountLink(m, "Withdraw", "withdraw", m.MT, "Amount to withdraw")
}

func (s *Server) depositGet(_ context.Context, c *call) (*Action, error) {
	m := c.model
	a := &Action{Icon: s.icon(m), Title: m.Title() + ": deposit to vote", Label: "Deposit to vote",
		Description: fmt.Sprintf("%s Deposited %s earns revenue and votes on proposals created after a warm-up of %s (never on proposals that already exist); %s that voted stays locked until that vote ends, otherwise you withdraw whenever you like.",
			s.governanceSummary(m), m.MT.Symbol, span(secs(m.Model.Revenue.WarmupSecs)), m.MT.Symbol),
		Links: &ActionLinks{Actions: []LinkedAction{s.depositLink(m)}}}
	disable(a, activeBlocked(m))
	return a, nil
}

func (s *Server) depositPost(ctx context.Context, c *call) (*plan, error) {
	m, wallet := c.model, c.wallet
	amount, err := c.mtAmount()
	if err != nil {
		return nil, err
	}
	source := tokens.ATA(wallet, m.MT.Mint, m.MT.Program)
	held, err := s.tokenBalance(ctx, source)
	if err != nil {
		return nil, err
	}
	if held < amount {
		return nil, conflict("You asked to deposit %s but your wallet holds %s.", m.MT.Format(amount), m.MT.Format(held))
	}
	v, err := s.voter(ctx, m, wallet)
	if err != nil {
		return nil, err
	}
	total := amount
	restart := ""
	if v != nil {
		total += v.Deposited
		if v.Warming > 0 && m.Now < v.WarmAt {
			restart = fmt.Sprintf(" Adding to a deposit that is still warming up restarts the warm-up of its %s.", m.MT.Format(v.Warming))
		}
	}
	ix, err := ix.DepositMt(wallet, m.Addr, source, amount)
	if err != nil {
		return nil, fmt.Errorf("build deposit_mt: %w", err)
	}
	return &plan{
		Instructions: []solana.Instruction{ix},
		Message: fmt.Sprintf("Deposit %s in %s to vote and earn (your deposit becomes %s). It votes at once and starts earning revenue after its warm-up of %s.%s",
			m.MT.Format(amount), m.Title(), m.MT.Format(total), span(secs(m.Model.Revenue.WarmupSecs)), restart),
	}, nil
}

// mtAmount is the MT a deposit or a withdrawal moves; both need an active model.
func (c *call) mtAmount() (uint64, error) {
	if why := activeBlocked(c.model); why != "" {
		return 0, conflict("%s", why)
	}
	return c.amount(c.model.MT)
}

func (s *Server) withdrawGet(_ context.Context, c *call) (*Action, error) {
	m := c.model
	a := &Action{Icon: s.icon(m), Title: m.Title() + ": withdraw deposited " + m.MT.Symbol, Label: "Withdraw",
		Description: fmt.Sprintf("Take deposited %s back to your wallet. %s that voted on a proposal stays locked until that vote ends. %s",
			m.MT.Symbol, m.MT.Symbol, s.governanceSummary(m)),
		Links: &ActionLinks{Actions: []LinkedAction{s.withdrawLink(m)}}}
	disable(a, activeBlocked(m))
	return a, nil
}

func (s *Server) withdrawPost(ctx context.Context, c *call) (*plan, error) {
	m, wallet := c.model, c.wallet
	amount, err := c.mtAmount()
	if err != nil {
		return nil, err
	}
	v, err := s.voter(ctx, m, wallet)
	if err != nil {
		return nil, err
	}
	if v == nil || v.Deposited == 0 {
		return nil, conflict("Your wallet has no %s deposited in %s.", m.MT.Symbol, m.Title())
	}
	if amount > v.Deposited {
		return nil, badRequest("You have only %s deposited; withdraw at most that.", m.MT.Format(v.Deposited))
	}
	if m.Now < v.LockedUntil {
		return nil, conflict("Your deposit is locked until %s: it voted on a proposal that is still taking votes.", when(v.LockedUntil, m.Now))
	}
	dest := tokens.ATA(wallet, m.MT.Mint, m.MT.Program)
	ix, err := ix.WithdrawMt(wallet, m.Addr, dest, amount)
	if err != nil {
		return nil, fmt.Errorf("build withdraw_mt: %w", err)
	}
	msg := fmt.Sprintf("Withdraw %s of your deposit in %s to your wallet", m.MT.Format(amount), m.Title())
	if left := v.Deposited - amount; left > 0 {
		msg += fmt.Sprintf("; %s stay deposited.", m.MT.Format(left))
	} else {
		msg += "; nothing stays deposited, so you no longer vote or earn."
	}
	if owed := s.owed(m, v); owed > 0 {
		msg += fmt.Sprintf(" Your %s of unclaimed rewards stay claimable.", m.Native.Format(owed))
	}
	return &plan{
		Instructions: []solana.Instruction{tokens.CreateATAIdempotent(wallet, wallet, m.MT.Mint, m.MT.Program), ix},
		Message:      msg,
	}, nil
}

func (s *Server) depositDone(ctx context.Context, c *call) (*Action, error) {
	m := c.model
	v, err := s.voter(ctx, m, c.wallet)
	if err != nil {
		return nil, err
	}
	held, err := s.tokenBalance(ctx, tokens.ATA(c.wallet, m.MT.Mint, m.MT.Program))
	if err != nil {
		return nil, err
	}
	var deposited uint64
	if v != nil {
		deposited = v.Deposited
	}
	return &Action{Icon: s.icon(m), Title: m.Title() + ": deposit updated", Label: "Done",
		Description: fmt.Sprintf("You have %s deposited (it votes on proposals created once warmed up) and %s in your wallet.", m.MT.Format(deposited), m.MT.Format(held))}, nil
}

// ---- proposals ----

// choices are the vote choices by their URL name.
var choices = map[string]mt.VoteChoice{"yes": mt.VoteChoice_Yes, "no": mt.VoteChoice_No, "abstain": mt.VoteChoice_Abstain}

func choiceName(c mt.VoteChoice) string {
	switch c {
	case mt.VoteChoice_Yes:
		return "yes"
	case mt.VoteChoice_No:
		return "no"
	}
	return "abstain"
}

func proposalPath(id, index uint64) string {
	return fmt.Sprintf("%s/models/%d/proposals/%d", apiPrefix, id, index)
}

// maxProposalScan bounds how many of the newest proposals are read to find the open ones.
const maxProposalScan = 200

// openProposals reads the newest proposals and returns those taking votes, newest first.
func (s *Server) openProposals(ctx context.Context, m *modelState) ([]*mt.Proposal, error) {
	count := m.Model.ProposalCount
	first := uint64(0)
	if count > maxProposalScan {
		first = count - maxProposalScan
	}
	var open []*mt.Proposal
	for start := first; start < count; start += 100 {
		end := min(start+100, count)
		addrs := make([]solana.PublicKey, 0, end-start)
		for i := start; i < end; i++ {
			addrs = append(addrs, pda.Proposal(m.Addr, i))
		}
		res, err := s.cfg.RPC.GetMultipleAccountsWithOpts(ctx, addrs, &rpc.GetMultipleAccountsOpts{Encoding: solana.EncodingBase64, Commitment: s.cfg.Commitment})
		if err != nil {
			return nil, unavailable(fmt.Errorf("read proposals: %w", err))
		}
		for i, acc := range res.Value {
			if acc == nil || !acc.Owner.Equals(mt.ProgramID) {
				continue
			}
			p, err := mt.ParseAccount_Proposal(acc.Data.GetBinary())
			if err != nil {
				return nil, versionMismatch(fmt.Errorf("decode proposal %s: %w", addrs[i], err))
			}
			if p.State == mt.ProposalState_Voting && m.Now < p.VotingEnds {
				open = append(open, p)
			}
		}
	}
	sort.Slice(open, func(i, j int) bool { return open[i].Index > open[j].Index })
	return open, nil
}

// proposal reads proposal index of the model (a 404 when there is none).
func (s *Server) proposal(ctx context.Context, m *modelState, indexText string) (*mt.Proposal, error) {
	index, err := strconv.ParseUint(indexText, 10, 64)
	if err != nil {
		return nil, notFound("There is no proposal %q: proposals are numbered 0, 1, 2, …", indexText)
	}
	p, err := readAccount(ctx, s, pda.Proposal(m.Addr, index), mt.ParseAccount_Proposal)
	if err != nil {
		return nil, err
	}
	if p == nil {
		return nil, notFound("%s has no proposal #%d.", m.Title(), index)
	}
	return p, nil
}

// proposalTitle says what a proposal does, in a line.
func proposalTitle(m *modelState, p *mt.Proposal) string {
	var what string
	switch a := p.Action.(type) {
	case *mt.ProposalAction_TransferNative:
		what = fmt.Sprintf("pay %s from the model treasury to %s", m.Native.Format(a.Amount), short(a.Destination))
	case *mt.ProposalAction_TransferMt:
		what = fmt.Sprintf("pay %s from the model's %s treasury to %s", m.MT.Format(a.Amount), m.MT.Symbol, short(a.Destination))
	case *mt.ProposalAction_SetGovernance:
		r := a.Rules
		what = fmt.Sprintf("change governance: quorum %s, approval %s, voting %s, hold-up %s, %s to propose",
			percent(uint64(r.QuorumBps)), percent(uint64(r.ThresholdBps)), span(secs(r.VotingPeriodSecs)), span(secs(r.HoldUpSecs)), m.MT.Format(r.MinProposeMt))
	case *mt.ProposalAction_SetRevenueRules:
		what = fmt.Sprintf("give depositors %s of revenue, with a deposit warm-up of %s", percent(uint64(a.DepositorShareBps)), span(secs(a.WarmupSecs)))
	case *mt.ProposalAction_SetPrice:
		what = fmt.Sprintf("set the query price to %s per 1k input and %s per 1k output tokens", m.Native.Format(a.InputPer1k), m.Native.Format(a.OutputPer1k))
	case *mt.ProposalAction_Signal:
		what = "a signal vote (no on-chain change)"
	case *mt.ProposalAction_FundBountyPool:
		what = fmt.Sprintf("move %s from the treasury into the bounty pool", m.Native.Format(a.Amount))
	case *mt.ProposalAction_CreateBounty:
		what = fmt.Sprintf("create a bounty with a reward of %s", m.Native.Format(a.Terms.Reward))
	default:
		what = "an action this server does not know"
	}
	return fmt.Sprintf("Proposal #%d: %s", p.Index, what)
}

func short(k solana.PublicKey) string {
	s := k.String()
	return s[:4] + "…" + s[len(s)-4:]
}

// tallies describes a proposal's votes against its quorum and threshold.
func tallies(m *modelState, p *mt.Proposal) string {
	share := func(v uint64) string {
		decided := p.Yes + p.No
		if decided == 0 {
			return ""
		}
		bps := new(big.Int).Div(new(big.Int).Mul(big.NewInt(int64(v)), big.NewInt(10_000)), new(big.Int).SetUint64(decided))
		return " (" + percent(bps.Uint64()) + ")"
	}
	turnout := p.Yes + p.No + p.Abstain
	quorum := chainrules.QuorumNeeded(p).Uint64() // at most the circulating supply
	votes := "votes"
	if p.Votes == 1 {
		votes = "vote"
	}
	text := fmt.Sprintf("Yes %s%s, no %s%s, abstain %s; %d %s. Turnout %s of the %s quorum (%s of %s circulating); it passes with at least %s yes among yes and no.",
		m.MT.Format(p.Yes), share(p.Yes), m.MT.Format(p.No), share(p.No), m.MT.Format(p.Abstain), p.Votes, votes,
		m.MT.Format(turnout), m.MT.Format(quorum), percent(uint64(p.QuorumBps)), m.MT.Format(p.CirculatingSupply), percent(uint64(p.ThresholdBps)))
	if o := chainrules.OutcomeNow(p); o == chainrules.Passed {
		text += " As it stands, it passes"
	} else {
		text += " As it stands, it " + strings.Replace(string(o), "failed", "fails", 1)
	}
	if chainrules.Decided(p) != "" {
		text += ", and no further vote can change that"
	}
	return text + "."
}

// proposalBlocked says why votes are not taken ("" when they are).
func proposalBlocked(m *modelState, p *mt.Proposal) string {
	if why := activeBlocked(m); why != "" {
		return why
	}
	switch p.State {
	case mt.ProposalState_Voting:
		if m.Now >= p.VotingEnds {
			return fmt.Sprintf("Voting on proposal #%d is closed: it ended %s and awaits finalisation.", p.Index, when(p.VotingEnds, m.Now))
		}
		return ""
	case mt.ProposalState_Passed:
		return fmt.Sprintf("Voting on proposal #%d is closed: it passed and executes from %s.", p.Index, when(p.ExecuteAfter, m.Now))
	case mt.ProposalState_Failed:
		return fmt.Sprintf("Voting on proposal #%d is closed: it failed.", p.Index)
	case mt.ProposalState_Executed:
		return fmt.Sprintf("Voting on proposal #%d is closed: it passed and was executed.", p.Index)
	case mt.ProposalState_Cancelled:
		return fmt.Sprintf("Proposal #%d was cancelled by its proposer.", p.Index)
	}
	return fmt.Sprintf("Proposal #%d is in a state this server does not know.", p.Index)
}

func (s *Server) proposalDescription(m *modelState, p *mt.Proposal) string {
	desc := fmt.Sprintf("%s Voting ends %s; a passed proposal executes after a hold-up of %s. You vote with all the %s you have deposited, which stays locked until voting ends.",
		tallies(m, p), when(p.VotingEnds, m.Now), span(secs(p.HoldUpSecs)), m.MT.Symbol)
	if p.Uri != "" {
		desc += " Document: " + printable(p.Uri, "(not printable)", 200)
		if p.ContentHash != [32]byte{} {
			desc += " (sha256 " + hex.EncodeToString(p.ContentHash[:]) + ")"
		}
		desc += "."
	}
	return desc
}

// voteLink is one button per open proposal for the overview, with a choice selector.
func (s *Server) voteLink(m *modelState, p *mt.Proposal) LinkedAction {
	return LinkedAction{
		Type: linkTransaction, Label: fmt.Sprintf("Vote on #%d", p.Index),
		Href: s.url(proposalPath(m.ID, p.Index) + "/{choice}"),
		Parameters: []Parameter{{
			Type: "radio", Name: "choice", Label: proposalTitle(m, p), Required: true,
			Options: []Option{{Label: "Yes", Value: "yes"}, {Label: "No", Value: "no"}, {Label: "Abstain", Value: "abstain"}},
		}},
	}
}

// proposalGet is GET …/proposals/{index}[/{choice}]: the proposal, its
// tallies, and its three buttons.
func (s *Server) proposalGet(ctx context.Context, c *call) (*Action, error) {
	m := c.model
	p, err := s.proposal(ctx, m, c.r.PathValue("index"))
	if err != nil {
		return nil, err
	}
	base := proposalPath(m.ID, p.Index)
	a := &Action{Icon: s.icon(m), Title: m.Title() + ": " + proposalTitle(m, p), Label: "Vote",
		Description: s.proposalDescription(m, p),
		Links: &ActionLinks{Actions: []LinkedAction{
			{Type: linkTransaction, Label: "Vote yes", Href: s.url(base + "/yes")},
			{Type: linkTransaction, Label: "Vote no", Href: s.url(base + "/no")},
			{Type: linkTransaction, Label: "Abstain", Href: s.url(base + "/abstain")},
		}}}
	if why := proposalBlocked(m, p); why != "" {
		disable(a, why)
		a.Label = "Voting closed"
	}
	return a, nil
}

func (s *Server) votePost(ctx context.Context, c *call) (*plan, error) {
	m, wallet := c.model, c.wallet
	choice, ok := choices[strings.ToLower(c.r.PathValue("choice"))]
	if !ok {
		return nil, badRequest("Choose yes, no or abstain (not %q).", c.r.PathValue("choice"))
	}
	p, err := s.proposal(ctx, m, c.r.PathValue("index"))
	if err != nil {
		return nil, err
	}
	if why := proposalBlocked(m, p); why != "" {
		return nil, conflict("%s", why)
	}
	v, err := s.voter(ctx, m, wallet)
	if err != nil {
		return nil, err
	}
	if v == nil || v.Deposited == 0 {
		return nil, conflict("Your wallet has no %s deposited, so it has no votes: deposit %s first (Deposit to vote); it votes on proposals created after its warm-up.", m.MT.Symbol, m.MT.Symbol)
	}
	weight := chainrules.VoteWeight(v, p.CreatedAt)
	if weight == 0 {
		return nil, conflict("None of your %s deposited counts on proposal #%d: votes are a snapshot of %s deposited and warmed up before the proposal was created. It votes on proposals created from %s.",
			m.MT.Format(v.Deposited), p.Index, m.MT.Symbol, when(chainrules.VotesFrom(v), m.Now))
	}
	proposalAddr, voterAddr := pda.Proposal(m.Addr, p.Index), pda.Voter(m.Addr, wallet)
	record, err := readAccount(ctx, s, pda.Vote(proposalAddr, voterAddr), mt.ParseAccount_VoteRecord)
	if err != nil {
		return nil, err
	}
	if record != nil && record.Weight > 0 {
		return nil, conflict("Your wallet already voted %s on proposal #%d with %s.", choiceName(record.Choice), p.Index, m.MT.Format(record.Weight))
	}
	ix, err := ix.CastVote(wallet, m.Addr, proposalAddr, choice)
	if err != nil {
		return nil, fmt.Errorf("build cast_vote: %w", err)
	}
	return &plan{
		Instructions: []solana.Instruction{ix},
		Message: fmt.Sprintf("Vote %s on %s of %s with %s (your %s deposited before it was created). All %s you deposited stay locked until voting ends %s.",
			choiceName(choice), strings.TrimPrefix(proposalTitle(m, p), "Proposal "), m.Title(), m.MT.Format(weight), m.MT.Symbol, m.MT.Format(v.Deposited), when(p.VotingEnds, m.Now)),
	}, nil
}

func (s *Server) voteDone(ctx context.Context, c *call) (*Action, error) {
	m := c.model
	p, err := s.proposal(ctx, m, c.r.PathValue("index"))
	if err != nil {
		return nil, err
	}
	return &Action{Icon: s.icon(m), Title: m.Title() + ": vote cast on #" + strconv.FormatUint(p.Index, 10), Label: "Voted",
		Description: "Your vote is counted. " + tallies(m, p)}, nil
}
