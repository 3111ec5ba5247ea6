// Package crowdfund is the `mt crowdfund` command group: contributors buy
// MT during a model's raise, then claim their MT when it succeeded or take
// a refund when it failed. Every command first checks the model's stage,
// window and caps as the program will, and says what to do instead.
package crowdfund

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/urfave/cli/v2"

	"github.com/modelcommons/modelcommons/cli/launchspec"
	"github.com/modelcommons/modelcommons/cli/model"
	"github.com/modelcommons/modelcommons/cli/output"
	"github.com/modelcommons/modelcommons/cli/session"
	"github.com/modelcommons/modelcommons/clients/allowlist"
	"github.com/modelcommons/modelcommons/clients/amount"
	"github.com/modelcommons/modelcommons/clients/explain"
	"github.com/modelcommons/modelcommons/clients/ix"
	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
	"github.com/modelcommons/modelcommons/clients/pda"
	"github.com/modelcommons/modelcommons/clients/rules"
	"github.com/modelcommons/modelcommons/clients/tokens"
)

// Command is `mt crowdfund`.
func Command() *cli.Command {
	return &cli.Command{
		Name:        "crowdfund",
		Usage:       "buy MT in a model's raise, then claim it (success) or take a refund (failure)",
		Subcommands: []*cli.Command{contributeCommand(), claimCommand(), refundCommand(), closeCommand(), showCommand()},
	}
}

// Position is a wallet's contribution, as the commands print it.
type Position struct {
	Model    uint64           `json:"model"`
	Wallet   solana.PublicKey `json:"wallet"`
	Stage    string           `json:"stage"`
	Paid     amount.Tokens    `json:"paid"`
	MT       amount.Tokens    `json:"mt"`
	Claimed  bool             `json:"claimed"`
	Refunded bool             `json:"refunded"`
	Raised   amount.Tokens    `json:"raised"`
	SoftCap  amount.Tokens    `json:"soft_cap"`
	HardCap  amount.Tokens    `json:"hard_cap"`
	Status   string           `json:"status"`
	// Set by contribute, claim and refund.
	Bought      *amount.Tokens `json:"bought,omitempty"`
	Cost        *amount.Tokens `json:"cost,omitempty"`
	Received    *amount.Tokens `json:"received,omitempty"`
	Destination string         `json:"destination,omitempty"`
	// RecordClosed: the contribution record was closed and its rent
	// (RentReturned, in lamports) went back to the wallet; the figures
	// above are the record's last contents.
	RecordClosed bool   `json:"record_closed,omitempty"`
	RentReturned uint64 `json:"rent_returned_lamports,omitempty"`
	unit         string
	Signature    string `json:"signature,omitempty"`
}

// Text renders the position.
func (p Position) Text() string {
	fs := output.Fields{}
	if p.Bought != nil {
		fs = append(fs, output.Field{Label: "Bought", Value: fmt.Sprintf("%s MT for %s native tokens", p.Bought, p.Cost)})
	}
	if p.Received != nil {
		fs = append(fs, output.Field{Label: "Received", Value: fmt.Sprintf("%s %s into %s", p.Received, p.unit, p.Destination)})
	}
	fs = append(fs,
		output.Field{Label: "Model", Value: fmt.Sprintf("%d (%s)", p.Model, p.Stage)},
		output.Field{Label: "Wallet", Value: p.Wallet},
		output.Field{Label: "Your contribution", Value: fmt.Sprintf("%s paid for %s MT (claimed: %v, refunded: %v)", p.Paid.Labeled("native tokens"), p.MT, p.Claimed, p.Refunded)},
	)
	if p.RecordClosed {
		fs = append(fs, output.Field{Label: "Record", Value: fmt.Sprintf("closed; %s SOL of rent returned", amount.Format(p.RentReturned, 9))})
	}
	fs = append(fs,
		output.Field{Label: "Raise", Value: fmt.Sprintf("%s raised; soft cap %s, hard cap %s", p.Raised.Labeled("native tokens"), p.SoftCap.Labeled("native tokens"), p.HardCap.Labeled("native tokens"))},
		output.Field{Label: "Status", Value: p.Status},
	)
	if p.Signature != "" {
		fs = append(fs, output.Field{Label: "Signature", Value: p.Signature})
	}
	return fs.Text()
}

