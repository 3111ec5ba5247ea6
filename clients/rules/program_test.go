package rules_test

// Property tests: every rule here against the program's own Rust code
// (tools/rulesoracle, bin/rulesoracle) on a few thousand random inputs
// each, edge values included. Where the program fails, the Go rule must
// fail with the same error; where it succeeds, with the same numbers.

import (
	"errors"
	"math/big"
	"testing"

	binary "github.com/gagliardetto/binary"

	"github.com/modelcommons/modelcommons/clients/internal/oracle"
	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
	"github.com/modelcommons/modelcommons/clients/programerr"
	"github.com/modelcommons/modelcommons/clients/rules"
)

const cases = 3000

// errName is the program error name a Go rule's error stands for.
func errName(err error) string {
	var pe *programerr.Error
	for _, m := range []struct {
		err  error
		name string
	}{
		{rules.ErrOverflow, "MathOverflow"}, {rules.ErrZeroAmount, "ZeroAmount"},
		{rules.ErrTooSmall, "SwapTooSmall"}, {rules.ErrInvariant, "PoolInvariant"},
		{rules.ErrHardCapReached, "HardCapReached"}, {rules.ErrContributionSmall, "ContributionTooSmall"},
		{rules.ErrWalletCapExceeded, "WalletCapExceeded"},
	} {
		if errors.Is(err, m.err) {
			return m.name
		}
	}
	if errors.As(err, &pe) {
		return pe.Name
	}
	return "unmapped error: " + err.Error()
}

func agree(t *testing.T, rule string, in any, r oracle.Reply, got any, err error, want any) {
	t.Helper()
	oracle.Agree(t, rule, in, r, got, err, want, errName)
}

func crowdfundIn(c mt.Crowdfund) map[string]any {
	return map[string]any{
		"price": c.Price, "soft_cap": c.SoftCap, "hard_cap": c.HardCap, "start": c.Start, "end": c.End,
		"per_wallet_cap": c.PerWalletCap, "liquidity_bps": c.LiquidityBps, "protocol_fee_bps": c.ProtocolFeeBps,
		"raised": c.Raised, "sold": c.Sold, "liquidity_native": c.LiquidityNative,
	}
}

func randomCrowdfund(r oracle.Rand) mt.Crowdfund {
	c := mt.Crowdfund{Price: r.U64(), HardCap: r.U64(), End: r.I64(), PerWalletCap: r.U64(), Sold: r.U64()}
	c.Raised = r.Below(c.HardCap)
	c.SoftCap = r.Below(c.HardCap)
	return c
}

func TestRaiseRulesMatchTheProgram(t *testing.T) {
	o, r := oracle.Start(t), oracle.NewRand(t)
	for range cases {
		c, now := randomCrowdfund(r), r.I64()
		sale := r.Below(c.Sold + 1)
		if r.IntN(2) == 0 {
			sale = r.U64()
		}
		in := crowdfundIn(c)
		in["now"], in["sale_allocation"] = now, sale
		due, err := rules.RaiseDue(c, now, sale)
		var want struct{ Due bool }
		agree(t, "raise_due", in, o.Ask("raise_due", in), struct{ Due bool }{due}, err, &want)

		walletPaid, offered := r.Below(c.PerWalletCap), r.U64()
		in["wallet_paid"], in["offered"] = walletPaid, offered
		f, err := rules.FillFor(c, sale, walletPaid, offered)
		agree(t, "fill", in, o.Ask("fill", in), f, err, &rules.Fill{})
	}
}

func TestVestingMatchesTheProgram(t *testing.T) {
	o, r := oracle.Start(t), oracle.NewRand(t)
	type result struct{ Vested, Claimable uint64 }
	for range cases {
		v := mt.Vesting{Start: r.I64(), CliffSecs: r.I64(), DurationSecs: r.I64()}
		if r.IntN(2) == 0 {
			v.CliffSecs, v.DurationSecs = int64(r.IntN(1000)), int64(r.IntN(2000))
			v.Start = 1_700_000_000
		}
		total, now := r.U64(), v.Start+int64(r.IntN(3000))-500
		if r.IntN(4) == 0 {
			now = r.I64()
		}
		v.Claimed = r.Below(total)
		in := map[string]any{"start": v.Start, "cliff_secs": v.CliffSecs, "duration_secs": v.DurationSecs, "claimed": v.Claimed, "total": total, "now": now}
		vested, err := rules.Vested(v, total, now)
		var claimable uint64
		if err == nil {
			claimable, err = rules.Claimable(v, total, now)
		}
		agree(t, "claimable", in, o.Ask("claimable", in), result{vested, claimable}, err, &result{})
	}
}

