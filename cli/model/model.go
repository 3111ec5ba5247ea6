// Package model is the `mt model` command group: a creator launches a model
// (from flags or a launch spec file, validated locally before anything is
// sent), anyone shows and lists models and finalises a due raise, and the
// creator claims vested MT.
package model

import (
	"fmt"
	"strconv"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/urfave/cli/v2"

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

// Command is `mt model`.
func Command() *cli.Command {
	return &cli.Command{
		Name:  "model",
		Usage: "launch, inspect and finalise community-owned models",
		Subcommands: []*cli.Command{
			launchCommand(),
			specTemplateCommand(),
			showCommand(),
			listCommand(),
			finalizeCommand(),
			claimVestedCommand(),
		},
	}
}

// ParseID reads a model id argument.
func ParseID(s string) (uint64, error) {
	id, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, explain.Newf("give the model's number, e.g. 0 (see `mt model list`)", "model id %q is not a number", s)
	}
	return id, nil
}

func showCommand() *cli.Command {
	return &cli.Command{
		Name:      "show",
		Usage:     "print a model: token, supply, crowdfund progress, governance, prices, vaults",
		ArgsUsage: "<model-id>",
		Flags:     session.ReadFlags(),
		Action: func(c *cli.Context) error {
			s, id, _, err := Start(c)
			if err != nil {
				return err
			}
			now, err := s.Now(c.Context)
			if err != nil {
				return err
			}
			v, err := Load(c.Context, s.Reader(), id, now)
			if err != nil {
				return err
			}
			return s.Out.Print(v)
		},
	}
}

// ListItem is one row of `model list`.
type ListItem struct {
	ID      uint64           `json:"id"`
	Address solana.PublicKey `json:"address"`
	Symbol  string           `json:"symbol"`
	Name    string           `json:"name"`
	Stage   string           `json:"stage"`
	Raised  amount.Tokens    `json:"raised"`
	HardCap amount.Tokens    `json:"hard_cap"`
	End     time.Time        `json:"end"`
}

// List is what `model list` prints.
type List []ListItem

// Text renders a table.
func (l List) Text() string {
	if len(l) == 0 {
		return "no models yet; launch one with `mt model launch`"
	}
	rows := make([][]string, len(l))
	for i, m := range l {
		rows[i] = []string{strconv.FormatUint(m.ID, 10), m.Symbol, m.Stage, m.Raised.String() + " / " + m.HardCap.String(), m.End.Format(time.RFC3339), m.Name}
	}
	return output.Table([]string{"ID", "SYMBOL", "STAGE", "RAISED / HARD CAP", "CROWDFUND ENDS", "NAME"}, rows)
}

func listCommand() *cli.Command {
	return &cli.Command{
		Name:  "list",
		Usage: "list every model",
		Flags: session.ReadFlags(),
		Action: func(c *cli.Context) error {
			s, _, err := session.Start(c)
			if err != nil {
				return err
			}
			r := s.Reader()
			p, err := r.Protocol(c.Context)
			if err != nil {
				return err
			}
			nm, err := r.Mint(c.Context, p.NativeMint)
			if err != nil {
				return err
			}
			models, err := r.Models(c.Context)
			if err != nil {
				return err
			}
			out := List{}
			for _, m := range models {
				item := ListItem{
					ID: m.Id, Address: pda.Model(m.Id), Stage: StageName(m.Stage),
					Raised: amount.Of(m.Crowdfund.Raised, nm.Decimals), HardCap: amount.Of(m.Crowdfund.HardCap, nm.Decimals),
					End: time.Unix(m.Crowdfund.End, 0).UTC(),
				}
				if !m.MtMint.IsZero() {
					if md, ok, err := r.Metadata(c.Context, m.MtMint); err == nil && ok {
						item.Symbol, item.Name = md.Symbol, md.Name
					}
				}
				out = append(out, item)
			}
			return s.Out.Print(out)
		},
	}
}

func finalizeCommand() *cli.Command {
	return &cli.Command{
		Name:      "finalize",
		Usage:     "close a raise that is due (ended or sold out): success mints the fixed supply, failure opens refunds; anyone may run it",
		ArgsUsage: "<model-id>",
		Flags:     session.WriteFlags(),
		Action: func(c *cli.Context) error {
			s, id, _, err := Start(c)
			if err != nil {
				return err
			}
			ctx := c.Context
			r := s.Reader()
			m, err := r.Model(ctx, id)
			if err != nil {
				return err
			}
			p, err := r.Protocol(ctx)
			if err != nil {
				return err
			}
			now, err := s.Now(ctx)
			if err != nil {
				return err
			}
			switch m.Stage {
			case mt.Stage_Launching:
				return explain.Newf(fmt.Sprintf("the creator finishes the launch with `mt model launch --resume %d`", id), "model %d's launch is not complete; its crowdfund has not opened", id)
			case mt.Stage_Active, mt.Stage_Failed:
				return explain.Newf(status(m, now), "model %d's raise was already finalised (%s)", id, StageName(m.Stage))
			}
			due, err := rules.RaiseDue(m.Crowdfund, now.Unix(), m.Supply.Crowdfund)
			if err != nil {
				return err
			}
			if !due {
				nm, err := r.Mint(ctx, p.NativeMint)
				if err != nil {
					return err
				}
				return explain.Newf("wait until it closes (or sells out), then run this again",
					"model %d's crowdfund is still open until %s (raised %s of soft cap %s)", id,
					time.Unix(m.Crowdfund.End, 0).UTC().Format(time.RFC3339),
					amount.Format(m.Crowdfund.Raised, nm.Decimals), amount.Format(m.Crowdfund.SoftCap, nm.Decimals))
			}
			addr := pda.Model(id)
			ix, err := ix.FinalizeRaise(addr, ix.NativeOf(p))
			if err != nil {
				return fmt.Errorf("build finalize_raise: %w", err)
			}
			return s.Submit(ctx, session.Tx{What: fmt.Sprintf("finalise model %d's raise", id), Instructions: []solana.Instruction{ix}, Labels: modelLabels(addr, m.MtMint, p.NativeMint)},
				func(sig solana.Signature) (any, error) {
					v, err := Load(ctx, r, id, now)
					v.Signature = sig.String()
					return v, err
				})
		},
	}
}

