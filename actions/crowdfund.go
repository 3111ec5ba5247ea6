package actions

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/gagliardetto/solana-go"

	"github.com/modelcommons/modelcommons/clients/allowlist"
	"github.com/modelcommons/modelcommons/clients/ix"
	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
	chainrules "github.com/modelcommons/modelcommons/clients/rules"
	"github.com/modelcommons/modelcommons/clients/tokens"
)

// The crowdfund actions: contribute while the raise is open, finalise it
// once it is due (anyone may), then claim MT (success) or a refund (failure).

func (s *Server) crowdfundEndpoints() map[string]endpoint {
	return map[string]endpoint{
		"contribute": {get: s.contributeGet, post: s.contributePost, done: s.contributionDone},
		"claim":      {get: s.claimGet, post: s.claimPost, done: s.claimDone},
		"refund":     {get: s.refundGet, post: s.refundPost, done: s.refundDone},
		"finalize":   {get: s.finalizeGet, post: s.finalizePost, done: s.finalizeDone},
	}
}

// actionPath is the API path of a model's action.
func actionPath(id uint64, name string) string {
	return fmt.Sprintf("%s/models/%d/%s", apiPrefix, id, name)
}

// ---- shared wording ----

// raiseSummary describes where a raise stands.
func raiseSummary(m *modelState) string {
	cf := m.Model.Crowdfund
	var b strings.Builder
	fmt.Fprintf(&b, "%s raised of its %s soft cap (hard cap %s)", m.Native.Format(cf.Raised), m.Native.Format(cf.SoftCap), m.Native.Format(cf.HardCap))
	switch cf.Contributors {
	case 0:
		b.WriteString(", no contributions yet")
	case 1:
		b.WriteString(" from 1 contributor")
	default:
		fmt.Fprintf(&b, " from %d contributors", cf.Contributors)
	}
	return b.String()
}

// contributeBlocked says why contributions are refused now ("" when they are accepted).
func contributeBlocked(m *modelState) string {
	cf := m.Model.Crowdfund
	switch m.Model.Stage {
	case mt.Stage_Launching:
		return fmt.Sprintf("The crowdfund of %s has not opened yet: its launch is not finished.", m.Title())
	case mt.Stage_Active:
		return fmt.Sprintf("The raise of %s is over: it succeeded. Contributors claim their %s; buy more on the market.", m.Title(), m.MT.Symbol)
	case mt.Stage_Failed:
		return fmt.Sprintf("The raise of %s is over: it failed. Contributors take a refund of what they paid.", m.Title())
	}
	if m.Protocol.Paused {
		return "The protocol is paused: contributions are stopped for now (claims and refunds still work)."
	}
	if m.Now < cf.Start {
		return fmt.Sprintf("The crowdfund has not opened yet: it opens %s.", when(cf.Start, m.Now))
	}
	if m.Now >= cf.End {
		outcome := "it missed its soft cap, so once it is finalised contributors take refunds"
		if cf.Raised >= cf.SoftCap {
			outcome = "it reached its soft cap, so once it is finalised contributors claim their " + m.MT.Symbol
		}
		return fmt.Sprintf("The crowdfund has ended (%s): %s.", when(cf.End, m.Now), outcome)
	}
	if soldOut, err := chainrules.RaiseSoldOut(cf, m.Model.Supply.Crowdfund); err == nil && soldOut {
		return fmt.Sprintf("The crowdfund is sold out (hard cap %s reached); once it is finalised contributors claim their %s.", m.Native.Format(cf.HardCap), m.MT.Symbol)
	}
	return ""
}

// finalizeBlocked says why the raise cannot be finalised now ("" when it can).
func finalizeBlocked(m *modelState) string {
	cf := m.Model.Crowdfund
	switch m.Model.Stage {
	case mt.Stage_Launching:
		return "The crowdfund has not opened yet: there is nothing to finalise."
	case mt.Stage_Active:
		return "The raise was already finalised: it succeeded."
	case mt.Stage_Failed:
		return "The raise was already finalised: it failed."
	}
	due, err := chainrules.RaiseDue(cf, m.Now, m.Model.Supply.Crowdfund)
	if err != nil || !due {
		return fmt.Sprintf("The raise is still open until %s and not sold out: it can be finalised once it ends.", when(cf.End, m.Now))
	}
	return ""
}

