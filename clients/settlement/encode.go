package settlement

import (
	"bytes"
	"fmt"
	"sort"

	"github.com/gagliardetto/solana-go"

	meter "github.com/modelcommons/modelcommons/clients/inference_meter"
)

const (
	// MaxModelsPerEntry and MaxModelsPerBatch are the program's limits.
	MaxModelsPerEntry = 8
	MaxModelsPerBatch = 16
	// AccountsPerModel in the remaining accounts: model, revenue vault, treasury vault.
	AccountsPerModel = 3
	// MaxEscrowsPerBatch: entries index escrows with one byte.
	MaxEscrowsPerBatch = 256
)

// Share is one model's part of an entry.
type Share struct {
	Model     solana.PublicKey
	WeightBps uint16
}

// Entry is runs one escrow paid for, served by the same model mixture in
// the same second.
type Entry struct {
	Escrow       solana.PublicKey
	Shares       []Share
	Runs         uint64
	InputTokens  uint64
	OutputTokens uint64
	// ServedAt is when the runs were served (unix seconds): it picks the price.
	ServedAt int64
}

// Single is an entry for one model (weight 10 000).
func Single(escrow, model solana.PublicKey, runs, input, output uint64, servedAt int64) Entry {
	return Entry{Escrow: escrow, Shares: []Share{{Model: model, WeightBps: BPS}}, Runs: runs, InputTokens: input, OutputTokens: output, ServedAt: servedAt}
}

// Check applies the rules the program checks without chain state: 1 to 8
// distinct models with weights ≥ 1 summing to 10 000, at least one run.
func (e Entry) Check() error {
	if len(e.Shares) == 0 || len(e.Shares) > MaxModelsPerEntry {
		return fmt.Errorf("%d models: %w", len(e.Shares), meter.ErrTooManyModels)
	}
	var sum uint64
	for i, s := range e.Shares {
		if s.WeightBps == 0 {
			return fmt.Errorf("model %s has zero weight: %w", s.Model, meter.ErrInvalidWeights)
		}
		for _, t := range e.Shares[:i] {
			if t.Model.Equals(s.Model) {
				return fmt.Errorf("model %s listed twice: %w", s.Model, meter.ErrInvalidWeights)
			}
		}
		sum += uint64(s.WeightBps)
	}
	if sum != uint64(BPS) {
		return fmt.Errorf("weights sum to %d: %w", sum, meter.ErrWeightsDoNotSum)
	}
	if e.Runs == 0 {
		return fmt.Errorf("no runs: %w", meter.ErrZeroRuns)
	}
	return nil
}

// Layout is a batch ready to send: the settle arguments and the models and
// escrows, sorted, that the encoded entries index.
type Layout struct {
	Args    meter.SettleArgs
	Models  []solana.PublicKey
	Escrows []solana.PublicKey
	Entries []Entry
	// Domain selects the lanes the batch debits: nil for the node's own
	// lanes, else the domain's (the node must be its member).
	Domain *DomainLane
}

// DomainLane names the domain a batch settles against and where its fee goes.
type DomainLane struct {
	Domain solana.PublicKey
	// OperatorAccount is a native-token account of the domain's operator;
	// it receives the domain fee. When it is the settling node's operator
	// account (the domain operator's own node), the instruction passes it
	// once and it takes both shares.
	OperatorAccount solana.PublicKey
}

// Runs is the inclusive range of run sequence numbers a batch covers: the
// keeper numbers its runs 1, 2, 3, … and every batch's range must start
// above the node's last settled run (run-level exactly-once on chain).
type Runs struct{ First, Last uint64 }

