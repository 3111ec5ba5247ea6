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

	im "github.com/modelcommons/modelcommons/clients/inference_meter"
	"github.com/modelcommons/modelcommons/clients/pda"
	"github.com/modelcommons/modelcommons/clients/rules"
	"github.com/modelcommons/modelcommons/clients/settlement"
	"github.com/modelcommons/modelcommons/keepers/journal"
	"github.com/modelcommons/modelcommons/keepers/receipts"
)

// newBatch builds, stores and sends batch seq from the lowest-numbered
// recorded receipts. idle is true when nothing is left to settle right now.
func (s *Settler) newBatch(ctx context.Context, v *view, seq uint64) (idle bool, err error) {
	stored, err := s.journal.UnbatchedRuns(s.cfg.ScanRuns)
	if err != nil {
		return false, err
	}
	if len(stored) == 0 {
		s.setLag(0)
		return true, nil
	}
	runs := runsFromJournal(stored)
	s.noteLag(nil, runs)
	p, err := s.plan(ctx, v, runs)
	if err != nil {
		return false, err
	}
	for reason, ids := range p.writeOffs {
		if err := s.journal.WriteOff(ids, "settlement: "+reason); err != nil {
			return false, err
		}
		s.metrics.writtenOff.WithLabelValues(reason).Add(float64(len(ids)))
		s.log.Warn("runs can never be settled; written off", "reason", reason, "runs", len(ids))
	}
	if p.deferred > 0 {
		s.log.Debug("runs held back", "deferred", p.deferred, "from_run", p.heldFrom, "settleable_below", len(p.ok))
	}
	if len(p.ok) == 0 {
		return true, nil
	}
	var tables func([]solana.PublicKey) map[solana.PublicKey]solana.PublicKeySlice
	if s.cfg.LookupTable {
		tables = s.tables.virtual
	}
	chosen, taken, err := s.pack(s.settleNode(v), p.ok, tables)
	if err != nil {
		return false, err
	}
	if taken == 0 {
		return false, fmt.Errorf("run %d's settle entry fits no transaction", p.ok[0].Seq)
	}
	ids := make([]receipts.RunID, taken)
	for i, r := range p.ok[:taken] {
		ids[i] = r.ID
	}
	b, err := s.journal.AssignBatch(seq, ids)
	if errors.Is(err, journal.ErrSeqInUse) {
		return false, fmt.Errorf("%w: the journal already has batch %d but the chain's last settled batch is %d", ErrDiverged, seq, seq-1)
	}
	if err != nil {
		return false, fmt.Errorf("assign batch %d: %w", seq, err)
	}
	s.log.Debug("batch assigned", "batch", seq, "batch_contents", describe(chosen), "runs", fmt.Sprintf("%d..%d", b.FirstRunSeq, b.LastRunSeq), "settleable", len(p.ok))
	if err := s.checkpoint(PointAssigned, seq); err != nil {
		return false, err
	}
	s.notePending(&b)
	plan, err := s.build(ctx, v, b, chosen, p.chain)
	var rb *rebuildError
	if errors.As(err, &rb) {
		return false, s.retireFailed(b, rb.reason)
	}
	if err != nil {
		return false, err // the batch stays assigned; the next round lays it out again
	}
	if err := s.advance(ctx, v, b, plan); err != nil {
		return false, err
	}
	more := taken < len(p.ok)
	return !more, nil
}

// replan lays out an assigned batch from its receipts. If any of them can
// no longer be settled as they are, the batch is rebuilt.
func (s *Settler) replan(ctx context.Context, v *view, b journal.Batch) (*Plan, error) {
	entries := make([]journal.Entry, 0, len(b.RunIDs))
	for _, id := range b.RunIDs {
		e, err := s.journal.Get(id)
		if err != nil {
			return nil, fmt.Errorf("batch %d: %w", b.Seq, err)
		}
		entries = append(entries, e)
	}
	p, err := s.plan(ctx, v, runsFromEntries(entries))
	if err != nil {
		return nil, err
	}
	if n := countIDs(p.writeOffs); n > 0 || p.deferred > 0 {
		return nil, &rebuildError{fmt.Sprintf("%d runs can no longer be settled and %d not yet", n, p.deferred)}
	}
	return s.build(ctx, v, b, entriesOf(p.ok), p.chain)
}

func countIDs(m map[string][]receipts.RunID) int {
	n := 0
	for _, ids := range m {
		n += len(ids)
	}
	return n
}

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
	// ReasonOutsideMembership: a domain member's run served before its
	// admission or at/after it left or was removed (ServedOutsideMembership):
	// the node's unpaid work, never the user's charge.
	ReasonOutsideMembership = "served_outside_membership"
	// ReasonMembershipEnded: the membership ended and its settlement notice
	// is over (MembershipEnded): nothing settles against the domain any more.
	ReasonMembershipEnded = "membership_notice_over"
	// ReasonStaleLane: the escrow's lane was opened to an earlier domain at
	// the domain's address (DomainLaneStale); the owner must allow this one.
	ReasonStaleLane = "domain_lane_stale"
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
	// domain is the lane a member's batches settle against (nil for a
	// node's own lanes); state.Domain is then the domain and membership.
	domain *settlement.DomainLane
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
	cs.domain = s.cfg.Domain
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
			if model.Pricing.Current(sec) {
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
		default:
			reason = membershipReason(cs.state.Domain, sec, v.Now)
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
			l.Domain = cs.domain
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
		case errors.Is(err, im.ErrNoLaneForNode), errors.Is(err, im.ErrNoLaneForDomain):
			bad[key] = ReasonNoLane
		case errors.Is(err, im.ErrDomainLaneStale):
			bad[key] = ReasonStaleLane
		case errors.Is(err, im.ErrServedOutsideMembership), errors.Is(err, im.ErrNotDomainMember):
			bad[key] = ReasonOutsideMembership
		case errors.Is(err, im.ErrMembershipEnded):
			bad[key] = ReasonMembershipEnded
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

// membershipReason is why a member's run served at sec can never settle
// against its domain at chain time now ("" if it can, or outside a
// domain), by the one off-chain copy of the program's rules. Each run is
// judged alone: an entry is dated by its earliest run, so the chain would
// not see a later run of the entry served after the membership ended.
func membershipReason(d *settlement.DomainState, sec, now int64) string {
	switch {
	case d == nil:
		return ""
	case errors.Is(rules.MembershipMaySettle(d.Membership, now), im.ErrMembershipEnded):
		return ReasonMembershipEnded
	case rules.ServedAsMember(d.Membership, sec) != nil:
		return ReasonOutsideMembership
	}
	return ""
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

func describe(cs []candidate) string {
	runs := 0
	for _, c := range cs {
		runs += len(c.IDs)
	}
	return fmt.Sprintf("%d entries, %d runs", len(cs), runs)
}