func TestTallyMatchesTheProgram(t *testing.T) {
	o, r := oracle.Start(t), oracle.NewRand(t)
	type result struct {
		QuorumMet    bool   `json:"quorum_met"`
		ThresholdMet bool   `json:"threshold_met"`
		Outcome      string `json:"outcome"`
		Decided      string `json:"decided"`
		Due          bool   `json:"due"`
	}
	names := map[rules.Outcome]string{rules.Passed: "passed", rules.FailedQuorum: "failed_quorum", rules.FailedThreshold: "failed_threshold", "": ""}
	states := []mt.ProposalState{mt.ProposalState_Voting, mt.ProposalState_Passed, mt.ProposalState_Failed, mt.ProposalState_Executed}
	stateNames := []string{"voting", "passed", "failed", "executed"}
	for range cases {
		p := &mt.Proposal{
			Yes: r.U64(), No: r.U64(), Abstain: r.U64(), CirculatingSupply: r.U64(), MaxVoteWeight: r.U64(),
			QuorumBps: r.AnyBps(), ThresholdBps: r.AnyBps(), VotingEnds: r.I64(),
		}
		if r.IntN(2) == 0 { // realistic: votes within the supply
			p.MaxVoteWeight = r.Uint64N(1 << 50)
			p.CirculatingSupply = r.Below(p.MaxVoteWeight)
			p.Yes, p.No = r.Below(p.MaxVoteWeight/3), r.Below(p.MaxVoteWeight/3)
			p.Abstain = r.Below(p.MaxVoteWeight / 3)
		}
		s := r.IntN(len(states))
		if r.IntN(2) == 0 {
			s = 0
		}
		p.State = states[s]
		now := p.VotingEnds + int64(r.IntN(3)) - 1
		in := map[string]any{
			"yes": p.Yes, "no": p.No, "abstain": p.Abstain, "circulating_supply": p.CirculatingSupply,
			"max_vote_weight": p.MaxVoteWeight, "quorum_bps": p.QuorumBps, "threshold_bps": p.ThresholdBps,
			"voting_ends": p.VotingEnds, "state": stateNames[s], "now": now,
		}
		got := result{rules.QuorumMet(p), rules.ThresholdMet(p), names[rules.OutcomeNow(p)], names[rules.Decided(p)], rules.ProposalDue(p, now)}
		agree(t, "tally", in, o.Ask("tally", in), got, nil, &result{})

		// QuorumNeeded is the program's boundary: that turnout meets the
		// quorum, one base unit less does not.
		if need := rules.QuorumNeeded(p); need.IsUint64() {
			for _, turnout := range []uint64{need.Uint64(), need.Uint64() - 1} {
				if turnout == ^uint64(0) && need.Uint64() == 0 {
					continue
				}
				in["yes"], in["no"], in["abstain"] = turnout, 0, 0
				var w result
				o.Ask("tally", in).Decode(t, &w)
				if w.QuorumMet != (turnout == need.Uint64()) {
					t.Fatalf("QuorumNeeded %v = %d, but the program says a turnout of %d meets quorum: %v", in, need, turnout, w.QuorumMet)
				}
			}
		}
	}
}

