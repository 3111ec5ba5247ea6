package settlement

import (
	"fmt"
	"math"
	"math/bits"

	"github.com/gagliardetto/solana-go"

	meter "github.com/modelcommons/modelcommons/clients/inference_meter"
	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
	"github.com/modelcommons/modelcommons/clients/rules"
)

// Model is what settlement reads from an mt_treasury Model account.
type Model struct {
	ID      uint64
	Active  bool
	Pricing Pricing
}

// Escrow is what settlement by one node reads from and writes to an
// escrow: its lane for that node, and the escrow-wide spend history.
type Escrow struct {
	// HasLane is false when the owner opened no lane to the node (or revoked
	// it): the program refuses the whole batch (NoLaneForNode).
	HasLane bool
	// Balance is the node's lane balance: all the node may take.
	Balance uint64
	// RevokeRequestedAt is when the owner asked to revoke the lane (0 for
	// never): a keeper stops admitting requests against it.
	RevokeRequestedAt int64
	// LaneSerial is the domain serial the lane recorded when it was opened
	// (0 for a node lane); a domain batch needs it to be the domain's
	// (DomainLaneStale otherwise).
	LaneSerial uint64
	Spent      uint64
	Unpaid     uint64
	// SpendLimit caps Spent; nil for no cap.
	SpendLimit *uint64
	// AllowedModels are model ids; empty for any model.
	AllowedModels []uint64
}

// EscrowOf reads a decoded escrow account as node (its node account
// address, pda.Node(operator)) settles it.
func EscrowOf(e *meter.Escrow, node solana.PublicKey) Escrow {
	out := Escrow{Spent: e.Spent, Unpaid: e.Unpaid, SpendLimit: e.SpendLimit, AllowedModels: e.AllowedModels}
	if l := LaneOf(e, node); l != nil {
		out.HasLane, out.Balance, out.RevokeRequestedAt, out.LaneSerial = true, l.Balance, l.RevokeRequestedAt, l.DomainSerial
	}
	return out
}

// LaneOf is node's lane in e, or nil when the owner opened none.
func LaneOf(e *meter.Escrow, node solana.PublicKey) *meter.Lane {
	for i := range e.Lanes {
		if e.Lanes[i].Node.Equals(node) {
			return &e.Lanes[i]
		}
	}
	return nil
}

// LaneRoom is what the owner may still move into lanes under e's spend
// limit (the program's Escrow::lane_room): the limit left after what was
// spent and what the lanes hold. ok is false when e has no spend limit.
// Keeping lanes within it means the limit never cuts a lane short.
func LaneRoom(e *meter.Escrow) (room uint64, ok bool) {
	if e.SpendLimit == nil {
		return 0, false
	}
	left := *e.SpendLimit - min(*e.SpendLimit, e.Spent)
	for _, l := range e.Lanes {
		left -= min(left, l.Balance)
	}
	return left, true
}

// Available is what settlement may still take: the lane's balance, within
// the spend limit.
func (e Escrow) Available() uint64 {
	if e.SpendLimit == nil {
		return e.Balance
	}
	left := uint64(0)
	if *e.SpendLimit > e.Spent {
		left = *e.SpendLimit - e.Spent
	}
	return min(e.Balance, left)
}

// Allows reports whether the escrow may pay for model id.
func (e Escrow) Allows(id uint64) bool {
	if len(e.AllowedModels) == 0 {
		return true
	}
	for _, m := range e.AllowedModels {
		if m == id {
			return true
		}
	}
	return false
}

// State is the chain state a batch settles against.
type State struct {
	SettlementFeeBps, OperatorShareBps uint16
	Models                             map[solana.PublicKey]Model
	Escrows                            map[solana.PublicKey]Escrow
	// Now is the chain clock; RegisteredAt the node's registration time.
	Now, RegisteredAt int64
	// LastRunSeq is the node's highest settled run sequence number.
	LastRunSeq uint64
	// Domain is the domain and the node's membership of it, for a batch
	// whose Layout.Domain is set; the escrows' lanes are then the domain's
	// (EscrowOf with the domain's address).
	Domain *DomainState
}

// DomainState is what a domain batch reads besides the escrows.
type DomainState struct {
	Domain     *meter.Domain
	Membership *meter.Membership
}

// SettleWindowSecs is how long after it was served a run may still be
// settled (mt_treasury SETTLE_WINDOW_SECS): older runs are refused
// (RunTooOld), because their price may no longer be known.
const SettleWindowSecs = mt.SETTLE_WINDOW_SECS

// EscrowDebit, ModelCredit and EntryShortfall are the BatchSettled event's parts.
type EscrowDebit struct {
	Escrow             solana.PublicKey
	Charged, Shortfall uint64
}

