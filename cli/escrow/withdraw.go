package escrow

import (
	"fmt"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/urfave/cli/v2"

	"github.com/modelcommons/modelcommons/cli/duration"
	"github.com/modelcommons/modelcommons/cli/session"
	"github.com/modelcommons/modelcommons/clients/amount"
	"github.com/modelcommons/modelcommons/clients/explain"
	im "github.com/modelcommons/modelcommons/clients/inference_meter"
	"github.com/modelcommons/modelcommons/clients/ix"
	"github.com/modelcommons/modelcommons/clients/tokens"
)

// inLanes is what the escrow's lanes hold.
func inLanes(e *im.Escrow) uint64 {
	var sum uint64
	for _, l := range e.Lanes {
		sum += l.Balance
	}
	return sum
}

func requestWithdrawalCommand() *cli.Command {
	return &cli.Command{
		Name:      "request-withdrawal",
		Usage:     "announce a withdrawal of unallocated money (an amount, or all); take it with `escrow withdraw` after the notice period",
		ArgsUsage: "[<escrow address or API key>] <amount|all>",
		Flags:     session.WriteFlags(keyFileFlag()),
		Action: func(c *cli.Context) error {
			x, addr, args, err := loadTarget(c, "escrow", "amount")
			if err != nil {
				return err
			}
			e, owner, err := x.owned(c, addr)
			if err != nil {
				return err
			}
			units, err := session.ParseAmountOrAll(args[0], e.Balance, x.NativeDecimals, "native tokens")
			if err != nil {
				return err
			}
			lanes := inLanes(e)
			if units == 0 && lanes > 0 {
				return explain.Newf("take lanes back first with `mt escrow revoke <escrow> <node>` (after its notice the lane's balance is unallocated again)",
					"nothing to withdraw: escrow %s's money is all in lanes (%s); only unallocated money can be withdrawn", addr, x.Native(lanes))
			}
			if units == 0 {
				return explain.Newf("deposit first, or request a positive amount", "nothing to withdraw: the amount is zero (unallocated balance %s)", x.Native(e.Balance))
			}
			if units > e.Balance {
				return explain.Newf(fmt.Sprintf("request at most %s (or `all`); to get money out of a lane, `mt escrow revoke <escrow> <node>` first", x.Native(e.Balance)),
					"escrow %s has %s unallocated (and %s in lanes), less than %s", addr, x.Native(e.Balance), x.Native(lanes), x.Native(units))
			}
			ix, err := ix.RequestWithdrawal(owner.PublicKey(), addr, units)
			if err != nil {
				return fmt.Errorf("build request_withdrawal: %w", err)
			}
			return x.Session.Submit(c.Context, session.Tx{What: fmt.Sprintf("request a withdrawal of %s from escrow %s", x.Native(units), addr), Instructions: []solana.Instruction{ix}, Labels: x.labels(addr)},
				x.viewed(c, addr, nil))
		},
	}
}

func withdrawCommand() *cli.Command {
	return &cli.Command{
		Name:      "withdraw",
		Usage:     "take a requested withdrawal once the notice period has passed",
		ArgsUsage: "[<escrow address or API key>]",
		Flags:     session.WriteFlags(keyFileFlag()),
		Action: func(c *cli.Context) error {
			x, addr, _, err := loadTarget(c, "escrow")
			if err != nil {
				return err
			}
			e, owner, err := x.owned(c, addr)
			if err != nil {
				return err
			}
			if e.WithdrawalRequestedAt == 0 {
				return explain.Newf("request one first: `mt escrow request-withdrawal <escrow> <amount|all>`", "no withdrawal is pending on escrow %s", addr)
			}
			now, err := x.Session.Now(c.Context)
			if err != nil {
				return err
			}
			available := e.WithdrawalRequestedAt + x.Meter.WithdrawalNoticeSecs
			if now.Unix() < available {
				return explain.Newf("try again then",
					"the withdrawal notice period (%s) ends at %s", duration.Format(x.Meter.WithdrawalNoticeSecs), time.Unix(available, 0).UTC().Format(time.RFC3339))
			}
			dest := tokens.ATA(owner.PublicKey(), x.Meter.NativeMint, x.Meter.NativeTokenProgram)
			ix, err := ix.WithdrawEscrow(owner.PublicKey(), addr, dest, ix.MeterNativeOf(x.Meter))
			if err != nil {
				return fmt.Errorf("build withdraw_escrow: %w", err)
			}
			ixs := []solana.Instruction{tokens.CreateATAIdempotent(owner.PublicKey(), owner.PublicKey(), x.Meter.NativeMint, x.Meter.NativeTokenProgram), ix}
			labels := x.labels(addr)
			labels[dest] = "your native token account"
			before := e.Balance
			return x.Session.Submit(c.Context, session.Tx{What: "withdraw from escrow " + addr.String(), Instructions: ixs, Labels: labels},
				func(sig solana.Signature) (any, error) {
					v, after, err := x.view(c, addr)
					if err != nil {
						return nil, err
					}
					w := x.Native(before - min(before, after.Balance))
					return struct {
						View
						Withdrawn amount.Tokens `json:"withdrawn"`
					}{View: withSig(v, sig), Withdrawn: w}, nil
				})
		},
	}
}