func TestSwapQuotesMatchTheProgram(t *testing.T) {
	o, r := oracle.Start(t), oracle.NewRand(t)
	type result struct {
		AmountOut     uint64 `json:"amount_out"`
		Fee           uint64 `json:"fee"`
		ProtocolFee   uint64 `json:"protocol_fee"`
		ModelFee      uint64 `json:"model_fee"`
		ReserveMt     uint64 `json:"reserve_mt"`
		ReserveNative uint64 `json:"reserve_native"`
		ToDepositors  uint64 `json:"to_depositors"`
		ToTreasury    uint64 `json:"to_treasury"`
	}
	for range cases {
		p := rules.Pool{
			ReserveMt: r.U64(), ReserveNative: r.U64(), SwapFeeBps: r.Bps(), ProtocolShareBps: r.Bps(),
			DepositorShareBps: r.Bps(), EarningMt: r.U64(),
		}
		side, amount := rules.SwapBuy, r.U64()
		if r.IntN(2) == 0 {
			side = rules.SwapSell
		}
		in := map[string]any{
			"reserve_mt": p.ReserveMt, "reserve_native": p.ReserveNative, "buy": side == rules.SwapBuy, "amount_in": amount,
			"swap_fee_bps": p.SwapFeeBps, "protocol_share_bps": p.ProtocolShareBps,
			"depositor_share_bps": p.DepositorShareBps, "total_deposited": p.EarningMt, "acc_per_share": "0",
		}
		q, err := rules.QuoteSwap(p, side, amount)
		got := result{q.AmountOut, q.Fee, q.ProtocolFee, q.ModelFee, q.ReserveMt, q.ReserveNative, q.ToDepositors, q.ToTreasury}
		agree(t, "swap", in, o.Ask("swap", in), got, err, &result{})
	}
}

func TestMarketSeedMatchesTheProgram(t *testing.T) {
	o, r := oracle.Start(t), oracle.NewRand(t)
	type result struct {
		ReserveMt     uint64 `json:"reserve_mt"`
		ReserveNative uint64 `json:"reserve_native"`
	}
	for range cases {
		m := &mt.Model{Supply: mt.SupplySplit{Liquidity: r.U64()}, Crowdfund: mt.Crowdfund{LiquidityNative: r.U64()}}
		in := crowdfundIn(m.Crowdfund)
		for k, v := range map[string]uint64{"hard_supply": 0, "creator": 0, "crowdfund": 0, "liquidity": m.Supply.Liquidity, "contributor_rewards": 0} {
			in[k] = v
		}
		x, y, ok := rules.MarketSeed(m)
		if ok != (x > 0 && y > 0) {
			t.Fatalf("MarketSeed %+v: ok %v for reserves %d, %d (open_market refuses a zero side)", m.Supply, ok, x, y)
		}
		agree(t, "market_seed", in, o.Ask("market_seed", in), result{x, y}, nil, &result{})
	}
}

func TestVoteWeightMatchesTheProgram(t *testing.T) {
	o, r := oracle.Start(t), oracle.NewRand(t)
	for range cases {
		v := &mt.Voter{Deposited: r.U64(), Recent: r.U64(), SettledVotesFrom: r.I64(), RecentVotesFrom: r.I64()}
		if r.IntN(2) == 0 {
			v.Recent = r.Below(v.Deposited)
		}
		created := r.I64()
		if r.IntN(2) == 0 {
			created = v.RecentVotesFrom + int64(r.IntN(3)) - 1
		}
		in := map[string]any{
			"deposited": v.Deposited, "recent": v.Recent, "settled_votes_from": v.SettledVotesFrom,
			"recent_votes_from": v.RecentVotesFrom, "created_at": created, "warming": 0, "reward_checkpoint": "0",
		}
		var want struct{ Weight uint64 }
		agree(t, "vote_weight", in, o.Ask("vote_weight", in), struct{ Weight uint64 }{rules.VoteWeight(v, created)}, nil, &want)
	}
}

func u128(r oracle.Rand) binary.Uint128 {
	switch r.IntN(4) {
	case 0:
		return binary.Uint128{Lo: r.U64()}
	case 1:
		return binary.Uint128{Lo: r.U64(), Hi: r.Below(1 << 20)}
	}
	return binary.Uint128{Lo: r.U64(), Hi: r.U64()}
}

func dec(v binary.Uint128) string {
	b := new(big.Int).SetUint64(v.Hi)
	return b.Lsh(b, 64).Or(b, new(big.Int).SetUint64(v.Lo)).String()
}

