package rewards

import (
	"context"
	"fmt"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/urfave/cli/v2"

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

// Position is a holder's share of a model's revenue.
type Position struct {
	Model     uint64           `json:"model"`
	Holder    solana.PublicKey `json:"holder"`
	Deposited amount.Tokens    `json:"deposited"`
	Warming   amount.Tokens    `json:"warming"`
	WarmAt    *time.Time       `json:"warm_at,omitempty"`
	Claimable amount.Tokens    `json:"claimable"`
	Claimed   amount.Tokens    `json:"claimed"`
	// Set by claim.
	Received  *amount.Tokens `json:"received,omitempty"`
	Signature string         `json:"signature,omitempty"`
}

// Text renders the position.
func (p Position) Text() string {
	fs := output.Fields{}
	if p.Received != nil {
		fs = append(fs, output.Field{Label: "Received", Value: p.Received.String() + " native tokens"})
	}
	fs = append(fs,
		output.Field{Label: "Model", Value: p.Model},
		output.Field{Label: "Holder", Value: p.Holder},
		output.Field{Label: "Deposited", Value: p.Deposited.String() + " MT"},
	)
	if p.WarmAt != nil {
		fs = append(fs, output.Field{Label: "Warming up", Value: fmt.Sprintf("%s MT, earning from %s", p.Warming, p.WarmAt.Format(time.RFC3339))})
	}
	fs = append(fs,
		output.Field{Label: "Claimable", Value: p.Claimable.String() + " native tokens"},
		output.Field{Label: "Claimed so far", Value: p.Claimed.String() + " native tokens"},
	)
	if p.Signature != "" {
		fs = append(fs, output.Field{Label: "Signature", Value: p.Signature})
	}
	return fs.Text()
}

// env is what every rewards command reads first.
type env struct{ *model.Env }

func load(c *cli.Context) (*env, error) {
	e, _, err := model.LoadEnv(c)
	if err != nil {
		return nil, err
	}
	return &env{e}, nil
}

func (e *env) position(ctx context.Context, holder solana.PublicKey) (Position, *mt.Voter, error) {
	pos := Position{Model: e.ID, Holder: holder, Deposited: model.MT(0), Warming: model.MT(0), Claimable: e.Native(0), Claimed: e.Native(0)}
	m, err := e.Reader.Model(ctx, e.ID)
	if err != nil {
		return pos, nil, err
	}
	v, ok, err := e.Reader.Voter(ctx, e.Addr, holder)
	if err != nil || !ok {
		return pos, nil, err
	}
	pos.Deposited, pos.Warming = model.MT(v.Deposited), model.MT(v.Warming)
	if v.Warming > 0 {
		t := time.Unix(v.WarmAt, 0).UTC()
		pos.WarmAt = &t
	}
	pos.Claimable = e.Native(v.RewardsOwed + rules.Pending(m.Revenue, v))
	pos.Claimed = e.Native(v.RewardsClaimed)
	return pos, v, nil
}

func showCommand() *cli.Command {
	return &cli.Command{
		Name:      "show",
		Usage:     "what a holder has earned from a model's revenue (default: your keypair)",
		ArgsUsage: "<model-id>",
		Flags:     session.ReadFlags(session.WalletFlag("whose rewards (default: your keypair's)")),
		Action: func(c *cli.Context) error {
			e, err := load(c)
			if err != nil {
				return err
			}
			who, err := e.Session.Wallet(c)
			if err != nil {
				return err
			}
			pos, _, err := e.position(c.Context, who)
			if err != nil {
				return err
			}
			return e.Session.Out.Print(pos)
		},
	}
}

func claimCommand() *cli.Command {
	return &cli.Command{
		Name:      "claim",
		Usage:     "take your share of a model's revenue, in native tokens",
		ArgsUsage: "<model-id>",
		Flags:     session.WriteFlags(),
		Action: func(c *cli.Context) error {
			e, err := load(c)
			if err != nil {
				return err
			}
			holder, err := e.Session.Signer()
			if err != nil {
				return err
			}
			if e.Model.Stage != mt.Stage_Active {
				return explain.Newf(fmt.Sprintf("see `mt model show %d`", e.ID), "model %d is not active (%s)", e.ID, model.StageName(e.Model.Stage))
			}
			pos, v, err := e.position(c.Context, holder.PublicKey())
			if err != nil {
				return err
			}
			if v == nil {
				return explain.Newf(fmt.Sprintf("deposit MT to earn: `mt dao deposit %d <amount>`", e.ID), "you have no voter record in model %d, so no rewards", e.ID)
			}
			if pos.Claimable.Base == 0 {
				fix := "rewards accrue as revenue arrives (`mt rewards show`)"
				if pos.WarmAt != nil {
					fix = fmt.Sprintf("your %s MT start earning at %s, from revenue that arrives after that", pos.Warming, pos.WarmAt.Format(time.RFC3339))
				}
				return explain.Newf(fix, "nothing to claim from model %d yet", e.ID)
			}
			dest := tokens.ATA(holder.PublicKey(), e.Protocol.NativeMint, e.Protocol.NativeTokenProgram)
			ix, err := ix.ClaimRewards(holder.PublicKey(), e.Addr, dest, ix.NativeOf(e.Protocol))
			if err != nil {
				return fmt.Errorf("build claim_rewards: %w", err)
			}
			ixs := []solana.Instruction{tokens.CreateATAIdempotent(holder.PublicKey(), holder.PublicKey(), e.Protocol.NativeMint, e.Protocol.NativeTokenProgram), ix}
			labels := map[solana.PublicKey]string{pda.Protocol(): "protocol", e.Addr: "model", pda.Voter(e.Addr, holder.PublicKey()): "your voter record",
				pda.Vaults(e.Addr).Revenue: "revenue vault", dest: "your native token account", e.Protocol.NativeMint: "native mint"}
			before := v.RewardsClaimed
			return e.Session.Submit(c.Context, session.Tx{What: fmt.Sprintf("claim rewards from model %d", e.ID), Instructions: ixs, Labels: labels},
				func(sig solana.Signature) (any, error) {
					after, _, err := e.position(c.Context, holder.PublicKey())
					if err != nil {
						return nil, err
					}
					got := amount.Of(after.Claimed.Base-before, e.NativeDecimals)
					after.Received, after.Signature = &got, sig.String()
					return after, nil
				})
		},
	}
}
