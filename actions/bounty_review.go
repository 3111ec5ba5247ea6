package actions

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"strings"

	"github.com/gagliardetto/solana-go"

	"github.com/modelcommons/modelcommons/clients/ix"
	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
	"github.com/modelcommons/modelcommons/clients/pda"
	chainrules "github.com/modelcommons/modelcommons/clients/rules"
	"github.com/modelcommons/modelcommons/clients/tokens"
)

// Reviewing a bounty submission from a wallet: commit a hidden choice in
// the commit window, reveal it in the reveal window.
//
// A wallet cannot derive a salt from its key as `mt bounty review` does, and
// a wallet user cannot be trusted to keep a salt between the two windows, so
// the salt is HMAC(server's review secret, submission ‖ reviewer): the same
// server reveals with one click, and nobody without the secret can tell the
// choice from the commitment. The operator can (docs/actions.md).

// MinReviewSecret is the shortest review secret New accepts, in bytes.
const MinReviewSecret = 32

// reviewChoices are the review choices by their URL name.
var reviewChoices = map[string]mt.ReviewChoice{"approve": mt.ReviewChoice_Approve, "reject": mt.ReviewChoice_Reject, "spam": mt.ReviewChoice_Spam}

func reviewChoiceName(c mt.ReviewChoice) string { return strings.ToLower(c.String()) }

// reviewSalt is the salt of reviewer's review of submission.
func (s *Server) reviewSalt(submission, reviewer solana.PublicKey) [32]byte {
	mac := hmac.New(sha256.New, s.cfg.ReviewSecret)
	mac.Write([]byte("mt-actions-review-salt"))
	mac.Write(submission[:])
	mac.Write(reviewer[:])
	var out [32]byte
	copy(out[:], mac.Sum(nil))
	return out
}

func submissionPath(id, n uint64, contributor solana.PublicKey) string {
	return fmt.Sprintf("%s/submissions/%s", bountyPath(id, n), contributor)
}

func (s *Server) reviewLink(m *modelState, b *mt.Bounty, sub *mt.Submission) LinkedAction {
	return LinkedAction{
		Type: linkTransaction, Label: "Review " + short(sub.Contributor),
		Href: s.url(submissionPath(m.ID, b.Id, sub.Contributor) + "/review/{choice}"),
		Parameters: []Parameter{{
			Type: "radio", Name: "choice", Required: true,
			Label:   fmt.Sprintf("Work of %s: %s", short(sub.Contributor), printable(sub.Uri, "(uri not printable)", 200)),
			Options: []Option{{Label: "Approve", Value: "approve"}, {Label: "Reject", Value: "reject"}, {Label: "Spam", Value: "spam"}},
		}},
	}
}

func (s *Server) revealLink(m *modelState, b *mt.Bounty, sub *mt.Submission) LinkedAction {
	return LinkedAction{Type: linkTransaction, Label: "Reveal review of " + short(sub.Contributor),
		Href: s.url(submissionPath(m.ID, b.Id, sub.Contributor) + "/reveal")}
}

// reviewTarget is the bounty and submission a review request names.
type reviewTarget struct {
	bounty     *mt.Bounty
	sub        *mt.Submission
	subAddr    solana.PublicKey
	review     *mt.Review
	reviewAddr solana.PublicKey
}

// target reads the bounty and submission in the path and, for a POST, the wallet's review of it.
func (s *Server) target(ctx context.Context, c *call) (*reviewTarget, error) {
	m := c.model
	b, err := s.bounty(ctx, m, c.r.PathValue("n"))
	if err != nil {
		return nil, err
	}
	contributor, err := solana.PublicKeyFromBase58(c.r.PathValue("contributor"))
	if err != nil {
		return nil, notFound("%q is not a wallet address.", printable(c.r.PathValue("contributor"), "?", 60))
	}
	t := &reviewTarget{bounty: b, subAddr: pda.Submission(pda.Bounty(m.Addr, b.Id), contributor)}
	if t.sub, err = readAccount(ctx, s, t.subAddr, mt.ParseAccount_Submission); err != nil {
		return nil, err
	}
	if t.sub == nil {
		return nil, notFound("%s has no submission to bounty #%d.", contributor, b.Id)
	}
	if !c.wallet.IsZero() {
		t.reviewAddr = pda.Review(t.subAddr, c.wallet)
		if t.review, err = readAccount(ctx, s, t.reviewAddr, mt.ParseAccount_Review); err != nil {
			return nil, err
		}
	}
	return t, nil
}