// env is what every crowdfund command reads first.
type env struct{ *model.Env }

func load(c *cli.Context, names ...string) (*env, []string, error) {
	e, args, err := model.LoadEnvNow(c, names...)
	if err != nil {
		return nil, nil, err
	}
	return &env{e}, args, nil
}

func (e *env) position(ctx context.Context, wallet solana.PublicKey) (Position, error) {
	m, err := e.Reader.Model(ctx, e.ID)
	if err != nil {
		return Position{}, err
	}
	pos := Position{
		Model: e.ID, Wallet: wallet, Stage: model.StageName(m.Stage),
		Paid: e.Native(0), MT: model.MT(0),
		Raised: e.Native(m.Crowdfund.Raised), SoftCap: e.Native(m.Crowdfund.SoftCap), HardCap: e.Native(m.Crowdfund.HardCap),
	}
	v, err := model.Build(ctx, e.Reader, m, e.NativeDecimals, e.Now)
	if err == nil {
		pos.Status = v.Status
	}
	contrib, ok, err := e.Reader.Contribution(ctx, e.Addr, wallet)
	if err != nil {
		return Position{}, err
	}
	if ok {
		pos.Paid, pos.MT = e.Native(contrib.Paid), model.MT(contrib.Mt)
		pos.Claimed, pos.Refunded = contrib.Claimed, contrib.Refunded
	}
	return pos, nil
}

func at(unix int64) string { return time.Unix(unix, 0).UTC().Format(time.RFC3339) }

