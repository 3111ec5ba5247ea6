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

	"github.com/modelcommons/modelcommons/cli/accounts"
	"github.com/modelcommons/modelcommons/cli/amount"
	"github.com/modelcommons/modelcommons/cli/explain"
	"github.com/modelcommons/modelcommons/cli/launchspec"
	"github.com/modelcommons/modelcommons/cli/model"
	"github.com/modelcommons/modelcommons/cli/output"
	"github.com/modelcommons/modelcommons/cli/raise"
	"github.com/modelcommons/modelcommons/cli/session"
	"github.com/modelcommons/modelcommons/clients/allowlist"
	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
	"github.com/modelcommons/modelcommons/clients/pda"
	"github.com/modelcommons/modelcommons/clients/tokens"
)

// Command is `mt crowdfund`.
func Command() *cli.Command {
	return &cli.Command{
		Name:        "crowdfund",
		Usage:       "buy MT in a model's raise, then claim it (success) or take a refund (failure)",
		Subcommands: []*cli.Command{contributeCommand(), claimCommand(), refundCommand(), showCommand()},
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
	unit        string
	Signature   string `json:"signature,omitempty"`
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
		output.Field{Label: "Your contribution", Value: fmt.Sprintf("%s paid for %s MT (claimed: %v, refunded: %v)", p.Paid, p.MT, p.Claimed, p.Refunded)},
		output.Field{Label: "Raise", Value: fmt.Sprintf("%s raised; soft cap %s, hard cap %s", p.Raised, p.SoftCap, p.HardCap)},
		output.Field{Label: "Status", Value: p.Status},
	)
	if p.Signature != "" {
		fs = append(fs, output.Field{Label: "Signature", Value: p.Signature})
	}
	return fs.Text()
}

type env struct {
	s       *session.Session
	r       accounts.Reader
	id      uint64
	addr    solana.PublicKey
	m       *mt.Model
	p       *mt.Protocol
	decimal uint8
	now     time.Time
}

func load(c *cli.Context, names ...string) (*env, []string, error) {
	s, err := session.FromContext(c)
	if err != nil {
		return nil, nil, err
	}
	args, err := session.Args(c, append([]string{"model-id"}, names...)...)
	if err != nil {
		return nil, nil, err
	}
	id, err := model.ParseID(args[0])
	if err != nil {
		return nil, nil, err
	}
	r := model.Reader(s)
	e := &env{s: s, r: r, id: id, addr: pda.Model(id)}
	if e.m, err = r.Model(c.Context, id); err != nil {
		return nil, nil, err
	}
	if e.p, err = r.Protocol(c.Context); err != nil {
		return nil, nil, err
	}
	nm, err := r.Mint(c.Context, e.p.NativeMint)
	if err != nil {
		return nil, nil, err
	}
	e.decimal = nm.Decimals
	if e.now, err = s.Now(c.Context); err != nil {
		return nil, nil, err
	}
	return e, args[1:], nil
}

func (e *env) native(v uint64) amount.Tokens { return amount.Of(v, e.decimal) }

