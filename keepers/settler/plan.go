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
	// ReasonNoLane: the escrow's owner opened no lane to this node, or
	// revoked it; settle would refuse the whole batch (NoLaneForNode).
	ReasonNoLane = "no_lane_for_node"
	// ReasonTooOld: served longer than the settlement window
	// (settlement.SettleWindowSecs) before the chain's clock (RunTooOld).
	ReasonTooOld = "older_than_settle_window"
	// ReasonRunSettled: the chain has settled the run's number already
	// (another batch took it); it can never settle (RunsAlreadySettled).
	ReasonRunSettled = "run_number_already_settled"
	// ReasonJournalLoss: written off by an operator who started the keeper
	// with --accept-journal-loss on a journal behind the chain.
	ReasonJournalLoss = "journal_loss_accepted"
)

// run is one receipt as the planner needs it.
type run struct {
	ID       receipts.RunID
	Seq      uint64
	Escrow   solana.PublicKey
	Shares   []receipts.ModelShare
	ServedMs int64
	In, Out  uint64
	Cost     uint64
}

func runsFromJournal(rs []journal.Run) []run {
	out := make([]run, len(rs))
	for i, r := range rs {
		out[i] = run{ID: r.ID, Seq: r.Seq, Escrow: solana.PublicKeyFromBytes(r.Escrow[:]), Shares: r.Models,
			ServedMs: r.ServedAtMs, In: r.InputTokens, Out: r.OutputTokens, Cost: r.Cost}
	}
	return out
}

// runsFromEntries are stored receipts as runs, in run-number order.
func runsFromEntries(es []journal.Entry) []run {
	out := make([]run, len(es))
	for i, e := range es {
		r := e.Signed.Receipt
		out[i] = run{ID: r.RunID, Seq: e.RunSeq, Escrow: solana.PublicKeyFromBytes(r.Escrow[:]), Shares: r.Models,
			ServedMs: r.ServedAtMs, In: r.InputTokens, Out: r.OutputTokens, Cost: r.Cost}
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Seq < out[b].Seq })
	return out
}

// placed is a run that can settle now, with the entry it goes into: one
// per (paying escrow, model mixture, price epoch of each model).
type placed struct {
	run
	key    string
	escrow solana.PublicKey // the paying escrow (after rotations)
	shares []settlement.Share
	sec    int64
}

// candidate is one settle entry and the receipts it settles.
type candidate struct {
	Entry  settlement.Entry
	IDs    []receipts.RunID // in run-number order
	Quoted uint64           // the receipts' costs as the keeper quoted them
}

// chainState is what the planner read for a set of runs.
type chainState struct {
	escrows map[solana.PublicKey]escrowInfo // by receipt escrow
	models  map[uint64]settlement.Model
	state   settlement.State // keyed by target escrow and model address
}

// planned is a set of runs judged against the chain.
type planned struct {
	// ok are the runs that can settle now and are numbered below every run
	// held back, in run-number order: a batch is a prefix of them.
	ok        []placed
	writeOffs map[string][]receipts.RunID
	// deferred runs cannot settle yet; heldFrom is the lowest number among
	// them (0 for none): no run numbered above it may settle before it, or
	// it never could (a batch's range must start above the chain's mark).
	deferred int
	heldFrom uint64
	chain    *chainState
}

func secOf(ms int64) int64 {
	if ms < 0 {
		return -((-ms + 999) / 1000)
	}
	return ms / 1000
}

