package txsend

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/gagliardetto/solana-go"
	computebudget "github.com/gagliardetto/solana-go/programs/compute-budget"
	"github.com/gagliardetto/solana-go/rpc"
)

// MaxComputeUnits is the most a transaction may request.
const MaxComputeUnits = 1_400_000

// Config of a Sender. Zero values pick the defaults noted.
type Config struct {
	RPC *rpc.Client
	// Commitment to wait for (default confirmed).
	Commitment rpc.CommitmentType
	// PriorityMicroLamports is the compute-unit price (default 0: no priority fee).
	PriorityMicroLamports uint64
	// UnitMargin is added to simulated units, as a fraction (default 0.2) …
	UnitMargin float64
	// … plus this many units (default 5 000).
	UnitPad uint32
	// Attempts is how many blockhashes a transaction may try (default 3).
	Attempts int
	// PollInterval between status checks (default 250 ms).
	PollInterval time.Duration
	// Errors names program errors.
	Errors Tables
	Logger *slog.Logger
}

// Sender sends transactions. Safe for concurrent use.
type Sender struct {
	cfg Config
}

// New returns a Sender for cfg.
func New(cfg Config) *Sender {
	if cfg.Commitment == "" {
		cfg.Commitment = rpc.CommitmentConfirmed
	}
	if cfg.UnitMargin == 0 {
		cfg.UnitMargin = 0.2
	}
	if cfg.UnitPad == 0 {
		cfg.UnitPad = 5_000
	}
	if cfg.Attempts == 0 {
		cfg.Attempts = 3
	}
	if cfg.PollInterval == 0 {
		cfg.PollInterval = 250 * time.Millisecond
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Sender{cfg: cfg}
}

// RPC returns the client the sender uses.
func (s *Sender) RPC() *rpc.Client { return s.cfg.RPC }

// Tx is what to send.
type Tx struct {
	Instructions []solana.Instruction
	Payer        solana.PublicKey
	Signers      []solana.PrivateKey
	// AddressTables makes a v0 transaction using these lookup tables.
	AddressTables map[solana.PublicKey]solana.PublicKeySlice
	// ComputeUnits fixes the unit limit instead of simulating for it.
	ComputeUnits uint32
}

// Simulation is the outcome of Simulate.
type Simulation struct {
	UnitsConsumed uint64
	// Limit is the unit limit Send would request.
	Limit uint32
	Logs  []string
	// Size is the serialized size of the signed transaction in bytes.
	Size int
	Fee  uint64
	Tx   *solana.Transaction
}

// Simulate builds and signs tx with a fresh blockhash and simulates it
// without sending. A failing simulation returns a *TxError.
func (s *Sender) Simulate(ctx context.Context, tx Tx) (*Simulation, error) {
	blockhash, err := s.cfg.RPC.GetLatestBlockhash(ctx, s.cfg.Commitment)
	if err != nil {
		return nil, fmt.Errorf("get latest blockhash: %w", err)
	}
	return s.simulate(ctx, tx, blockhash.Value.Blockhash)
}

func (s *Sender) simulate(ctx context.Context, tx Tx, blockhash solana.Hash) (*Simulation, error) {
	limit := uint32(MaxComputeUnits)
	if tx.ComputeUnits != 0 {
		limit = tx.ComputeUnits
	}
	built, err := s.build(tx, blockhash, limit)
	if err != nil {
		return nil, err
	}
	res, err := s.cfg.RPC.SimulateTransactionWithOpts(ctx, built, &rpc.SimulateTransactionOpts{
		SigVerify:  true,
		Commitment: s.cfg.Commitment,
	})
	if err != nil {
		return nil, fmt.Errorf("simulate: %w", err)
	}
	if res.Value.Err != nil {
		return nil, s.cfg.Errors.decode(solana.Signature{}, res.Value.Err, programIDs(built), res.Value.Logs)
	}
	units := uint64(0)
	if res.Value.UnitsConsumed != nil {
		units = *res.Value.UnitsConsumed
	}
	sim := &Simulation{UnitsConsumed: units, Logs: res.Value.Logs, Limit: limit}
	if tx.ComputeUnits == 0 {
		sim.Limit = s.unitLimit(units)
		if built, err = s.build(tx, blockhash, sim.Limit); err != nil {
			return nil, err
		}
	}
	raw, err := built.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("serialize transaction: %w", err)
	}
	sim.Size = len(raw)
	sim.Tx = built
	sim.Fee = fee(built, sim.Limit, s.cfg.PriorityMicroLamports)
	return sim, nil
}

func (s *Sender) unitLimit(consumed uint64) uint32 {
	limit := uint64(float64(consumed)*(1+s.cfg.UnitMargin)) + uint64(s.cfg.UnitPad)
	return uint32(min(limit, MaxComputeUnits))
}

