// Package dao is the `mt dao` command group: MT holders deposit MT into
// their voter record (voting power, and a share of revenue once warmed up),
// withdraw it when no vote locks it, propose (treasury transfers, rule and
// price changes, signals), vote, and anyone finalises and executes passed
// proposals after the hold-up. Every step checks what the program checks
// first and says when it will be possible.
package dao

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/urfave/cli/v2"

	"github.com/modelcommons/modelcommons/cli/duration"
	"github.com/modelcommons/modelcommons/cli/model"
	"github.com/modelcommons/modelcommons/cli/output"
	"github.com/modelcommons/modelcommons/cli/session"
	"github.com/modelcommons/modelcommons/clients/amount"
	"github.com/modelcommons/modelcommons/clients/explain"
	"github.com/modelcommons/modelcommons/clients/ix"
	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
	"github.com/modelcommons/modelcommons/clients/pda"
	"github.com/modelcommons/modelcommons/clients/rules"
	"github.com/modelcommons/modelcommons/clients/tokens"
)

// Limits mirrored from mt_treasury.
const (
	MaxProposalURILen       = 200
	MaxGovernancePeriodSecs = 365 * 24 * 60 * 60
	MaxQueryPricePer1k      = ^uint64(0) / 1_000_000
)

// Command is `mt dao`.
func Command() *cli.Command {
	return &cli.Command{
		Name:  "dao",
		Usage: "a model's mini-DAO: deposit MT to vote and earn, propose, vote, finalise, execute",
		Subcommands: []*cli.Command{
			depositCommand(), withdrawCommand(), checkpointCommand(), proposeCommand(), voteCommand(), finalizeCommand(), executeCommand(), cancelCommand(), showCommand(),
		},
	}
}

// env is what every dao command reads first.
type env struct{ *model.Env }

func load(c *cli.Context, names ...string) (*env, []string, error) {
	e, args, err := model.LoadEnvNow(c, names...)
	if err != nil {
		return nil, nil, err
	}
	return &env{e}, args, nil
}

func at(unix int64) string { return time.Unix(unix, 0).UTC().Format(time.RFC3339) }

func (e *env) requireActive() error {
	if e.Model.Stage == mt.Stage_Active {
		return nil
	}
	return explain.Newf(fmt.Sprintf("see `mt model show %d`", e.ID), "model %d is not active (%s): its DAO starts when its raise succeeds", e.ID, model.StageName(e.Model.Stage))
}

func (e *env) proposal(ctx context.Context, index uint64) (*mt.Proposal, error) {
	addr := pda.Proposal(e.Addr, index)
	data, owner, ok, err := e.Reader.Raw(ctx, addr)
	if err != nil {
		return nil, err
	}
	if !ok || !owner.Equals(mt.ProgramID) {
		return nil, explain.Newf(fmt.Sprintf("list them with `mt dao show %d`", e.ID), "model %d has no proposal %d (it has %d)", e.ID, index, e.Model.ProposalCount)
	}
	p, err := mt.ParseAccount_Proposal(data)
	if err != nil {
		return nil, fmt.Errorf("decode proposal %s: %w", addr, err)
	}
	return p, nil
}

// loadProposal reads the env and the number of the proposal named after the
// model id; rest are the arguments after it.
func loadProposal(c *cli.Context, names ...string) (e *env, index uint64, rest []string, err error) {
	e, args, err := load(c, append([]string{"proposal"}, names...)...)
	if err != nil {
		return nil, 0, nil, err
	}
	if index, err = parseIndex(args[0]); err != nil {
		return nil, 0, nil, err
	}
	return e, index, args[1:], nil
}

func parseIndex(s string) (uint64, error) {
	v, err := strconv.ParseUint(strings.TrimPrefix(s, "#"), 10, 64)
	if err != nil {
		return 0, explain.Newf("give the proposal's number, e.g. 0 (see `mt dao show <model-id>`)", "proposal %q is not a number", s)
	}
	return v, nil
}

// VoterView is a holder's voter record as the commands print it.
type VoterView struct {
	Model     uint64           `json:"model"`
	Owner     solana.PublicKey `json:"owner"`
	Address   solana.PublicKey `json:"address"`
	Deposited amount.Tokens    `json:"deposited"`
	Warming   amount.Tokens    `json:"warming"`
	WarmAt    *time.Time       `json:"warm_at,omitempty"`
	// VoteWeightNow is what the record votes with on a proposal created
	// now (MT deposited and warmed up; see rules.VoteWeight); VotesFrom is
	// when all of it votes, if that is later.
	VoteWeightNow  amount.Tokens `json:"vote_weight_now"`
	VotesFrom      *time.Time    `json:"votes_from,omitempty"`
	LockedUntil    *time.Time    `json:"locked_until,omitempty"`
	RewardsOwed    amount.Tokens `json:"rewards_owed"`
	RewardsPending amount.Tokens `json:"rewards_pending"`
	RewardsClaimed amount.Tokens `json:"rewards_claimed"`
	Signature      string        `json:"signature,omitempty"`
}

// Text renders the voter record.
func (v VoterView) Text() string {
	fs := output.Fields{
		{Label: "Model", Value: v.Model},
		{Label: "Holder", Value: v.Owner},
		{Label: "Deposited", Value: v.Deposited.String() + " MT"},
		{Label: "Vote weight", Value: v.VoteWeightNow.String() + " MT on proposals created now (deposited and warmed up)"},
	}
	if v.VotesFrom != nil {
		fs = append(fs, output.Field{Label: "Votes fully", Value: "on proposals created from " + v.VotesFrom.Format(time.RFC3339)})
	}
	if v.Warming.Base > 0 && v.WarmAt != nil {
		fs = append(fs, output.Field{Label: "Warming up", Value: fmt.Sprintf("%s MT, earning from %s", v.Warming, v.WarmAt.Format(time.RFC3339))})
	}
	if v.LockedUntil != nil {
		fs = append(fs, output.Field{Label: "Locked until", Value: v.LockedUntil.Format(time.RFC3339) + " (a vote or proposal of yours is open)"})
	}
	fs = append(fs,
		output.Field{Label: "Rewards", Value: fmt.Sprintf("%s claimable, %s claimed (native tokens)", amount.Of(v.RewardsOwed.Base+v.RewardsPending.Base, v.RewardsOwed.Decimals), v.RewardsClaimed)},
	)
	if v.Signature != "" {
		fs = append(fs, output.Field{Label: "Signature", Value: v.Signature})
	}
	return fs.Text()
}

