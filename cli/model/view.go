package model

import (
	"context"
	"fmt"
	"math/bits"
	"strings"
	"time"

	"github.com/gagliardetto/solana-go"

	"github.com/modelcommons/modelcommons/cli/duration"
	"github.com/modelcommons/modelcommons/cli/output"
	"github.com/modelcommons/modelcommons/clients/accounts"
	"github.com/modelcommons/modelcommons/clients/amount"
	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
	"github.com/modelcommons/modelcommons/clients/pda"
	"github.com/modelcommons/modelcommons/clients/rules"
)

// View is a model as `model show` prints it.
type View struct {
	ID      uint64           `json:"id"`
	Address solana.PublicKey `json:"address"`
	Creator solana.PublicKey `json:"creator"`
	Stage   string           `json:"stage"`
	// Status says where the model stands and what can be done next.
	Status string                 `json:"status"`
	MTMint solana.PublicKey       `json:"mt_mint"`
	Token  accounts.TokenMetadata `json:"token"`

	Supply struct {
		Hard               amount.Tokens `json:"hard"`
		Creator            amount.Tokens `json:"creator"`
		Crowdfund          amount.Tokens `json:"crowdfund"`
		Liquidity          amount.Tokens `json:"liquidity"`
		ContributorRewards amount.Tokens `json:"contributor_rewards"`
		Minted             amount.Tokens `json:"minted"`
		Fixed              bool          `json:"fixed"`
	} `json:"supply"`

	Vesting struct {
		CliffSecs    int64         `json:"cliff_secs"`
		DurationSecs int64         `json:"duration_secs"`
		Start        *time.Time    `json:"start,omitempty"`
		Claimed      amount.Tokens `json:"claimed"`
		Claimable    amount.Tokens `json:"claimable"`
	} `json:"vesting"`

	Crowdfund struct {
		Price           amount.Tokens `json:"price"`
		SoftCap         amount.Tokens `json:"soft_cap"`
		HardCap         amount.Tokens `json:"hard_cap"`
		PerWalletCap    amount.Tokens `json:"per_wallet_cap"`
		Start           time.Time     `json:"start"`
		End             time.Time     `json:"end"`
		LiquidityBps    uint16        `json:"liquidity_bps"`
		Allowlist       bool          `json:"allowlist"`
		Raised          amount.Tokens `json:"raised"`
		Sold            amount.Tokens `json:"sold"`
		Contributors    uint32        `json:"contributors"`
		Open            bool          `json:"open"`
		CanFinalize     bool          `json:"can_finalize"`
		FinalizedAt     *time.Time    `json:"finalized_at,omitempty"`
		ProtocolFee     amount.Tokens `json:"protocol_fee"`
		LiquidityNative amount.Tokens `json:"liquidity_native"`
	} `json:"crowdfund"`

	Governance struct {
		QuorumBps        uint16        `json:"quorum_bps"`
		ThresholdBps     uint16        `json:"threshold_bps"`
		VotingPeriodSecs int64         `json:"voting_period_secs"`
		HoldUpSecs       int64         `json:"hold_up_secs"`
		MinPropose       amount.Tokens `json:"min_propose"`
		Proposals        uint64        `json:"proposals"`
	} `json:"governance"`

	Pricing struct {
		InputPer1k          amount.Tokens `json:"input_per_1k"`
		OutputPer1k         amount.Tokens `json:"output_per_1k"`
		PreviousInputPer1k  amount.Tokens `json:"previous_input_per_1k"`
		PreviousOutputPer1k amount.Tokens `json:"previous_output_per_1k"`
		EffectiveAt         int64         `json:"effective_at"`
	} `json:"pricing"`

	Revenue struct {
		DepositorShareBps uint16        `json:"depositor_share_bps"`
		WarmupSecs        int64         `json:"warmup_secs"`
		Warming           amount.Tokens `json:"warming_mt"`
		DepositorsRevenue amount.Tokens `json:"depositors_revenue"`
		RewardsClaimed    amount.Tokens `json:"rewards_claimed"`
		TotalDeposited    amount.Tokens `json:"total_deposited_mt"`
		TotalRevenue      amount.Tokens `json:"total_revenue"`
		TreasuryRevenue   amount.Tokens `json:"treasury_revenue"`
	} `json:"revenue"`

	Market struct {
		Open          bool          `json:"open"`
		ReserveMT     amount.Tokens `json:"reserve_mt"`
		ReserveNative amount.Tokens `json:"reserve_native"`
		// Price is native tokens per whole MT at the current reserves.
		Price          string        `json:"price"`
		Swaps          uint64        `json:"swaps"`
		FeesToModel    amount.Tokens `json:"fees_to_model"`
		FeesToProtocol amount.Tokens `json:"fees_to_protocol"`
	} `json:"market"`

	Vaults []Vault `json:"vaults"`

	Signature  string   `json:"signature,omitempty"`
	Signatures []string `json:"signatures,omitempty"`
}