func (s *Server) reviewsTaken() string {
	if len(s.cfg.ReviewSecret) == 0 {
		return "This action server takes no reviews: it was started without a review secret (mt serve-actions --review-secret-file). Review with `mt bounty review`."
	}
	return ""
}

// commitBlocked says why the commit window does not take reviews ("" when it does).
func commitBlocked(m *modelState, b *mt.Bounty) string {
	if m.Now >= b.CommitEnds {
		return fmt.Sprintf("Bounty #%d stopped taking reviews %s; reviews committed before are revealed until %s.", b.Id, when(b.CommitEnds, m.Now), when(b.RevealEnds, m.Now))
	}
	return ""
}

// revealBlocked says why reviews of b are not revealed now ("" when they are).
func revealBlocked(m *modelState, b *mt.Bounty) string {
	switch {
	case m.Now < b.CommitEnds:
		return fmt.Sprintf("Reviews of bounty #%d are revealed from %s, once its commit window closes.", b.Id, when(b.CommitEnds, m.Now))
	case m.Now >= b.RevealEnds:
		return fmt.Sprintf("Bounty #%d's reveal window ended %s.", b.Id, when(b.RevealEnds, m.Now))
	}
	return ""
}

func (s *Server) reviewGet(ctx context.Context, c *call) (*Action, error) {
	m := c.model
	t, err := s.target(ctx, c)
	if err != nil {
		return nil, err
	}
	a := &Action{Icon: s.icon(m), Title: fmt.Sprintf("%s: review %s's work for bounty #%d", m.Title(), short(t.sub.Contributor), t.bounty.Id), Label: "Review",
		Description: fmt.Sprintf("Work %s (sha256 %x). %s Your choice stays hidden until you reveal it here; reviewers on the losing side of a clear outcome lose part of their %s bond, a review never revealed loses all of it.",
			printable(t.sub.Uri, "(uri not printable)", 200), t.sub.ContentHash, bountyWindows(m, t.bounty), m.Native.Format(t.bounty.Terms.ReviewBond)),
		Links: &ActionLinks{Actions: []LinkedAction{s.reviewLink(m, t.bounty, t.sub)}}}
	why := s.reviewsTaken()
	if why == "" {
		why = commitBlocked(m, t.bounty)
	}
	disable(a, why)
	return a, nil
}

func (s *Server) reviewPost(ctx context.Context, c *call) (*plan, error) {
	m, wallet := c.model, c.wallet
	choice, ok := reviewChoices[strings.ToLower(c.r.PathValue("choice"))]
	if !ok {
		return nil, badRequest("Choose approve, reject or spam (not %q).", printable(c.r.PathValue("choice"), "?", 40))
	}
	if why := s.reviewsTaken(); why != "" {
		return nil, conflict("%s", why)
	}
	t, err := s.target(ctx, c)
	if err != nil {
		return nil, err
	}
	b := t.bounty
	if why := commitBlocked(m, b); why != "" {
		return nil, conflict("%s", why)
	}
	if t.sub.Contributor.Equals(wallet) {
		return nil, conflict("You cannot review your own submission.")
	}
	if t.review != nil {
		return nil, conflict("Your wallet already committed a review of this submission; reveal it from %s.", when(b.CommitEnds, m.Now))
	}
	v, err := s.voter(ctx, m, wallet)
	if err != nil {
		return nil, err
	}
	weight := chainrules.VoteWeight(v, b.CreatedAt)
	if weight == 0 {
		return nil, conflict("None of your %s counts on bounty #%d: reviewer weight is %s deposited and warmed up before the bounty was created (%s).",
			m.MT.Symbol, b.Id, m.MT.Symbol, when(b.CreatedAt, m.Now))
	}
	source := tokens.ATA(wallet, m.Native.Mint, m.Native.Program)
	held, err := s.tokenBalance(ctx, source)
	if err != nil {
		return nil, err
	}
	if held < b.Terms.ReviewBond {
		return nil, conflict("The review bond is %s but your wallet holds %s.", m.Native.Format(b.Terms.ReviewBond), m.Native.Format(held))
	}
	commitment := chainrules.ReviewCommitment(choice, s.reviewSalt(t.subAddr, wallet), t.subAddr, wallet)
	inst, err := ix.CommitReview(wallet, m.Addr, b.Id, t.sub.Contributor, source, ix.NativeOf(m.Protocol), commitment)
	if err != nil {
		return nil, fmt.Errorf("build commit_review: %w", err)
	}
	return &plan{
		Instructions: []solana.Instruction{inst},
		Message: fmt.Sprintf("Commit a hidden review (%s) of %s's work for bounty #%d with %s, posting a bond of %s. Reveal it here between %s and %s: a review never revealed loses its bond. Your %s stay locked until then.",
			reviewChoiceName(choice), short(t.sub.Contributor), b.Id, m.MT.Format(weight), m.Native.Format(b.Terms.ReviewBond), when(b.CommitEnds, m.Now), when(b.RevealEnds, m.Now), m.MT.Symbol),
	}, nil
}