// VoterViewOf builds the view of owner's record (zero when none).
func (e *env) VoterViewOf(ctx context.Context, owner solana.PublicKey) (VoterView, *mt.Voter, error) {
	v := VoterView{Model: e.ID, Owner: owner, Address: pda.Voter(e.Addr, owner), Deposited: model.MT(0), Warming: model.MT(0), VoteWeightNow: model.MT(0),
		RewardsOwed: e.Native(0), RewardsPending: e.Native(0), RewardsClaimed: e.Native(0)}
	m, err := e.Reader.Model(ctx, e.ID)
	if err != nil {
		return v, nil, err
	}
	rec, ok, err := e.Reader.Voter(ctx, e.Addr, owner)
	if err != nil || !ok {
		return v, nil, err
	}
	v.Deposited, v.Warming = model.MT(rec.Deposited), model.MT(rec.Warming)
	v.VoteWeightNow = model.MT(rules.VoteWeight(rec, e.Now.Unix()))
	if from := rules.VotesFrom(rec); from > e.Now.Unix() {
		t := time.Unix(from, 0).UTC()
		v.VotesFrom = &t
	}
	if rec.Warming > 0 {
		t := time.Unix(rec.WarmAt, 0).UTC()
		v.WarmAt = &t
	}
	if rec.LockedUntil > e.Now.Unix() {
		t := time.Unix(rec.LockedUntil, 0).UTC()
		v.LockedUntil = &t
	}
	v.RewardsOwed, v.RewardsClaimed = e.Native(rec.RewardsOwed), e.Native(rec.RewardsClaimed)
	pending := rules.Pending(m.Revenue, rec)
	// MT that has finished warming up starts earning at its next checkpoint;
	// until then it has earned nothing, exactly as on chain.
	v.RewardsPending = e.Native(pending)
	return v, rec, nil
}

// voterResult is the result of a command that changed owner's voter
// record: the record as it is now.
func (e *env) voterResult(ctx context.Context, owner solana.PublicKey) func(solana.Signature) (any, error) {
	return func(sig solana.Signature) (any, error) {
		v, _, err := e.VoterViewOf(ctx, owner)
		v.Signature = sig.String()
		return v, err
	}
}

// proposalResult is the result of a command that changed a proposal: the
// proposal as it is now.
func (e *env) proposalResult(ctx context.Context, index uint64) func(solana.Signature) (any, error) {
	return func(sig solana.Signature) (any, error) {
		v, _, err := e.proposalView(ctx, index)
		v.Signature = sig.String()
		return v, err
	}
}

func (e *env) labels() map[solana.PublicKey]string {
	vs := pda.Vaults(e.Addr)
	return map[solana.PublicKey]string{
		pda.Protocol(): "protocol", e.Addr: "model", e.Model.MtMint: "MT mint", e.Protocol.NativeMint: "native mint", pda.FeeVault(): "protocol fee vault",
		vs.Deposit: "deposit vault (voters' MT)", vs.Treasury: "treasury vault", vs.Revenue: "revenue vault", vs.Rewards: "rewards vault (MT treasury)",
		vs.Sale: "sale vault (MT)", vs.Creator: "creator vault (MT)", vs.Liquidity: "liquidity vault (MT)", vs.LiquidityNative: "market native vault",
	}
}

func depositCommand() *cli.Command {
	return &cli.Command{
		Name:      "deposit",
		Usage:     "deposit MT into your voter record: after the warm-up, votes on proposals created from then on and a share of revenue",
		ArgsUsage: "<model-id> <amount>",
		Flags:     session.WriteFlags(),
		Action: func(c *cli.Context) error {
			e, args, err := load(c, "amount")
			if err != nil {
				return err
			}
			if err := e.requireActive(); err != nil {
				return err
			}
			owner, err := e.Session.Signer()
			if err != nil {
				return err
			}
			units, err := session.ParseAmountArg(args[0], rules.MTDecimals, "MT", "give the MT to deposit, e.g. 100")
			if err != nil {
				return err
			}
			source := tokens.ATA(owner.PublicKey(), e.Model.MtMint, solana.Token2022ProgramID)
			bal, err := e.Reader.TokenBalance(c.Context, source)
			if err != nil {
				return err
			}
			if bal < units {
				return explain.Newf("claim or buy MT first (`mt crowdfund claim`, `mt market buy`), or deposit less",
					"depositing %s MT needs them in your MT account %s, which holds %s", model.MT(units), source, model.MT(bal))
			}
			ix, err := ix.DepositMt(owner.PublicKey(), e.Addr, source, units)
			if err != nil {
				return fmt.Errorf("build deposit_mt: %w", err)
			}
			labels := e.labels()
			labels[source] = "your MT account"
			labels[pda.Voter(e.Addr, owner.PublicKey())] = "your voter record"
			return e.Session.Submit(c.Context, session.Tx{What: fmt.Sprintf("deposit %s MT into model %d's DAO", model.MT(units), e.ID), Instructions: []solana.Instruction{ix}, Labels: labels}, e.voterResult(c.Context, owner.PublicKey()))
		},
	}
}