func contributeCommand() *cli.Command {
	return &cli.Command{
		Name:      "contribute",
		Usage:     "buy MT in a model's crowdfund, paying native tokens (near the hard cap you may get a partial fill and pay only for it)",
		ArgsUsage: "<model-id> <amount>",
		Flags: session.WriteFlags(
			&cli.StringFlag{Name: "min-mt", Usage: "fewest MT to accept; a smaller partial fill fails instead (default: any fill)"},
			&cli.StringFlag{Name: "allowlist", Usage: "the crowdfund's allowlist file (one wallet per line), for a crowdfund restricted to an allowlist"},
		),
		Action: func(c *cli.Context) error {
			e, args, err := load(c, "amount")
			if err != nil {
				return err
			}
			ctx := c.Context
			wallet, err := e.Session.Signer()
			if err != nil {
				return err
			}
			offered, err := session.ParseAmount("amount", args[0], e.NativeDecimals, "native tokens")
			if err != nil {
				return err
			}
			var minMT uint64
			if c.IsSet("min-mt") {
				if minMT, err = session.ParseAmount("--min-mt", c.String("min-mt"), rules.MTDecimals, "MT"); err != nil {
					return err
				}
			}
			m, now := e.Model, e.Now.Unix()
			cf := m.Crowdfund
			switch m.Stage {
			case mt.Stage_Launching:
				return explain.Newf("wait for the creator to finish the launch", "model %d's crowdfund has not opened yet (launch incomplete)", e.ID)
			case mt.Stage_Active:
				return explain.Newf(fmt.Sprintf("claim MT you bought with `mt crowdfund claim %d`; buy more on the market (`mt market buy`)", e.ID), "model %d's raise is over: it succeeded", e.ID)
			case mt.Stage_Failed:
				return explain.Newf(fmt.Sprintf("if you contributed, take your refund with `mt crowdfund refund %d`", e.ID), "model %d's raise is over: it failed", e.ID)
			}
			if e.Protocol.Paused {
				return explain.New("the protocol is paused: contributions are stopped", "wait until the protocol admin resumes it (`mt protocol show`)")
			}
			if now < cf.Start {
				return explain.Newf("come back then", "model %d's crowdfund opens at %s (now %s)", e.ID, at(cf.Start), at(now))
			}
			if now >= cf.End {
				outcome := fmt.Sprintf("it did not reach its soft cap, so after `mt model finalize %d` contributors take refunds with `mt crowdfund refund %d`", e.ID, e.ID)
				if cf.Raised >= cf.SoftCap {
					outcome = fmt.Sprintf("it reached its soft cap, so after `mt model finalize %d` contributors claim with `mt crowdfund claim %d`", e.ID, e.ID)
				}
				return explain.Newf(outcome, "model %d's raise ended at %s", e.ID, at(cf.End))
			}
			proof := [][32]uint8{}
			if cf.AllowlistRoot != [32]byte{} {
				if proof, err = allowlistProof(c.String("allowlist"), cf.AllowlistRoot, wallet.PublicKey(), e.ID); err != nil {
					return err
				}
			}
			var paid uint64
			if contrib, ok, err := e.Reader.Contribution(ctx, e.Addr, wallet.PublicKey()); err != nil {
				return err
			} else if ok {
				paid = contrib.Paid
			}
			fill, err := rules.FillFor(cf, m.Supply.Crowdfund, paid, offered)
			switch {
			case errors.Is(err, rules.ErrHardCapReached):
				return explain.Newf(fmt.Sprintf("anyone may now finalise it: `mt model finalize %d`", e.ID), "model %d's crowdfund is sold out (hard cap %s reached)", e.ID, e.Native(cf.HardCap))
			case errors.Is(err, rules.ErrContributionSmall):
				return explain.Newf("offer more", "%s native tokens buys no MT at %s per MT", e.Native(offered), e.Native(cf.Price))
			case errors.Is(err, rules.ErrWalletCapExceeded):
				left := uint64(0)
				if cf.PerWalletCap > paid {
					left = cf.PerWalletCap - paid
				}
				return explain.Newf(fmt.Sprintf("contribute at most %s more from this wallet", e.Native(left)),
					"this would take your wallet past the per-wallet cap of %s (you have paid %s)", e.Native(cf.PerWalletCap), e.Native(paid))
			case err != nil:
				return explain.Wrap(err, err.Error(), "offer a smaller amount")
			}
			if fill.MT < minMT {
				return explain.Newf("lower --min-mt or accept the partial fill",
					"only %s MT is left to buy for %s, fewer than --min-mt %s", model.MT(fill.MT), e.Native(fill.Cost), model.MT(minMT))
			}
			source := tokens.ATA(wallet.PublicKey(), e.Protocol.NativeMint, e.Protocol.NativeTokenProgram)
			bal, err := e.Reader.TokenBalance(ctx, source)
			if err != nil {
				return err
			}
			if bal < fill.Cost {
				return explain.Newf("get native tokens into that account first, or offer less",
					"this costs %s native tokens but your native token account %s holds %s native tokens", e.Native(fill.Cost), source, e.Native(bal))
			}
			if fill.Cost < offered {
				e.Session.Note("note: near the hard cap only %s MT is left; you pay %s, not %s",
					model.MT(fill.MT), e.Native(fill.Cost), e.Native(offered))
			}
			vs := pda.Vaults(e.Addr)
			ix, err := ix.Contribute(wallet.PublicKey(), e.Addr, source, ix.NativeOf(e.Protocol), mt.ContributeArgs{Amount: offered, MinMt: minMT, Proof: proof})
			if err != nil {
				return fmt.Errorf("build contribute: %w", err)
			}
			labels := map[solana.PublicKey]string{pda.Protocol(): "protocol", e.Addr: "model", vs.Raise: "raise vault", source: "your native token account",
				pda.Contribution(e.Addr, wallet.PublicKey()): "your contribution record", e.Protocol.NativeMint: "native mint"}
			before := paid
			beforeMT := uint64(0)
			if contrib, ok, _ := e.Reader.Contribution(ctx, e.Addr, wallet.PublicKey()); ok {
				beforeMT = contrib.Mt
			}
			return e.Session.Submit(ctx, session.Tx{What: fmt.Sprintf("contribute %s native tokens to model %d", e.Native(offered), e.ID), Instructions: []solana.Instruction{ix}, Labels: labels},
				func(sig solana.Signature) (any, error) {
					pos, err := e.position(ctx, wallet.PublicKey())
					if err != nil {
						return nil, err
					}
					bought := model.MT(pos.MT.Base - beforeMT)
					cost := e.Native(pos.Paid.Base - before)
					pos.Bought, pos.Cost, pos.Signature = &bought, &cost, sig.String()
					return pos, nil
				})
		},
	}
}