// settledBlocked says why a claim (want Active) or a refund (want Failed) is not possible now.
func settledBlocked(m *modelState, want mt.Stage) string {
	if m.Model.Stage == want {
		return ""
	}
	next := "claim"
	if want == mt.Stage_Failed {
		next = "take your refund"
	}
	switch m.Model.Stage {
	case mt.Stage_Launching:
		return "The crowdfund has not opened yet."
	case mt.Stage_Funding:
		if finalizeBlocked(m) == "" {
			return fmt.Sprintf("The raise is over but has not been finalised yet: finalise it first (anyone may), then %s.", next)
		}
		return fmt.Sprintf("The raise is still open until %s.", when(m.Model.Crowdfund.End, m.Now))
	case mt.Stage_Active:
		return fmt.Sprintf("The raise succeeded: there are no refunds. Claim your %s instead.", m.MT.Symbol)
	case mt.Stage_Failed:
		return fmt.Sprintf("The raise failed: there is no %s to claim. Take a refund of what you paid instead.", m.MT.Symbol)
	}
	return "The model is in a stage this server does not know."
}

func disable(a *Action, why string) {
	if why != "" {
		a.Disabled = true
		a.Error = &ActionError{Message: why}
	}
}

// ---- contribute ----

func (s *Server) contributeLink(m *modelState) LinkedAction {
	cf := m.Model.Crowdfund
	pattern, desc := m.Native.pattern()
	p := Parameter{
		Type: "number", Name: "amount", Label: fmt.Sprintf("Amount (%s)", m.Native.Symbol), Required: true,
		Pattern: pattern, PatternDescription: desc,
	}
	if least, err := chainrules.CostOf(cf, 1); err == nil {
		p.Min = m.Native.number(least)
	}
	if cf.HardCap >= cf.Raised {
		p.Max = m.Native.number(min(cf.PerWalletCap, cf.HardCap-cf.Raised))
	}
	return LinkedAction{
		Type: linkTransaction, Label: "Contribute",
		Href:       s.url(actionPath(m.ID, "contribute") + "?amount={amount}"),
		Parameters: []Parameter{p},
	}
}

func (s *Server) contributeGet(_ context.Context, c *call) (*Action, error) {
	m := c.model
	cf := m.Model.Crowdfund
	desc := fmt.Sprintf("Buy %s in the crowdfund of %s at %s per %s. %s; open %s to %s; at most %s per wallet. "+
		"If the raise reaches its soft cap you claim your %s; if it does not, you take a full refund.",
		m.MT.Symbol, m.Title(), m.Native.Format(cf.Price), m.MT.Symbol, raiseSummary(m),
		when(cf.Start, m.Now), when(cf.End, m.Now), m.Native.Format(cf.PerWalletCap), m.MT.Symbol)
	if cf.AllowlistRoot != [32]byte{} {
		desc += " Only wallets on the crowdfund's allowlist may contribute."
	}
	a := &Action{Icon: s.icon(m), Title: m.Title() + ": crowdfund", Description: desc, Label: "Contribute",
		Links: &ActionLinks{Actions: []LinkedAction{s.contributeLink(m)}}}
	disable(a, contributeBlocked(m))
	return a, nil
}

