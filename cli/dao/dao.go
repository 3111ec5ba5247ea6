// Package dao is the `mt dao` command group: MT holders deposit MT into
// their voter record (voting power, and a share of revenue once warmed up),
// withdraw it when no vote locks it, propose (treasury transfers, rule and
// price changes, signals), vote, and anyone finalises and executes passed
// proposals after the hold-up. Every step checks what the program checks
// first and says when it will be possible.
package dao

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/urfave/cli/v2"

	"github.com/modelcommons/modelcommons/cli/model"
	"github.com/modelcommons/modelcommons/clients/explain"
	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
	"github.com/modelcommons/modelcommons/clients/pda"
)

// The program's limits, generated from its IDL.
const (
	MaxProposalURILen       = int(mt.MAX_PROPOSAL_URI_LEN)
	MaxGovernancePeriodSecs = mt.MAX_GOVERNANCE_PERIOD_SECS
	MaxQueryPricePer1k      = mt.MAX_QUERY_PRICE_PER_1K
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
