package actions

import (
	"context"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/rpc"

	"github.com/modelcommons/modelcommons/clients/ix"
	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
	"github.com/modelcommons/modelcommons/clients/pda"
	"github.com/modelcommons/modelcommons/clients/tokens"
)

// The bounty actions: see a bounty and what is open on it now, and submit
// work to it with the bond from the wallet's native account. Reviews are
// in bounty_review.go.

// bountyEndpoints are the bounty actions, by path under …/bounties/{n}.
func (s *Server) bountyEndpoints() map[string]endpoint {
	return map[string]endpoint{
		"":        {get: s.bountyGet},
		"/submit": {get: s.submitGet, post: s.submitPost, done: s.submitDone},
		"/submissions/{contributor}/review/{choice}": {get: s.reviewGet, post: s.reviewPost, done: s.reviewDone},
		"/submissions/{contributor}/reveal":          {get: s.revealGet, post: s.revealPost, done: s.reviewDone},
	}
}

func bountyPath(id, n uint64) string {
	return fmt.Sprintf("%s/models/%d/bounties/%d", apiPrefix, id, n)
}

// maxBountyScan bounds how many of the newest bounties the overview reads.
const maxBountyScan = 100

// maxReviewLinks bounds the submissions a bounty's action offers to review.
const maxReviewLinks = 10

// bounty reads bounty n of the model (a 404 when there is none).
func (s *Server) bounty(ctx context.Context, m *modelState, nText string) (*mt.Bounty, error) {
	n, err := strconv.ParseUint(nText, 10, 64)
	if err != nil {
		return nil, notFound("There is no bounty %q: bounties are numbered 0, 1, 2, …", nText)
	}
	b, err := readAccount(ctx, s, pda.Bounty(m.Addr, n), mt.ParseAccount_Bounty)
	if err != nil {
		return nil, err
	}
	if b == nil {
		return nil, notFound("%s has no bounty #%d.", m.Title(), n)
	}
	return b, nil
}

// openBounties reads the newest bounties and returns those not past their
// reveal window, newest first.
func (s *Server) openBounties(ctx context.Context, m *modelState) ([]*mt.Bounty, error) {
	pool, err := readAccount(ctx, s, pda.BountyPool(m.Addr), mt.ParseAccount_BountyPool)
	if err != nil || pool == nil || pool.BountyCount == 0 {
		return nil, err
	}
	first := uint64(0)
	if pool.BountyCount > maxBountyScan {
		first = pool.BountyCount - maxBountyScan
	}
	addrs := make([]solana.PublicKey, 0, pool.BountyCount-first)
	for n := pool.BountyCount; n > first; n-- {
		addrs = append(addrs, pda.Bounty(m.Addr, n-1))
	}
	res, err := s.cfg.RPC.GetMultipleAccountsWithOpts(ctx, addrs, &rpc.GetMultipleAccountsOpts{Encoding: solana.EncodingBase64, Commitment: s.cfg.Commitment})
	if err != nil {
		return nil, unavailable(fmt.Errorf("read bounties: %w", err))
	}
	var open []*mt.Bounty
	for i, acc := range res.Value {
		if acc == nil || !acc.Owner.Equals(mt.ProgramID) {
			continue
		}
		b, err := mt.ParseAccount_Bounty(acc.Data.GetBinary())
		if err != nil {
			return nil, versionMismatch(fmt.Errorf("decode bounty %s: %w", addrs[i], err))
		}
		if m.Now < b.RevealEnds {
			open = append(open, b)
		}
	}
	return open, nil
}