func (s *Server) contributePost(ctx context.Context, c *call) (*plan, error) {
	m, wallet := c.model, c.wallet
	if why := contributeBlocked(m); why != "" {
		return nil, conflict("%s", why)
	}
	offered, err := c.amount(m.Native)
	if err != nil {
		return nil, err
	}
	cf := m.Model.Crowdfund
	proof, err := s.allowlistProof(m, wallet)
	if err != nil {
		return nil, err
	}
	contrib, ok, err := s.reader.Contribution(ctx, m.Addr, wallet)
	if err != nil {
		return nil, s.readFailure(err)
	}
	var paid uint64
	if ok {
		paid = contrib.Paid
	}
	fill, err := chainrules.FillFor(cf, m.Model.Supply.Crowdfund, paid, offered)
	switch {
	case errors.Is(err, chainrules.ErrHardCapReached):
		return nil, conflict("The crowdfund is sold out (hard cap %s reached).", m.Native.Format(cf.HardCap))
	case errors.Is(err, chainrules.ErrContributionSmall):
		least, _ := chainrules.CostOf(cf, 1)
		return nil, badRequest("%s buys no %s at %s each; offer at least %s.", m.Native.Format(offered), m.MT.Symbol, m.Native.Format(cf.Price), m.Native.Format(least))
	case errors.Is(err, chainrules.ErrWalletCapExceeded):
		left := uint64(0)
		if cf.PerWalletCap > paid {
			left = cf.PerWalletCap - paid
		}
		if left == 0 {
			return nil, conflict("Your wallet has reached the per-wallet cap of %s.", m.Native.Format(cf.PerWalletCap))
		}
		return nil, badRequest("That is over the per-wallet cap of %s: your wallet has paid %s, so it can contribute at most %s more.",
			m.Native.Format(cf.PerWalletCap), m.Native.Format(paid), m.Native.Format(left))
	case err != nil:
		return nil, badRequest("%s cannot be contributed: %v.", m.Native.Format(offered), err)
	}
	source := tokens.ATA(wallet, m.Native.Mint, m.Native.Program)
	balance, err := s.tokenBalance(ctx, source)
	if err != nil {
		return nil, err
	}
	if balance < fill.Cost {
		return nil, conflict("This costs %s but your wallet holds %s.", m.Native.Format(fill.Cost), m.Native.Format(balance))
	}
	ix, err := ix.Contribute(wallet, m.Addr, source, ix.NativeOf(m.Protocol), mt.ContributeArgs{Amount: offered, MinMt: 0, Proof: proof})
	if err != nil {
		return nil, fmt.Errorf("build contribute: %w", err)
	}
	msg := fmt.Sprintf("Contribute %s to the crowdfund of %s: you buy %s at %s each, yours to claim once the raise succeeds (a full refund if it fails).",
		m.Native.Format(fill.Cost), m.Title(), m.MT.Format(fill.MT), m.Native.Format(cf.Price))
	if fill.Cost < offered {
		msg += fmt.Sprintf(" Only %s is left before the hard cap, so you pay %s, not %s.", m.MT.Format(fill.MT), m.Native.Format(fill.Cost), m.Native.Format(offered))
	}
	return &plan{Instructions: []solana.Instruction{ix}, Message: msg}, nil
}

// allowlistProof proves wallet is on a restricted crowdfund's allowlist
// (empty for an open crowdfund).
func (s *Server) allowlistProof(m *modelState, wallet solana.PublicKey) ([][32]uint8, error) {
	root := m.Model.Crowdfund.AllowlistRoot
	if root == [32]byte{} {
		return [][32]uint8{}, nil
	}
	tree, ok := s.allowlists[m.ID]
	if !ok || tree.Root() != allowlist.Hash(root) {
		if ok {
			s.cfg.Logger.Warn("the allowlist given for a model does not match its on-chain root", "model", m.ID)
		}
		return nil, conflict("This crowdfund is open only to the wallets on its allowlist, and this action server does not have that list: contribute with `mt crowdfund contribute %d <amount> --allowlist <file>`.", m.ID)
	}
	proof, err := tree.ProofBytes(wallet)
	if errors.Is(err, allowlist.ErrNotListed) {
		return nil, forbidden("Your wallet %s is not on the allowlist of this crowdfund.", wallet)
	}
	if err != nil {
		return nil, fmt.Errorf("allowlist proof: %w", err)
	}
	return proof, nil
}

// position describes wallet's contribution ("" when it has none).
func (s *Server) position(ctx context.Context, m *modelState, wallet solana.PublicKey) (*mt.Contribution, string, error) {
	contrib, ok, err := s.reader.Contribution(ctx, m.Addr, wallet)
	if err != nil {
		return nil, "", s.readFailure(err)
	}
	if !ok {
		return nil, "", nil
	}
	text := fmt.Sprintf("Your wallet has paid %s for %s", m.Native.Format(contrib.Paid), m.MT.Format(contrib.Mt))
	switch {
	case contrib.Claimed:
		text += " (claimed)"
	case contrib.Refunded:
		text += " (refunded)"
	}
	return contrib, text + ".", nil
}

func (s *Server) contributionDone(ctx context.Context, c *call) (*Action, error) {
	m := c.model
	_, pos, err := s.position(ctx, m, c.wallet)
	if err != nil {
		return nil, err
	}
	if pos == "" {
		pos = "Your wallet has no contribution recorded yet."
	}
	return &Action{Icon: s.icon(m), Title: m.Title() + ": contribution recorded", Label: "Contributed",
		Description: fmt.Sprintf("%s The raise now stands at %s.", pos, raiseSummary(m))}, nil
}

// ---- claim MT ----

