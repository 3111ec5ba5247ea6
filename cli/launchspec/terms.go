package launchspec

import (
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/gagliardetto/solana-go"

	"github.com/modelcommons/modelcommons/cli/duration"
	"github.com/modelcommons/modelcommons/clients/amount"
	treasury "github.com/modelcommons/modelcommons/clients/mt_treasury"
	"github.com/modelcommons/modelcommons/clients/programerr"
	"github.com/modelcommons/modelcommons/clients/rules"
)

// The program's limits, generated from its IDL (clients/mt_treasury).
const (
	MTDecimals = treasury.MT_DECIMALS
	MTUnit     = treasury.MT_UNIT
	// MaxQueryPricePer1k: a billion tokens at this price still fits in a u64.
	MaxQueryPricePer1k = treasury.MAX_QUERY_PRICE_PER_1K
	MaxNameLen         = int(treasury.MAX_NAME_LEN)
	MaxSymbolLen       = int(treasury.MAX_SYMBOL_LEN)
	MaxURILen          = int(treasury.MAX_URI_LEN)
	BpsDenominator     = treasury.BPS_DENOMINATOR
)

// Terms is a validated launch, in base units and unix seconds.
type Terms struct {
	Name, Symbol, URI string

	HardSupply, CreatorAllocation, CrowdfundAllocation, LiquidityAllocation, RewardsAllocation uint64

	VestingCliffSecs, VestingDurationSecs int64

	Price, SoftCap, HardCap uint64
	Start, End              int64
	PerWalletCap            uint64
	LiquidityBps            uint16
	AllowlistRoot           *[32]byte

	QuorumBps, ThresholdBps      uint16
	VotingPeriodSecs, HoldUpSecs int64
	MinProposeMT                 uint64

	DepositorShareBps uint16

	InputPricePer1k, OutputPricePer1k uint64
}

// Env is what validation needs from the chain.
type Env struct {
	NativeDecimals uint8
	// MinPeriodSecs is the protocol's minimum period.
	MinPeriodSecs int64
	// Now is the chain's clock.
	Now time.Time
	// ProtocolFeeBps is the protocol's fee on raises (fixed for the model
	// at launch): the market's share is taken from what is left.
	ProtocolFeeBps uint16
}

// Resolve reads raw (keys as in Fields; values as typed) into Terms and
// validates them as the program will. Issues lists every problem; Terms is
// only meaningful when there are none.
func Resolve(raw Raw, env Env) (Terms, Issues) {
	r := resolver{raw: raw, env: env, bad: map[string]bool{}}
	var t Terms
	t.Name = r.text("token.name")
	t.Symbol = r.text("token.symbol")
	t.URI = r.text("token.uri")

	t.HardSupply = r.amount("supply.hard", MTDecimals)
	t.CreatorAllocation = r.amount("supply.creator", MTDecimals)
	t.CrowdfundAllocation = r.amount("supply.crowdfund", MTDecimals)
	t.LiquidityAllocation = r.amount("supply.liquidity", MTDecimals)
	t.RewardsAllocation = r.amount("supply.contributor_rewards", MTDecimals)

	t.VestingCliffSecs = r.span("vesting.cliff")
	t.VestingDurationSecs = r.span("vesting.duration")

	nd := env.NativeDecimals
	t.Price = r.amount("crowdfund.price", nd)
	t.SoftCap = r.amount("crowdfund.soft_cap", nd)
	t.HardCap = r.amount("crowdfund.hard_cap", nd)
	t.Start = r.instant("crowdfund.start")
	t.End = r.instant("crowdfund.end")
	if _, ok := raw["crowdfund.per_wallet_cap"]; ok {
		t.PerWalletCap = r.amount("crowdfund.per_wallet_cap", nd)
	} else {
		t.PerWalletCap = t.HardCap
		r.bad["crowdfund.per_wallet_cap"] = r.bad["crowdfund.hard_cap"]
	}
	t.LiquidityBps = r.bps("crowdfund.liquidity_bps")
	t.AllowlistRoot = r.hash("crowdfund.allowlist_root")
	if path := r.text("crowdfund.allowlist"); path != "" {
		if t.AllowlistRoot != nil || r.bad["crowdfund.allowlist_root"] {
			r.fail("crowdfund.allowlist", "give an allowlist file or an allowlist root, not both", "")
		} else if root, _, err := AllowlistRoot(path); err != nil {
			r.fail("crowdfund.allowlist", err.Error(), "")
		} else {
			t.AllowlistRoot = &root
		}
	}

	t.QuorumBps = r.bps("governance.quorum_bps")
	t.ThresholdBps = r.bps("governance.threshold_bps")
	t.VotingPeriodSecs = r.span("governance.voting_period")
	t.HoldUpSecs = r.span("governance.hold_up")
	t.MinProposeMT = r.amount("governance.min_propose", MTDecimals)

	t.DepositorShareBps = r.bps("revenue.depositor_share_bps")

	t.InputPricePer1k = r.amount("price.input_per_1k", nd)
	t.OutputPricePer1k = r.amount("price.output_per_1k", nd)

	issues := append(r.issues, validate(t, env, r.bad)...)
	// The explanations above are the CLI's; the rule is rules.ValidateTerms.
	// Terms it refuses must never pass as valid, even if they drift apart.
	if len(issues) == 0 {
		if err := rules.ValidateTerms(t.Args(), env.MinPeriodSecs, env.ProtocolFeeBps, env.Now.Unix()); err != nil {
			issues = append(issues, Issue{Message: "launch_model would refuse these terms: " + err.Error(), ProgramError: programErrorName(err)})
		}
		if err := rules.ValidateMetadata(t.Name, t.Symbol, t.URI); err != nil {
			issues = append(issues, Issue{Message: "create_model_token would refuse this token: " + err.Error(), ProgramError: programErrorName(err)})
		}
	}
	return t, issues
}