func withdrawCommand() *cli.Command {
	return &cli.Command{
		Name:      "withdraw",
		Usage:     "withdraw deposited MT (an amount, or all) once no open vote locks it",
		ArgsUsage: "<model-id> <amount|all>",
		Flags:     session.WriteFlags(),
		Action: func(c *cli.Context) error {
			e, args, err := load(c, "amount")
			if err != nil {
				return err
			}
			owner, err := e.Session.Signer()
			if err != nil {
				return err
			}
			rec, ok, err := e.Reader.Voter(c.Context, e.Addr, owner.PublicKey())
			if err != nil {
				return err
			}
			if !ok || rec.Deposited == 0 {
				return explain.Newf(fmt.Sprintf("deposit first: `mt dao deposit %d <amount>`", e.ID), "you have no MT deposited in model %d", e.ID)
			}
			units, err := session.ParseAmountOrAll(args[0], rec.Deposited, rules.MTDecimals, "MT")
			if err != nil {
				return err
			}
			if units == 0 || units > rec.Deposited {
				return explain.Newf(fmt.Sprintf("withdraw at most %s (or `all`)", model.MT(rec.Deposited)), "you have %s MT deposited; cannot withdraw %s", model.MT(rec.Deposited), model.MT(units))
			}
			if e.Now.Unix() < rec.LockedUntil {
				return explain.Newf("withdraw after that", "your deposit is locked until %s: a proposal you voted on or made is still open", at(rec.LockedUntil))
			}
			dest := tokens.ATA(owner.PublicKey(), e.Model.MtMint, solana.Token2022ProgramID)
			ix, err := ix.WithdrawMt(owner.PublicKey(), e.Addr, dest, units)
			if err != nil {
				return fmt.Errorf("build withdraw_mt: %w", err)
			}
			ixs := []solana.Instruction{tokens.CreateATAIdempotent(owner.PublicKey(), owner.PublicKey(), e.Model.MtMint, solana.Token2022ProgramID), ix}
			labels := e.labels()
			labels[dest] = "your MT account"
			labels[pda.Voter(e.Addr, owner.PublicKey())] = "your voter record"
			return e.Session.Submit(c.Context, session.Tx{What: fmt.Sprintf("withdraw %s MT from model %d's DAO", model.MT(units), e.ID), Instructions: ixs, Labels: labels}, e.voterResult(c.Context, owner.PublicKey()))
		},
	}
}

// ProposalView is a proposal as the commands print it.
type ProposalView struct {
	Model        uint64           `json:"model"`
	Index        uint64           `json:"index"`
	Address      solana.PublicKey `json:"address"`
	Proposer     solana.PublicKey `json:"proposer"`
	Action       string           `json:"action"`
	ActionDetail any              `json:"action_detail"`
	ContentHash  string           `json:"content_hash,omitempty"`
	URI          string           `json:"uri,omitempty"`
	State        string           `json:"state"`
	VotingEnds   time.Time        `json:"voting_ends"`
	ExecuteAfter *time.Time       `json:"execute_after,omitempty"`
	Yes          amount.Tokens    `json:"yes"`
	No           amount.Tokens    `json:"no"`
	Abstain      amount.Tokens    `json:"abstain"`
	Votes        uint32           `json:"votes"`
	Circulating  amount.Tokens    `json:"circulating"`
	QuorumBps    uint16           `json:"quorum_bps"`
	ThresholdBps uint16           `json:"threshold_bps"`
	QuorumMet    bool             `json:"quorum_met"`
	ThresholdMet bool             `json:"threshold_met"`
	// Next says what can be done with the proposal now.
	Next      string `json:"next"`
	Signature string `json:"signature,omitempty"`
}

// Text renders the proposal.
func (v ProposalView) Text() string {
	fs := output.Fields{
		{Label: "Proposal", Value: fmt.Sprintf("%d of model %d (%s)", v.Index, v.Model, v.Address)},
		{Label: "Proposer", Value: v.Proposer},
		{Label: "Action", Value: v.Action},
	}
	if v.URI != "" || v.ContentHash != "" {
		fs = append(fs, output.Field{Label: "Document", Value: strings.TrimSpace(v.URI + " " + v.ContentHash)})
	}
	fs = append(fs,
		output.Field{Label: "State", Value: v.State},
		output.Field{Label: "Votes", Value: fmt.Sprintf("yes %s, no %s, abstain %s MT (%d votes)", v.Yes, v.No, v.Abstain, v.Votes)},
		output.Field{Label: "Quorum", Value: fmt.Sprintf("%d bps of %s circulating MT: %v", v.QuorumBps, v.Circulating, map[bool]string{true: "met", false: "not met"}[v.QuorumMet])},
		output.Field{Label: "Threshold", Value: fmt.Sprintf("%d bps of yes+no: %v", v.ThresholdBps, map[bool]string{true: "met", false: "not met"}[v.ThresholdMet])},
		output.Field{Label: "Voting ends", Value: v.VotingEnds.Format(time.RFC3339)},
	)
	if v.ExecuteAfter != nil {
		fs = append(fs, output.Field{Label: "Executable from", Value: v.ExecuteAfter.Format(time.RFC3339)})
	}
	fs = append(fs, output.Field{Label: "Next", Value: v.Next})
	if v.Signature != "" {
		fs = append(fs, output.Field{Label: "Signature", Value: v.Signature})
	}
	return fs.Text()
}

func stateName(s mt.ProposalState) string { return strings.ToLower(s.String()) }

// describeAction names an action for people and gives its fields for JSON.
func (e *env) describeAction(a mt.ProposalAction) (string, any) {
	switch x := a.(type) {
	case *mt.ProposalAction_TransferNative:
		return fmt.Sprintf("transfer %s native tokens from the treasury to %s", e.Native(x.Amount), x.Destination), map[string]any{"kind": "transfer-native", "destination": x.Destination, "amount": e.Native(x.Amount)}
	case *mt.ProposalAction_TransferMt:
		return fmt.Sprintf("transfer %s MT from the rewards vault to %s", model.MT(x.Amount), x.Destination), map[string]any{"kind": "transfer-mt", "destination": x.Destination, "amount": model.MT(x.Amount)}
	case *mt.ProposalAction_SetGovernance:
		r := x.Rules
		return fmt.Sprintf("set governance: quorum %d bps, threshold %d bps, voting %s, hold-up %s, minimum to propose %s MT",
				r.QuorumBps, r.ThresholdBps, duration.Format(r.VotingPeriodSecs), duration.Format(r.HoldUpSecs), model.MT(r.MinProposeMt)),
			map[string]any{"kind": "set-governance", "quorum_bps": r.QuorumBps, "threshold_bps": r.ThresholdBps, "voting_period_secs": r.VotingPeriodSecs, "hold_up_secs": r.HoldUpSecs, "min_propose": model.MT(r.MinProposeMt)}
	case *mt.ProposalAction_SetRevenueRules:
		return fmt.Sprintf("set revenue rules: %d bps to depositors, warm-up %s", x.DepositorShareBps, duration.Format(x.WarmupSecs)),
			map[string]any{"kind": "set-revenue-rules", "depositor_share_bps": x.DepositorShareBps, "warmup_secs": x.WarmupSecs}
	case *mt.ProposalAction_SetPrice:
		return fmt.Sprintf("set the query price: %s per 1k input tokens, %s per 1k output tokens", e.Native(x.InputPer1k), e.Native(x.OutputPer1k)),
			map[string]any{"kind": "set-price", "input_per_1k": e.Native(x.InputPer1k), "output_per_1k": e.Native(x.OutputPer1k)}
	}
	return "signal (the document is the decision)", map[string]any{"kind": "signal"}
}