func (s *Server) revealGet(ctx context.Context, c *call) (*Action, error) {
	m := c.model
	t, err := s.target(ctx, c)
	if err != nil {
		return nil, err
	}
	a := &Action{Icon: s.icon(m), Title: fmt.Sprintf("%s: reveal your review of %s's work for bounty #%d", m.Title(), short(t.sub.Contributor), t.bounty.Id), Label: "Reveal",
		Description: fmt.Sprintf("Reveals the review you committed through this server. %s", bountyWindows(m, t.bounty)),
		Links:       &ActionLinks{Actions: []LinkedAction{s.revealLink(m, t.bounty, t.sub)}}}
	why := s.reviewsTaken()
	if why == "" {
		why = revealBlocked(m, t.bounty)
	}
	disable(a, why)
	return a, nil
}

func (s *Server) revealPost(ctx context.Context, c *call) (*plan, error) {
	m, wallet := c.model, c.wallet
	if why := s.reviewsTaken(); why != "" {
		return nil, conflict("%s", why)
	}
	t, err := s.target(ctx, c)
	if err != nil {
		return nil, err
	}
	b := t.bounty
	if why := revealBlocked(m, b); why != "" {
		return nil, conflict("%s", why)
	}
	if t.review == nil {
		return nil, conflict("Your wallet committed no review of this submission.")
	}
	if t.review.Revealed {
		return nil, conflict("Your review (%s) is already revealed.", reviewChoiceName(t.review.Choice))
	}
	salt := s.reviewSalt(t.subAddr, wallet)
	var choice *mt.ReviewChoice
	for _, ch := range []mt.ReviewChoice{mt.ReviewChoice_Approve, mt.ReviewChoice_Reject, mt.ReviewChoice_Spam} {
		if chainrules.ReviewCommitment(ch, salt, t.subAddr, wallet) == t.review.Commitment {
			choice = &ch
			break
		}
	}
	if choice == nil {
		return nil, conflict("Your review was not committed through this action server (or its review secret changed): reveal it with the tool that committed it.")
	}
	inst, err := ix.RevealReview(wallet, m.Addr, b.Id, t.sub.Contributor, *choice, salt)
	if err != nil {
		return nil, fmt.Errorf("build reveal_review: %w", err)
	}
	return &plan{
		Instructions: []solana.Instruction{inst},
		Message: fmt.Sprintf("Reveal your review (%s) of %s's work for bounty #%d. The submission is decided from %s.",
			reviewChoiceName(*choice), short(t.sub.Contributor), b.Id, when(b.RevealEnds, m.Now)),
	}, nil
}

func (s *Server) reviewDone(ctx context.Context, c *call) (*Action, error) {
	m := c.model
	t, err := s.target(ctx, c)
	if err != nil {
		return nil, err
	}
	what := "committed (hidden until you reveal it)"
	if t.review != nil && t.review.Revealed {
		what = "revealed: " + reviewChoiceName(t.review.Choice)
	}
	tally := t.sub.Tally
	return &Action{Icon: s.icon(m), Title: fmt.Sprintf("%s: review of %s's work for bounty #%d", m.Title(), short(t.sub.Contributor), t.bounty.Id), Label: "Done",
		Description: fmt.Sprintf("Your review is %s. The submission has %d reviews committed and %d revealed. %s", what, tally.Commits, tally.Reveals, bountyWindows(m, t.bounty))}, nil
}