func (e *env) position(ctx context.Context, wallet solana.PublicKey) (Position, error) {
	m, err := e.r.Model(ctx, e.id)
	if err != nil {
		return Position{}, err
	}
	pos := Position{
		Model: e.id, Wallet: wallet, Stage: model.StageName(m.Stage),
		Paid: e.native(0), MT: amount.Of(0, raise.MTDecimals),
		Raised: e.native(m.Crowdfund.Raised), SoftCap: e.native(m.Crowdfund.SoftCap), HardCap: e.native(m.Crowdfund.HardCap),
	}
	v, err := model.Build(ctx, e.r, m, e.decimal, e.now)
	if err == nil {
		pos.Status = v.Status
	}
	contrib, ok, err := e.r.Contribution(ctx, e.addr, wallet)
	if err != nil {
		return Position{}, err
	}
	if ok {
		pos.Paid, pos.MT = e.native(contrib.Paid), amount.Of(contrib.Mt, raise.MTDecimals)
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
			wallet, err := e.s.Signer()
			if err != nil {
				return err
			}
			offered, err := session.ParseAmount("amount", args[0], e.decimal, "native tokens")
			if err != nil {
				return err
			}
			var minMT uint64
			if c.IsSet("min-mt") {
				if minMT, err = session.ParseAmount("--min-mt", c.String("min-mt"), raise.MTDecimals, "MT"); err != nil {
					return err
				}
			}
			m, now := e.m, e.now.Unix()
			cf := m.Crowdfund
			switch m.Stage {
			case mt.Stage_Launching:
				return explain.Newf("wait for the creator to finish the launch", "model %d's crowdfund has not opened yet (launch incomplete)", e.id)
			case mt.Stage_Active:
				return explain.Newf(fmt.Sprintf("claim MT you bought with `mt crowdfund claim %d`; buy more on the market (`mt market buy`)", e.id), "model %d's raise is over: it succeeded", e.id)
			case mt.Stage_Failed:
				return explain.Newf(fmt.Sprintf("if you contributed, take your refund with `mt crowdfund refund %d`", e.id), "model %d's raise is over: it failed", e.id)
			}
			if e.p.Paused {
				return explain.New("the protocol is paused: contributions are stopped", "wait until the protocol admin resumes it (`mt protocol show`)")
			}
			if now < cf.Start {
				return explain.Newf("come back then", "model %d's crowdfund opens at %s (now %s)", e.id, at(cf.Start), at(now))
			}
			if now >= cf.End {
				outcome := fmt.Sprintf("it did not reach its soft cap, so after `mt model finalize %d` contributors take refunds with `mt crowdfund refund %d`", e.id, e.id)
				if cf.Raised >= cf.SoftCap {
					outcome = fmt.Sprintf("it reached its soft cap, so after `mt model finalize %d` contributors claim with `mt crowdfund claim %d`", e.id, e.id)
				}
				return explain.Newf(outcome, "model %d's raise ended at %s", e.id, at(cf.End))
			}
			proof := [][32]uint8{}
			if cf.AllowlistRoot != [32]byte{} {
				if proof, err = allowlistProof(c.String("allowlist"), cf.AllowlistRoot, wallet.PublicKey(), e.id); err != nil {
					return err
				}
			}
			var paid uint64
			if contrib, ok, err := e.r.Contribution(ctx, e.addr, wallet.PublicKey()); err != nil {
				return err
			} else if ok {
				paid = contrib.Paid
			}
			fill, err := raise.FillFor(cf, m.Supply.Crowdfund, paid, offered)
			switch {
			case errors.Is(err, raise.ErrHardCapReached):
				return explain.Newf(fmt.Sprintf("anyone may now finalise it: `mt model finalize %d`", e.id), "model %d's crowdfund is sold out (hard cap %s reached)", e.id, e.native(cf.HardCap))
			case errors.Is(err, raise.ErrContributionSmall):
				return explain.Newf("offer more", "%s native tokens buys no MT at %s per MT", e.native(offered), e.native(cf.Price))
			case errors.Is(err, raise.ErrWalletCapExceeded):
				left := uint64(0)
				if cf.PerWalletCap > paid {
					left = cf.PerWalletCap - paid
				}
				return explain.Newf(fmt.Sprintf("contribute at most %s more from this wallet", e.native(left)),
					"this would take your wallet past the per-wallet cap of %s (you have paid %s)", e.native(cf.PerWalletCap), e.native(paid))
			case err != nil:
				return explain.Wrap(err, err.Error(), "offer a smaller amount")
			}
			if fill.MT < minMT {
				return explain.Newf("lower --min-mt or accept the partial fill",
					"only %s MT is left to buy for %s, fewer than --min-mt %s", amount.Format(fill.MT, raise.MTDecimals), e.native(fill.Cost), amount.Format(minMT, raise.MTDecimals))
			}
			source := tokens.ATA(wallet.PublicKey(), e.p.NativeMint, e.p.NativeTokenProgram)
			bal, err := e.r.TokenBalance(ctx, source)
			if err != nil {
				return err
			}
			if bal < fill.Cost {
				return explain.Newf("get native tokens into that account first, or offer less",
					"this costs %s native tokens but your native token account %s holds %s", e.native(fill.Cost), source, e.native(bal))
			}
			if fill.Cost < offered {
				e.s.Note("note: near the hard cap only %s MT is left; you pay %s, not %s",
					amount.Format(fill.MT, raise.MTDecimals), e.native(fill.Cost), e.native(offered))
			}
			vs := pda.Vaults(e.addr)
			ix, err := mt.NewContributeInstruction(mt.ContributeArgs{Amount: offered, MinMt: minMT, Proof: proof},
				wallet.PublicKey(), pda.Protocol(), e.p.NativeMint, e.addr, pda.Contribution(e.addr, wallet.PublicKey()), source,
				vs.Raise, e.p.NativeTokenProgram, solana.SystemProgramID, pda.EventAuthority(mt.ProgramID), mt.ProgramID)
			if err != nil {
				return fmt.Errorf("build contribute: %w", err)
			}
			labels := map[solana.PublicKey]string{pda.Protocol(): "protocol", e.addr: "model", vs.Raise: "raise vault", source: "your native token account",
				pda.Contribution(e.addr, wallet.PublicKey()): "your contribution record", e.p.NativeMint: "native mint"}
			before := paid
			beforeMT := uint64(0)
			if contrib, ok, _ := e.r.Contribution(ctx, e.addr, wallet.PublicKey()); ok {
				beforeMT = contrib.Mt
			}
			return e.s.Submit(ctx, session.Tx{What: fmt.Sprintf("contribute %s native tokens to model %d", e.native(offered), e.id), Instructions: []solana.Instruction{ix}, Labels: labels},
				func(sig solana.Signature) (any, error) {
					pos, err := e.position(ctx, wallet.PublicKey())
					if err != nil {
						return nil, err
					}
					bought := amount.Of(pos.MT.Base-beforeMT, raise.MTDecimals)
					cost := e.native(pos.Paid.Base - before)
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
		Flags:     session.WriteFlags(),
		Action: func(c *cli.Context) error {
			e, _, err := load(c)
			if err != nil {
				return err
			}
			ctx := c.Context
			wallet, err := e.s.Signer()
			if err != nil {
				return err
			}
			if err := e.requireStage(mt.Stage_Active); err != nil {
				return err
			}
			contrib, ok, err := e.r.Contribution(ctx, e.addr, wallet.PublicKey())
			if err != nil {
				return err
			}
			if !ok {
				return explain.Newf("sign with the wallet that contributed (--keypair)", "wallet %s did not contribute to model %d", wallet.PublicKey(), e.id)
			}
			if contrib.Claimed {
				return explain.Newf("see your MT balance with `spl-token accounts`", "your %s MT of model %d were already claimed", amount.Format(contrib.Mt, raise.MTDecimals), e.id)
			}
			dest := tokens.ATA(wallet.PublicKey(), e.m.MtMint, solana.Token2022ProgramID)
			vs := pda.Vaults(e.addr)
			ix, err := mt.NewClaimMtInstruction(wallet.PublicKey(), e.addr, pda.Contribution(e.addr, wallet.PublicKey()), vs.Sale, dest,
				e.m.MtMint, solana.Token2022ProgramID, pda.EventAuthority(mt.ProgramID), mt.ProgramID)
			if err != nil {
				return fmt.Errorf("build claim_mt: %w", err)
			}
			ixs := []solana.Instruction{tokens.CreateATAIdempotent(wallet.PublicKey(), wallet.PublicKey(), e.m.MtMint, solana.Token2022ProgramID), ix}
			labels := map[solana.PublicKey]string{e.addr: "model", vs.Sale: "sale vault (MT)", dest: "your MT account", e.m.MtMint: "MT mint",
				pda.Contribution(e.addr, wallet.PublicKey()): "your contribution record"}
			return e.s.Submit(ctx, session.Tx{What: fmt.Sprintf("claim MT of model %d", e.id), Instructions: ixs, Labels: labels},
				func(sig solana.Signature) (any, error) {
					pos, err := e.position(ctx, wallet.PublicKey())
					if err != nil {
						return nil, err
					}
					got := amount.Of(contrib.Mt, raise.MTDecimals)
					pos.Received, pos.Destination, pos.Signature, pos.unit = &got, dest.String(), sig.String(), "MT"
					return pos, nil
				})
		},
	}
}

func refundCommand() *cli.Command {
	return &cli.Command{
		Name:      "refund",
		Usage:     "take back what you paid, once the raise has failed",
		ArgsUsage: "<model-id>",
		Flags:     session.WriteFlags(),
		Action: func(c *cli.Context) error {
			e, _, err := load(c)
			if err != nil {
				return err
			}
			ctx := c.Context
			wallet, err := e.s.Signer()
			if err != nil {
				return err
			}
			if err := e.requireStage(mt.Stage_Failed); err != nil {
				return err
			}
			contrib, ok, err := e.r.Contribution(ctx, e.addr, wallet.PublicKey())
			if err != nil {
				return err
			}
			if !ok {
				return explain.Newf("sign with the wallet that contributed (--keypair)", "wallet %s did not contribute to model %d", wallet.PublicKey(), e.id)
			}
			if contrib.Refunded {
				return explain.Newf("check your native token balance", "your %s native tokens paid to model %d were already refunded", e.native(contrib.Paid), e.id)
			}
			dest := tokens.ATA(wallet.PublicKey(), e.p.NativeMint, e.p.NativeTokenProgram)
			vs := pda.Vaults(e.addr)
			ix, err := mt.NewRefundInstruction(wallet.PublicKey(), pda.Protocol(), e.p.NativeMint, e.addr, pda.Contribution(e.addr, wallet.PublicKey()),
				vs.Raise, dest, e.p.NativeTokenProgram, pda.EventAuthority(mt.ProgramID), mt.ProgramID)
			if err != nil {
				return fmt.Errorf("build refund: %w", err)
			}
			ixs := []solana.Instruction{tokens.CreateATAIdempotent(wallet.PublicKey(), wallet.PublicKey(), e.p.NativeMint, e.p.NativeTokenProgram), ix}
			labels := map[solana.PublicKey]string{e.addr: "model", vs.Raise: "raise vault", dest: "your native token account", e.p.NativeMint: "native mint",
				pda.Protocol(): "protocol", pda.Contribution(e.addr, wallet.PublicKey()): "your contribution record"}
			return e.s.Submit(ctx, session.Tx{What: fmt.Sprintf("refund from model %d", e.id), Instructions: ixs, Labels: labels},
				func(sig solana.Signature) (any, error) {
					pos, err := e.position(ctx, wallet.PublicKey())
					if err != nil {
						return nil, err
					}
					got := e.native(contrib.Paid)
					pos.Received, pos.Destination, pos.Signature, pos.unit = &got, dest.String(), sig.String(), "native tokens"
					return pos, nil
				})
		},
	}
}

func showCommand() *cli.Command {
	return &cli.Command{
		Name:      "show",
		Usage:     "show a wallet's contribution to a model (default: your keypair's)",
		ArgsUsage: "<model-id>",
		Flags:     session.ReadFlags(&cli.StringFlag{Name: "wallet", Usage: "whose contribution (default: your keypair's)"}),
		Action: func(c *cli.Context) error {
			e, _, err := load(c)
			if err != nil {
				return err
			}
			var wallet solana.PublicKey
			if c.IsSet("wallet") {
				if wallet, err = session.ParsePubkey("--wallet", c.String("wallet")); err != nil {
					return err
				}
			} else {
				k, err := e.s.Signer()
				if err != nil {
					return err
				}
				wallet = k.PublicKey()
			}
			pos, err := e.position(c.Context, wallet)
			if err != nil {
				return err
			}
			return e.s.Out.Print(pos)
		},
	}
}

// requireStage refuses with what to do instead when the model is not in want.
func (e *env) requireStage(want mt.Stage) error {
	m, cf, now := e.m, e.m.Crowdfund, e.now.Unix()
	if m.Stage == want {
		return nil
	}
	switch m.Stage {
	case mt.Stage_Launching:
		return explain.Newf("wait for the creator to finish the launch", "model %d's crowdfund has not opened yet", e.id)
	case mt.Stage_Funding:
		due, _ := raise.CanFinalize(cf, now, m.Supply.Crowdfund)
		if due {
			return explain.Newf(fmt.Sprintf("anyone may finalise it first: `mt model finalize %d`, then run this again", e.id),
				"model %d's raise is over but not finalised yet", e.id)
		}
		return explain.Newf("wait until it closes and is finalised", "model %d's raise is still open until %s", e.id, at(cf.End))
	case mt.Stage_Active:
		return explain.Newf(fmt.Sprintf("claim your MT instead: `mt crowdfund claim %d`", e.id), "model %d's raise succeeded: there are no refunds", e.id)
	case mt.Stage_Failed:
		return explain.Newf(fmt.Sprintf("take your refund instead: `mt crowdfund refund %d`", e.id), "model %d's raise failed: there is no MT to claim", e.id)
	}
	return explain.Newf("", "model %d is in an unknown stage", e.id)
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
