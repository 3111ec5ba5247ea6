package settler

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"time"

	"github.com/gagliardetto/solana-go"
	computebudget "github.com/gagliardetto/solana-go/programs/compute-budget"

	im "github.com/modelcommons/modelcommons/clients/inference_meter"
	"github.com/modelcommons/modelcommons/clients/pda"
	"github.com/modelcommons/modelcommons/clients/settlement"
	"github.com/modelcommons/modelcommons/keepers/journal"
	"github.com/modelcommons/modelcommons/keepers/receipts"
)

// Transaction limits the packer respects.
const (
	// MaxTxBytes is Solana's packet limit for a serialized transaction.
	MaxTxBytes = 1232
	// MaxTxAccounts is mainnet's account-lock limit per transaction (the
	// local chain allows 128; the keeper holds itself to mainnet's).
	MaxTxAccounts = 64
)

// Write-off reasons (bounded: they label a metric).
const (
	ReasonEscrowClosed      = "escrow_closed"
	ReasonModelNotAllowed   = "model_not_allowed"
	ReasonModelNotActive    = "model_not_active"
	ReasonBeforeRegistering = "served_before_node_registration"
)

// run is one receipt as the planner needs it.
type run struct {
	ID       receipts.RunID
	ServedMs int64
	In, Out  uint64
	Cost     uint64
}

// group is receipts with one escrow and one model mixture (with applied
// prices), the journal's unit of aggregation.
type group struct {
	Escrow          solana.PublicKey
	Shares          []receipts.ModelShare
	IDs             []receipts.RunID
	In, Out, Cost   uint64
	FirstMs, LastMs int64
	// Runs holds per-receipt detail once loaded (needed only when the
	// group straddles a boundary).
	Runs []run
}

func groupsFromJournal(gs []journal.Group) []group {
	out := make([]group, len(gs))
	for i, g := range gs {
		ids := slices.Clone(g.RunIDs)
		slices.SortFunc(ids, func(a, b receipts.RunID) int { return bytes.Compare(a[:], b[:]) })
		out[i] = group{
			Escrow: solana.PublicKeyFromBytes(g.Key.Escrow[:]), Shares: g.Key.Models, IDs: ids,
			In: g.InputTokens, Out: g.OutputTokens, Cost: g.Cost, FirstMs: g.FirstServedAtMs, LastMs: g.LastServedAtMs,
		}
	}
	return out
}

// groupsFromEntries groups stored receipts (with their detail) by escrow
// and model mixture, ordered by their oldest receipt.
func groupsFromEntries(es []journal.Entry) []group {
	index := map[string]*group{}
	var order []*group
	for _, e := range es {
		r := e.Signed.Receipt
		var key bytes.Buffer
		key.Write(r.Escrow[:])
		for _, m := range r.Models {
			_ = binary.Write(&key, binary.BigEndian, m)
		}
		g := index[key.String()]
		if g == nil {
			g = &group{Escrow: solana.PublicKeyFromBytes(r.Escrow[:]), Shares: r.Models, FirstMs: r.ServedAtMs, LastMs: r.ServedAtMs}
			index[key.String()] = g
			order = append(order, g)
		}
		g.IDs = append(g.IDs, r.RunID)
		g.Runs = append(g.Runs, run{ID: r.RunID, ServedMs: r.ServedAtMs, In: r.InputTokens, Out: r.OutputTokens, Cost: r.Cost})
		g.In += r.InputTokens
		g.Out += r.OutputTokens
		g.Cost += r.Cost
		g.FirstMs = min(g.FirstMs, r.ServedAtMs)
		g.LastMs = max(g.LastMs, r.ServedAtMs)
	}
	out := make([]group, len(order))
	for i, g := range order {
		sort.Slice(g.Runs, func(a, b int) bool { return bytes.Compare(g.Runs[a].ID[:], g.Runs[b].ID[:]) < 0 })
		slices.SortFunc(g.IDs, func(a, b receipts.RunID) int { return bytes.Compare(a[:], b[:]) })
		out[i] = *g
	}
	sort.SliceStable(out, func(a, b int) bool { return bytes.Compare(out[a].IDs[0][:], out[b].IDs[0][:]) < 0 })
	return out
}

// candidate is one settle entry and the receipts it settles.
type candidate struct {
	Entry  settlement.Entry
	IDs    []receipts.RunID // ascending
	Quoted uint64           // the receipts' costs as the keeper quoted them
}