func (s *Server) claimLink(m *modelState) LinkedAction {
	return LinkedAction{Type: linkTransaction, Label: "Claim " + m.MT.Symbol, Href: s.url(actionPath(m.ID, "claim"))}
}

func (s *Server) claimGet(_ context.Context, c *call) (*Action, error) {
	m := c.model
	a := &Action{Icon: s.icon(m), Title: m.Title() + ": claim " + m.MT.Symbol, Label: "Claim " + m.MT.Symbol,
		Description: fmt.Sprintf("Once the raise of %s has succeeded, contributors claim the %s they bought into their wallet. %s.",
			m.Title(), m.MT.Symbol, raiseSummary(m)),
		Links: &ActionLinks{Actions: []LinkedAction{s.claimLink(m)}}}
	disable(a, settledBlocked(m, mt.Stage_Active))
	return a, nil
}

func (s *Server) claimPost(ctx context.Context, c *call) (*plan, error) {
	m, wallet := c.model, c.wallet
	if why := settledBlocked(m, mt.Stage_Active); why != "" {
		return nil, conflict("%s", why)
	}
	contrib, _, err := s.position(ctx, m, wallet)
	if err != nil {
		return nil, err
	}
	switch {
	case contrib == nil:
		return nil, conflict("Nothing to claim: your wallet %s has no contribution record for the raise of %s (it did not contribute, or already claimed and closed the record).", wallet, m.Title())
	case contrib.Mt == 0:
		return nil, conflict("Nothing to claim: your wallet %s did not contribute to the raise of %s.", wallet, m.Title())
	case contrib.Claimed:
		return nil, conflict("Nothing to claim: your %s were already claimed.", m.MT.Format(contrib.Mt))
	}
	dest := tokens.ATA(wallet, m.MT.Mint, m.MT.Program)
	ix, err := ix.ClaimMt(wallet, m.Addr, dest)
	if err != nil {
		return nil, fmt.Errorf("build claim_mt: %w", err)
	}
	closeIx, err := closeContribution(wallet, m)
	if err != nil {
		return nil, err
	}
	return &plan{
		Instructions: []solana.Instruction{tokens.CreateATAIdempotent(wallet, wallet, m.MT.Mint, m.MT.Program), ix, closeIx},
		Message: fmt.Sprintf("Claim the %s you bought in the raise of %s into your wallet; the contribution record is closed and its rent returned.",
			m.MT.Format(contrib.Mt), m.Title()),
	}, nil
}

func (s *Server) claimDone(ctx context.Context, c *call) (*Action, error) {
	m := c.model
	held, err := s.tokenBalance(ctx, tokens.ATA(c.wallet, m.MT.Mint, m.MT.Program))
	if err != nil {
		return nil, err
	}
	return &Action{Icon: s.icon(m), Title: m.Title() + ": claimed", Label: "Claimed",
		Description: fmt.Sprintf("Your wallet now holds %s. Deposit them to vote and earn a share of the model's revenue.", m.MT.Format(held))}, nil
}

// ---- refund ----

func (s *Server) refundLink(m *modelState) LinkedAction {
	return LinkedAction{Type: linkTransaction, Label: "Take refund", Href: s.url(actionPath(m.ID, "refund"))}
}

func (s *Server) refundGet(_ context.Context, c *call) (*Action, error) {
	m := c.model
	a := &Action{Icon: s.icon(m), Title: m.Title() + ": refund", Label: "Take refund",
		Description: fmt.Sprintf("If the raise of %s fails (misses its %s soft cap), every contributor takes back all they paid. %s.",
			m.Title(), m.Native.Format(m.Model.Crowdfund.SoftCap), raiseSummary(m)),
		Links: &ActionLinks{Actions: []LinkedAction{s.refundLink(m)}}}
	disable(a, settledBlocked(m, mt.Stage_Failed))
	return a, nil
}