func (e *env) proposalView(ctx context.Context, index uint64) (ProposalView, *mt.Proposal, error) {
	p, err := e.proposal(ctx, index)
	if err != nil {
		return ProposalView{}, nil, err
	}
	action, detail := e.describeAction(p.Action)
	v := ProposalView{
		Model: e.ID, Index: index, Address: pda.Proposal(e.Addr, index), Proposer: p.Proposer, Action: action, ActionDetail: detail,
		URI: p.Uri, State: stateName(p.State), VotingEnds: time.Unix(p.VotingEnds, 0).UTC(),
		Yes: model.MT(p.Yes), No: model.MT(p.No), Abstain: model.MT(p.Abstain), Votes: p.Votes,
		Circulating: model.MT(p.CirculatingSupply), QuorumBps: p.QuorumBps, ThresholdBps: p.ThresholdBps,
		QuorumMet: rules.QuorumMet(p), ThresholdMet: rules.ThresholdMet(p),
	}
	if p.ContentHash != [32]byte{} {
		v.ContentHash = hex.EncodeToString(p.ContentHash[:])
	}
	if p.ExecuteAfter != 0 {
		t := time.Unix(p.ExecuteAfter, 0).UTC()
		v.ExecuteAfter = &t
	}
	now := e.Now.Unix()
	id, ix := e.ID, index
	switch p.State {
	case mt.ProposalState_Voting:
		switch {
		case now < p.VotingEnds && rules.Decided(p) == "":
			v.Next = fmt.Sprintf("voting open until %s: `mt dao vote %d %d yes|no|abstain`", at(p.VotingEnds), id, ix)
		default:
			outcome := rules.OutcomeNow(p)
			if d := rules.Decided(p); d != "" && now < p.VotingEnds {
				outcome = d
			}
			v.Next = fmt.Sprintf("decided (%s): anyone may finalise it: `mt dao finalize %d %d`", outcome, id, ix)
		}
	case mt.ProposalState_Passed:
		expires := p.ExecuteAfter + mt.EXECUTION_WINDOW_SECS
		switch {
		case now < p.ExecuteAfter:
			v.Next = fmt.Sprintf("passed; executable from %s until %s: `mt dao execute %d %d`", at(p.ExecuteAfter), at(expires), id, ix)
		case now < expires:
			v.Next = fmt.Sprintf("passed; anyone may execute it until %s: `mt dao execute %d %d`", at(expires), id, ix)
		default:
			v.Next = fmt.Sprintf("expired: passed but not executed by %s; propose it again", at(expires))
		}
	case mt.ProposalState_Executed:
		v.Next = "executed at " + at(p.ExecutedAt)
	case mt.ProposalState_Failed:
		v.Next = "failed: nothing to do"
	case mt.ProposalState_Cancelled:
		v.Next = "cancelled by its proposer"
	}
	return v, p, nil
}

func proposeCommand() *cli.Command {
	return &cli.Command{
		Name:      "propose",
		Usage:     "propose one action: --transfer-native, --transfer-mt, --set-governance, --set-revenue, --set-price or --signal",
		ArgsUsage: "<model-id>",
		Flags: session.WriteFlags(
			&cli.StringFlag{Name: "transfer-native", Usage: "pay native tokens from the model treasury to this wallet (with --amount)"},
			&cli.StringFlag{Name: "transfer-mt", Usage: "pay MT from the rewards vault to this wallet (with --amount)"},
			&cli.StringFlag{Name: "amount", Usage: "amount to transfer"},
			&cli.BoolFlag{Name: "set-governance", Usage: "change governance rules (with --quorum-bps, --threshold-bps, --voting-period, --hold-up, --min-propose; unset ones keep their value)"},
			&cli.Uint64Flag{Name: "quorum-bps"},
			&cli.Uint64Flag{Name: "threshold-bps"},
			&cli.StringFlag{Name: "voting-period"},
			&cli.StringFlag{Name: "hold-up"},
			&cli.StringFlag{Name: "min-propose", Usage: "MT"},
			&cli.BoolFlag{Name: "set-revenue", Usage: "change revenue rules (with --depositor-share-bps and/or --warmup)"},
			&cli.Uint64Flag{Name: "depositor-share-bps"},
			&cli.StringFlag{Name: "warmup", Usage: "how long new deposits wait before earning"},
			&cli.BoolFlag{Name: "set-price", Usage: "change the per-query price (with --input-price and --output-price, native tokens per 1k tokens)"},
			&cli.StringFlag{Name: "input-price"},
			&cli.StringFlag{Name: "output-price"},
			&cli.BoolFlag{Name: "signal", Usage: "a decision with no on-chain effect: its document (--uri and --content-file or --content-hash) is the decision"},
			&cli.StringFlag{Name: "uri", Usage: "where the proposal's document is published (at most 200 bytes)"},
			&cli.StringFlag{Name: "content-file", Usage: "the proposal's document; its SHA-256 goes on chain"},
			&cli.StringFlag{Name: "content-hash", Usage: "SHA-256 of the proposal's document, in hex"},
		),
		Action: runPropose,
	}
}