// Vault is one of the model's token accounts.
type Vault struct {
	Name    string           `json:"name"`
	Address solana.PublicKey `json:"address"`
	Balance amount.Tokens    `json:"balance"`
}

// Text renders the view.
func (v View) Text() string {
	name := "(token not created yet)"
	if v.Token.Symbol != "" {
		name = fmt.Sprintf("%s (%s)", v.Token.Name, v.Token.Symbol)
	}
	t := func(x time.Time) string { return x.UTC().Format(time.RFC3339) }
	cf := v.Crowdfund
	// Every amount with its unit: MT, or the native token.
	n := func(x amount.Tokens) string { return x.Labeled("native") }
	fs := output.Fields{
		{Label: "Model", Value: fmt.Sprintf("%d  %s", v.ID, name)},
		{Label: "Address", Value: v.Address},
		{Label: "Creator", Value: v.Creator},
		{Label: "Stage", Value: v.Stage},
		{Label: "Status", Value: v.Status},
		{Label: "MT mint", Value: v.MTMint},
		{Label: "Metadata URI", Value: v.Token.URI},
		{Label: "Supply:"},
		{Label: "  Hard supply", Value: v.Supply.Hard.String() + " MT" + map[bool]string{true: " (fixed: no mint authority)", false: ""}[v.Supply.Fixed]},
		{Label: "  Creator", Value: v.Supply.Creator.String() + " MT"},
		{Label: "  Crowdfund", Value: v.Supply.Crowdfund.String() + " MT"},
		{Label: "  Liquidity", Value: v.Supply.Liquidity.String() + " MT"},
		{Label: "  Contributor rewards", Value: v.Supply.ContributorRewards.String() + " MT"},
		{Label: "  Creator vesting", Value: fmt.Sprintf("cliff %s, fully vested after %s; claimed %s MT, claimable now %s MT",
			duration.Format(v.Vesting.CliffSecs), duration.Format(v.Vesting.DurationSecs), v.Vesting.Claimed, v.Vesting.Claimable)},
		{Label: "Crowdfund:"},
		{Label: "  Price", Value: n(cf.Price) + " per MT"},
		{Label: "  Raised", Value: fmt.Sprintf("%s of soft cap %s, hard cap %s (%d contributors)", n(cf.Raised), n(cf.SoftCap), n(cf.HardCap), cf.Contributors)},
		{Label: "  Sold", Value: cf.Sold.String() + " MT"},
		{Label: "  Window", Value: fmt.Sprintf("%s to %s", t(cf.Start), t(cf.End))},
		{Label: "  Per-wallet cap", Value: n(cf.PerWalletCap)},
		{Label: "  Market seed", Value: fmt.Sprintf("%d bps of the net raise", cf.LiquidityBps)},
		{Label: "  Allowlist", Value: map[bool]string{true: "yes (Merkle root set)", false: "no: open to anyone"}[cf.Allowlist]},
		{Label: "Governance:"},
		{Label: "  Quorum / threshold", Value: fmt.Sprintf("%d bps of circulating MT / %d bps of yes+no", v.Governance.QuorumBps, v.Governance.ThresholdBps)},
		{Label: "  Voting / hold-up", Value: fmt.Sprintf("%s / %s", duration.Format(v.Governance.VotingPeriodSecs), duration.Format(v.Governance.HoldUpSecs))},
		{Label: "  Min. to propose", Value: v.Governance.MinPropose.String() + " MT deposited"},
		{Label: "Query price", Value: fmt.Sprintf("%s per 1k input tokens, %s per 1k output tokens", n(v.Pricing.InputPer1k), n(v.Pricing.OutputPer1k))},
		{Label: "Revenue", Value: fmt.Sprintf("%d bps to MT depositors; %s received in total, %s to the treasury, %s to depositors (%s claimed)",
			v.Revenue.DepositorShareBps, n(v.Revenue.TotalRevenue), n(v.Revenue.TreasuryRevenue), n(v.Revenue.DepositorsRevenue), n(v.Revenue.RewardsClaimed))},
		{Label: "Deposited MT", Value: fmt.Sprintf("%s MT earning, %s MT warming up (warm-up %s)", v.Revenue.TotalDeposited, v.Revenue.Warming, duration.Format(v.Revenue.WarmupSecs))},
	}
	if v.Market.Open {
		fs = append(fs, output.Field{Label: "Market", Value: fmt.Sprintf("%s MT / %s native: %s native per MT; %d swaps", v.Market.ReserveMT, v.Market.ReserveNative, v.Market.Price, v.Market.Swaps)})
	} else if v.Stage == "active" {
		fs = append(fs, output.Field{Label: "Market", Value: fmt.Sprintf("not open yet: `mt market open %d` (buying or selling opens it)", v.ID)})
	}
	if len(v.Vaults) > 0 {
		fs = append(fs, output.Field{Label: "Vaults:"})
		for _, vault := range v.Vaults {
			fs = append(fs, output.Field{Label: "  " + vault.Name, Value: fmt.Sprintf("%s  %s", vault.Address, vault.Labeled())})
		}
	}
	if v.Signature != "" {
		fs = append(fs, output.Field{Label: "Signature", Value: v.Signature})
	}
	if len(v.Signatures) > 0 {
		fs = append(fs, output.Field{Label: "Signatures", Value: strings.Join(v.Signatures, "\n             ")})
	}
	return fs.Text()
}

