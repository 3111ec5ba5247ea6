// Package meter is the `mt meter` command group: the protocol admin
// initialises inference_meter (settlement fee, operator share, minimum node
// stake, unbonding and escrow withdrawal notice periods); anyone shows it.
package meter

import (
	"context"
	"fmt"

	"github.com/gagliardetto/solana-go"
	"github.com/urfave/cli/v2"

	"github.com/modelcommons/modelcommons/cli/duration"
	"github.com/modelcommons/modelcommons/cli/output"
	"github.com/modelcommons/modelcommons/cli/protocol"
	"github.com/modelcommons/modelcommons/cli/session"
	"github.com/modelcommons/modelcommons/clients/accounts"
	"github.com/modelcommons/modelcommons/clients/amount"
	"github.com/modelcommons/modelcommons/clients/explain"
	im "github.com/modelcommons/modelcommons/clients/inference_meter"
	"github.com/modelcommons/modelcommons/clients/ix"
	"github.com/modelcommons/modelcommons/clients/pda"
)

// Command is `mt meter`.
func Command() *cli.Command {
	return &cli.Command{
		Name:        "meter",
		Usage:       "the inference meter's configuration: settlement fee, node stake, notice periods (admin)",
		Subcommands: []*cli.Command{initCommand(), showCommand(), updateCommand()},
	}
}

// View is the meter as `meter show` prints it.
type View struct {
	Address              solana.PublicKey `json:"address"`
	Protocol             solana.PublicKey `json:"protocol"`
	NativeMint           solana.PublicKey `json:"native_mint"`
	EscrowVault          solana.PublicKey `json:"escrow_vault"`
	EscrowVaultBalance   amount.Tokens    `json:"escrow_vault_balance"`
	StakeVault           solana.PublicKey `json:"stake_vault"`
	StakeVaultBalance    amount.Tokens    `json:"stake_vault_balance"`
	SettlementFeeBps     uint16           `json:"settlement_fee_bps"`
	OperatorShareBps     uint16           `json:"operator_share_bps"`
	MinNodeStake         amount.Tokens    `json:"min_node_stake"`
	UnbondingSecs        int64            `json:"unbonding_secs"`
	WithdrawalNoticeSecs int64            `json:"withdrawal_notice_secs"`
	Signature            string           `json:"signature,omitempty"`
}

// Sign records the signature of the transaction that changed the meter.
func (v *View) Sign(sig solana.Signature) { v.Signature = sig.String() }

// Text renders the view.
func (v View) Text() string {
	fs := output.Fields{
		{Label: "Meter", Value: v.Address},
		{Label: "Protocol", Value: v.Protocol},
		{Label: "Native mint", Value: v.NativeMint},
		{Label: "Escrow vault", Value: fmt.Sprintf("%s (holds %s)", v.EscrowVault, v.EscrowVaultBalance.Labeled("native tokens"))},
		{Label: "Stake vault", Value: fmt.Sprintf("%s (holds %s)", v.StakeVault, v.StakeVaultBalance.Labeled("native tokens"))},
		{Label: "Settlement fee", Value: fmt.Sprintf("%d bps to the protocol", v.SettlementFeeBps)},
		{Label: "Operator share", Value: fmt.Sprintf("%d bps to the node operator", v.OperatorShareBps)},
		{Label: "Min node stake", Value: v.MinNodeStake.Labeled("native tokens")},
		{Label: "Unbonding", Value: duration.Format(v.UnbondingSecs)},
		{Label: "Withdrawal notice", Value: duration.Format(v.WithdrawalNoticeSecs)},
	}
	if v.Signature != "" {
		fs = append(fs, output.Field{Label: "Signature", Value: v.Signature})
	}
	return fs.Text()
}

// Env is what the node and escrow commands read first: the meter's
// configuration and the decimals of its native mint.
type Env struct {
	Session        *session.Session
	Reader         accounts.Reader
	Meter          *im.MeterConfig
	NativeDecimals uint8
}

// LoadEnv resolves the session of a command and reads its Env.
func LoadEnv(c *cli.Context) (*Env, error) {
	s, err := session.FromContext(c)
	if err != nil {
		return nil, err
	}
	r := s.Reader()
	m, err := r.Meter(c.Context)
	if err != nil {
		return nil, err
	}
	mint, err := r.Mint(c.Context, m.NativeMint)
	if err != nil {
		return nil, err
	}
	return &Env{Session: s, Reader: r, Meter: m, NativeDecimals: mint.Decimals}, nil
}