// Claimed is what `model claim-vested` prints.
type Claimed struct {
	Model       uint64           `json:"model"`
	Claimed     amount.Tokens    `json:"claimed"`
	Destination solana.PublicKey `json:"destination"`
	Balance     amount.Tokens    `json:"balance"`
	Signature   string           `json:"signature"`
}

// Text renders the claim.
func (c Claimed) Text() string {
	return output.Fields{
		{Label: "Claimed", Value: c.Claimed.String() + " MT"},
		{Label: "To", Value: c.Destination},
		{Label: "Balance now", Value: c.Balance.String() + " MT"},
		{Label: "Signature", Value: c.Signature},
	}.Text()
}

func claimVestedCommand() *cli.Command {
	return &cli.Command{
		Name:      "claim-vested",
		Usage:     "the creator claims the MT vested so far",
		ArgsUsage: "<model-id>",
		Flags:     session.WriteFlags(),
		Action: func(c *cli.Context) error {
			s, id, _, err := Start(c)
			if err != nil {
				return err
			}
			ctx := c.Context
			r := s.Reader()
			m, err := r.Model(ctx, id)
			if err != nil {
				return err
			}
			creator, err := s.Signer()
			if err != nil {
				return err
			}
			if !m.Creator.Equals(creator.PublicKey()) {
				return explain.Newf("sign with the creator's keypair (--keypair)", "only model %d's creator %s may claim vested MT; you are %s", id, m.Creator, creator.PublicKey())
			}
			if m.Stage != mt.Stage_Active {
				return explain.Newf("see `mt model show "+strconv.FormatUint(id, 10)+"`", "model %d is not active (%s): the creator's MT exists only after a successful raise", id, StageName(m.Stage))
			}
			now, err := s.Now(ctx)
			if err != nil {
				return err
			}
			claimable, err := rules.Claimable(m.Vesting, m.Supply.Creator, now.Unix())
			if err != nil {
				return err
			}
			if claimable == 0 {
				next := time.Unix(m.Vesting.Start+m.Vesting.CliffSecs, 0).UTC()
				return explain.Newf(fmt.Sprintf("vesting runs from %s (cliff) to %s", next.Format(time.RFC3339), time.Unix(m.Vesting.Start+m.Vesting.DurationSecs, 0).UTC().Format(time.RFC3339)),
					"nothing has vested since the last claim (claimed %s of %s MT)", MT(m.Vesting.Claimed), MT(m.Supply.Creator))
			}
			addr := pda.Model(id)
			dest := tokens.ATA(creator.PublicKey(), m.MtMint, solana.Token2022ProgramID)
			ix, err := ix.ClaimVested(creator.PublicKey(), addr, dest)
			if err != nil {
				return fmt.Errorf("build claim_vested: %w", err)
			}
			ixs := []solana.Instruction{tokens.CreateATAIdempotent(creator.PublicKey(), creator.PublicKey(), m.MtMint, solana.Token2022ProgramID), ix}
			labels := modelLabels(addr, m.MtMint, solana.PublicKey{})
			labels[dest] = "your MT account"
			return s.Submit(ctx, session.Tx{What: fmt.Sprintf("claim vested MT of model %d", id), Instructions: ixs, Labels: labels},
				func(sig solana.Signature) (any, error) {
					after, err := r.Model(ctx, id)
					if err != nil {
						return nil, err
					}
					bal, err := r.TokenBalance(ctx, dest)
					return Claimed{Model: id, Claimed: MT(after.Vesting.Claimed - m.Vesting.Claimed), Destination: dest,
						Balance: MT(bal), Signature: sig.String()}, err
				})
		},
	}
}

// modelLabels names a model's accounts for dry-run output.
func modelLabels(model, mtMint, nativeMint solana.PublicKey) map[solana.PublicKey]string {
	vs := pda.Vaults(model)
	l := map[solana.PublicKey]string{
		pda.Protocol(): "protocol", pda.FeeVault(): "protocol fee vault", model: "model",
		vs.Raise: "raise vault", vs.Treasury: "treasury vault", vs.Revenue: "revenue vault", vs.LiquidityNative: "market seed vault",
		vs.Sale: "sale vault (MT)", vs.Creator: "creator vault (MT)", vs.Liquidity: "liquidity vault (MT)", vs.Rewards: "rewards vault (MT)",
		vs.Deposit: "deposit vault (MT)",
	}
	if !mtMint.IsZero() {
		l[mtMint] = "MT mint"
	}
	if !nativeMint.IsZero() {
		l[nativeMint] = "native mint"
	}
	return l
}