// StageName is the stage in lower case.
func StageName(s mt.Stage) string { return strings.ToLower(s.String()) }

// Load reads model id with its token metadata and vault balances.
func Load(ctx context.Context, r accounts.Reader, id uint64, now time.Time) (View, error) {
	m, err := r.Model(ctx, id)
	if err != nil {
		return View{}, err
	}
	p, err := r.Protocol(ctx)
	if err != nil {
		return View{}, err
	}
	nm, err := r.Mint(ctx, p.NativeMint)
	if err != nil {
		return View{}, err
	}
	return Build(ctx, r, m, nm.Decimals, now)
}

// Build makes the view of m (nativeDecimals from the protocol's mint).
func Build(ctx context.Context, r accounts.Reader, m *mt.Model, nativeDecimals uint8, now time.Time) (View, error) {
	n := func(v uint64) amount.Tokens { return amount.Of(v, nativeDecimals) }
	addr := pda.Model(m.Id)
	v := View{ID: m.Id, Address: addr, Creator: m.Creator, Stage: StageName(m.Stage), MTMint: m.MtMint}

	s := m.Supply
	v.Supply.Hard, v.Supply.Creator, v.Supply.Crowdfund = MT(s.HardSupply), MT(s.Creator), MT(s.Crowdfund)
	v.Supply.Liquidity, v.Supply.ContributorRewards = MT(s.Liquidity), MT(s.ContributorRewards)

	v.Vesting.CliffSecs, v.Vesting.DurationSecs, v.Vesting.Claimed = m.Vesting.CliffSecs, m.Vesting.DurationSecs, MT(m.Vesting.Claimed)
	v.Vesting.Claimable = MT(0)
	if m.Stage == mt.Stage_Active {
		start := time.Unix(m.Vesting.Start, 0).UTC()
		v.Vesting.Start = &start
		if c, err := rules.Claimable(m.Vesting, s.Creator, now.Unix()); err == nil {
			v.Vesting.Claimable = MT(c)
		}
	}

	c := m.Crowdfund
	cf := &v.Crowdfund
	cf.Price, cf.SoftCap, cf.HardCap, cf.PerWalletCap = n(c.Price), n(c.SoftCap), n(c.HardCap), n(c.PerWalletCap)
	cf.Start, cf.End = time.Unix(c.Start, 0).UTC(), time.Unix(c.End, 0).UTC()
	cf.LiquidityBps, cf.Allowlist = c.LiquidityBps, c.AllowlistRoot != [32]byte{}
	cf.Raised, cf.Sold, cf.Contributors = n(c.Raised), MT(c.Sold), c.Contributors
	cf.ProtocolFee, cf.LiquidityNative = n(c.ProtocolFee), n(c.LiquidityNative)
	if c.FinalizedAt != 0 {
		f := time.Unix(c.FinalizedAt, 0).UTC()
		cf.FinalizedAt = &f
	}
	if m.Stage == mt.Stage_Funding {
		cf.Open = rules.RaiseOpen(c, now.Unix())
		cf.CanFinalize, _ = rules.RaiseDue(c, now.Unix(), s.Crowdfund)
		if soldOut, _ := rules.RaiseSoldOut(c, s.Crowdfund); soldOut {
			cf.Open = false
		}
	}

	g := m.Governance
	v.Governance.QuorumBps, v.Governance.ThresholdBps = g.QuorumBps, g.ThresholdBps
	v.Governance.VotingPeriodSecs, v.Governance.HoldUpSecs = g.VotingPeriodSecs, g.HoldUpSecs
	v.Governance.MinPropose, v.Governance.Proposals = MT(g.MinProposeMt), m.ProposalCount

	pr := m.Pricing
	v.Pricing.InputPer1k, v.Pricing.OutputPer1k = n(pr.InputPer1k), n(pr.OutputPer1k)
	v.Pricing.PreviousInputPer1k, v.Pricing.PreviousOutputPer1k = n(pr.PreviousInputPer1k), n(pr.PreviousOutputPer1k)
	v.Pricing.EffectiveAt = pr.EffectiveAt

	rv := m.Revenue
	v.Revenue.DepositorShareBps = rv.DepositorShareBps
	v.Revenue.TotalDeposited, v.Revenue.TotalRevenue, v.Revenue.TreasuryRevenue = MT(rv.TotalDeposited), n(rv.TotalRevenue), n(rv.TreasuryRevenue)
	v.Revenue.WarmupSecs, v.Revenue.Warming = rv.WarmupSecs, MT(rv.Warming)
	v.Revenue.DepositorsRevenue, v.Revenue.RewardsClaimed = n(rv.DepositorsRevenue), n(rv.RewardsClaimed)

	mk := m.Market
	v.Market.Open, v.Market.ReserveMT, v.Market.ReserveNative = mk.OpenedAt != 0, MT(mk.ReserveMt), n(mk.ReserveNative)
	v.Market.Swaps, v.Market.FeesToModel, v.Market.FeesToProtocol = mk.Swaps, n(mk.FeesToModel), n(mk.FeesToProtocol)
	v.Market.Price = "-"
	if mk.ReserveMt > 0 {
		hi, lo := bits.Mul64(mk.ReserveNative, rules.MTUnit)
		if hi < mk.ReserveMt {
			q, _ := bits.Div64(hi, lo, mk.ReserveMt)
			v.Market.Price = amount.Format(q, nativeDecimals)
		}
	}

	v.Status = status(m, now)

	if !m.MtMint.IsZero() {
		md, _, err := r.Metadata(ctx, m.MtMint)
		if err != nil {
			return View{}, err
		}
		v.Token = md
		if mint, err := r.Mint(ctx, m.MtMint); err == nil {
			v.Supply.Minted, v.Supply.Fixed = MT(mint.Supply), !mint.HasMintAuthority
		}
	}
	if m.Stage != mt.Stage_Launching {
		vs := pda.Vaults(addr)
		for _, x := range []struct {
			name   string
			addr   solana.PublicKey
			native bool
		}{
			{"raise (native)", vs.Raise, true}, {"treasury (native)", vs.Treasury, true}, {"revenue (native)", vs.Revenue, true},
			{"market seed (native)", vs.LiquidityNative, true}, {"sale (MT)", vs.Sale, false}, {"creator (MT)", vs.Creator, false},
			{"liquidity (MT)", vs.Liquidity, false}, {"rewards (MT)", vs.Rewards, false},
		} {
			bal, err := r.TokenBalance(ctx, x.addr)
			if err != nil {
				return View{}, err
			}
			t := MT(bal)
			if x.native {
				t = n(bal)
			}
			v.Vaults = append(v.Vaults, Vault{Name: x.name, Address: x.addr, Balance: t})
		}
	}
	return v, nil
}

