// Package bounty is the `mt bounty` command group and `mt reputation`: the
// contribution economy of a model (programs/mt-treasury/BOUNTIES.md). The
// DAO funds its bounty pool and creates bounties by proposal (`fund`,
// `create`, then `mt dao vote` and `mt dao execute`); contributors submit
// work with a bond; MT depositors review it with commit–reveal; anyone
// finalises; everyone claims. Each command checks what the program checks
// first and says when it will be possible.
package bounty

import (
	"context"
	"crypto/sha256"
	"fmt"
	"strconv"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/rpc"
	"github.com/urfave/cli/v2"

	"github.com/modelcommons/modelcommons/cli/model"
	"github.com/modelcommons/modelcommons/clients/explain"
	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
	"github.com/modelcommons/modelcommons/clients/pda"
)

// Command is `mt bounty`.
func Command() *cli.Command {
	return &cli.Command{
		Name:  "bounty",
		Usage: "contribute and earn: bounties funded by a model's DAO, reviewed by its MT depositors",
		Subcommands: []*cli.Command{
			fundCommand(), createCommand(), listCommand(), showCommand(), submitCommand(), reviewCommand(), finalizeCommand(), claimCommand(),
		},
	}
}

type env struct{ *model.Env }

func load(c *cli.Context, names ...string) (*env, []string, error) {
	e, args, err := model.LoadEnvNow(c, names...)
	if err != nil {
		return nil, nil, err
	}
	return &env{e}, args, nil
}

// loadBounty reads the env and the bounty named after the model id.
func loadBounty(c *cli.Context, names ...string) (*env, uint64, *mt.Bounty, []string, error) {
	e, args, err := load(c, append([]string{"bounty-id"}, names...)...)
	if err != nil {
		return nil, 0, nil, nil, err
	}
	id, err := strconv.ParseUint(args[0], 10, 64)
	if err != nil {
		return nil, 0, nil, nil, explain.Newf(fmt.Sprintf("see `mt bounty list %d`", e.ID), "bounty %q is not a number", args[0])
	}
	b, err := e.bounty(c.Context, id)
	if err != nil {
		return nil, 0, nil, nil, err
	}
	return e, id, b, args[1:], nil
}

func at(unix int64) string { return time.Unix(unix, 0).UTC().Format(time.RFC3339) }

// pool reads the model's bounty pool; ok is false before its first funding.
func (e *env) pool(ctx context.Context) (*mt.BountyPool, bool, error) {
	data, owner, ok, err := e.Reader.Raw(ctx, pda.BountyPool(e.Addr))
	if err != nil || !ok || !owner.Equals(mt.ProgramID) {
		return nil, false, err
	}
	p, err := mt.ParseAccount_BountyPool(data)
	if err != nil {
		return nil, false, fmt.Errorf("decode bounty pool: %w", err)
	}
	return p, true, nil
}

func (e *env) bounty(ctx context.Context, id uint64) (*mt.Bounty, error) {
	addr := pda.Bounty(e.Addr, id)
	data, owner, ok, err := e.Reader.Raw(ctx, addr)
	if err != nil {
		return nil, err
	}
	if !ok || !owner.Equals(mt.ProgramID) {
		return nil, explain.Newf(fmt.Sprintf("list them with `mt bounty list %d`", e.ID), "model %d has no bounty %d", e.ID, id)
	}
	b, err := mt.ParseAccount_Bounty(data)
	if err != nil {
		return nil, fmt.Errorf("decode bounty %s: %w", addr, err)
	}
	return b, nil
}

// submission reads contributor's submission to bounty id; ok is false if there is none.
func (e *env) submission(ctx context.Context, id uint64, contributor solana.PublicKey) (*mt.Submission, bool, error) {
	data, owner, ok, err := e.Reader.Raw(ctx, pda.Submission(pda.Bounty(e.Addr, id), contributor))
	if err != nil || !ok || !owner.Equals(mt.ProgramID) {
		return nil, false, err
	}
	s, err := mt.ParseAccount_Submission(data)
	if err != nil {
		return nil, false, fmt.Errorf("decode submission: %w", err)
	}
	return s, true, nil
}

// review reads reviewer's review of submission; ok is false if there is none.
func (e *env) review(ctx context.Context, submission, reviewer solana.PublicKey) (*mt.Review, bool, error) {
	data, owner, ok, err := e.Reader.Raw(ctx, pda.Review(submission, reviewer))
	if err != nil || !ok || !owner.Equals(mt.ProgramID) {
		return nil, false, err
	}
	r, err := mt.ParseAccount_Review(data)
	if err != nil {
		return nil, false, fmt.Errorf("decode review: %w", err)
	}
	return r, true, nil
}

// submissions lists every submission to bounty id (getProgramAccounts on
// the submission discriminator and its bounty field).
func (e *env) submissions(ctx context.Context, id uint64) (map[solana.PublicKey]*mt.Submission, error) {
	bounty := pda.Bounty(e.Addr, id)
	out, err := e.Reader.RPC.GetProgramAccountsWithOpts(ctx, mt.ProgramID, &rpc.GetProgramAccountsOpts{
		Encoding: solana.EncodingBase64,
		Filters: []rpc.RPCFilter{
			{Memcmp: &rpc.RPCFilterMemcmp{Offset: 0, Bytes: solana.Base58(mt.Account_Submission[:])}},
			{Memcmp: &rpc.RPCFilterMemcmp{Offset: 8, Bytes: solana.Base58(bounty[:])}},
		},
	})
	if err != nil {
		return nil, fmt.Errorf("list submissions of bounty %d: %w", id, err)
	}
	subs := map[solana.PublicKey]*mt.Submission{}
	for _, a := range out {
		s, err := mt.ParseAccount_Submission(a.Account.Data.GetBinary())
		if err != nil {
			return nil, fmt.Errorf("decode submission %s: %w", a.Pubkey, err)
		}
		subs[a.Pubkey] = s
	}
	return subs, nil
}

// salt is the reviewer's commit–reveal salt for submission: derived from
// the reviewer's secret key, so nobody else can compute it and the CLI
// needs no state between commit and reveal.
func salt(reviewer solana.PrivateKey, submission solana.PublicKey) [32]byte {
	h := sha256.New()
	h.Write([]byte("mt-review-salt"))
	h.Write(reviewer)
	h.Write(submission[:])
	var out [32]byte
	copy(out[:], h.Sum(nil))
	return out
}

func outcomeName(o mt.SubmissionOutcome) string {
	switch o {
	case mt.SubmissionOutcome_Pending:
		return "pending"
	case mt.SubmissionOutcome_Accepted:
		return "accepted"
	case mt.SubmissionOutcome_Rejected:
		return "rejected"
	case mt.SubmissionOutcome_Spam:
		return "spam"
	}
	return "unreviewed"
}

func (e *env) labels() map[solana.PublicKey]string {
	return map[solana.PublicKey]string{
		pda.Protocol(): "protocol", e.Addr: "model", e.Protocol.NativeMint: "native mint",
		pda.BountyPool(e.Addr): "bounty pool", pda.BountyVault(e.Addr): "bounty pool vault",
	}
}