// chainState is what the planner read for a set of groups.
type chainState struct {
	escrows map[solana.PublicKey]escrowInfo // by receipt escrow
	models  map[uint64]settlement.Model
	state   settlement.State // keyed by target escrow and model address
}

// outcome of planning a set of groups.
type planned struct {
	cands     []candidate
	writeOffs map[string][]receipts.RunID
	deferred  int
	chain     *chainState
}

func secOf(ms int64) int64 {
	if ms < 0 {
		return -((-ms + 999) / 1000)
	}
	return ms / 1000
}

// readChainState reads the escrows (following rotations) and the models
// the groups need.
func (s *Settler) readChainState(ctx context.Context, v *view, gs []group) (*chainState, error) {
	var escrows []solana.PublicKey
	var ids []uint64
	seenE, seenM := map[solana.PublicKey]bool{}, map[uint64]bool{}
	for _, g := range gs {
		if !seenE[g.Escrow] {
			seenE[g.Escrow] = true
			escrows = append(escrows, g.Escrow)
		}
		for _, m := range g.Shares {
			if !seenM[m.ModelID] {
				seenM[m.ModelID] = true
				ids = append(ids, m.ModelID)
			}
		}
	}
	cs := &chainState{}
	var err error
	if cs.escrows, err = s.readEscrows(ctx, escrows); err != nil {
		return nil, err
	}
	if cs.models, err = s.readModels(ctx, ids); err != nil {
		return nil, err
	}
	cs.state = settlement.State{
		SettlementFeeBps: v.Meter.SettlementFeeBps, OperatorShareBps: v.Meter.OperatorShareBps,
		Models: map[solana.PublicKey]settlement.Model{}, Escrows: map[solana.PublicKey]settlement.Escrow{},
		Now: v.Now, RegisteredAt: v.Node.RegisteredAt,
	}
	for id, m := range cs.models {
		cs.state.Models[pda.Model(id)] = m
	}
	for _, info := range cs.escrows {
		if !info.Target.IsZero() {
			cs.state.Escrows[info.Target] = info.State
		}
	}
	return cs, nil
}

// plan turns groups into settle entry candidates against the chain state:
// receipts that can never be paid are collected for write-off, receipts
// that cannot be settled yet (served after the chain's clock, an escrow
// that just vanished) are deferred. load reads a group's per-receipt
// detail when it straddles a price switch, the node's registration or the
// clock.
func (s *Settler) plan(ctx context.Context, v *view, gs []group, load func(*group) error) (*planned, error) {
	cs, err := s.readChainState(ctx, v, gs)
	if err != nil {
		return nil, err
	}
	return planGroups(v, cs, gs, load, s.cfg.ClosedEscrowGrace, s.log)
}

