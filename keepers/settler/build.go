package settler

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/gagliardetto/solana-go"
	computebudget "github.com/gagliardetto/solana-go/programs/compute-budget"
	"github.com/gagliardetto/solana-go/rpc"

	"github.com/modelcommons/modelcommons/clients/settlement"
	"github.com/modelcommons/modelcommons/clients/txsend"
	"github.com/modelcommons/modelcommons/keepers/journal"
)

// build lays out batch b from its entry candidates, makes sure the
// lookup tables resolve its accounts, measures its compute units by
// simulation and stores the plan.
func (s *Settler) build(ctx context.Context, v *view, b journal.Batch, cands []candidate, cs *chainState) (*Plan, error) {
	entries := make([]settlement.Entry, len(cands))
	for i, c := range cands {
		entries[i] = c.Entry
	}
	l, err := s.layout(b.Seq, b.Root, settlement.Runs{First: b.FirstRunSeq, Last: b.LastRunSeq}, entries)
	if err != nil {
		return nil, &rebuildError{fmt.Sprintf("lay out: %v", err)}
	}
	predicted, err := settlement.Settle(cs.state, l)
	if err != nil {
		return nil, &rebuildError{fmt.Sprintf("the batch would fail: %v", err)}
	}
	ix, err := settlement.Instruction(s.settleNode(v), l)
	if err != nil {
		return nil, err
	}
	p := &Plan{
		Seq: b.Seq, Root: b.Root, Program: ix.ProgramID(), ComputeUnits: maxUnits,
		Entries: len(entries), Runs: b.Runs, Predicted: predicted.Charged, Shortfall: predicted.Shortfall, CreatedAt: s.cfg.Now().UTC(),
	}
	if p.Data, err = ix.Data(); err != nil {
		return nil, err
	}
	for _, a := range ix.Accounts() {
		p.Accounts = append(p.Accounts, Meta{Key: a.PublicKey, Signer: a.IsSigner, Writable: a.IsWritable})
	}
	set := map[solana.PublicKey]bool{}
	for _, c := range cands {
		set[c.Entry.Escrow] = true
	}
	for src, info := range cs.escrows {
		if set[info.Target] {
			set[src] = true
		}
	}
	for k := range set {
		p.Escrows = append(p.Escrows, k)
	}
	sort.Slice(p.Escrows, func(i, j int) bool { return bytes.Compare(p.Escrows[i][:], p.Escrows[j][:]) < 0 })

	var tables map[solana.PublicKey]solana.PublicKeySlice
	if s.cfg.LookupTable {
		if tables, err = s.tables.ensure(ctx, tableAddresses(ix, s.keeper)); err != nil {
			return nil, err
		}
		s.noteTables()
		for k := range tables {
			p.Tables = append(p.Tables, k)
		}
		sort.Slice(p.Tables, func(i, j int) bool { return bytes.Compare(p.Tables[i][:], p.Tables[j][:]) < 0 })
	}
	sh, err := s.shapeOf(ix, tables, maxUnits)
	if err != nil {
		return nil, err
	}
	if sh.Bytes > MaxTxBytes || sh.Accounts > MaxTxAccounts {
		return nil, &rebuildError{fmt.Sprintf("%v: %d bytes, %d accounts", errNotFit, sh.Bytes, sh.Accounts)}
	}
	bh, err := s.rpc.GetLatestBlockhash(ctx, s.cfg.Commitment)
	if err != nil {
		return nil, fmt.Errorf("latest blockhash: %w", err)
	}
	tx, _, err := s.buildTx(p, bh.Value.Blockhash)
	if err != nil {
		return nil, err
	}
	units, err := s.simulate(ctx, tx)
	var f *failure
	if errors.As(err, &f) && f.verdict == vPermanent {
		return nil, &rebuildError{fmt.Sprintf("simulation: %v", f)}
	}
	if err != nil {
		return nil, fmt.Errorf("batch %d: %w", b.Seq, err)
	}
	p.ComputeUnits = unitLimit(units)
	if err := s.store.putPlan(p); err != nil {
		return nil, err
	}
	s.log.Debug("batch planned", "batch", b.Seq, "entries", p.Entries, "runs", p.Runs, "predicted_charge_base_units", p.Predicted, "tables", len(p.Tables))
	if err := s.checkpoint(PointPlanned, b.Seq); err != nil {
		return nil, err
	}
	return p, nil
}