func claimCommand() *cli.Command {
	return &cli.Command{
		Name:      "claim",
		Usage:     "claim the MT you bought, once the raise has succeeded",
		ArgsUsage: "<model-id>",
		Flags:     session.WriteFlags(closeRecordFlag),
		Action: func(c *cli.Context) error {
			e, _, err := load(c)
			if err != nil {
				return err
			}
			ctx := c.Context
			wallet, contrib, err := e.contributor(ctx, mt.Stage_Active)
			if err != nil {
				return err
			}
			if contrib.Claimed {
				return explain.Newf("see your MT balance with `spl-token accounts`", "your %s MT of model %d were already claimed", model.MT(contrib.Mt), e.ID)
			}
			dest := tokens.ATA(wallet.PublicKey(), e.Model.MtMint, solana.Token2022ProgramID)
			vs := pda.Vaults(e.Addr)
			ix, err := ix.ClaimMt(wallet.PublicKey(), e.Addr, dest)
			if err != nil {
				return fmt.Errorf("build claim_mt: %w", err)
			}
			ixs := []solana.Instruction{tokens.CreateATAIdempotent(wallet.PublicKey(), wallet.PublicKey(), e.Model.MtMint, solana.Token2022ProgramID), ix}
			labels := map[solana.PublicKey]string{e.Addr: "model", vs.Sale: "sale vault (MT)", dest: "your MT account", e.Model.MtMint: "MT mint",
				pda.Contribution(e.Addr, wallet.PublicKey()): "your contribution record"}
			ixs, result, err := e.maybeClose(c, ixs, wallet.PublicKey(), contrib, e.received(ctx, wallet.PublicKey(), model.MT(contrib.Mt), "MT", dest))
			if err != nil {
				return err
			}
			return e.Session.Submit(ctx, session.Tx{What: fmt.Sprintf("claim MT of model %d", e.ID), Instructions: ixs, Labels: labels}, result)
		},
	}
}

func refundCommand() *cli.Command {
	return &cli.Command{
		Name:      "refund",
		Usage:     "take back what you paid, once the raise has failed",
		ArgsUsage: "<model-id>",
		Flags:     session.WriteFlags(closeRecordFlag),
		Action: func(c *cli.Context) error {
			e, _, err := load(c)
			if err != nil {
				return err
			}
			ctx := c.Context
			wallet, contrib, err := e.contributor(ctx, mt.Stage_Failed)
			if err != nil {
				return err
			}
			if contrib.Refunded {
				return explain.Newf("check your native token balance", "your %s native tokens paid to model %d were already refunded", e.Native(contrib.Paid), e.ID)
			}
			dest := tokens.ATA(wallet.PublicKey(), e.Protocol.NativeMint, e.Protocol.NativeTokenProgram)
			vs := pda.Vaults(e.Addr)
			ix, err := ix.Refund(wallet.PublicKey(), e.Addr, dest, ix.NativeOf(e.Protocol))
			if err != nil {
				return fmt.Errorf("build refund: %w", err)
			}
			ixs := []solana.Instruction{tokens.CreateATAIdempotent(wallet.PublicKey(), wallet.PublicKey(), e.Protocol.NativeMint, e.Protocol.NativeTokenProgram), ix}
			labels := map[solana.PublicKey]string{e.Addr: "model", vs.Raise: "raise vault", dest: "your native token account", e.Protocol.NativeMint: "native mint",
				pda.Protocol(): "protocol", pda.Contribution(e.Addr, wallet.PublicKey()): "your contribution record"}
			ixs, result, err := e.maybeClose(c, ixs, wallet.PublicKey(), contrib, e.received(ctx, wallet.PublicKey(), e.Native(contrib.Paid), "native tokens", dest))
			if err != nil {
				return err
			}
			return e.Session.Submit(ctx, session.Tx{What: fmt.Sprintf("refund from model %d", e.ID), Instructions: ixs, Labels: labels}, result)
		},
	}
}

var closeRecordFlag = &cli.BoolFlag{Name: "close-record", Usage: "in the same transaction, close your contribution record (no longer needed) and get its rent back"}