type resolver struct {
	raw    Raw
	env    Env
	issues Issues
	// bad marks keys that are missing or did not parse; checks on them are skipped.
	bad map[string]bool
}

func (r *resolver) get(key string) (string, bool) {
	if v, ok := r.raw[key]; ok {
		s, err := scalar(v)
		if err != nil {
			r.fail(key, err.Error(), "")
			return "", false
		}
		return s, true
	}
	for _, f := range Fields {
		if f.Key != key {
			continue
		}
		if f.Default != "" {
			return f.Default, true
		}
		if f.Required {
			r.fail(key, "missing (required)", "")
			return "", false
		}
	}
	return "", false
}

func (r *resolver) fail(key, msg, programErr string) {
	r.bad[key] = true
	r.issues = append(r.issues, Issue{Key: key, Flag: flagOf(key), Message: msg, ProgramError: programErr})
}

func (r *resolver) text(key string) string {
	s, _ := r.get(key)
	return s
}

func (r *resolver) amount(key string, decimals uint8) uint64 {
	s, ok := r.get(key)
	if !ok {
		return 0
	}
	v, err := amount.Parse(s, decimals)
	if err != nil {
		r.fail(key, err.Error(), "")
	}
	return v
}

func (r *resolver) span(key string) int64 {
	s, ok := r.get(key)
	if !ok {
		return 0
	}
	v, err := duration.ParseSeconds(s)
	if err != nil {
		r.fail(key, fmt.Sprintf("%v (%s)", err, duration.Hint), "")
	}
	return v
}

func (r *resolver) instant(key string) int64 {
	s, ok := r.get(key)
	if !ok {
		return 0
	}
	t, err := duration.ParseTime(s, r.env.Now)
	if err != nil {
		r.fail(key, err.Error(), "")
	}
	return t.Unix()
}

// bps reads basis points (2500) or a percentage with up to two decimals ("25%", "2.5%").
func (r *resolver) bps(key string) uint16 {
	s, ok := r.get(key)
	if !ok {
		return 0
	}
	s = strings.TrimSpace(s)
	var v uint64
	var err error
	if pct, isPct := strings.CutSuffix(s, "%"); isPct {
		v, err = amount.Parse(pct, 2)
	} else {
		v, err = strconv.ParseUint(s, 10, 64)
	}
	if err != nil {
		r.fail(key, fmt.Sprintf("%q is not basis points (a whole number such as 2500) or a percentage (25%%)", s), "")
		return 0
	}
	if v > BpsDenominator {
		r.fail(key, fmt.Sprintf("%d bps is above 10000 (100%%)", v), "InvalidBps")
		return 0
	}
	return uint16(v)
}