// submissions lists the submissions to bounty b (getProgramAccounts on the
// submission discriminator and its bounty field), oldest first.
func (s *Server) submissions(ctx context.Context, m *modelState, b *mt.Bounty) ([]*mt.Submission, error) {
	addr := pda.Bounty(m.Addr, b.Id)
	res, err := s.cfg.RPC.GetProgramAccountsWithOpts(ctx, mt.ProgramID, &rpc.GetProgramAccountsOpts{
		Encoding:   solana.EncodingBase64,
		Commitment: s.cfg.Commitment,
		Filters: []rpc.RPCFilter{
			{Memcmp: &rpc.RPCFilterMemcmp{Offset: 0, Bytes: solana.Base58(mt.Account_Submission[:])}},
			{Memcmp: &rpc.RPCFilterMemcmp{Offset: 8, Bytes: solana.Base58(addr[:])}},
		},
	})
	if err != nil {
		return nil, unavailable(fmt.Errorf("list submissions of bounty %d: %w", b.Id, err))
	}
	out := make([]*mt.Submission, 0, len(res))
	for _, a := range res {
		sub, err := mt.ParseAccount_Submission(a.Account.Data.GetBinary())
		if err != nil {
			return nil, versionMismatch(fmt.Errorf("decode submission %s: %w", a.Pubkey, err))
		}
		out = append(out, sub)
	}
	for i := 1; i < len(out); i++ { // few submissions: insertion sort by time, then wallet
		for j := i; j > 0 && (out[j].SubmittedAt < out[j-1].SubmittedAt ||
			out[j].SubmittedAt == out[j-1].SubmittedAt && out[j].Contributor.String() < out[j-1].Contributor.String()); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out, nil
}

// bountySummary says what a bounty pays and asks, in a line.
func bountySummary(m *modelState, b *mt.Bounty) string {
	t := b.Terms
	return fmt.Sprintf("Bounty #%d: reward %s shared by the accepted submissions; %d of %d submissions taken; bond %s per submission, %s per review; task sha256 %s.",
		b.Id, m.Native.Format(t.Reward), b.Submissions, t.MaxSubmissions, m.Native.Format(t.SubmissionBond), m.Native.Format(t.ReviewBond), hex.EncodeToString(t.TaskHash[:]))
}

// bountyWindows says when each of a bounty's windows closes.
func bountyWindows(m *modelState, b *mt.Bounty) string {
	return fmt.Sprintf("Submissions until %s; reviews are committed until %s and revealed until %s.",
		when(b.SubmitEnds, m.Now), when(b.CommitEnds, m.Now), when(b.RevealEnds, m.Now))
}

// submitBlocked says why b takes no submission now ("" when it does).
func submitBlocked(m *modelState, b *mt.Bounty) string {
	if why := activeBlocked(m); why != "" {
		return why
	}
	if m.Now >= b.SubmitEnds {
		return fmt.Sprintf("Bounty #%d stopped taking submissions %s.", b.Id, when(b.SubmitEnds, m.Now))
	}
	if b.Submissions >= b.Terms.MaxSubmissions {
		return fmt.Sprintf("Bounty #%d is full: it took its %d submissions.", b.Id, b.Terms.MaxSubmissions)
	}
	return ""
}

func (s *Server) submitLink(m *modelState, b *mt.Bounty) LinkedAction {
	return LinkedAction{
		Type: linkTransaction, Label: fmt.Sprintf("Submit to bounty #%d", b.Id),
		Href: s.url(bountyPath(m.ID, b.Id) + "/submit?content_hash={content_hash}&uri={uri}"),
		Parameters: []Parameter{
			{Type: "text", Name: "content_hash", Label: "sha256 of your work (64 hex digits)", Required: true,
				Pattern: "^[0-9a-fA-F]{64}$", PatternDescription: "64 hexadecimal digits"},
			{Type: "url", Name: "uri", Label: "Where your work is published", Required: true},
		},
	}
}

// bountyLinks are the overview's buttons for the open bounties: a submit
// form for each taking submissions.
func (s *Server) bountyLinks(m *modelState, open []*mt.Bounty) []LinkedAction {
	var links []LinkedAction
	for _, b := range open {
		if submitBlocked(m, b) == "" {
			links = append(links, s.submitLink(m, b))
		}
	}
	return links
}

// bountiesSummary mentions the open bounties and where each is.
func (s *Server) bountiesSummary(m *modelState, open []*mt.Bounty) string {
	if len(open) == 0 {
		return ""
	}
	parts := make([]string, len(open))
	for i, b := range open {
		stage := "taking submissions"
		switch {
		case m.Now >= b.CommitEnds:
			stage = "revealing reviews"
		case m.Now >= b.SubmitEnds:
			stage = "taking reviews"
		}
		parts[i] = fmt.Sprintf("#%d (%s reward, %s: %s)", b.Id, m.Native.Format(b.Terms.Reward), stage, s.url(bountyPath(m.ID, b.Id)))
	}
	return " Open bounties: " + strings.Join(parts, "; ") + "."
}

// bountyGet is GET …/bounties/{n}: the bounty with the actions open now:
// the submit form while it takes submissions, a review (commit) choice per
// submission in the commit window, a reveal per submission in the reveal window.
func (s *Server) bountyGet(ctx context.Context, c *call) (*Action, error) {
	m := c.model
	b, err := s.bounty(ctx, m, c.r.PathValue("n"))
	if err != nil {
		return nil, err
	}
	a := &Action{Icon: s.icon(m), Title: fmt.Sprintf("%s: bounty #%d", m.Title(), b.Id), Label: "Bounty",
		Description: bountySummary(m, b) + " " + bountyWindows(m, b)}
	var links []LinkedAction
	var why string
	switch {
	case m.Now < b.SubmitEnds:
		if why = submitBlocked(m, b); why == "" {
			links = append(links, s.submitLink(m, b))
		}
	case m.Now < b.RevealEnds:
		subs, err := s.submissions(ctx, m, b)
		if err != nil {
			return nil, err
		}
		if len(subs) == 0 {
			why = fmt.Sprintf("Bounty #%d has no submissions to review.", b.Id)
		}
		for i, sub := range subs {
			if i == maxReviewLinks {
				a.Description += fmt.Sprintf(" %d more submissions are reviewed at …/bounties/%d/submissions/<contributor>/review/<choice>.", len(subs)-i, b.Id)
				break
			}
			if m.Now < b.CommitEnds {
				links = append(links, s.reviewLink(m, b, sub))
			} else {
				links = append(links, s.revealLink(m, b, sub))
			}
		}
		if why == "" && m.Now < b.CommitEnds {
			a.Description += " Reviewers commit a hidden choice now and reveal it in the reveal window, with their MT deposited and warmed up before the bounty was created."
		}
	default:
		why = fmt.Sprintf("Bounty #%d is closed: its reveal window ended %s.", b.Id, when(b.RevealEnds, m.Now))
	}
	if len(links) > 0 {
		a.Links = &ActionLinks{Actions: links}
	}
	disable(a, why)
	return a, nil
}

// ---- submit ----

// contentHash reads the content_hash parameter: 64 hex digits, not all zero.
func (c *call) contentHash() ([32]byte, error) {
	var h [32]byte
	text, _ := c.param("content_hash")
	text = strings.TrimSpace(text)
	raw, err := hex.DecodeString(text)
	if err != nil || len(raw) != 32 {
		return h, badRequest("The content_hash must be the sha256 of your work as 64 hexadecimal digits (got %q).", printable(text, "?", 80))
	}
	copy(h[:], raw)
	if h == ([32]byte{}) {
		return h, badRequest("The content_hash cannot be all zeros.")
	}
	return h, nil
}

// uri reads the uri parameter: where the work is published.
func (c *call) uri() (string, error) {
	text, _ := c.param("uri")
	text = strings.TrimSpace(text)
	if text == "" {
		return "", badRequest("Enter the uri where your work is published.")
	}
	if len(text) > int(mt.MAX_SUBMISSION_URI_LEN) {
		return "", badRequest("The uri is %d bytes; at most %d.", len(text), mt.MAX_SUBMISSION_URI_LEN)
	}
	if printable(text, "", int(mt.MAX_SUBMISSION_URI_LEN)) == "" {
		return "", badRequest("The uri has characters that cannot be shown.")
	}
	return text, nil
}

func (s *Server) submitGet(ctx context.Context, c *call) (*Action, error) {
	m := c.model
	b, err := s.bounty(ctx, m, c.r.PathValue("n"))
	if err != nil {
		return nil, err
	}
	a := &Action{Icon: s.icon(m), Title: fmt.Sprintf("%s: submit to bounty #%d", m.Title(), b.Id), Label: "Submit",
		Description: bountySummary(m, b) + " " + bountyWindows(m, b) + " Whoever submits a hash first holds it: submit before you publish the work widely, and name your wallet in it.",
		Links:       &ActionLinks{Actions: []LinkedAction{s.submitLink(m, b)}}}
	disable(a, submitBlocked(m, b))
	return a, nil
}

func (s *Server) submitPost(ctx context.Context, c *call) (*plan, error) {
	m, wallet := c.model, c.wallet
	hash, err := c.contentHash()
	if err != nil {
		return nil, err
	}
	uri, err := c.uri()
	if err != nil {
		return nil, err
	}
	b, err := s.bounty(ctx, m, c.r.PathValue("n"))
	if err != nil {
		return nil, err
	}
	if why := submitBlocked(m, b); why != "" {
		return nil, conflict("%s", why)
	}
	bounty := pda.Bounty(m.Addr, b.Id)
	if sub, err := readAccount(ctx, s, pda.Submission(bounty, wallet), mt.ParseAccount_Submission); err != nil {
		return nil, err
	} else if sub != nil {
		return nil, conflict("Your wallet already submitted to bounty #%d (one submission per wallet).", b.Id)
	}
	if _, _, taken, err := s.reader.Raw(ctx, pda.WorkClaim(m.Addr, hash)); err != nil {
		return nil, unavailable(err)
	} else if taken {
		return nil, conflict("This work (its content hash) was already submitted in %s: submit new work.", m.Title())
	}
	if need := b.Terms.MinReputation; need > 0 {
		rep, err := readAccount(ctx, s, pda.Reputation(m.Addr, wallet), mt.ParseAccount_Reputation)
		if err != nil {
			return nil, err
		}
		if rep == nil || rep.Accepted < need {
			return nil, conflict("Bounty #%d takes submissions from wallets with %d accepted submissions in %s.", b.Id, need, m.Title())
		}
	}
	source := tokens.ATA(wallet, m.Native.Mint, m.Native.Program)
	if _, _, ok, err := s.reader.Raw(ctx, source); err != nil {
		return nil, unavailable(err)
	} else if !ok {
		return nil, conflict("Your wallet has no %s account: the bond of %s is paid from it; receive %s first.", m.Native.Symbol, m.Native.Format(b.Terms.SubmissionBond), m.Native.Symbol)
	}
	held, err := s.tokenBalance(ctx, source)
	if err != nil {
		return nil, err
	}
	if held < b.Terms.SubmissionBond {
		return nil, conflict("The bond is %s but your wallet holds %s.", m.Native.Format(b.Terms.SubmissionBond), m.Native.Format(held))
	}
	inst, err := ix.SubmitWork(wallet, m.Addr, b.Id, source, ix.NativeOf(m.Protocol), mt.SubmitWorkArgs{ContentHash: hash, Uri: uri})
	if err != nil {
		return nil, fmt.Errorf("build submit_work: %w", err)
	}
	return &plan{
		Instructions: []solana.Instruction{inst},
		Message: fmt.Sprintf("Submit your work (sha256 %s…) to bounty #%d of %s, posting a bond of %s. Reviewers decide it by %s; the bond comes back unless they call it spam.",
			hex.EncodeToString(hash[:4]), b.Id, m.Title(), m.Native.Format(b.Terms.SubmissionBond), when(b.RevealEnds, m.Now)),
	}, nil
}

func (s *Server) submitDone(ctx context.Context, c *call) (*Action, error) {
	m := c.model
	b, err := s.bounty(ctx, m, c.r.PathValue("n"))
	if err != nil {
		return nil, err
	}
	return &Action{Icon: s.icon(m), Title: fmt.Sprintf("%s: submitted to bounty #%d", m.Title(), b.Id), Label: "Submitted",
		Description: fmt.Sprintf("Your work is submission %d of %d to bounty #%d. %s", b.Submissions, b.Terms.MaxSubmissions, b.Id, bountyWindows(m, b))}, nil
}