func closeCommand() *cli.Command {
	return &cli.Command{
		Name:      "close",
		Usage:     "close your contribution record once your MT is claimed (or your payment refunded), getting its rent back",
		ArgsUsage: "<model-id>",
		Flags:     session.WriteFlags(),
		Action: func(c *cli.Context) error {
			e, _, err := load(c)
			if err != nil {
				return err
			}
			ctx := c.Context
			want := mt.Stage_Active
			if e.Model.Stage == mt.Stage_Failed {
				want = mt.Stage_Failed
			}
			wallet, contrib, err := e.contributor(ctx, want)
			if err != nil {
				return err
			}
			switch {
			case want == mt.Stage_Active && !contrib.Claimed:
				return explain.Newf(fmt.Sprintf("claim first: `mt crowdfund claim %d --close-record` does both", e.ID), "your MT of model %d are not claimed yet; the record is what lets you claim them", e.ID)
			case want == mt.Stage_Failed && !contrib.Refunded:
				return explain.Newf(fmt.Sprintf("take the refund first: `mt crowdfund refund %d --close-record` does both", e.ID), "your payment to model %d is not refunded yet; the record is what lets you take it back", e.ID)
			}
			ix, closed, err := e.closing(ctx, wallet.PublicKey(), contrib)
			if err != nil {
				return err
			}
			result := func(sig solana.Signature) (any, error) {
				pos, err := e.position(ctx, wallet.PublicKey())
				if err != nil {
					return nil, err
				}
				closed(&pos)
				pos.Signature = sig.String()
				return pos, nil
			}
			return e.Session.Submit(ctx, session.Tx{What: fmt.Sprintf("close your contribution record of model %d", e.ID), Instructions: []solana.Instruction{ix},
				Labels: map[solana.PublicKey]string{e.Addr: "model", pda.Contribution(e.Addr, wallet.PublicKey()): "your contribution record"}}, result)
		},
	}
}

// maybeClose appends close_contribution to a claim or refund when
// --close-record is set; the result then reports the record's last
// contents (contrib after this claim or refund: it is gone afterwards)
// and the rent returned.
func (e *env) maybeClose(c *cli.Context, ixs []solana.Instruction, wallet solana.PublicKey, contrib *mt.Contribution, result func(solana.Signature) (any, error)) ([]solana.Instruction, func(solana.Signature) (any, error), error) {
	if !c.Bool("close-record") {
		return ixs, result, nil
	}
	after := *contrib
	after.Claimed = after.Claimed || e.Model.Stage == mt.Stage_Active
	after.Refunded = after.Refunded || e.Model.Stage == mt.Stage_Failed
	ix, closed, err := e.closing(c.Context, wallet, &after)
	if err != nil {
		return nil, nil, err
	}
	return append(ixs, ix), func(sig solana.Signature) (any, error) {
		v, err := result(sig)
		if err != nil {
			return nil, err
		}
		pos := v.(Position)
		closed(&pos)
		return pos, nil
	}, nil
}

// closing builds close_contribution for the wallet's record, and what marks
// a position read after it: the record's last contents (last) and the
// rent returned.
func (e *env) closing(ctx context.Context, wallet solana.PublicKey, last *mt.Contribution) (solana.Instruction, func(*Position), error) {
	record := pda.Contribution(e.Addr, wallet)
	ix, err := ix.CloseContribution(wallet, e.Addr)
	if err != nil {
		return nil, nil, fmt.Errorf("build close_contribution: %w", err)
	}
	bal, err := e.Reader.RPC.GetBalance(ctx, record, e.Reader.Commitment)
	if err != nil {
		return nil, nil, fmt.Errorf("read your contribution record: %w", err)
	}
	rent := bal.Value
	return ix, func(pos *Position) {
		pos.Paid, pos.MT = e.Native(last.Paid), model.MT(last.Mt)
		pos.Claimed, pos.Refunded = last.Claimed, last.Refunded
		pos.RecordClosed, pos.RentReturned = true, rent
	}, nil
}

func showCommand() *cli.Command {
	return &cli.Command{
		Name:      "show",
		Usage:     "show a wallet's contribution to a model (default: your keypair's)",
		ArgsUsage: "<model-id>",
		Flags:     session.ReadFlags(session.WalletFlag("whose contribution (default: your keypair's)")),
		Action: func(c *cli.Context) error {
			e, _, err := load(c)
			if err != nil {
				return err
			}
			wallet, err := e.Session.Wallet(c)
			if err != nil {
				return err
			}
			pos, err := e.position(c.Context, wallet)
			if err != nil {
				return err
			}
			return e.Session.Out.Print(pos)
		},
	}
}