func (r *resolver) hash(key string) *[32]byte {
	s, ok := r.get(key)
	if !ok || strings.TrimSpace(s) == "" {
		return nil
	}
	s = strings.TrimSpace(s)
	var out [32]byte
	if b, err := hex.DecodeString(strings.TrimPrefix(s, "0x")); err == nil && len(b) == 32 {
		copy(out[:], b)
		return &out
	}
	if k, err := solana.PublicKeyFromBase58(s); err == nil {
		copy(out[:], k[:])
		return &out
	}
	r.fail(key, "not 32 bytes in hex (64 digits) or base58", "")
	return nil
}

// validate explains, key by key, each of the program's launch checks
// (rules.ValidateTerms and create_model_token's metadata limits), skipping
// checks whose inputs are already reported bad.
func validate(t Terms, env Env, bad map[string]bool) Issues {
	var out Issues
	check := func(ok bool, key, programErr, format string, args ...any) {
		if !ok {
			out = append(out, Issue{Key: key, Flag: flagOf(key), Message: fmt.Sprintf(format, args...), ProgramError: programErr})
		}
	}
	anyBad := func(keys ...string) bool {
		for _, k := range keys {
			if bad[k] {
				return true
			}
		}
		return false
	}
	mt := func(v uint64) string { return amount.Format(v, MTDecimals) + " MT" }
	native := func(v uint64) string { return amount.Format(v, env.NativeDecimals) }
	span := duration.Format
	min := env.MinPeriodSecs
	now := env.Now.Unix()

	// Metadata (create_model_token).
	if !bad["token.name"] {
		check(len(t.Name) >= 1 && len(t.Name) <= MaxNameLen, "token.name", "InvalidName", "must be 1 to %d bytes, is %d", MaxNameLen, len(t.Name))
	}
	if !bad["token.symbol"] {
		check(len(t.Symbol) >= 1 && len(t.Symbol) <= MaxSymbolLen, "token.symbol", "InvalidSymbol", "must be 1 to %d bytes, is %d", MaxSymbolLen, len(t.Symbol))
	}
	if !bad["token.uri"] {
		check(len(t.URI) <= MaxURILen, "token.uri", "UriTooLong", "must be at most %d bytes, is %d", MaxURILen, len(t.URI))
	}

	// Supply.
	if !bad["supply.hard"] {
		check(t.HardSupply > 0, "supply.hard", "ZeroSupply", "the hard supply must be greater than zero")
	}
	if !anyBad("supply.hard", "supply.creator", "supply.crowdfund", "supply.liquidity", "supply.contributor_rewards") {
		sum, overflow := add(t.CreatorAllocation, t.CrowdfundAllocation, t.LiquidityAllocation, t.RewardsAllocation)
		check(!overflow && sum == t.HardSupply, "supply", "SupplySplitMismatch",
			"creator %s + crowdfund %s + liquidity %s + contributor rewards %s = %s, but the hard supply is %s; the four parts must add up exactly",
			mt(t.CreatorAllocation), mt(t.CrowdfundAllocation), mt(t.LiquidityAllocation), mt(t.RewardsAllocation), sumText(sum, overflow, mt), mt(t.HardSupply))
	}
	if !bad["supply.crowdfund"] {
		check(t.CrowdfundAllocation > 0, "supply.crowdfund", "ZeroSaleAllocation", "the crowdfund allocation must be greater than zero")
	}

	// Vesting.
	if !anyBad("vesting.cliff", "vesting.duration") {
		check(t.VestingCliffSecs >= 0 && t.VestingDurationSecs >= t.VestingCliffSecs, "vesting", "InvalidVesting",
			"the cliff (%s) must not exceed the duration (%s)", span(t.VestingCliffSecs), span(t.VestingDurationSecs))
	}

	// Crowdfund.
	if !bad["crowdfund.price"] {
		check(t.Price > 0, "crowdfund.price", "ZeroPrice", "the price must be greater than zero")
	}
	if !bad["crowdfund.soft_cap"] {
		check(t.SoftCap > 0, "crowdfund.soft_cap", "ZeroSoftCap", "the soft cap must be greater than zero")
	}
	if !anyBad("crowdfund.soft_cap", "crowdfund.hard_cap") {
		check(t.SoftCap <= t.HardCap, "crowdfund.soft_cap", "SoftCapAboveHardCap", "the soft cap %s is above the hard cap %s", native(t.SoftCap), native(t.HardCap))
	}
	if !anyBad("crowdfund.start", "crowdfund.end") {
		start, end := time.Unix(t.Start, 0).UTC().Format(time.RFC3339), time.Unix(t.End, 0).UTC().Format(time.RFC3339)
		if t.End <= t.Start {
			check(false, "crowdfund.end", "EndBeforeStart", "the crowdfund must end (%s) after it starts (%s)", end, start)
		} else {
			check(t.End-t.Start >= min, "crowdfund.end", "PeriodTooShort", "the crowdfund is open for %s, shorter than the protocol's minimum period %s", span(t.End-t.Start), span(min))
		}
		check(t.End-now >= min, "crowdfund.end", "EndTooSoon", "the crowdfund ends at %s, less than the protocol's minimum period %s from now (%s)", end, span(min), env.Now.UTC().Format(time.RFC3339))
	}
	if !bad["crowdfund.allowlist_root"] && t.AllowlistRoot != nil {
		check(*t.AllowlistRoot != [32]byte{}, "crowdfund.allowlist_root", "ZeroAllowlistRoot", "an all-zero root is not a Merkle root; omit it for an open crowdfund")
	}
	if !anyBad("crowdfund.price", "crowdfund.hard_cap", "supply.crowdfund") && t.Price > 0 {
		hardCapMT, overflow := mtFor(t.HardCap, t.Price)
		switch {
		case overflow:
			check(false, "crowdfund.hard_cap", "MathOverflow", "the hard cap buys more MT than a u64 can count at this price")
		case hardCapMT == 0:
			check(false, "crowdfund.hard_cap", "HardCapTooSmall", "the hard cap %s buys no MT at %s per MT; raise the hard cap or lower the price", native(t.HardCap), native(t.Price))
		default:
			check(hardCapMT <= t.CrowdfundAllocation, "crowdfund.hard_cap", "HardCapExceedsSale",
				"the hard cap %s buys %s at %s per MT, more than the crowdfund allocation %s; lower the hard cap, raise the price or the allocation",
				native(t.HardCap), mt(hardCapMT), native(t.Price), mt(t.CrowdfundAllocation))
		}
	}
	if !anyBad("crowdfund.price", "crowdfund.per_wallet_cap") && t.Price > 0 {
		walletMT, overflow := mtFor(t.PerWalletCap, t.Price)
		if overflow {
			check(false, "crowdfund.per_wallet_cap", "MathOverflow", "the per-wallet cap buys more MT than a u64 can count at this price")
		} else {
			check(walletMT > 0, "crowdfund.per_wallet_cap", "WalletCapTooSmall", "the per-wallet cap %s buys no MT at %s per MT", native(t.PerWalletCap), native(t.Price))
		}
	}

	// The soft cap must be reachable: a raise sells out as soon as what is
	// left under the hard cap buys no MT base unit (min_sold_out_raise).
	if !anyBad("crowdfund.price", "crowdfund.soft_cap", "crowdfund.hard_cap") && t.Price > 0 && t.SoftCap <= t.HardCap {
		if buys, overflow := mtFor(t.HardCap, t.Price); overflow || buys > 0 {
			floor := rules.MinSoldOutRaise(t.Price, t.HardCap)
			check(t.SoftCap <= floor, "crowdfund.soft_cap", "SoftCapUnreachable",
				"the soft cap %s cannot be reached at %s per MT: the raise sells out once what is left under the hard cap %s buys no MT base unit, which can happen at %s; lower the soft cap to at most %s",
				native(t.SoftCap), native(t.Price), native(t.HardCap), native(floor), native(floor))
		}
	}

	// The market: both sides or neither.
	if !anyBad("supply.liquidity", "crowdfund.liquidity_bps") {
		check((t.LiquidityAllocation > 0) == (t.LiquidityBps > 0), "crowdfund.liquidity_bps", "OneSidedLiquidity",
			"the market needs both sides or neither: supply.liquidity is %s and crowdfund.liquidity_bps is %d; set both (e.g. 200000 MT and 2000 bps) or both to 0 for no market",
			mt(t.LiquidityAllocation), t.LiquidityBps)
		if t.LiquidityAllocation > 0 && t.LiquidityBps > 0 && !bad["crowdfund.soft_cap"] {
			share, err := rules.ProceedsOf(treasury.Crowdfund{Raised: t.SoftCap, ProtocolFeeBps: env.ProtocolFeeBps, LiquidityBps: t.LiquidityBps})
			check(err == nil && share.Liquidity > 0, "crowdfund.liquidity_bps", "LiquidityShareTooSmall",
				"a raise that just meets the soft cap %s puts no native tokens in the market at %d bps (after the protocol's %d bps fee); raise crowdfund.liquidity_bps or the soft cap",
				native(t.SoftCap), t.LiquidityBps, env.ProtocolFeeBps)
		}
	}

	// Governance.
	if !bad["governance.quorum_bps"] {
		check(t.QuorumBps > 0, "governance.quorum_bps", "ZeroGovernanceBps", "the quorum must be greater than zero")
	}
	if !bad["governance.threshold_bps"] {
		check(t.ThresholdBps > 0, "governance.threshold_bps", "ZeroGovernanceBps", "the approval threshold must be greater than zero")
	}
	if !bad["governance.voting_period"] {
		check(t.VotingPeriodSecs >= min, "governance.voting_period", "PeriodTooShort", "%s is shorter than the protocol's minimum period %s", span(t.VotingPeriodSecs), span(min))
	}
	if !bad["governance.hold_up"] {
		check(t.HoldUpSecs >= min, "governance.hold_up", "PeriodTooShort", "%s is shorter than the protocol's minimum period %s", span(t.HoldUpSecs), span(min))
	}
	if !anyBad("governance.min_propose", "supply.hard") {
		check(t.MinProposeMT <= t.HardSupply, "governance.min_propose", "ProposeThresholdAboveSupply", "%s is above the hard supply %s", mt(t.MinProposeMT), mt(t.HardSupply))
	}

	// Per-query price.
	for _, p := range []struct {
		key string
		v   uint64
	}{{"price.input_per_1k", t.InputPricePer1k}, {"price.output_per_1k", t.OutputPricePer1k}} {
		if bad[p.key] {
			continue
		}
		check(p.v > 0, p.key, "ZeroPrice", "the price must be greater than zero")
		check(p.v <= MaxQueryPricePer1k, p.key, "PriceTooHigh", "%s is above the highest price %s per 1k tokens", native(p.v), native(MaxQueryPricePer1k))
	}
	return out
}