func runPropose(c *cli.Context) error {
	e, _, err := load(c)
	if err != nil {
		return err
	}
	if err := e.requireActive(); err != nil {
		return err
	}
	proposer, err := e.Session.Signer()
	if err != nil {
		return err
	}
	f := session.Settings{C: c}
	kinds := 0
	for _, k := range []string{"transfer-native", "transfer-mt", "set-governance", "set-revenue", "set-price", "signal"} {
		if c.IsSet(k) {
			kinds++
		}
	}
	if kinds != 1 {
		return explain.New("give exactly one action", "one of --transfer-native <wallet>, --transfer-mt <wallet>, --set-governance, --set-revenue, --set-price or --signal")
	}
	var args mt.CreateProposalArgs
	args.Uri = c.String("uri")
	if len(args.Uri) > MaxProposalURILen {
		f.Problems.Addf("--uri is %d bytes; at most %d", len(args.Uri), MaxProposalURILen)
	}
	switch {
	case c.IsSet("content-file"):
		data, err := os.ReadFile(c.String("content-file"))
		if err != nil {
			f.Problems.Addf("--content-file: %v", err)
		}
		args.ContentHash = sha256.Sum256(data)
	case c.IsSet("content-hash"):
		b, err := hex.DecodeString(strings.TrimPrefix(c.String("content-hash"), "0x"))
		if err != nil || len(b) != 32 {
			f.Problems.Add("--content-hash must be 32 bytes in hex (64 digits)")
		}
		copy(args.ContentHash[:], b)
	}
	span := func(flag string, current int64) int64 {
		if !c.IsSet(flag) {
			return current
		}
		v, err := duration.ParsePeriod(flag, c.String(flag), e.Protocol.MinPeriodSecs)
		if err != nil {
			f.Problems.Add(err.Error())
		} else if v > MaxGovernancePeriodSecs {
			f.Problems.Addf("--%s %s is longer than governance may set (%s)", flag, duration.Format(v), duration.Format(MaxGovernancePeriodSecs))
		}
		return v
	}
	var dest solana.PublicKey // the token account a transfer pays into
	var destWallet, destMint solana.PublicKey
	var destProgram solana.PublicKey
	switch {
	case c.IsSet("transfer-native"), c.IsSet("transfer-mt"):
		native := c.IsSet("transfer-native")
		flag, unit, decimals := "transfer-mt", "MT", uint8(rules.MTDecimals)
		destMint, destProgram = e.Model.MtMint, solana.Token2022ProgramID
		if native {
			flag, unit, decimals = "transfer-native", "native tokens", e.NativeDecimals
			destMint, destProgram = e.Protocol.NativeMint, e.Protocol.NativeTokenProgram
		}
		if destWallet, err = session.ParsePubkey("--"+flag, c.String(flag)); err != nil {
			f.Problems.Add(err.Error())
		}
		var units uint64
		if !c.IsSet("amount") {
			f.Problems.Add("--amount is required for a transfer")
		} else if units, err = session.ParseAmount("--amount", c.String("amount"), decimals, unit); err != nil {
			f.Problems.Add(err.Error())
		} else if units == 0 {
			f.Problems.Add("--amount must be greater than zero")
		}
		dest = tokens.ATA(destWallet, destMint, destProgram)
		if native {
			args.Action = &mt.ProposalAction_TransferNative{Destination: dest, Amount: units}
		} else {
			args.Action = &mt.ProposalAction_TransferMt{Destination: dest, Amount: units}
		}
	case c.IsSet("set-governance"):
		g := e.Model.Governance
		g.QuorumBps = f.Bps("quorum-bps", g.QuorumBps)
		g.ThresholdBps = f.Bps("threshold-bps", g.ThresholdBps)
		g.VotingPeriodSecs = span("voting-period", g.VotingPeriodSecs)
		g.HoldUpSecs = span("hold-up", g.HoldUpSecs)
		g.MinProposeMt = f.Amount("min-propose", g.MinProposeMt, rules.MTDecimals, "MT")
		if g.QuorumBps == 0 || g.ThresholdBps == 0 {
			f.Problems.Add("the quorum and the approval threshold must be greater than zero")
		}
		if g.MinProposeMt > e.Model.Supply.HardSupply {
			f.Problems.Add("--min-propose is above the hard supply")
		}
		if g == e.Model.Governance {
			f.Problems.Add("nothing to change: give at least one of --quorum-bps, --threshold-bps, --voting-period, --hold-up, --min-propose")
		}
		args.Action = &mt.ProposalAction_SetGovernance{Rules: g}
	case c.IsSet("set-revenue"):
		share := f.Bps("depositor-share-bps", e.Model.Revenue.DepositorShareBps)
		warmup := span("warmup", e.Model.Revenue.WarmupSecs)
		if !c.IsSet("depositor-share-bps") && !c.IsSet("warmup") {
			f.Problems.Add("nothing to change: give --depositor-share-bps and/or --warmup")
		}
		args.Action = &mt.ProposalAction_SetRevenueRules{DepositorShareBps: share, WarmupSecs: warmup}
	case c.IsSet("set-price"):
		var prices [2]uint64
		for i, flag := range []string{"input-price", "output-price"} {
			if !c.IsSet(flag) {
				f.Problems.Add("--" + flag + " is required with --set-price")
				continue
			}
			v, err := session.ParseAmount("--"+flag, c.String(flag), e.NativeDecimals, "native tokens")
			switch {
			case err != nil:
				f.Problems.Add(err.Error())
			case v == 0:
				f.Problems.Add("--" + flag + " must be greater than zero")
			case v > MaxQueryPricePer1k:
				f.Problems.Add("--" + flag + " is above the highest price " + e.Native(MaxQueryPricePer1k).String())
			}
			prices[i] = v
		}
		args.Action = &mt.ProposalAction_SetPrice{InputPer1k: prices[0], OutputPer1k: prices[1]}
	case c.IsSet("signal"):
		args.Action = &mt.ProposalAction_Signal{}
		if args.ContentHash == [32]byte{} || args.Uri == "" {
			f.Problems.Add("a signal needs its document: --uri and --content-file (or --content-hash)")
		}
	}

	rec, ok, err := e.Reader.Voter(c.Context, e.Addr, proposer.PublicKey())
	if err != nil {
		return err
	}
	deposited, weight := uint64(0), uint64(0)
	if ok {
		deposited, weight = rec.Deposited, rules.VoteWeight(rec, e.Now.Unix())
	}
	if weight == 0 || weight < e.Model.Governance.MinProposeMt {
		f.Problems.Addf("proposing needs %s MT deposited and warmed up (at least 1 base unit); you have %s deposited, %s of it warmed up: `mt dao deposit %d <amount>`, then wait %s",
			model.MT(e.Model.Governance.MinProposeMt), model.MT(deposited), model.MT(weight), e.ID, duration.Format(e.Model.Revenue.WarmupSecs))
	}
	if err := f.Problems.Err(); err != nil {
		return err
	}

	index := e.Model.ProposalCount
	proposal := pda.Proposal(e.Addr, index)
	vs := pda.Vaults(e.Addr)
	destAccount := mt.ProgramID // Anchor's "no account" for an optional one
	var ixs []solana.Instruction
	if !dest.IsZero() {
		destAccount = dest
		ixs = append(ixs, tokens.CreateATAIdempotent(proposer.PublicKey(), destWallet, destMint, destProgram))
	}
	ix, err := mt.NewCreateProposalInstruction(args, proposer.PublicKey(), pda.Protocol(), e.Addr, pda.Voter(e.Addr, proposer.PublicKey()), proposal,
		vs.Rewards, destAccount, solana.SystemProgramID, pda.EventAuthority(mt.ProgramID), mt.ProgramID)
	if err != nil {
		return fmt.Errorf("build create_proposal: %w", err)
	}
	ixs = append(ixs, ix)
	labels := e.labels()
	labels[proposal] = "proposal (new)"
	labels[pda.Voter(e.Addr, proposer.PublicKey())] = "your voter record"
	if !dest.IsZero() {
		labels[dest] = "transfer destination"
	}
	e.Session.Note("note: proposing locks your deposit until voting ends (%s from now)", duration.Format(e.Model.Governance.VotingPeriodSecs))
	return e.Session.Submit(c.Context, session.Tx{What: fmt.Sprintf("create proposal %d of model %d", index, e.ID), Instructions: ixs, Labels: labels}, e.proposalResult(c.Context, index))
}