func TestRevenueAccumulatorMatchesTheProgram(t *testing.T) {
	o, r := oracle.Start(t), oracle.NewRand(t)
	for range cases {
		rev := mt.RevenueState{DepositorShareBps: r.AnyBps(), AccPerShare: u128(r), TotalDeposited: r.U64()}
		v := &mt.Voter{Deposited: r.U64(), Warming: r.U64(), RewardCheckpoint: u128(r)}
		if r.IntN(2) == 0 {
			v.RewardCheckpoint = binary.Uint128{Lo: rev.AccPerShare.Lo - r.Below(rev.AccPerShare.Lo), Hi: rev.AccPerShare.Hi}
		}
		in := map[string]any{
			"depositor_share_bps": rev.DepositorShareBps, "acc_per_share": dec(rev.AccPerShare), "total_deposited": rev.TotalDeposited,
			"deposited": v.Deposited, "warming": v.Warming, "reward_checkpoint": dec(v.RewardCheckpoint),
			"recent": 0, "recent_votes_from": 0, "settled_votes_from": 0,
		}
		p, err := rules.PendingOf(rev, v)
		var want struct{ Pending uint64 }
		agree(t, "pending", in, o.Ask("pending", in), struct{ Pending uint64 }{p}, err, &want)

		amount := r.U64()
		in["amount"] = amount
		c, err := rules.CreditOf(rev, amount)
		type credit struct {
			ToDepositors uint64 `json:"to_depositors"`
			ToTreasury   uint64 `json:"to_treasury"`
			AccPerShare  string `json:"acc_per_share"`
		}
		agree(t, "credit", in, o.Ask("credit", in), credit{c.ToDepositors, c.ToTreasury, dec(c.AccPerShare)}, err, &credit{})
	}
}

func TestLaunchRulesMatchTheProgram(t *testing.T) {
	o, r := oracle.Start(t), oracle.NewRand(t)
	for range cases {
		price, hardCap := r.U64(), r.U64()
		in := map[string]any{"price": price, "hard_cap": hardCap}
		var want struct{ Raise uint64 }
		agree(t, "min_sold_out_raise", in, o.Ask("min_sold_out_raise", in), struct{ Raise uint64 }{rules.MinSoldOutRaise(price, hardCap)}, nil, &want)

		c := mt.Crowdfund{Raised: r.U64(), ProtocolFeeBps: r.AnyBps(), LiquidityBps: r.AnyBps()}
		p, err := rules.ProceedsOf(c)
		in = crowdfundIn(c)
		type proceeds struct {
			ProtocolFee uint64 `json:"protocol_fee"`
			Liquidity   uint64 `json:"liquidity"`
			Treasury    uint64 `json:"treasury"`
		}
		agree(t, "proceeds", in, o.Ask("proceeds", in), proceeds(p), err, &proceeds{})
	}
}

func TestMetadataLimitsMatchTheProgram(t *testing.T) {
	o, r := oracle.Start(t), oracle.NewRand(t)
	text := func(max int) string {
		n := r.IntN(max + 3)
		if r.IntN(3) == 0 {
			n = max + r.IntN(3) - 1
		}
		b := make([]rune, 0, n)
		for len(string(b)) < n {
			if r.IntN(4) == 0 {
				b = append(b, 'é') // two bytes: the limits count bytes
			} else {
				b = append(b, 'a')
			}
		}
		return string(b)
	}
	for range cases {
		name, symbol, uri := text(int(mt.MAX_NAME_LEN)), text(int(mt.MAX_SYMBOL_LEN)), text(int(mt.MAX_URI_LEN))
		in := map[string]any{"name": name, "symbol": symbol, "uri": uri}
		agree(t, "validate_metadata", in, o.Ask("validate_metadata", in), nil, rules.ValidateMetadata(name, symbol, uri), nil)
	}
}