// contributor reads the signer's contribution to the model, which must be in
// stage want (claims need a successful raise, refunds a failed one).
func (e *env) contributor(ctx context.Context, want mt.Stage) (solana.PrivateKey, *mt.Contribution, error) {
	wallet, err := e.Session.Signer()
	if err != nil {
		return nil, nil, err
	}
	if err := e.requireStage(want); err != nil {
		return nil, nil, err
	}
	contrib, ok, err := e.Reader.Contribution(ctx, e.Addr, wallet.PublicKey())
	if err != nil {
		return nil, nil, err
	}
	if !ok {
		return nil, nil, explain.Newf("sign with the wallet that contributed (--keypair)", "wallet %s did not contribute to model %d", wallet.PublicKey(), e.ID)
	}
	return wallet, contrib, nil
}

// received is the result of claim and refund: the wallet's position, with
// what it received (in unit) into dest.
func (e *env) received(ctx context.Context, wallet solana.PublicKey, got amount.Tokens, unit string, dest solana.PublicKey) func(solana.Signature) (any, error) {
	return func(sig solana.Signature) (any, error) {
		pos, err := e.position(ctx, wallet)
		if err != nil {
			return nil, err
		}
		pos.Received, pos.Destination, pos.Signature, pos.unit = &got, dest.String(), sig.String(), unit
		return pos, nil
	}
}

// requireStage refuses with what to do instead when the model is not in want.
func (e *env) requireStage(want mt.Stage) error {
	m, cf, now := e.Model, e.Model.Crowdfund, e.Now.Unix()
	if m.Stage == want {
		return nil
	}
	switch m.Stage {
	case mt.Stage_Launching:
		return explain.Newf("wait for the creator to finish the launch", "model %d's crowdfund has not opened yet", e.ID)
	case mt.Stage_Funding:
		due, _ := rules.RaiseDue(cf, now, m.Supply.Crowdfund)
		if due {
			return explain.Newf(fmt.Sprintf("anyone may finalise it first: `mt model finalize %d`, then run this again", e.ID),
				"model %d's raise is over but not finalised yet", e.ID)
		}
		return explain.Newf("wait until it closes and is finalised", "model %d's raise is still open until %s", e.ID, at(cf.End))
	case mt.Stage_Active:
		return explain.Newf(fmt.Sprintf("claim your MT instead: `mt crowdfund claim %d`", e.ID), "model %d's raise succeeded: there are no refunds", e.ID)
	case mt.Stage_Failed:
		return explain.Newf(fmt.Sprintf("take your refund instead: `mt crowdfund refund %d`", e.ID), "model %d's raise failed: there is no MT to claim", e.ID)
	}
	return explain.Newf("", "model %d is in an unknown stage", e.ID)
}

// allowlistProof proves wallet is on the crowdfund's allowlist, from the
// list file the creator published.
func allowlistProof(path string, root [32]byte, wallet solana.PublicKey, id uint64) ([][32]uint8, error) {
	if path == "" {
		return nil, explain.Newf("pass the allowlist file the creator published: --allowlist <file>",
			"model %d's crowdfund is restricted to an allowlist", id)
	}
	wallets, err := launchspec.ReadWallets(path)
	if err != nil {
		return nil, explain.Wrap(err, fmt.Sprintf("cannot use the allowlist: %v", err), "check --allowlist")
	}
	tree, err := allowlist.New(wallets)
	if err != nil {
		return nil, explain.Wrap(err, err.Error(), "check --allowlist")
	}
	if tree.Root() != allowlist.Hash(root) {
		return nil, explain.Newf("get the exact list the creator launched with",
			"the allowlist file does not match model %d's allowlist (different Merkle root)", id)
	}
	proof, err := tree.ProofBytes(wallet)
	if errors.Is(err, allowlist.ErrNotListed) {
		return nil, explain.Newf("contribute from an allowed wallet (--keypair)", "wallet %s is not on model %d's allowlist", wallet, id)
	}
	if err != nil {
		return nil, err
	}
	return proof, nil
}