func voteCommand() *cli.Command {
	return &cli.Command{
		Name:      "vote",
		Usage:     "vote on a proposal with your MT deposited before it was created (locked until voting ends)",
		ArgsUsage: "<model-id> <proposal> <yes|no|abstain>",
		Description: "Your vote weight is a snapshot taken when the proposal was created: only MT that was\n" +
			"deposited in your voter record and had finished its warm-up (the model's warm-up) by then\n" +
			"counts, and only as much of it as is still deposited when you vote. MT bought or deposited\n" +
			"after the proposal was created adds nothing to it (it votes on later proposals). A top-up\n" +
			"restarts the warm-up of your latest deposits only; vote before topping up if a recent top-up\n" +
			"has just warmed. `mt dao show <model-id>` shows your weight on a proposal created now.\n" +
			"Everything in your record stays locked until voting ends.",
		Flags: session.WriteFlags(),
		Action: func(c *cli.Context) error {
			e, index, args, err := loadProposal(c, "yes|no|abstain")
			if err != nil {
				return err
			}
			var choice mt.VoteChoice
			switch strings.ToLower(args[0]) {
			case "yes", "y":
				choice = mt.VoteChoice_Yes
			case "no", "n":
				choice = mt.VoteChoice_No
			case "abstain":
				choice = mt.VoteChoice_Abstain
			default:
				return explain.Newf("vote yes, no or abstain", "%q is not a vote", args[0])
			}
			owner, err := e.Session.Signer()
			if err != nil {
				return err
			}
			p, err := e.proposal(c.Context, index)
			if err != nil {
				return err
			}
			if p.State != mt.ProposalState_Voting {
				return explain.Newf(fmt.Sprintf("see `mt dao show %d %d`", e.ID, index), "proposal %d is no longer open for votes (%s)", index, stateName(p.State))
			}
			if e.Now.Unix() >= p.VotingEnds {
				return explain.Newf(fmt.Sprintf("anyone may finalise it: `mt dao finalize %d %d`", e.ID, index), "voting on proposal %d ended at %s", index, at(p.VotingEnds))
			}
			voterAddr := pda.Voter(e.Addr, owner.PublicKey())
			rec, ok, err := e.Reader.Voter(c.Context, e.Addr, owner.PublicKey())
			if err != nil {
				return err
			}
			if !ok || rec.Deposited == 0 {
				return explain.Newf(fmt.Sprintf("deposit MT first: `mt dao deposit %d <amount>`; it votes on proposals created once it has warmed up (%s)", e.ID, duration.Format(e.Model.Revenue.WarmupSecs)), "you have no MT deposited in model %d, so no voting power", e.ID)
			}
			weight := rules.VoteWeight(rec, p.CreatedAt)
			if weight == 0 {
				return explain.Newf("it votes on proposals created from "+at(rules.VotesFrom(rec))+" on",
					"none of your %s MT counts on proposal %d: vote weight is a snapshot of MT deposited and warmed up before the proposal was created (%s)",
					model.MT(rec.Deposited), index, at(p.CreatedAt))
			}
			record := pda.Vote(pda.Proposal(e.Addr, index), voterAddr)
			if exists, err := e.Reader.Exists(c.Context, record); err != nil {
				return err
			} else if exists {
				return explain.Newf(fmt.Sprintf("see the tally with `mt dao show %d %d`", e.ID, index), "you already voted on proposal %d", index)
			}
			ix, err := ix.CastVote(owner.PublicKey(), e.Addr, pda.Proposal(e.Addr, index), choice)
			if err != nil {
				return fmt.Errorf("build cast_vote: %w", err)
			}
			labels := e.labels()
			labels[pda.Proposal(e.Addr, index)] = "proposal"
			labels[voterAddr] = "your voter record"
			labels[record] = "your vote record (new)"
			if weight < rec.Deposited {
				e.Session.Note("note: %s of your %s MT count on this proposal (the rest was deposited or warmed up after it was created)", model.MT(weight), model.MT(rec.Deposited))
			}
			e.Session.Note("note: your %s MT stay locked until voting ends at %s", model.MT(rec.Deposited), at(p.VotingEnds))
			return e.Session.Submit(c.Context, session.Tx{What: fmt.Sprintf("vote %s with %s MT on proposal %d of model %d", strings.ToLower(args[0]), model.MT(weight), index, e.ID), Instructions: []solana.Instruction{ix}, Labels: labels}, e.proposalResult(c.Context, index))
		},
	}
}