// validLaunch is a launch the program accepts at now with a one-day minimum period.
func validLaunch(r oracle.Rand, now int64) mt.LaunchModelArgs {
	unit := uint64(rules.MTUnit)
	sale := (1 + r.Uint64N(1_000_000)) * unit
	price := 1 + r.Uint64N(10*unit)
	hardCapMT := 1 + r.Uint64N(sale)
	hardCap := hardCapMT * price / unit
	if hardCap == 0 {
		hardCap = 1
	}
	liquidity := r.Uint64N(3) * r.Uint64N(1_000_000) * unit
	args := mt.LaunchModelArgs{
		Supply:  mt.SupplySplit{Creator: r.Uint64N(1_000_000) * unit, Crowdfund: sale, Liquidity: liquidity, ContributorRewards: r.Uint64N(1_000_000) * unit},
		Vesting: mt.VestingTerms{CliffSecs: r.Int64N(1000), DurationSecs: 1000 + r.Int64N(1000)},
		Crowdfund: mt.CrowdfundTerms{
			Price: price, HardCap: hardCap, SoftCap: 1 + r.Uint64N(hardCap), Start: now, End: now + 86_400 + r.Int64N(86_400),
			PerWalletCap: hardCap,
		},
		Governance:        mt.GovernanceRules{QuorumBps: 1 + uint16(r.IntN(10_000)), ThresholdBps: 1 + uint16(r.IntN(10_000)), VotingPeriodSecs: 86_400, HoldUpSecs: 86_400},
		DepositorShareBps: r.Bps(),
		Price:             mt.QueryPrice{InputPer1k: 1 + r.Uint64N(1000), OutputPer1k: 1 + r.Uint64N(1000)},
	}
	if liquidity > 0 {
		args.Crowdfund.LiquidityBps = 1 + uint16(r.IntN(10_000))
	}
	s := &args.Supply
	s.HardSupply = s.Creator + s.Crowdfund + s.Liquidity + s.ContributorRewards
	args.Governance.MinProposeMt = r.Below(s.HardSupply)
	return args
}

// perturb sets one or two of args' fields to a random (often edge) value.
func perturb(r oracle.Rand, a *mt.LaunchModelArgs) {
	fields := []func(){
		func() { a.Supply.HardSupply = r.U64() }, func() { a.Supply.Creator = r.U64() },
		func() { a.Supply.Crowdfund = r.U64() }, func() { a.Supply.Liquidity = r.U64() },
		func() { a.Supply.ContributorRewards = r.U64() },
		func() { a.Vesting.CliffSecs = r.I64() }, func() { a.Vesting.DurationSecs = r.I64() },
		func() { a.Crowdfund.Price = r.U64() }, func() { a.Crowdfund.SoftCap = r.U64() },
		func() { a.Crowdfund.HardCap = r.U64() }, func() { a.Crowdfund.Start = r.I64() },
		func() { a.Crowdfund.End = r.I64() }, func() { a.Crowdfund.PerWalletCap = r.U64() },
		func() { a.Crowdfund.LiquidityBps = r.AnyBps() },
		func() { var root [32]byte; root[r.IntN(32)] = byte(r.IntN(2)); a.Crowdfund.AllowlistRoot = &root },
		func() { a.Governance.QuorumBps = r.AnyBps() }, func() { a.Governance.ThresholdBps = r.AnyBps() },
		func() { a.Governance.VotingPeriodSecs = r.I64() }, func() { a.Governance.HoldUpSecs = r.I64() },
		func() { a.Governance.MinProposeMt = r.U64() }, func() { a.DepositorShareBps = r.AnyBps() },
		func() { a.Price.InputPer1k = r.U64() }, func() { a.Price.OutputPer1k = r.U64() },
	}
	for range 1 + r.IntN(2) {
		fields[r.IntN(len(fields))]()
	}
}