// planGroups is plan without the chain reads. Every time it compares is
// the chain's: receipts are dated by the keeper's estimate of the chain's
// clock, and v.Now is the Clock sysvar.
func planGroups(v *view, cs *chainState, gs []group, load func(*group) error, closedGrace time.Duration, log *slog.Logger) (*planned, error) {
	chainNow := time.Unix(v.Now, 0)
	out := &planned{writeOffs: map[string][]receipts.RunID{}, chain: cs}
	for gi := range gs {
		g := &gs[gi]
		info := cs.escrows[g.Escrow]
		if info.Target.IsZero() {
			// Gone (closed after its balance was withdrawn, or never an escrow).
			// A just-served run's escrow cannot vanish unless it was closed,
			// but an RPC node lagging behind might not show a new one yet.
			if chainNow.Sub(time.UnixMilli(g.LastMs)) >= closedGrace {
				out.writeOffs[ReasonEscrowClosed] = append(out.writeOffs[ReasonEscrowClosed], g.IDs...)
			} else {
				out.deferred += len(g.IDs)
			}
			continue
		}
		shares := make([]settlement.Share, len(g.Shares))
		reason := ""
		var effective []int64
		for i, m := range g.Shares {
			shares[i] = settlement.Share{Model: pda.Model(m.ModelID), WeightBps: m.WeightBps}
			model := cs.models[m.ModelID]
			switch {
			case !model.Active:
				reason = ReasonModelNotActive
			case !info.State.Allows(m.ModelID):
				reason = ReasonModelNotAllowed
			}
			effective = append(effective, model.Pricing.EffectiveAt)
		}
		if reason != "" {
			out.writeOffs[reason] = append(out.writeOffs[reason], g.IDs...)
			continue
		}
		lo, hi := secOf(g.FirstMs), secOf(g.LastMs)
		simple := lo >= v.Node.RegisteredAt && hi <= v.Now
		for _, eff := range effective {
			simple = simple && (lo >= eff) == (hi >= eff)
		}
		if simple {
			out.cands = append(out.cands, candidate{
				Entry: settlement.Entry{Escrow: info.Target, Shares: shares, Runs: uint64(len(g.IDs)), InputTokens: g.In, OutputTokens: g.Out, ServedAt: lo},
				IDs:   g.IDs, Quoted: g.Cost,
			})
			continue
		}
		if g.Runs == nil {
			if err := load(g); err != nil {
				return nil, err
			}
		}
		// Bucket the runs by the price epoch of each model at their second.
		type bucket struct {
			c     candidate
			epoch uint16
		}
		var buckets []*bucket
		for _, r := range g.Runs {
			sec := secOf(r.ServedMs)
			if sec < v.Node.RegisteredAt {
				out.writeOffs[ReasonBeforeRegistering] = append(out.writeOffs[ReasonBeforeRegistering], r.ID)
				continue
			}
			if sec > v.Now {
				out.deferred++
				continue
			}
			var epoch uint16
			for i, eff := range effective {
				if sec >= eff {
					epoch |= 1 << i
				}
			}
			var b *bucket
			for _, x := range buckets {
				if x.epoch == epoch {
					b = x
				}
			}
			if b == nil {
				b = &bucket{epoch: epoch, c: candidate{Entry: settlement.Entry{Escrow: info.Target, Shares: shares, ServedAt: sec}}}
				buckets = append(buckets, b)
			}
			e := &b.c.Entry
			e.Runs++
			e.InputTokens += r.In
			e.OutputTokens += r.Out
			e.ServedAt = min(e.ServedAt, sec)
			b.c.IDs = append(b.c.IDs, r.ID)
			b.c.Quoted += r.Cost
		}
		for _, b := range buckets {
			out.cands = append(out.cands, b.c)
		}
	}
	// What settlement would refuse for one entry alone (the checks above
	// cover the known causes; this is the program's own rule set).
	kept := out.cands[:0]
	for _, c := range out.cands {
		l, err := settlement.Build(1, [32]byte{}, []settlement.Entry{c.Entry})
		if err == nil {
			_, err = settlement.Settle(cs.state, l)
		}
		switch {
		case err == nil:
			kept = append(kept, c)
		case errors.Is(err, im.ErrModelNotAllowed):
			out.writeOffs[ReasonModelNotAllowed] = append(out.writeOffs[ReasonModelNotAllowed], c.IDs...)
		case errors.Is(err, im.ErrModelNotActive):
			out.writeOffs[ReasonModelNotActive] = append(out.writeOffs[ReasonModelNotActive], c.IDs...)
		case errors.Is(err, im.ErrServedBeforeRegistration):
			out.writeOffs[ReasonBeforeRegistering] = append(out.writeOffs[ReasonBeforeRegistering], c.IDs...)
		default:
			log.Error("runs cannot be settled; left recorded", "runs", len(c.IDs), "escrow", c.Entry.Escrow, "err", err)
			out.deferred += len(c.IDs)
		}
	}
	out.cands = kept
	return out, nil
}

// txShape is a transaction's serialized size and account count.
type txShape struct {
	Bytes, Accounts int
}

// shape builds the settle transaction of l for node n (with the given
// lookup tables, possibly including addresses not yet added) and measures it.
func (s *Settler) shape(n settlement.Node, l *settlement.Layout, tables map[solana.PublicKey]solana.PublicKeySlice, units uint32) (txShape, error) {
	ix, err := settlement.Instruction(n, l)
	if err != nil {
		return txShape{}, err
	}
	return s.shapeOf(ix, tables, units)
}

