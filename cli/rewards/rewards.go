// Package rewards is the `mt rewards` command group: anyone pays native
// tokens into a model's revenue (the depositors' share goes to MT
// depositors through the reward accumulator, the rest to the model
// treasury; with nothing deposited, all goes to the treasury).
package rewards

import (
	"fmt"

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
	"github.com/modelcommons/modelcommons/clients/tokens"
)

// Command is `mt rewards`.
func Command() *cli.Command {
	return &cli.Command{
		Name:        "rewards",
		Usage:       "a model's revenue: pay into it; MT depositors share it",
		Subcommands: []*cli.Command{depositRevenueCommand(), showCommand(), claimCommand()},
	}
}

// Revenue is what `rewards deposit-revenue` prints.
type Revenue struct {
	Model             uint64        `json:"model"`
	Paid              amount.Tokens `json:"paid"`
	ToDepositors      amount.Tokens `json:"to_depositors"`
	ToTreasury        amount.Tokens `json:"to_treasury"`
	TotalRevenue      amount.Tokens `json:"total_revenue"`
	TreasuryRevenue   amount.Tokens `json:"treasury_revenue"`
	DepositorShareBps uint16        `json:"depositor_share_bps"`
	Signature         string        `json:"signature"`
}

// Text renders the payment.
func (r Revenue) Text() string {
	return output.Fields{
		{Label: "Paid", Value: fmt.Sprintf("%s native tokens into model %d's revenue", r.Paid, r.Model)},
		{Label: "To MT depositors", Value: r.ToDepositors.Labeled("native tokens")},
		{Label: "To the treasury", Value: r.ToTreasury.Labeled("native tokens")},
		{Label: "Model revenue", Value: fmt.Sprintf("%s in total, %s of it to the treasury", r.TotalRevenue.Labeled("native tokens"), r.TreasuryRevenue.Labeled("native tokens"))},
		{Label: "Signature", Value: r.Signature},
	}.Text()
}

func depositRevenueCommand() *cli.Command {
	return &cli.Command{
		Name:      "deposit-revenue",
		Usage:     "pay native tokens into an active model's revenue (keepers do this when they settle; anyone may)",
		ArgsUsage: "<model-e.ID> <amount>",
		Flags:     session.WriteFlags(),
		Action: func(c *cli.Context) error {
			e, args, err := model.LoadEnv(c, "amount")
			if err != nil {
				return err
			}
			ctx := c.Context
			if e.Model.Stage != mt.Stage_Active {
				return explain.Newf(fmt.Sprintf("see `mt model show %d`", e.ID), "model %d is not active (%s): only a model whose raise succeeded earns revenue", e.ID, model.StageName(e.Model.Stage))
			}
			units, err := session.ParseAmountArg(args[0], e.NativeDecimals, "native tokens", "give the native tokens to pay, e.g. 10")
			if err != nil {
				return err
			}
			payer, err := e.Session.Signer()
			if err != nil {
				return err
			}
			source := tokens.ATA(payer.PublicKey(), e.Protocol.NativeMint, e.Protocol.NativeTokenProgram)
			bal, err := e.Reader.TokenBalance(ctx, source)
			if err != nil {
				return err
			}
			if bal < units {
				return explain.Newf("get native tokens into that account first, or pay less",
					"paying %s native tokens needs them in your native token account %s, which holds %s native tokens", e.Native(units), source, e.Native(bal))
			}
			vs := pda.Vaults(e.Addr)
			ix, err := ix.DepositRevenue(payer.PublicKey(), e.Addr, source, ix.NativeOf(e.Protocol), units)
			if err != nil {
				return fmt.Errorf("build deposit_revenue: %w", err)
			}
			labels := map[solana.PublicKey]string{pda.Protocol(): "protocol", e.Addr: "model", source: "your native token account",
				vs.Revenue: "revenue vault", vs.Treasury: "treasury vault", e.Protocol.NativeMint: "native mint"}
			before := e.Model.Revenue
			return e.Session.Submit(ctx, session.Tx{What: fmt.Sprintf("pay %s into model %d's revenue", e.Native(units), e.ID), Instructions: []solana.Instruction{ix}, Labels: labels},
				func(sig solana.Signature) (any, error) {
					after, err := e.Reader.Model(ctx, e.ID)
					if err != nil {
						return nil, err
					}
					toTreasury := after.Revenue.TreasuryRevenue - before.TreasuryRevenue
					return Revenue{
						Model: e.ID, Paid: e.Native(units), ToTreasury: e.Native(toTreasury), ToDepositors: e.Native(units - toTreasury),
						TotalRevenue: e.Native(after.Revenue.TotalRevenue), TreasuryRevenue: e.Native(after.Revenue.TreasuryRevenue),
						DepositorShareBps: after.Revenue.DepositorShareBps, Signature: sig.String(),
					}, nil
				})
		},
	}
}