func add(vs ...uint64) (uint64, bool) {
	var sum uint64
	for _, v := range vs {
		if sum > math.MaxUint64-v {
			return 0, true
		}
		sum += v
	}
	return sum, false
}

func sumText(sum uint64, overflow bool, f func(uint64) string) string {
	if overflow {
		return "more than a u64 can hold"
	}
	return f(sum)
}

// mtFor is what native buys at price (rules.MTFor); overflow reports a
// result past u64.
func mtFor(native, price uint64) (uint64, bool) {
	v, err := rules.MTFor(treasury.Crowdfund{Price: price}, native)
	return v, err != nil
}

// Args are the launch_model instruction's arguments for t.
func (t Terms) Args() treasury.LaunchModelArgs {
	return treasury.LaunchModelArgs{
		Supply: treasury.SupplySplit{
			HardSupply: t.HardSupply, Creator: t.CreatorAllocation, Crowdfund: t.CrowdfundAllocation,
			Liquidity: t.LiquidityAllocation, ContributorRewards: t.RewardsAllocation,
		},
		Vesting: treasury.VestingTerms{CliffSecs: t.VestingCliffSecs, DurationSecs: t.VestingDurationSecs},
		Crowdfund: treasury.CrowdfundTerms{
			Price: t.Price, SoftCap: t.SoftCap, HardCap: t.HardCap, Start: t.Start, End: t.End,
			PerWalletCap: t.PerWalletCap, LiquidityBps: t.LiquidityBps, AllowlistRoot: t.AllowlistRoot,
		},
		Governance: treasury.GovernanceRules{
			QuorumBps: t.QuorumBps, ThresholdBps: t.ThresholdBps, VotingPeriodSecs: t.VotingPeriodSecs,
			HoldUpSecs: t.HoldUpSecs, MinProposeMt: t.MinProposeMT,
		},
		DepositorShareBps: t.DepositorShareBps,
		Price:             treasury.QueryPrice{InputPer1k: t.InputPricePer1k, OutputPer1k: t.OutputPricePer1k},
	}
}

func programErrorName(err error) string {
	var pe *programerr.Error
	if errors.As(err, &pe) {
		return pe.Name
	}
	return ""
}
