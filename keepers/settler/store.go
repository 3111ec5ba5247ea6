package settler

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/gagliardetto/solana-go"

	"github.com/modelcommons/modelcommons/keepers/receipts"
)

// stateVersion is the schema of the state file.
const stateVersion = 1

// Plan is the exact settle instruction of one batch and every transaction
// signed for it. It is written before the first transaction is signed and
// never changes afterwards except by appending sends; it is deleted once
// the batch is settled or known not to have landed.
type Plan struct {
	Seq  uint64        `json:"seq"`
	Root receipts.Hash `json:"root"`
	// The settle instruction.
	Program  solana.PublicKey `json:"program"`
	Accounts []Meta           `json:"accounts"`
	Data     []byte           `json:"data"`
	// ComputeUnits is the unit limit every transaction of the batch requests.
	ComputeUnits uint32 `json:"compute_units"`
	// Tables are the lookup tables the transaction resolves accounts through.
	Tables []solana.PublicKey `json:"tables,omitempty"`
	// Escrows charged (for the gateway's balance refresh) and totals.
	Escrows   []solana.PublicKey `json:"escrows"`
	Entries   int                `json:"entries"`
	Runs      uint64             `json:"runs"`
	Predicted uint64             `json:"predicted_charge"`
	Shortfall uint64             `json:"predicted_shortfall"`
	CreatedAt time.Time          `json:"created_at"`
	Sends     []Send             `json:"sends,omitempty"`
}

// Meta is one account of the settle instruction.
type Meta struct {
	Key      solana.PublicKey `json:"key"`
	Signer   bool             `json:"signer,omitempty"`
	Writable bool             `json:"writable,omitempty"`
}

// Send is one signed transaction of a batch.
type Send struct {
	Signature solana.Signature `json:"signature"`
	// LastValid is the last block height at which its blockhash is valid.
	LastValid uint64    `json:"last_valid_block_height"`
	Tx        []byte    `json:"tx"`
	SignedAt  time.Time `json:"signed_at"`
}

// Instruction rebuilds the settle instruction.
func (p *Plan) Instruction() solana.Instruction {
	metas := make(solana.AccountMetaSlice, len(p.Accounts))
	for i, a := range p.Accounts {
		metas[i] = &solana.AccountMeta{PublicKey: a.Key, IsSigner: a.Signer, IsWritable: a.Writable}
	}
	return solana.NewInstruction(p.Program, metas, p.Data)
}

// Latest is the most recent send, or nil.
func (p *Plan) Latest() *Send {
	if len(p.Sends) == 0 {
		return nil
	}
	return &p.Sends[len(p.Sends)-1]
}

// Signatures lists every signature sent for the batch.
func (p *Plan) Signatures() []solana.Signature {
	out := make([]solana.Signature, len(p.Sends))
	for i, s := range p.Sends {
		out[i] = s.Signature
	}
	return out
}

// TableRecord is a lookup table this keeper created.
type TableRecord struct {
	Address solana.PublicKey `json:"address"`
	// Created is false while the create transaction has not been seen to
	// land: the address is recorded first so a crash cannot orphan it.
	Created bool `json:"created"`
	// DeactivatedSlot is set once the table is retired (deactivated on
	// chain at that slot): no new batch uses it, and it is closed, its rent
	// returned to the keeper, once the chain no longer lets it resolve.
	DeactivatedSlot uint64 `json:"deactivated_slot,omitempty"`
}

// retired reports whether the table was deactivated.
func (r TableRecord) retired() bool { return r.DeactivatedSlot != 0 }

type stateFile struct {
	Version int              `json:"version"`
	Keeper  solana.PublicKey `json:"keeper"`
	Tables  []TableRecord    `json:"tables,omitempty"`
	Plans   []*Plan          `json:"plans,omitempty"`
}

// store is the settler's durable state: one JSON file replaced atomically
// (write, fsync, rename, fsync the directory) on every change.
type store struct {
	path string
	mu   sync.Mutex
	st   stateFile
}

// ErrForeignState: the state file belongs to another keeper key.
var ErrForeignState = errors.New("settler state file belongs to another keeper key")

func openStore(path string, keeper solana.PublicKey) (*store, error) {
	s := &store{path: path, st: stateFile{Version: stateVersion, Keeper: keeper}}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("settler state: %w", err)
		}
		return s, s.saveLocked()
	}
	if err != nil {
		return nil, fmt.Errorf("settler state: %w", err)
	}
	var st stateFile
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("settler state %s: corrupt: %w", path, err)
	}
	if st.Version != stateVersion {
		return nil, fmt.Errorf("settler state %s: unsupported version %d", path, st.Version)
	}
	if !st.Keeper.Equals(keeper) {
		return nil, fmt.Errorf("%w: %s is for %s, this keeper is %s", ErrForeignState, path, st.Keeper, keeper)
	}
	s.st = st
	return s, nil
}

func (s *store) saveLocked() error {
	b, err := json.MarshalIndent(s.st, "", " ")
	if err != nil {
		return err
	}
	tmp := s.path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("settler state: %w", err)
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return fmt.Errorf("settler state: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("settler state: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("settler state: %w", err)
	}
	if err := os.Rename(tmp, s.path); err != nil {
		return fmt.Errorf("settler state: %w", err)
	}
	d, err := os.Open(filepath.Dir(s.path))
	if err != nil {
		return fmt.Errorf("settler state: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("settler state: sync directory: %w", err)
	}
	return nil
}

// plan returns a copy of the plan for seq, or nil.
func (s *store) plan(seq uint64) *Plan {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.st.Plans {
		if p.Seq == seq {
			c := *p
			c.Sends = slices.Clone(p.Sends)
			return &c
		}
	}
	return nil
}

// putPlan stores a new plan for its seq, replacing any other.
func (s *store) putPlan(p *Plan) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.Plans = slices.DeleteFunc(s.st.Plans, func(q *Plan) bool { return q.Seq == p.Seq })
	c := *p
	s.st.Plans = append(s.st.Plans, &c)
	return s.saveLocked()
}

// addSend appends a signed transaction to the plan of seq.
func (s *store) addSend(seq uint64, send Send) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.st.Plans {
		if p.Seq == seq {
			p.Sends = append(p.Sends, send)
			return s.saveLocked()
		}
	}
	return fmt.Errorf("settler state: no plan for batch %d", seq)
}

// deletePlans removes the plans for which drop is true.
func (s *store) deletePlans(drop func(*Plan) bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.st.Plans)
	s.st.Plans = slices.DeleteFunc(s.st.Plans, drop)
	if len(s.st.Plans) == n {
		return nil
	}
	return s.saveLocked()
}

func (s *store) plans() []Plan {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Plan, len(s.st.Plans))
	for i, p := range s.st.Plans {
		out[i] = *p
	}
	return out
}

// plannedTables are the lookup tables stored plans resolve accounts
// through: a plan may be re-sent as is, so they stay open.
func (s *store) plannedTables() map[solana.PublicKey]bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[solana.PublicKey]bool{}
	for _, p := range s.st.Plans {
		for _, t := range p.Tables {
			out[t] = true
		}
	}
	return out
}

func (s *store) tables() []TableRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.st.Tables)
}

// setTables replaces the table records.
func (s *store) setTables(t []TableRecord) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.Tables = slices.Clone(t)
	return s.saveLocked()
}