func (s *Server) refundPost(ctx context.Context, c *call) (*plan, error) {
	m, wallet := c.model, c.wallet
	if why := settledBlocked(m, mt.Stage_Failed); why != "" {
		return nil, conflict("%s", why)
	}
	contrib, _, err := s.position(ctx, m, wallet)
	if err != nil {
		return nil, err
	}
	switch {
	case contrib == nil:
		return nil, conflict("Nothing to refund: your wallet %s has no contribution record for the raise of %s (it did not contribute, or already refunded and closed the record).", wallet, m.Title())
	case contrib.Paid == 0:
		return nil, conflict("Nothing to refund: your wallet %s did not contribute to the raise of %s.", wallet, m.Title())
	case contrib.Refunded:
		return nil, conflict("Nothing to refund: your %s were already refunded.", m.Native.Format(contrib.Paid))
	}
	dest := tokens.ATA(wallet, m.Native.Mint, m.Native.Program)
	ix, err := ix.Refund(wallet, m.Addr, dest, ix.NativeOf(m.Protocol))
	if err != nil {
		return nil, fmt.Errorf("build refund: %w", err)
	}
	closeIx, err := closeContribution(wallet, m)
	if err != nil {
		return nil, err
	}
	return &plan{
		Instructions: []solana.Instruction{tokens.CreateATAIdempotent(wallet, wallet, m.Native.Mint, m.Native.Program), ix, closeIx},
		Message: fmt.Sprintf("Take back the %s you paid into the failed raise of %s; the contribution record is closed and its rent returned.",
			m.Native.Format(contrib.Paid), m.Title()),
	}, nil
}

func (s *Server) refundDone(ctx context.Context, c *call) (*Action, error) {
	m := c.model
	held, err := s.tokenBalance(ctx, tokens.ATA(c.wallet, m.Native.Mint, m.Native.Program))
	if err != nil {
		return nil, err
	}
	return &Action{Icon: s.icon(m), Title: m.Title() + ": refunded", Label: "Refunded",
		Description: fmt.Sprintf("Refunded. Your wallet now holds %s.", m.Native.Format(held))}, nil
}

// closeContribution closes the wallet's contribution record after the
// claim or refund in the same transaction: the record has done its job,
// and its rent goes back to the wallet.
func closeContribution(wallet solana.PublicKey, m *modelState) (solana.Instruction, error) {
	ix, err := ix.CloseContribution(wallet, m.Addr)
	if err != nil {
		return nil, fmt.Errorf("build close_contribution: %w", err)
	}
	return ix, nil
}

// ---- finalise ----

func (s *Server) finalizeLink(m *modelState) LinkedAction {
	return LinkedAction{Type: linkTransaction, Label: "Finalise the raise", Href: s.url(actionPath(m.ID, "finalize"))}
}

// finalizeOutcome says what finalising will do.
func finalizeOutcome(m *modelState) string {
	cf := m.Model.Crowdfund
	if cf.Raised >= cf.SoftCap {
		return fmt.Sprintf("It reached its %s soft cap: finalising mints the fixed %s supply and opens the claims.", m.Native.Format(cf.SoftCap), m.MT.Symbol)
	}
	return fmt.Sprintf("It missed its %s soft cap: finalising opens the refunds.", m.Native.Format(cf.SoftCap))
}

func (s *Server) finalizeGet(_ context.Context, c *call) (*Action, error) {
	m := c.model
	a := &Action{Icon: s.icon(m), Title: m.Title() + ": finalise the raise", Label: "Finalise the raise",
		Description: fmt.Sprintf("Once a raise has ended (or sold out), anyone may finalise it; claims or refunds open after that. %s. %s",
			raiseSummary(m), finalizeOutcome(m)),
		Links: &ActionLinks{Actions: []LinkedAction{s.finalizeLink(m)}}}
	disable(a, finalizeBlocked(m))
	return a, nil
}

func (s *Server) finalizePost(_ context.Context, c *call) (*plan, error) {
	m := c.model
	if why := finalizeBlocked(m); why != "" {
		return nil, conflict("%s", why)
	}
	ix, err := ix.FinalizeRaise(m.Addr, ix.NativeOf(m.Protocol))
	if err != nil {
		return nil, fmt.Errorf("build finalize_raise: %w", err)
	}
	return &plan{
		Instructions: []solana.Instruction{ix},
		Message:      fmt.Sprintf("Finalise the raise of %s (you pay only the transaction fee). %s", m.Title(), finalizeOutcome(m)),
	}, nil
}

func (s *Server) finalizeDone(_ context.Context, c *call) (*Action, error) {
	m := c.model
	outcome := "The raise is finalised."
	switch m.Model.Stage {
	case mt.Stage_Active:
		outcome = fmt.Sprintf("The raise succeeded: contributors can now claim their %s.", m.MT.Symbol)
	case mt.Stage_Failed:
		outcome = "The raise failed: contributors can now take their refunds."
	}
	return &Action{Icon: s.icon(m), Title: m.Title() + ": raise finalised", Label: "Finalised", Description: outcome}, nil
}