type ModelCredit struct {
	Model            solana.PublicKey
	Charged, Revenue uint64
}

type EntryShortfall struct {
	Entry         uint16
	Escrow        solana.PublicKey
	Cost, Charged uint64
}

// Outcome is what settling a batch does: the totals of its BatchSettled
// event, and the escrows afterwards.
type Outcome struct {
	Entries                          uint16
	Runs, InputTokens, OutputTokens  uint64
	Cost, Charged, Shortfall         uint64
	ToProtocol, ToOperator, ToModels uint64
	// ToDomain is the domain's fee (domain batches only), out of the
	// operator's cut: ToOperator is what the node operator keeps.
	ToDomain uint64
	// Escrows that paid or fell short, by address; Models by address.
	Escrows    []EscrowDebit
	Models     []ModelCredit
	Shortfalls []EntryShortfall
	// After holds every escrow of the batch as settlement leaves it.
	After map[solana.PublicKey]Escrow
}

// Settle computes what the program's settle does with layout l against
// state s, entry by entry in the same order with the same checks, or the
// named error it fails with. It does not check the node (sequence number,
// status, stake, keeper key): those are the caller's to read.
func Settle(s State, l *Layout) (*Outcome, error) {
	if l.Args.FirstRunSeq <= s.LastRunSeq {
		return nil, fmt.Errorf("runs %d..%d (node settled up to %d): %w", l.Args.FirstRunSeq, l.Args.LastRunSeq, s.LastRunSeq, meter.ErrRunsAlreadySettled)
	}
	if l.Args.LastRunSeq < l.Args.FirstRunSeq {
		return nil, fmt.Errorf("runs %d..%d: %w", l.Args.FirstRunSeq, l.Args.LastRunSeq, meter.ErrInvalidRunRange)
	}
	var domain *DomainState
	noLane := meter.ErrNoLaneForNode
	if l.Domain != nil {
		if domain = s.Domain; domain == nil || domain.Domain == nil || domain.Membership == nil {
			return nil, fmt.Errorf("domain %s: not in the state given", l.Domain.Domain)
		}
		if err := rules.MembershipMaySettle(domain.Membership, s.Now); err != nil {
			return nil, fmt.Errorf("domain %s: %w", l.Domain.Domain, err)
		}
		noLane = meter.ErrNoLaneForDomain
	}
	// The lowest fee in effect when any of the batch's runs was served.
	domainFee := uint16(BPS)
	out := &Outcome{After: map[solana.PublicKey]Escrow{}}
	models := make([]Model, len(l.Models))
	for i, k := range l.Models {
		m, ok := s.Models[k]
		if !ok {
			return nil, fmt.Errorf("model %s: not in the state given", k)
		}
		if !m.Active {
			return nil, fmt.Errorf("model %s: %w", k, meter.ErrModelNotActive)
		}
		models[i] = m
	}
	escrows := make([]Escrow, len(l.Escrows))
	for i, k := range l.Escrows {
		e, ok := s.Escrows[k]
		if !ok {
			return nil, fmt.Errorf("escrow %s: not in the state given", k)
		}
		if !e.HasLane {
			return nil, fmt.Errorf("escrow %s: %w", k, noLane)
		}
		if domain != nil {
			if err := rules.CheckDomainLane(e.LaneSerial, domain.Domain.Serial); err != nil {
				return nil, fmt.Errorf("escrow %s: %w", k, err)
			}
		}
		e.AllowedModels = append([]uint64(nil), e.AllowedModels...)
		escrows[i] = e
	}
	debits := make([]EscrowDebit, len(escrows))
	modelCharged := make([]uint64, len(models))
	add := func(a *uint64, b uint64) error {
		var carry uint64
		*a, carry = bits.Add64(*a, b, 0)
		if carry != 0 {
			return overflow("batch total")
		}
		return nil
	}

	r := reader{data: l.Args.Entries}
	for n := 0; r.pos < len(r.data); n++ {
		e, err := r.entry()
		if err != nil {
			return nil, fmt.Errorf("entry %d: %w", n, err)
		}
		if err := e.check(); err != nil {
			return nil, fmt.Errorf("entry %d: %w", n, err)
		}
		if int(e.Escrow) >= len(escrows) {
			return nil, fmt.Errorf("entry %d: %w", n, meter.ErrUnknownAccountIndex)
		}
		if e.ServedOffset > math.MaxInt64 || l.Args.ServedBase > math.MaxInt64-int64(e.ServedOffset) {
			return nil, fmt.Errorf("entry %d: served at: %w", n, meter.ErrMathOverflow)
		}
		servedAt := l.Args.ServedBase + int64(e.ServedOffset)
		if servedAt > s.Now {
			return nil, fmt.Errorf("entry %d: %w", n, meter.ErrServedInFuture)
		}
		if servedAt < s.RegisteredAt {
			return nil, fmt.Errorf("entry %d: %w", n, meter.ErrServedBeforeRegistration)
		}
		if servedAt < s.Now-SettleWindowSecs {
			return nil, fmt.Errorf("entry %d: %w", n, meter.ErrRunTooOld)
		}
		if domain != nil {
			if err := rules.ServedAsMember(domain.Membership, servedAt); err != nil {
				return nil, fmt.Errorf("entry %d: %w", n, err)
			}
			domainFee = min(domainFee, rules.DomainFeeAt(domain.Domain, servedAt))
		}
		escrow := &escrows[e.Escrow]
		costs := make([]uint64, len(e.Shares))
		var cost uint64
		for i, sh := range e.Shares {
			if int(sh.Model) >= len(models) {
				return nil, fmt.Errorf("entry %d: %w", n, meter.ErrUnknownAccountIndex)
			}
			m := models[sh.Model]
			if !escrow.Allows(m.ID) {
				return nil, fmt.Errorf("entry %d, model %d: %w", n, m.ID, meter.ErrModelNotAllowed)
			}
			in, outp := m.Pricing.At(servedAt)
			if costs[i], err = ShareCost(e.InputTokens, e.OutputTokens, in, outp, sh.WeightBps); err != nil {
				return nil, fmt.Errorf("entry %d: %w", n, err)
			}
			if err := add(&cost, costs[i]); err != nil {
				return nil, err
			}
		}
		charged := min(cost, escrow.Available())
		parts, err := Distribute(costs, charged)
		if err != nil {
			return nil, err
		}
		for i, sh := range e.Shares {
			if err := add(&modelCharged[sh.Model], parts[i]); err != nil {
				return nil, err
			}
		}
		shortfall := cost - charged
		escrow.Balance -= charged
		if err := add(&escrow.Spent, charged); err != nil {
			return nil, err
		}
		if err := add(&escrow.Unpaid, shortfall); err != nil {
			return nil, err
		}
		if err := add(&debits[e.Escrow].Charged, charged); err != nil {
			return nil, err
		}
		if err := add(&debits[e.Escrow].Shortfall, shortfall); err != nil {
			return nil, err
		}
		if shortfall > 0 {
			out.Shortfalls = append(out.Shortfalls, EntryShortfall{Entry: out.Entries, Escrow: l.Escrows[e.Escrow], Cost: cost, Charged: charged})
		}
		if out.Entries == 0xffff {
			return nil, overflow("entry count")
		}
		out.Entries++
		for _, f := range []struct {
			total *uint64
			v     uint64
		}{{&out.Runs, e.Runs}, {&out.InputTokens, e.InputTokens}, {&out.OutputTokens, e.OutputTokens}, {&out.Cost, cost}, {&out.Charged, charged}} {
			if err := add(f.total, f.v); err != nil {
				return nil, err
			}
		}
	}
	if out.Entries == 0 {
		return nil, meter.ErrEmptyBatch
	}
	if out.Runs-1 > l.Args.LastRunSeq-l.Args.FirstRunSeq {
		return nil, fmt.Errorf("%d runs in run numbers %d..%d: %w", out.Runs, l.Args.FirstRunSeq, l.Args.LastRunSeq, meter.ErrInvalidRunRange)
	}
	for i, k := range l.Models {
		sp, err := SplitCharged(modelCharged[i], s.SettlementFeeBps, s.OperatorShareBps)
		if err != nil {
			return nil, err
		}
		for _, f := range []struct {
			total *uint64
			v     uint64
		}{{&out.ToProtocol, sp.ToProtocol}, {&out.ToOperator, sp.ToOperator}, {&out.ToModels, sp.ToModel}} {
			if err := add(f.total, f.v); err != nil {
				return nil, err
			}
		}
		out.Models = append(out.Models, ModelCredit{Model: k, Charged: modelCharged[i], Revenue: sp.ToModel})
	}
	if domain != nil {
		fee, err := rules.DomainFee(out.ToOperator, domainFee)
		if err != nil {
			return nil, err
		}
		out.ToDomain = fee
		out.ToOperator -= fee
	}
	out.Shortfall = out.Cost - out.Charged
	for i, k := range l.Escrows {
		debits[i].Escrow = k
		if debits[i].Charged > 0 || debits[i].Shortfall > 0 {
			out.Escrows = append(out.Escrows, debits[i])
		}
		out.After[k] = escrows[i]
	}
	return out, nil
}