// Native is an amount of the native token.
func (e *Env) Native(v uint64) amount.Tokens { return amount.Of(v, e.NativeDecimals) }

// Load reads the meter configuration and its vault balances.
func Load(ctx context.Context, r accounts.Reader) (View, error) {
	m, err := r.Meter(ctx)
	if err != nil {
		return View{}, err
	}
	mint, err := r.Mint(ctx, m.NativeMint)
	if err != nil {
		return View{}, err
	}
	d := mint.Decimals
	escrow, err := r.TokenBalance(ctx, m.EscrowVault)
	if err != nil {
		return View{}, err
	}
	stake, err := r.TokenBalance(ctx, m.StakeVault)
	if err != nil {
		return View{}, err
	}
	return View{
		Address: pda.Meter(), Protocol: m.Protocol, NativeMint: m.NativeMint,
		EscrowVault: m.EscrowVault, EscrowVaultBalance: amount.Of(escrow, d),
		StakeVault: m.StakeVault, StakeVaultBalance: amount.Of(stake, d),
		SettlementFeeBps: m.SettlementFeeBps, OperatorShareBps: m.OperatorShareBps,
		MinNodeStake: amount.Of(m.MinNodeStake, d), UnbondingSecs: m.UnbondingSecs, WithdrawalNoticeSecs: m.WithdrawalNoticeSecs,
	}, nil
}

func showCommand() *cli.Command {
	return &cli.Command{
		Name:   "show",
		Usage:  "print the meter's configuration",
		Flags:  session.ReadFlags(),
		Action: session.Show(Load),
	}
}

func initCommand() *cli.Command {
	return &cli.Command{
		Name:  "init",
		Usage: "create the meter's configuration and vaults (once, by the protocol admin)",
		Flags: session.WriteFlags(
			&cli.Uint64Flag{Name: "settlement-fee-bps", Value: 100, Usage: "protocol's cut of every settled run, in basis points"},
			&cli.Uint64Flag{Name: "operator-share-bps", Value: 2000, Usage: "node operator's cut of every settled run, in basis points"},
			&cli.StringFlag{Name: "min-node-stake", Value: "100", Usage: "native tokens a node must stake to register"},
			&cli.StringFlag{Name: "unbonding", Value: "7d", Usage: "wait between unbonding and withdrawing stake (" + duration.Hint + ")"},
			&cli.StringFlag{Name: "withdrawal-notice", Value: "1d", Usage: "wait between requesting and withdrawing an escrow (" + duration.Hint + ")"},
		),
		Action: runInit,
	}
}

func runInit(c *cli.Context) error {
	e, err := protocol.LoadEnv(c)
	if err != nil {
		return err
	}
	ctx, r, p := c.Context, e.Reader, e.Protocol
	if ok, err := r.Exists(ctx, pda.Meter()); err != nil {
		return err
	} else if ok {
		return explain.New("the meter is already initialised on this cluster", "see it with `mt meter show`")
	}
	mint, err := r.Mint(ctx, p.NativeMint)
	if err != nil {
		return err
	}

	f := session.Settings{C: c, Defaults: true}
	e.RequireAdmin(&f.Problems, "initialise the meter")
	args := im.InitMeterArgs{
		SettlementFeeBps: f.Bps("settlement-fee-bps", 0),
		OperatorShareBps: f.Bps("operator-share-bps", 0),
	}
	if c.Uint64("settlement-fee-bps")+c.Uint64("operator-share-bps") > 10_000 {
		f.Problems.Add("--settlement-fee-bps plus --operator-share-bps exceed 10000 (100%): the model's share would be negative")
	}
	args.MinNodeStake = f.Amount("min-node-stake", 0, mint.Decimals, "native tokens")
	args.UnbondingSecs = f.Period("unbonding", 0, p.MinPeriodSecs)
	args.WithdrawalNoticeSecs = f.Period("withdrawal-notice", 0, p.MinPeriodSecs)
	if err := f.Problems.Err(); err != nil {
		return err
	}

	ix, err := ix.InitMeter(e.Signer.PublicKey(), ix.NativeOf(p), args)
	if err != nil {
		return fmt.Errorf("build init_meter: %w", err)
	}
	labels := map[solana.PublicKey]string{
		pda.Protocol(): "protocol", pda.Meter(): "meter (new)", p.NativeMint: "native mint",
		pda.EscrowVault(): "escrow vault (new)", pda.StakeVault(): "stake vault (new)",
	}
	return e.Session.Submit(ctx, session.Tx{What: "initialise the inference meter", Instructions: []solana.Instruction{ix}, Labels: labels}, session.Reread(ctx, r, Load))
}