func finalizeCommand() *cli.Command {
	return &cli.Command{
		Name:      "finalize",
		Usage:     "close a proposal's vote once it ended (or its outcome can no longer change); anyone may run it",
		ArgsUsage: "<model-id> <proposal>",
		Flags:     session.WriteFlags(),
		Action: func(c *cli.Context) error {
			e, index, _, err := loadProposal(c)
			if err != nil {
				return err
			}
			p, err := e.proposal(c.Context, index)
			if err != nil {
				return err
			}
			if p.State != mt.ProposalState_Voting {
				return explain.Newf(fmt.Sprintf("see `mt dao show %d %d`", e.ID, index), "proposal %d was already finalised (%s)", index, stateName(p.State))
			}
			if !rules.ProposalDue(p, e.Now.Unix()) {
				return explain.Newf("wait until then, or until enough votes decide it", "voting on proposal %d is open until %s and its outcome can still change", index, at(p.VotingEnds))
			}
			ix, err := mt.NewFinalizeProposalInstruction(e.Addr, pda.Proposal(e.Addr, index), pda.EventAuthority(mt.ProgramID), mt.ProgramID)
			if err != nil {
				return fmt.Errorf("build finalize_proposal: %w", err)
			}
			return e.Session.Submit(c.Context, session.Tx{What: fmt.Sprintf("finalise proposal %d of model %d", index, e.ID), Instructions: []solana.Instruction{ix}, Labels: e.labels()}, e.proposalResult(c.Context, index))
		},
	}
}

func executeCommand() *cli.Command {
	return &cli.Command{
		Name:      "execute",
		Usage:     "carry out a passed proposal after its hold-up period; anyone may run it, once",
		ArgsUsage: "<model-id> <proposal>",
		Flags:     session.WriteFlags(),
		Action: func(c *cli.Context) error {
			e, index, _, err := loadProposal(c)
			if err != nil {
				return err
			}
			p, err := e.proposal(c.Context, index)
			if err != nil {
				return err
			}
			switch p.State {
			case mt.ProposalState_Passed:
			case mt.ProposalState_Executed:
				return explain.Newf("nothing to do", "proposal %d was already executed at %s", index, at(p.ExecutedAt))
			case mt.ProposalState_Voting:
				return explain.Newf(fmt.Sprintf("finalise it first when voting ends: `mt dao finalize %d %d`", e.ID, index), "proposal %d has not been finalised", index)
			default:
				return explain.Newf("nothing to do", "proposal %d did not pass (%s)", index, stateName(p.State))
			}
			if expires := p.ExecuteAfter + mt.EXECUTION_WINDOW_SECS; e.Now.Unix() >= expires {
				return explain.Newf("propose it again: `mt dao propose …`", "proposal %d passed but was not executed by %s (14 days after its hold-up); it has expired", index, at(expires))
			}
			if e.Now.Unix() < p.ExecuteAfter {
				return explain.Newf("run this again then", "proposal %d passed; its hold-up period ends at %s", index, at(p.ExecuteAfter))
			}
			vs := pda.Vaults(e.Addr)
			dest := mt.ProgramID
			switch x := p.Action.(type) {
			case *mt.ProposalAction_TransferNative:
				dest = x.Destination
				if bal, err := e.Reader.TokenBalance(c.Context, vs.Treasury); err == nil && bal < x.Amount {
					return explain.Newf("wait for more revenue, or propose a smaller transfer", "the treasury holds %s, less than the %s this proposal pays", e.Native(bal), e.Native(x.Amount))
				}
			case *mt.ProposalAction_TransferMt:
				dest = x.Destination
				if bal, err := e.Reader.TokenBalance(c.Context, vs.Rewards); err == nil && bal < x.Amount {
					return explain.Newf("propose a smaller transfer", "the rewards vault holds %s MT, less than the %s this proposal pays", model.MT(bal), model.MT(x.Amount))
				}
			}
			ix, err := mt.NewExecuteProposalInstruction(pda.Protocol(), e.Addr, pda.Proposal(e.Addr, index), vs.Treasury, vs.Rewards, dest,
				e.Protocol.NativeMint, e.Model.MtMint, e.Protocol.NativeTokenProgram, solana.Token2022ProgramID, pda.EventAuthority(mt.ProgramID), mt.ProgramID)
			if err != nil {
				return fmt.Errorf("build execute_proposal: %w", err)
			}
			labels := e.labels()
			labels[pda.Proposal(e.Addr, index)] = "proposal"
			if !dest.Equals(mt.ProgramID) {
				labels[dest] = "transfer destination"
			}
			return e.Session.Submit(c.Context, session.Tx{What: fmt.Sprintf("execute proposal %d of model %d", index, e.ID), Instructions: []solana.Instruction{ix}, Labels: labels}, e.proposalResult(c.Context, index))
		},
	}
}

func cancelCommand() *cli.Command {
	return &cli.Command{
		Name:      "cancel",
		Usage:     "withdraw your own proposal before anyone has voted",
		ArgsUsage: "<model-id> <proposal>",
		Flags:     session.WriteFlags(),
		Action: func(c *cli.Context) error {
			e, index, _, err := loadProposal(c)
			if err != nil {
				return err
			}
			proposer, err := e.Session.Signer()
			if err != nil {
				return err
			}
			p, err := e.proposal(c.Context, index)
			if err != nil {
				return err
			}
			switch {
			case !p.Proposer.Equals(proposer.PublicKey()):
				return explain.Newf("sign with the proposer's keypair (--keypair)", "only proposal %d's proposer %s may cancel it", index, p.Proposer)
			case p.State != mt.ProposalState_Voting:
				return explain.Newf("nothing to cancel", "proposal %d is %s", index, stateName(p.State))
			case p.Votes > 0:
				return explain.Newf("it runs its course now", "proposal %d already has %d vote(s) and can no longer be cancelled", index, p.Votes)
			}
			ix, err := mt.NewCancelProposalInstruction(proposer.PublicKey(), e.Addr, pda.Proposal(e.Addr, index), pda.EventAuthority(mt.ProgramID), mt.ProgramID)
			if err != nil {
				return fmt.Errorf("build cancel_proposal: %w", err)
			}
			return e.Session.Submit(c.Context, session.Tx{What: fmt.Sprintf("cancel proposal %d of model %d", index, e.ID), Instructions: []solana.Instruction{ix}, Labels: e.labels()}, e.proposalResult(c.Context, index))
		},
	}
}