func (s *Settler) shapeOf(ix solana.Instruction, tables map[solana.PublicKey]solana.PublicKeySlice, units uint32) (txShape, error) {
	ixs := s.budget(units)
	ixs = append(ixs, ix)
	opts := []solana.TransactionOption{solana.TransactionPayer(s.keeper)}
	if len(tables) > 0 {
		opts = append(opts, solana.TransactionAddressTables(tables))
	}
	tx, err := solana.NewTransaction(ixs, solana.Hash{}, opts...)
	if err != nil {
		return txShape{}, err
	}
	msg, err := tx.Message.MarshalBinary()
	if err != nil {
		return txShape{}, err
	}
	keys := map[solana.PublicKey]bool{s.keeper: true}
	for _, x := range ixs {
		keys[x.ProgramID()] = true
		for _, a := range x.Accounts() {
			keys[a.PublicKey] = true
		}
	}
	sigs := int(tx.Message.Header.NumRequiredSignatures)
	return txShape{Bytes: 1 + 64*sigs + len(msg), Accounts: len(keys)}, nil
}

// budget is the compute-budget instructions every settle transaction starts with.
func (s *Settler) budget(units uint32) []solana.Instruction {
	ixs := []solana.Instruction{computebudget.NewSetComputeUnitLimitInstruction(units).Build()}
	if s.cfg.PriorityMicroLamports > 0 {
		ixs = append(ixs, computebudget.NewSetComputeUnitPriceInstruction(s.cfg.PriorityMicroLamports).Build())
	}
	return ixs
}

// pack chooses, oldest first, the candidates that fit one transaction:
// at most MaxEntries entries, MaxModels models, MaxRuns receipts,
// MaxTxAccounts accounts and MaxTxBytes bytes.
func (s *Settler) pack(n settlement.Node, cands []candidate, tables func([]solana.PublicKey) map[solana.PublicKey]solana.PublicKeySlice) ([]candidate, error) {
	var chosen []candidate
	var entries []settlement.Entry
	runs := 0
	misses := 0
	for _, c := range cands {
		if len(chosen) >= s.cfg.MaxEntries || runs >= s.cfg.MaxRuns || misses >= 64 {
			break
		}
		if runs > 0 && runs+len(c.IDs) > s.cfg.MaxRuns {
			misses++
			continue
		}
		try := append(slices.Clone(entries), c.Entry)
		l, err := settlement.Build(1, [32]byte{}, try)
		// The model cap bounds how batches combine; an entry with more
		// models than the cap still goes, alone.
		if err != nil || (len(l.Models) > s.cfg.MaxModels && len(entries) > 0) {
			misses++
			continue
		}
		ix, err := settlement.Instruction(n, l)
		if err != nil {
			return nil, err
		}
		var tabs map[solana.PublicKey]solana.PublicKeySlice
		if tables != nil {
			tabs = tables(tableAddresses(ix, s.keeper))
		}
		sh, err := s.shapeOf(ix, tabs, maxUnits)
		if err != nil {
			return nil, err
		}
		if sh.Bytes > MaxTxBytes || sh.Accounts > MaxTxAccounts {
			misses++
			continue
		}
		chosen = append(chosen, c)
		entries = try
		runs += len(c.IDs)
	}
	return chosen, nil
}

// maxUnits sizes the compute-unit instruction while packing (its encoding
// has a fixed size, so any value measures the same).
const maxUnits = 1_400_000

// tableAddresses are the accounts of ix a lookup table can hold: all but
// the signers and the invoked program.
func tableAddresses(ix solana.Instruction, keeper solana.PublicKey) []solana.PublicKey {
	var out []solana.PublicKey
	seen := map[solana.PublicKey]bool{}
	for _, a := range ix.Accounts() {
		if a.IsSigner || a.PublicKey.Equals(keeper) || a.PublicKey.Equals(ix.ProgramID()) || seen[a.PublicKey] {
			continue
		}
		seen[a.PublicKey] = true
		out = append(out, a.PublicKey)
	}
	return out
}

// errNotFit: a batch's receipts, laid out again, no longer fit one transaction.
var errNotFit = errors.New("batch does not fit one transaction")

// lagOf is the age of a run id's issue time.
func lagOf(id receipts.RunID, now time.Time) time.Duration {
	ns := int64(binary.BigEndian.Uint64(id[:8]))
	return now.Sub(time.Unix(0, ns))
}

func describe(cs []candidate) string {
	runs := 0
	for _, c := range cs {
		runs += len(c.IDs)
	}
	return fmt.Sprintf("%d entries, %d runs", len(cs), runs)
}