func TestValidateTermsMatchesTheProgram(t *testing.T) {
	o, r := oracle.Start(t), oracle.NewRand(t)
	accepted := 0
	for range cases {
		now := int64(1_700_000_000)
		a := validLaunch(r, now)
		if r.IntN(4) != 0 {
			perturb(r, &a)
		}
		minPeriod, feeBps := int64(86_400), r.Bps()
		if r.IntN(8) == 0 {
			minPeriod = r.I64()
		}
		if r.IntN(8) == 0 {
			now = r.I64()
		}
		in := map[string]any{
			"hard_supply": a.Supply.HardSupply, "creator": a.Supply.Creator, "crowdfund": a.Supply.Crowdfund,
			"liquidity": a.Supply.Liquidity, "contributor_rewards": a.Supply.ContributorRewards,
			"cliff_secs": a.Vesting.CliffSecs, "duration_secs": a.Vesting.DurationSecs,
			"price": a.Crowdfund.Price, "soft_cap": a.Crowdfund.SoftCap, "hard_cap": a.Crowdfund.HardCap,
			"start": a.Crowdfund.Start, "end": a.Crowdfund.End, "per_wallet_cap": a.Crowdfund.PerWalletCap,
			"liquidity_bps": a.Crowdfund.LiquidityBps,
			"quorum_bps":    a.Governance.QuorumBps, "threshold_bps": a.Governance.ThresholdBps,
			"voting_period_secs": a.Governance.VotingPeriodSecs, "hold_up_secs": a.Governance.HoldUpSecs,
			"min_propose_mt": a.Governance.MinProposeMt, "depositor_share_bps": a.DepositorShareBps,
			"input_per_1k": a.Price.InputPer1k, "output_per_1k": a.Price.OutputPer1k,
			"min_period_secs": minPeriod, "protocol_fee_bps": feeBps, "now": now,
		}
		if a.Crowdfund.AllowlistRoot != nil {
			root := make([]int, 32) // a []byte would travel as base64
			for i, b := range a.Crowdfund.AllowlistRoot {
				root[i] = int(b)
			}
			in["allowlist_root"] = root
		}
		reply := o.Ask("validate_terms", in)
		err := rules.ValidateTerms(a, minPeriod, feeBps, now)
		if err == nil && reply.Err == "" {
			accepted++
			continue
		}
		agree(t, "validate_terms", in, reply, nil, err, nil)
	}
	// The generator must reach the accepting path too, or the test only
	// compares error names.
	if accepted < cases/10 {
		t.Fatalf("only %d of %d launches were valid: the generator no longer exercises acceptance", accepted, cases)
	}
}

func randomTally(r oracle.Rand) mt.ReviewTally {
	t := mt.ReviewTally{Approvals: uint16(r.IntN(5)), Rejections: uint16(r.IntN(5)), SpamCalls: uint16(r.IntN(5))}
	t.Reveals = t.Approvals + t.Rejections + t.SpamCalls
	t.Commits = t.Reveals + uint16(r.IntN(3))
	weight := func(n uint16) uint64 {
		if n == 0 {
			return 0
		}
		if r.IntN(4) == 0 {
			return r.U64() / 4 // near the top: sums stay in u64 as on chain
		}
		return uint64(n) + r.Below(1<<40)
	}
	t.ApproveWeight, t.RejectWeight, t.SpamWeight = weight(t.Approvals), weight(t.Rejections), weight(t.SpamCalls)
	return t
}

