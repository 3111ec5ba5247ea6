package dao

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"strings"

	"github.com/gagliardetto/solana-go"
	"github.com/urfave/cli/v2"

	"github.com/modelcommons/modelcommons/cli/duration"
	"github.com/modelcommons/modelcommons/cli/model"
	"github.com/modelcommons/modelcommons/cli/session"
	"github.com/modelcommons/modelcommons/clients/explain"
	"github.com/modelcommons/modelcommons/clients/ix"
	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
	"github.com/modelcommons/modelcommons/clients/pda"
	"github.com/modelcommons/modelcommons/clients/rules"
	"github.com/modelcommons/modelcommons/clients/tokens"
)

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
	var ixs []solana.Instruction
	if !dest.IsZero() {
		ixs = append(ixs, tokens.CreateATAIdempotent(proposer.PublicKey(), destWallet, destMint, destProgram))
	}
	ix, err := ix.CreateProposal(proposer.PublicKey(), e.Addr, index, args)
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