// Build lays out batch seq with receiptsRoot and entries, in order,
// covering run numbers runs. It refuses what the program would refuse
// regardless of chain state.
func Build(seq uint64, receiptsRoot [32]byte, runs Runs, entries []Entry) (*Layout, error) {
	if len(entries) == 0 {
		return nil, fmt.Errorf("batch %d: %w", seq, meter.ErrEmptyBatch)
	}
	if runs.First == 0 || runs.Last < runs.First {
		return nil, fmt.Errorf("batch %d: runs %d..%d: %w", seq, runs.First, runs.Last, meter.ErrInvalidRunRange)
	}

	models := map[solana.PublicKey]bool{}
	escrows := map[solana.PublicKey]bool{}
	base := entries[0].ServedAt
	var total uint64
	for i, e := range entries {
		if err := e.Check(); err != nil {
			return nil, fmt.Errorf("batch %d entry %d: %w", seq, i, err)
		}
		// Every run has its own number: runs.Last−runs.First+1 ≥ runs so far.
		total += e.Runs
		if total < e.Runs || total-1 > runs.Last-runs.First {
			return nil, fmt.Errorf("batch %d: more runs than run numbers %d..%d: %w", seq, runs.First, runs.Last, meter.ErrInvalidRunRange)
		}
		escrows[e.Escrow] = true
		for _, s := range e.Shares {
			models[s.Model] = true
		}
		base = min(base, e.ServedAt)
	}
	l := &Layout{Models: sortedKeys(models), Escrows: sortedKeys(escrows), Entries: entries}
	if len(l.Models) > MaxModelsPerBatch {
		return nil, fmt.Errorf("batch %d has %d models: %w", seq, len(l.Models), meter.ErrTooManyModels)
	}
	if len(l.Escrows) > MaxEscrowsPerBatch {
		return nil, fmt.Errorf("batch %d has %d escrows (at most %d)", seq, len(l.Escrows), MaxEscrowsPerBatch)
	}
	var data []byte
	for _, e := range entries {
		data = AppendEntry(data, l.encoded(e, base))
	}
	l.Args = meter.SettleArgs{BatchSeq: seq, FirstRunSeq: runs.First, LastRunSeq: runs.Last, ReceiptsRoot: receiptsRoot,
		ServedBase: base, ModelCount: uint8(len(l.Models)), Entries: data}
	return l, nil
}

func (l *Layout) encoded(e Entry, base int64) EncodedEntry {
	out := EncodedEntry{
		Escrow:       uint8(index(l.Escrows, e.Escrow)),
		Runs:         e.Runs,
		InputTokens:  e.InputTokens,
		OutputTokens: e.OutputTokens,
		ServedOffset: uint64(e.ServedAt - base),
	}
	for _, s := range e.Shares {
		out.Shares = append(out.Shares, EncodedShare{Model: uint8(index(l.Models, s.Model)), WeightBps: s.WeightBps})
	}
	return out
}

// RemainingAccounts are the settle instruction's accounts after the named
// ones: for each model its account, revenue vault and treasury vault (all
// writable), then the escrows (writable). vaults derives a model's vaults
// (pda.RevenueVault, pda.TreasuryVault).
func (l *Layout) RemainingAccounts(vaults func(model solana.PublicKey) (revenue, treasury solana.PublicKey)) solana.AccountMetaSlice {
	out := make(solana.AccountMetaSlice, 0, len(l.Models)*AccountsPerModel+len(l.Escrows))
	for _, m := range l.Models {
		revenue, treasury := vaults(m)
		out = append(out, solana.Meta(m).WRITE(), solana.Meta(revenue).WRITE(), solana.Meta(treasury).WRITE())
	}
	for _, e := range l.Escrows {
		out = append(out, solana.Meta(e).WRITE())
	}
	return out
}

func sortedKeys(set map[solana.PublicKey]bool) []solana.PublicKey {
	out := make([]solana.PublicKey, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return bytes.Compare(out[i][:], out[j][:]) < 0 })
	return out
}

func index(sorted []solana.PublicKey, k solana.PublicKey) int {
	return sort.Search(len(sorted), func(i int) bool { return bytes.Compare(sorted[i][:], k[:]) >= 0 })
}

// EncodedShare and EncodedEntry are an entry as the program reads it:
// accounts by index (programs/inference-meter/src/entries.rs).
type EncodedShare struct {
	Model     uint8
	WeightBps uint16
}

type EncodedEntry struct {
	Escrow       uint8
	Shares       []EncodedShare
	Runs         uint64
	InputTokens  uint64
	OutputTokens uint64
	ServedOffset uint64
}