func TestBountyReviewRuleMatchesTheProgram(t *testing.T) {
	o, r := oracle.Start(t), oracle.NewRand(t)
	for range cases {
		tally := randomTally(r)
		terms := mt.BountyTerms{ReviewFee: r.Below(1 << 40), SubmissionBond: 1 + r.Below(1<<40), ReviewBond: 1 + r.Below(1<<40),
			MinReviewers: uint16(1 + r.IntN(6)), ThresholdBps: uint16(1 + r.IntN(10_000))}
		review := &mt.Review{Weight: 1 + r.Below(1<<40), Bond: terms.ReviewBond, Revealed: r.IntN(4) != 0, Choice: mt.ReviewChoice(r.IntN(3))}
		award := r.Below(1 << 40)
		in := map[string]any{
			"reward": 0, "review_fee": terms.ReviewFee, "submission_bond": terms.SubmissionBond, "review_bond": terms.ReviewBond,
			"max_submissions": 1, "min_reviewers": terms.MinReviewers, "threshold_bps": terms.ThresholdBps,
			"commits": tally.Commits, "reveals": tally.Reveals, "approve_weight": tally.ApproveWeight, "reject_weight": tally.RejectWeight,
			"spam_weight": tally.SpamWeight, "approvals": tally.Approvals, "rejections": tally.Rejections, "spam_calls": tally.SpamCalls,
			"weight": review.Weight, "revealed": review.Revealed, "choice": int(review.Choice), "award": award,
		}
		type result struct {
			Outcome       string `json:"outcome"`
			FeePool       uint64 `json:"fee_pool"`
			WinningWeight uint64 `json:"winning_weight"`
			Winners       uint16 `json:"winners"`
			Clear         bool   `json:"clear"`
			Slash         uint64 `json:"slash"`
			Amount        uint64 `json:"amount"`
			Fee           uint64 `json:"fee"`
			Winner        bool   `json:"winner"`
			Slashed       bool   `json:"slashed"`
			Contributor   uint64 `json:"contributor"`
		}
		var got result
		st, err := rules.SettleReviews(tally, terms)
		if err == nil {
			s := &mt.Submission{Outcome: st.Outcome, FeePool: st.FeePool, WinningWeight: st.WinningWeight, Clear: st.Clear, Slash: st.Slash, Bond: terms.SubmissionBond}
			var p rules.ReviewPayout
			if p, err = rules.PayReview(review, s); err == nil {
				var c uint64
				c, err = rules.ContributorPayout(s, award)
				names := map[mt.SubmissionOutcome]string{mt.SubmissionOutcome_Accepted: "accepted", mt.SubmissionOutcome_Rejected: "rejected",
					mt.SubmissionOutcome_Spam: "spam", mt.SubmissionOutcome_Unreviewed: "unreviewed"}
				got = result{names[st.Outcome], st.FeePool, st.WinningWeight, st.Winners, st.Clear, st.Slash, p.Amount, p.Fee, p.Winner, p.Slashed, c}
			}
		}
		var want result
		agree(t, "bounty_review", in, o.Ask("bounty_review", in), got, err, &want)
	}
}

func TestBountySettlementMatchesTheProgram(t *testing.T) {
	o, r := oracle.Start(t), oracle.NewRand(t)
	for range cases {
		b := &mt.Bounty{Terms: mt.BountyTerms{Reward: r.U64(), ReviewFee: r.U64(), MaxSubmissions: uint16(1 + r.IntN(1_000))}}
		if r.IntN(2) == 0 {
			b.Terms.Reward, b.Terms.ReviewFee = r.Below(1<<50), r.Below(1<<40)
		}
		b.Submissions = uint16(r.IntN(int(b.Terms.MaxSubmissions) + 1))
		b.Accepted = uint16(r.IntN(int(b.Submissions) + 1))
		in := map[string]any{
			"reward": b.Terms.Reward, "review_fee": b.Terms.ReviewFee, "submission_bond": 1, "review_bond": 1,
			"max_submissions": b.Terms.MaxSubmissions, "min_reviewers": 1, "threshold_bps": 1,
			"submissions": b.Submissions, "accepted": b.Accepted,
		}
		type result struct {
			Reservation, Award, Owed, Released uint64
		}
		var got result
		res, err := rules.Reservation(b.Terms)
		if err == nil {
			var award, owed, released uint64
			award, owed, released, err = rules.BountySettlement(b)
			got = result{res, award, owed, released}
		}
		var want result
		agree(t, "bounty_settlement", in, o.Ask("bounty_settlement", in), got, err, &want)
	}
}

func TestReviewCommitmentMatchesTheProgram(t *testing.T) {
	o, r := oracle.Start(t), oracle.NewRand(t)
	for range 200 {
		var salt, sub, rev [32]byte
		for i := range 32 {
			salt[i], sub[i], rev[i] = byte(r.IntN(256)), byte(r.IntN(256)), byte(r.IntN(256))
		}
		choice := mt.ReviewChoice(r.IntN(3))
		list := func(b [32]byte) []int {
			out := make([]int, 32)
			for i, x := range b {
				out[i] = int(x)
			}
			return out
		}
		in := map[string]any{"choice": int(choice), "salt": list(salt), "submission": list(sub), "reviewer": list(rev)}
		var want struct{ Commitment []int }
		got := list(rules.ReviewCommitment(choice, salt, sub, rev))
		agree(t, "review_commitment", in, o.Ask("review_commitment", in), struct{ Commitment []int }{got}, nil, &want)
	}
}