// Transaction limits the packer respects.
const (
	// MaxTxBytes is Solana's packet limit for a serialized transaction.
	MaxTxBytes = 1232
	// MaxTxAccounts is mainnet's account-lock limit per transaction (the
	// local chain allows 128; the keeper holds itself to mainnet's).
	MaxTxAccounts = 64
)

// txShape is a transaction's serialized size and account count.
type txShape struct {
	Bytes, Accounts int
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
		l, err := s.layout(1, [32]byte{}, settlement.Runs{First: ps[0].Seq, Last: ps[k-1].Seq}, entries)
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

// buildTx signs the batch's transaction with blockhash.
func (s *Settler) buildTx(p *Plan, blockhash solana.Hash) (*solana.Transaction, []byte, error) {
	ixs := s.budget(p.ComputeUnits)
	ixs = append(ixs, p.Instruction())
	opts := []solana.TransactionOption{solana.TransactionPayer(s.keeper)}
	if len(p.Tables) > 0 {
		tables, err := s.tables.forPlan(p.Tables)
		if err != nil {
			return nil, nil, err
		}
		opts = append(opts, solana.TransactionAddressTables(tables))
	}
	tx, err := solana.NewTransaction(ixs, blockhash, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("build batch %d: %w", p.Seq, err)
	}
	key := s.cfg.Keeper
	if _, err := tx.Sign(func(k solana.PublicKey) *solana.PrivateKey {
		if k.Equals(s.keeper) {
			return &key
		}
		return nil
	}); err != nil {
		return nil, nil, fmt.Errorf("sign batch %d: %w", p.Seq, err)
	}
	raw, err := tx.MarshalBinary()
	if err != nil {
		return nil, nil, fmt.Errorf("serialize batch %d: %w", p.Seq, err)
	}
	if len(raw) > MaxTxBytes {
		return nil, nil, fmt.Errorf("batch %d: %d bytes: %w", p.Seq, len(raw), errNotFit)
	}
	return tx, raw, nil
}

// simulate runs tx without sending; a failure is returned classified.
func (s *Settler) simulate(ctx context.Context, tx *solana.Transaction) (uint64, error) {
	res, err := s.rpc.SimulateTransactionWithOpts(ctx, tx, &rpc.SimulateTransactionOpts{SigVerify: false, Commitment: s.cfg.Commitment})
	if err != nil {
		return 0, fmt.Errorf("simulate: %w", err)
	}
	if res.Value.Err != nil {
		return 0, classify(res.Value.Err, programIDs(tx), res.Value.Logs)
	}
	if res.Value.UnitsConsumed == nil {
		return 0, nil
	}
	return *res.Value.UnitsConsumed, nil
}

// unitLimit adds a margin to simulated units.
func unitLimit(consumed uint64) uint32 {
	return uint32(min(consumed+consumed/5+10_000, txsend.MaxComputeUnits))
}

// layout lays out a batch, on the domain's lanes when the settler serves
// one.
func (s *Settler) layout(seq uint64, root [32]byte, runs settlement.Runs, entries []settlement.Entry) (*settlement.Layout, error) {
	l, err := settlement.Build(seq, root, runs, entries)
	if err == nil && s.cfg.Domain != nil {
		d := *s.cfg.Domain
		l.Domain = &d
	}
	return l, err
}

// laneKey is whose lanes the batches debit: the domain's, or the node's.
func (s *Settler) laneKey() solana.PublicKey {
	if s.cfg.Domain != nil {
		return s.cfg.Domain.Domain
	}
	return s.nodeAddr
}