// Send simulates tx for its unit limit, sends it and waits for the
// configured commitment. See the package documentation for retries.
func (s *Sender) Send(ctx context.Context, tx Tx) (solana.Signature, error) {
	var lastSig solana.Signature
	for attempt := 1; attempt <= s.cfg.Attempts; attempt++ {
		blockhash, err := s.cfg.RPC.GetLatestBlockhash(ctx, s.cfg.Commitment)
		if err != nil {
			return lastSig, fmt.Errorf("get latest blockhash: %w", err)
		}
		sim, err := s.simulate(ctx, tx, blockhash.Value.Blockhash)
		if err != nil {
			return lastSig, err
		}
		sig, err := s.cfg.RPC.SendTransactionWithOpts(ctx, sim.Tx, rpc.TransactionOpts{
			PreflightCommitment: s.cfg.Commitment,
		})
		if err != nil {
			if raw, logs, ok := preflightFailure(err); ok {
				return lastSig, s.cfg.Errors.decode(solana.Signature{}, raw, programIDs(sim.Tx), logs)
			}
			return lastSig, fmt.Errorf("send transaction: %w", err)
		}
		lastSig = sig
		err = s.Confirm(ctx, sig, blockhash.Value.LastValidBlockHeight)
		if errors.Is(err, ErrExpired) {
			s.cfg.Logger.Warn("transaction expired before landing; resending with a new blockhash",
				"signature", sig, "attempt", attempt)
			continue
		}
		if err != nil {
			var txErr *TxError
			if errors.As(err, &txErr) && txErr.Logs == nil {
				txErr.Logs = s.logs(ctx, sig)
				*txErr = *s.cfg.Errors.decode(sig, txErr.Raw, programIDs(sim.Tx), txErr.Logs)
			}
			return sig, err
		}
		return sig, nil
	}
	return lastSig, fmt.Errorf("%w after %d attempts (last signature %s)", ErrExpired, s.cfg.Attempts, lastSig)
}

// Confirm waits until sig reaches the configured commitment. It returns a
// *TxError if the transaction failed on chain, and ErrExpired once the
// chain's block height passes lastValid without the signature having landed
// (checked once more after expiry, so a late landing is not missed).
func (s *Sender) Confirm(ctx context.Context, sig solana.Signature, lastValid uint64) error {
	ticker := time.NewTicker(s.cfg.PollInterval)
	defer ticker.Stop()
	for {
		landed, err := s.status(ctx, sig)
		if err != nil || landed {
			return err
		}
		height, herr := s.cfg.RPC.GetBlockHeight(ctx, s.cfg.Commitment)
		if herr == nil && height > lastValid {
			if landed, err := s.status(ctx, sig); err != nil || landed {
				return err
			}
			return ErrExpired
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("confirm %s: %w", sig, ctx.Err())
		case <-ticker.C:
		}
	}
}

// status reports whether sig has reached the commitment; an on-chain
// failure is returned as a *TxError.
func (s *Sender) status(ctx context.Context, sig solana.Signature) (bool, error) {
	res, err := s.cfg.RPC.GetSignatureStatuses(ctx, true, sig)
	if err != nil {
		if errors.Is(err, rpc.ErrNotFound) {
			return false, nil
		}
		// A transient RPC fault: keep polling until expiry decides.
		s.cfg.Logger.Debug("signature status", "signature", sig, "err", err)
		return false, nil
	}
	if len(res.Value) == 0 || res.Value[0] == nil {
		return false, nil
	}
	st := res.Value[0]
	if !reached(st.ConfirmationStatus, s.cfg.Commitment) {
		return false, nil
	}
	if st.Err != nil {
		return true, &TxError{Signature: sig, Raw: st.Err}
	}
	return true, nil
}

func (s *Sender) logs(ctx context.Context, sig solana.Signature) []string {
	v := uint64(0)
	res, err := s.cfg.RPC.GetTransaction(ctx, sig, &rpc.GetTransactionOpts{
		Encoding: solana.EncodingBase64, Commitment: rpc.CommitmentConfirmed, MaxSupportedTransactionVersion: &v,
	})
	if err != nil || res == nil || res.Meta == nil {
		return nil
	}
	return res.Meta.LogMessages
}

func reached(got rpc.ConfirmationStatusType, want rpc.CommitmentType) bool {
	rank := map[string]int{"processed": 0, "confirmed": 1, "finalized": 2}
	return rank[string(got)] >= rank[string(want)]
}

func (s *Sender) build(tx Tx, blockhash solana.Hash, limit uint32) (*solana.Transaction, error) {
	ixs := make([]solana.Instruction, 0, len(tx.Instructions)+2)
	ixs = append(ixs, computebudget.NewSetComputeUnitLimitInstruction(limit).Build())
	if s.cfg.PriorityMicroLamports > 0 {
		ixs = append(ixs, computebudget.NewSetComputeUnitPriceInstruction(s.cfg.PriorityMicroLamports).Build())
	}
	ixs = append(ixs, tx.Instructions...)
	opts := []solana.TransactionOption{solana.TransactionPayer(tx.Payer)}
	if len(tx.AddressTables) > 0 {
		opts = append(opts, solana.TransactionAddressTables(tx.AddressTables))
	}
	built, err := solana.NewTransaction(ixs, blockhash, opts...)
	if err != nil {
		return nil, fmt.Errorf("build transaction: %w", err)
	}
	keys := make(map[solana.PublicKey]*solana.PrivateKey, len(tx.Signers))
	for i := range tx.Signers {
		keys[tx.Signers[i].PublicKey()] = &tx.Signers[i]
	}
	if _, err := built.Sign(func(k solana.PublicKey) *solana.PrivateKey { return keys[k] }); err != nil {
		return nil, fmt.Errorf("sign transaction: %w", err)
	}
	return built, nil
}

// programIDs lists the program of each top-level instruction.
func programIDs(tx *solana.Transaction) []solana.PublicKey {
	out := make([]solana.PublicKey, len(tx.Message.Instructions))
	for i, ix := range tx.Message.Instructions {
		if id, err := tx.Message.Program(ix.ProgramIDIndex); err == nil {
			out[i] = id
		}
	}
	return out
}

// fee is the signature fee plus the priority fee.
func fee(tx *solana.Transaction, limit uint32, microLamports uint64) uint64 {
	const lamportsPerSignature = 5_000
	priority := (uint64(limit)*microLamports + 999_999) / 1_000_000
	return uint64(tx.Message.Header.NumRequiredSignatures)*lamportsPerSignature + priority
}