// readChainState reads the escrows (following rotations) and the models
// the runs need.
func (s *Settler) readChainState(ctx context.Context, v *view, runs []run) (*chainState, error) {
	var escrows []solana.PublicKey
	var ids []uint64
	seenE, seenM := map[solana.PublicKey]bool{}, map[uint64]bool{}
	for _, r := range runs {
		if !seenE[r.Escrow] {
			seenE[r.Escrow] = true
			escrows = append(escrows, r.Escrow)
		}
		for _, m := range r.Shares {
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
		Now: v.Now, RegisteredAt: v.Node.RegisteredAt, LastRunSeq: v.Node.LastRunSeq,
	}
	for id, m := range cs.models {
		cs.state.Models[pda.Model(id)] = m
	}
	if cs.state.Domain, err = s.readDomain(ctx); err != nil {
		return nil, err
	}
	for _, info := range cs.escrows {
		if !info.Target.IsZero() {
			cs.state.Escrows[info.Target] = info.State
		}
	}
	return cs, nil
}

// plan judges runs (in run-number order) against the chain state: runs
// that can never be paid are collected for write-off, runs that cannot be
// settled yet (served after the chain's clock, an escrow or lane that just
// vanished) are deferred, and so is every run numbered above them.
func (s *Settler) plan(ctx context.Context, v *view, runs []run) (*planned, error) {
	cs, err := s.readChainState(ctx, v, runs)
	if err != nil {
		return nil, err
	}
	return planRuns(v, cs, runs, s.cfg.ClosedEscrowGrace, s.log), nil
}

// planRuns is plan without the chain reads. Every time it compares is the
// chain's: receipts are dated by the keeper's estimate of the chain's
// clock, and v.Now is the Clock sysvar.
func planRuns(v *view, cs *chainState, runs []run, grace time.Duration, log *slog.Logger) *planned {
	chainNow := time.Unix(v.Now, 0)
	out := &planned{writeOffs: map[string][]receipts.RunID{}, chain: cs}
	var deferred []uint64
	var ok []placed
	// A vanished escrow or lane is believed only after the grace period:
	// an RPC node lagging behind might not show a new one yet.
	gone := func(r run, reason string) {
		if chainNow.Sub(time.UnixMilli(r.ServedMs)) >= grace {
			out.writeOffs[reason] = append(out.writeOffs[reason], r.ID)
		} else {
			deferred = append(deferred, r.Seq)
		}
	}
	for _, r := range runs {
		info := cs.escrows[r.Escrow]
		if info.Target.IsZero() {
			gone(r, ReasonEscrowClosed)
			continue
		}
		sec := secOf(r.ServedMs)
		shares := make([]settlement.Share, len(r.Shares))
		reason := ""
		var epoch uint16
		key := bytes.NewBuffer(info.Target.Bytes())
		for i, m := range r.Shares {
			shares[i] = settlement.Share{Model: pda.Model(m.ModelID), WeightBps: m.WeightBps}
			model := cs.models[m.ModelID]
			switch {
			case !model.Active:
				reason = ReasonModelNotActive
			case !info.State.Allows(m.ModelID):
				reason = ReasonModelNotAllowed
			}
			if sec >= model.Pricing.EffectiveAt {
				epoch |= 1 << i
			}
			_ = binary.Write(key, binary.BigEndian, m)
		}
		_ = binary.Write(key, binary.BigEndian, epoch)
		switch {
		case reason != "":
		case r.Seq <= v.Node.LastRunSeq:
			reason = ReasonRunSettled
		case sec < v.Node.RegisteredAt:
			reason = ReasonBeforeRegistering
		case sec > v.Now:
			deferred = append(deferred, r.Seq)
			continue
		case sec < v.Now-settlement.SettleWindowSecs:
			reason = ReasonTooOld
		case !info.State.HasLane:
			gone(r, ReasonNoLane)
			continue
		}
		if reason != "" {
			out.writeOffs[reason] = append(out.writeOffs[reason], r.ID)
			continue
		}
		ok = append(ok, placed{run: r, key: key.String(), escrow: info.Target, shares: shares, sec: sec})
	}
	// What settlement would refuse for one entry alone (the checks above
	// cover the known causes; this is the program's own rule set).
	bad := map[string]string{} // entry key -> write-off reason, or "" to defer
	for _, c := range entriesOf(ok) {
		first := v.Node.LastRunSeq + 1
		l, err := settlement.Build(1, [32]byte{}, settlement.Runs{First: first, Last: first + c.Entry.Runs - 1}, []settlement.Entry{c.Entry})
		if err == nil {
			_, err = settlement.Settle(cs.state, l)
		}
		key := ok[slices.IndexFunc(ok, func(p placed) bool { return p.ID == c.IDs[0] })].key
		switch {
		case err == nil:
		case errors.Is(err, im.ErrModelNotAllowed):
			bad[key] = ReasonModelNotAllowed
		case errors.Is(err, im.ErrModelNotActive):
			bad[key] = ReasonModelNotActive
		case errors.Is(err, im.ErrServedBeforeRegistration):
			bad[key] = ReasonBeforeRegistering
		case errors.Is(err, im.ErrNoLaneForNode):
			bad[key] = ReasonNoLane
		case errors.Is(err, im.ErrRunTooOld):
			bad[key] = ReasonTooOld
		default:
			log.Error("runs cannot be settled; left recorded", "runs", len(c.IDs), "escrow", c.Entry.Escrow, "err", err)
			bad[key] = ""
		}
	}
	for _, p := range ok {
		reason, isBad := bad[p.key]
		switch {
		case !isBad:
			out.ok = append(out.ok, p)
		case reason == "":
			deferred = append(deferred, p.Seq)
		default:
			out.writeOffs[reason] = append(out.writeOffs[reason], p.ID)
		}
	}
	out.deferred = len(deferred)
	if len(deferred) > 0 {
		out.heldFrom = slices.Min(deferred)
		cut := slices.IndexFunc(out.ok, func(p placed) bool { return p.Seq > out.heldFrom })
		if cut >= 0 {
			out.ok = out.ok[:cut]
		}
	}
	return out
}

// entriesOf aggregates runs into settle entries, one per entry key, in the
// order each key first appears; an entry is dated by its earliest run.
func entriesOf(ps []placed) []candidate {
	index := map[string]int{}
	var out []candidate
	for _, p := range ps {
		i, seen := index[p.key]
		if !seen {
			i = len(out)
			index[p.key] = i
			out = append(out, candidate{Entry: settlement.Entry{Escrow: p.escrow, Shares: p.shares, ServedAt: p.sec}})
		}
		c := &out[i]
		c.Entry.Runs++
		c.Entry.InputTokens += p.In
		c.Entry.OutputTokens += p.Out
		c.Entry.ServedAt = min(c.Entry.ServedAt, p.sec)
		c.IDs = append(c.IDs, p.ID)
		c.Quoted += p.Cost
	}
	return out
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

// pack chooses the longest prefix of ps (runs in run-number order) whose
// entries fit one transaction: at most MaxEntries entries, MaxModels
// models (one entry with more still goes alone), MaxRuns receipts,
// MaxTxAccounts accounts and MaxTxBytes bytes. A batch is always a prefix:
// a run left out holds back every run numbered above it, which could
// otherwise never settle (a batch's range must start above the chain's
// mark). Fitting only gets harder as the prefix grows, so the longest
// prefix is found by bisection. taken is the prefix's length.
func (s *Settler) pack(n settlement.Node, ps []placed, tables func([]solana.PublicKey) map[solana.PublicKey]solana.PublicKeySlice) (chosen []candidate, taken int, err error) {
	fits := func(k int) ([]candidate, bool, error) {
		cands := entriesOf(ps[:k])
		if len(cands) > s.cfg.MaxEntries {
			return nil, false, nil
		}
		entries := make([]settlement.Entry, len(cands))
		for i, c := range cands {
			entries[i] = c.Entry
		}
		l, err := s.build(1, [32]byte{}, settlement.Runs{First: ps[0].Seq, Last: ps[k-1].Seq}, entries)
		if err != nil || (len(l.Models) > s.cfg.MaxModels && len(entries) > 1) {
			return nil, false, nil
		}
		ix, err := settlement.Instruction(n, l)
		if err != nil {
			return nil, false, err
		}
		var tabs map[solana.PublicKey]solana.PublicKeySlice
		if tables != nil {
			tabs = tables(tableAddresses(ix, s.keeper))
		}
		sh, err := s.shapeOf(ix, tabs, maxUnits)
		if err != nil {
			return nil, false, err
		}
		return cands, sh.Bytes <= MaxTxBytes && sh.Accounts <= MaxTxAccounts, nil
	}
	lo, hi := 0, min(len(ps), s.cfg.MaxRuns) // lo fits (nothing), hi+1 does not or is out of range
	for lo < hi {
		mid := lo + (hi-lo+1)/2
		cands, ok, err := fits(mid)
		if err != nil {
			return nil, 0, err
		}
		if ok {
			lo, chosen = mid, cands
		} else {
			hi = mid - 1
		}
	}
	if lo > 0 && chosen == nil {
		if chosen, _, err = fits(lo); err != nil {
			return nil, 0, err
		}
	}
	return chosen, lo, nil
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