// Overview is `dao show <model>`: the rules, every proposal, your record.
type Overview struct {
	Model      uint64         `json:"model"`
	Deposited  amount.Tokens  `json:"total_deposited"`
	Warming    amount.Tokens  `json:"warming"`
	Treasury   amount.Tokens  `json:"treasury"`
	Proposals  []ProposalView `json:"proposals"`
	You        *VoterView     `json:"you,omitempty"`
	Governance string         `json:"governance"`
}

// Text renders the overview.
func (o Overview) Text() string {
	var b strings.Builder
	b.WriteString(output.Fields{
		{Label: "Model", Value: o.Model},
		{Label: "Rules", Value: o.Governance},
		{Label: "MT deposited", Value: fmt.Sprintf("%s (%s warming up)", o.Deposited, o.Warming)},
		{Label: "Treasury", Value: o.Treasury.String() + " native tokens"},
	}.Text())
	if len(o.Proposals) == 0 {
		b.WriteString("\nNo proposals yet: `mt dao propose " + strconv.FormatUint(o.Model, 10) + " ...`\n")
	} else {
		rows := make([][]string, len(o.Proposals))
		for i, p := range o.Proposals {
			rows[i] = []string{strconv.FormatUint(p.Index, 10), p.State, fmt.Sprintf("%s/%s/%s", p.Yes, p.No, p.Abstain), p.Action}
		}
		b.WriteString("\n" + output.Table([]string{"#", "STATE", "YES/NO/ABSTAIN MT", "ACTION"}, rows))
	}
	if o.You != nil {
		b.WriteString("\nYou:\n" + o.You.Text())
	}
	return b.String()
}

func showCommand() *cli.Command {
	return &cli.Command{
		Name:      "show",
		Usage:     "a model's DAO (rules, proposals, your deposit) or one proposal",
		ArgsUsage: "<model-id> [<proposal>]",
		Flags:     session.ReadFlags(session.WalletFlag("whose deposit to show (default: your keypair's, if it exists)")),
		Action: func(c *cli.Context) error {
			names := []string{}
			if c.NArg() == 2 {
				names = append(names, "proposal")
			}
			e, args, err := load(c, names...)
			if err != nil {
				return err
			}
			if len(args) == 1 {
				index, err := parseIndex(args[0])
				if err != nil {
					return err
				}
				v, _, err := e.proposalView(c.Context, index)
				if err != nil {
					return err
				}
				return e.Session.Out.Print(v)
			}
			g := e.Model.Governance
			o := Overview{
				Model: e.ID, Deposited: model.MT(e.Model.Revenue.TotalDeposited), Warming: model.MT(e.Model.Revenue.Warming), Proposals: []ProposalView{},
				Governance: fmt.Sprintf("quorum %d bps of circulating MT, threshold %d bps of yes+no, voting %s, hold-up %s, %s MT to propose",
					g.QuorumBps, g.ThresholdBps, duration.Format(g.VotingPeriodSecs), duration.Format(g.HoldUpSecs), model.MT(g.MinProposeMt)),
			}
			if bal, err := e.Reader.TokenBalance(c.Context, pda.Vaults(e.Addr).Treasury); err == nil {
				o.Treasury = e.Native(bal)
			}
			for i := uint64(0); i < e.Model.ProposalCount; i++ {
				v, _, err := e.proposalView(c.Context, i)
				if err != nil {
					return err
				}
				o.Proposals = append(o.Proposals, v)
			}
			// Without --wallet, your record is shown only if your keypair loads.
			who, err := e.Session.Wallet(c)
			if err != nil && c.IsSet(session.FlagWallet) {
				return err
			}
			if !who.IsZero() {
				v, _, err := e.VoterViewOf(c.Context, who)
				if err != nil {
					return err
				}
				o.You = &v
			}
			return e.Session.Out.Print(o)
		},
	}
}

func checkpointCommand() *cli.Command {
	return &cli.Command{
		Name:      "checkpoint",
		Usage:     "start a deposit earning once its warm-up has passed (anyone may run it for any holder)",
		ArgsUsage: "<model-id>",
		Flags:     session.WriteFlags(session.WalletFlag("whose deposit (default: your keypair's)")),
		Action: func(c *cli.Context) error {
			e, _, err := load(c)
			if err != nil {
				return err
			}
			who, err := e.Session.Wallet(c)
			if err != nil {
				return err
			}
			rec, ok, err := e.Reader.Voter(c.Context, e.Addr, who)
			if err != nil {
				return err
			}
			if !ok {
				return explain.Newf(fmt.Sprintf("deposit first: `mt dao deposit %d <amount>`", e.ID), "%s has no deposit in model %d", who, e.ID)
			}
			if rec.Warming == 0 {
				return explain.Newf("nothing to do", "all of %s's deposit in model %d is already earning", who, e.ID)
			}
			if e.Now.Unix() < rec.WarmAt {
				return explain.Newf("run this again then", "%s MT are still warming up; they can start earning at %s", model.MT(rec.Warming), at(rec.WarmAt))
			}
			ix, err := ix.CheckpointVoter(e.Addr, who)
			if err != nil {
				return fmt.Errorf("build checkpoint_voter: %w", err)
			}
			labels := e.labels()
			labels[pda.Voter(e.Addr, who)] = "voter record"
			return e.Session.Submit(c.Context, session.Tx{What: fmt.Sprintf("start %s's deposit in model %d earning", who, e.ID), Instructions: []solana.Instruction{ix}, Labels: labels}, e.voterResult(c.Context, who))
		},
	}
}