// status says where a model stands and what to do next.
func status(m *mt.Model, now time.Time) string {
	c := m.Crowdfund
	at := func(unix int64) string { return time.Unix(unix, 0).UTC().Format(time.RFC3339) }
	id := m.Id
	switch m.Stage {
	case mt.Stage_Launching:
		return fmt.Sprintf("launch incomplete: the creator finishes it with `mt model launch --resume %d` (same spec)", id)
	case mt.Stage_Funding:
		if now.Unix() < c.Start {
			return fmt.Sprintf("crowdfund opens at %s", at(c.Start))
		}
		if soldOut, _ := rules.RaiseSoldOut(c, m.Supply.Crowdfund); soldOut {
			return fmt.Sprintf("sold out; anyone may finalise it: `mt model finalize %d`", id)
		}
		if now.Unix() >= c.End {
			outcome := "failed (soft cap not reached): finalising opens refunds"
			if c.Raised >= c.SoftCap {
				outcome = "succeeded: finalising mints the supply"
			}
			return fmt.Sprintf("crowdfund ended at %s and %s; anyone may finalise it: `mt model finalize %d`", at(c.End), outcome, id)
		}
		return fmt.Sprintf("crowdfund open until %s: `mt crowdfund contribute %d <amount>`", at(c.End), id)
	case mt.Stage_Active:
		return fmt.Sprintf("active: contributors claim MT with `mt crowdfund claim %d`", id)
	case mt.Stage_Failed:
		return fmt.Sprintf("raise failed: contributors take refunds with `mt crowdfund refund %d`", id)
	}
	return "unknown stage"
}

// Labeled is the vault's balance with its unit: its name says which token
// it holds ("treasury (native)", "sale (MT)").
func (v Vault) Labeled() string {
	if strings.HasSuffix(v.Name, "(MT)") {
		return v.Balance.Labeled("MT")
	}
	return v.Balance.Labeled("native")
}