// check applies Entry.Check's rules to an encoded entry, as the program does
// after decoding it.
func (e EncodedEntry) check() error {
	var sum uint64
	for i, s := range e.Shares {
		if s.WeightBps == 0 {
			return meter.ErrInvalidWeights
		}
		for _, t := range e.Shares[:i] {
			if t.Model == s.Model {
				return meter.ErrInvalidWeights
			}
		}
		sum += uint64(s.WeightBps)
	}
	if sum != uint64(BPS) {
		return meter.ErrWeightsDoNotSum
	}
	if e.Runs == 0 {
		return meter.ErrZeroRuns
	}
	return nil
}

// AppendEntry appends e in the compact encoding:
//
//	escrow index u8 | model count n u8 | n × model index u8 |
//	(n > 1 only) n × varint weight | varint runs | varint input tokens |
//	varint output tokens | varint served offset
//
// Varints are canonical unsigned LEB128.
func AppendEntry(dst []byte, e EncodedEntry) []byte {
	dst = append(dst, e.Escrow, uint8(len(e.Shares)))
	for _, s := range e.Shares {
		dst = append(dst, s.Model)
	}
	if len(e.Shares) > 1 {
		for _, s := range e.Shares {
			dst = AppendVarint(dst, uint64(s.WeightBps))
		}
	}
	dst = AppendVarint(dst, e.Runs)
	dst = AppendVarint(dst, e.InputTokens)
	dst = AppendVarint(dst, e.OutputTokens)
	return AppendVarint(dst, e.ServedOffset)
}

// AppendVarint appends v as canonical unsigned LEB128 (as encoding/binary's AppendUvarint).
func AppendVarint(dst []byte, v uint64) []byte {
	for v >= 0x80 {
		dst = append(dst, byte(v)|0x80)
		v >>= 7
	}
	return append(dst, byte(v))
}

// VarintLen is the encoded size of v.
func VarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

// DecodeEntries reads encoded entries as strictly as the program does.
func DecodeEntries(data []byte) ([]EncodedEntry, error) {
	r := reader{data: data}
	var out []EncodedEntry
	for r.pos < len(data) {
		e, err := r.entry()
		if err != nil {
			return nil, fmt.Errorf("entry %d at byte %d: %w", len(out), r.pos, err)
		}
		out = append(out, e)
	}
	return out, nil
}

type reader struct {
	data []byte
	pos  int
}

func (r *reader) byte() (byte, error) {
	if r.pos >= len(r.data) {
		return 0, meter.ErrInvalidEntryEncoding
	}
	b := r.data[r.pos]
	r.pos++
	return b, nil
}

func (r *reader) varint() (uint64, error) {
	var v uint64
	for i := 0; i < 10; i++ {
		b, err := r.byte()
		if err != nil {
			return 0, err
		}
		group := uint64(b & 0x7f)
		if i == 9 && group > 1 {
			return 0, meter.ErrInvalidEntryEncoding
		}
		v |= group << (7 * i)
		if b&0x80 == 0 {
			if i > 0 && group == 0 {
				return 0, meter.ErrInvalidEntryEncoding
			}
			return v, nil
		}
	}
	return 0, meter.ErrInvalidEntryEncoding
}

func (r *reader) entry() (EncodedEntry, error) {
	var e EncodedEntry
	var err error
	if e.Escrow, err = r.byte(); err != nil {
		return e, err
	}
	n, err := r.byte()
	if err != nil {
		return e, err
	}
	if n == 0 || n > MaxModelsPerEntry {
		return e, meter.ErrTooManyModels
	}
	e.Shares = make([]EncodedShare, n)
	for i := range e.Shares {
		if e.Shares[i].Model, err = r.byte(); err != nil {
			return e, err
		}
	}
	if n == 1 {
		e.Shares[0].WeightBps = BPS
	} else {
		for i := range e.Shares {
			w, err := r.varint()
			if err != nil {
				return e, err
			}
			if w > 0xffff {
				return e, meter.ErrWeightsDoNotSum
			}
			e.Shares[i].WeightBps = uint16(w)
		}
	}
	for _, f := range []*uint64{&e.Runs, &e.InputTokens, &e.OutputTokens, &e.ServedOffset} {
		if *f, err = r.varint(); err != nil {
			return e, err
		}
	}
	return e, nil
}
