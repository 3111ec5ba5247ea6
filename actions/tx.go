package actions

import (
	"context"
	"encoding/base64"
	"fmt"
	"slices"

	"github.com/gagliardetto/solana-go"
	computebudget "github.com/gagliardetto/solana-go/programs/compute-budget"
	"github.com/gagliardetto/solana-go/rpc"
)

// Compute-unit limits of the transactions served.
const (
	// maxComputeUnits is what a transaction may request at most (and what
	// the simulation runs with).
	maxComputeUnits = 1_400_000
	// unitMarginPercent and unitPad: limit = consumed·(1 + margin) + pad,
	// as clients/txsend does for the CLI.
	unitMarginPercent = 20
	unitPad           = 5_000
	// maxTxSize is the most a serialized transaction may be.
	maxTxSize = 1232
)

// plan is what an action wants the wallet to sign.
type plan struct {
	Instructions []solana.Instruction
	// Message is shown by the wallet next to the transaction.
	Message string
}

// built is a transaction ready for the wallet.
type built struct {
	Tx               *solana.Transaction
	Base64           string
	UnitsConsumed    uint64
	ComputeUnitLimit uint32
	ComputeUnitPrice uint64
}

// build turns a plan into the unsigned transaction the wallet signs: the
// wallet pays the fee, the blockhash is the cluster's latest, the unit
// limit comes from simulating the very same instructions (with signature
// checks off and the blockhash replaced, since the wallet has not signed
// yet). A failing simulation is an *Error whose message names the cause.
func (s *Server) build(ctx context.Context, payer solana.PublicKey, p plan) (*built, error) {
	price := s.unitPrice(ctx, payer, p.Instructions)
	latest, err := s.cfg.RPC.GetLatestBlockhash(ctx, s.cfg.Commitment)
	if err != nil {
		return nil, unavailable(fmt.Errorf("get latest blockhash: %w", err))
	}
	blockhash := latest.Value.Blockhash

	tx, err := assemble(payer, blockhash, maxComputeUnits, price, p.Instructions)
	if err != nil {
		return nil, err
	}
	res, err := s.cfg.RPC.SimulateTransactionWithOpts(ctx, tx, &rpc.SimulateTransactionOpts{
		SigVerify:              false,
		ReplaceRecentBlockhash: true,
		Commitment:             s.cfg.Commitment,
	})
	if err != nil {
		return nil, unavailable(fmt.Errorf("simulate: %w", err))
	}
	if res.Value.Err != nil {
		f := failure{Raw: res.Value.Err, Logs: res.Value.Logs, Programs: programIDs(tx)}
		s.cfg.Logger.Info("action transaction refused in simulation", "payer", payer, "err", compact(res.Value.Err), "logs", res.Value.Logs)
		return nil, conflict("%s", f.explain())
	}
	var consumed uint64
	if res.Value.UnitsConsumed != nil {
		consumed = *res.Value.UnitsConsumed
	}
	limit := unitLimit(consumed)
	if tx, err = assemble(payer, blockhash, limit, price, p.Instructions); err != nil {
		return nil, err
	}
	raw, err := tx.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("serialize transaction: %w", err)
	}
	if len(raw) > maxTxSize {
		return nil, fmt.Errorf("transaction is %d bytes, over the %d-byte limit", len(raw), maxTxSize)
	}
	return &built{Tx: tx, Base64: base64.StdEncoding.EncodeToString(raw), UnitsConsumed: consumed, ComputeUnitLimit: limit, ComputeUnitPrice: price}, nil
}

// unitLimit is the limit requested for a transaction that consumed units.
func unitLimit(consumed uint64) uint32 {
	limit := consumed + consumed*unitMarginPercent/100 + unitPad
	return uint32(min(limit, maxComputeUnits))
}

// assemble builds the legacy transaction with the compute-budget
// instructions in front and one empty signature slot per required signer
// (only the payer), as wallets expect of an unsigned transaction.
func assemble(payer solana.PublicKey, blockhash solana.Hash, limit uint32, price uint64, ixs []solana.Instruction) (*solana.Transaction, error) {
	all := make([]solana.Instruction, 0, len(ixs)+2)
	all = append(all,
		computebudget.NewSetComputeUnitLimitInstruction(limit).Build(),
		computebudget.NewSetComputeUnitPriceInstruction(price).Build(),
	)
	all = append(all, ixs...)
	tx, err := solana.NewTransaction(all, blockhash, solana.TransactionPayer(payer))
	if err != nil {
		return nil, fmt.Errorf("build transaction: %w", err)
	}
	signers := int(tx.Message.Header.NumRequiredSignatures)
	if signers != 1 {
		// Every action's only signer is the wallet: anything else would be
		// rejected by the wallet as malicious.
		return nil, fmt.Errorf("transaction needs %d signers, want only the wallet", signers)
	}
	tx.Signatures = make([]solana.Signature, signers)
	return tx, nil
}

// unitPrice is the compute-unit price in micro-lamports: the configured
// one, or the configured percentile of the fees recently paid for the
// accounts the transaction writes, capped.
func (s *Server) unitPrice(ctx context.Context, payer solana.PublicKey, ixs []solana.Instruction) uint64 {
	if s.cfg.ComputeUnitPrice != nil {
		return *s.cfg.ComputeUnitPrice
	}
	writable := solana.PublicKeySlice{payer}
	for _, ix := range ixs {
		for _, a := range ix.Accounts() {
			if a.IsWritable && !writable.Contains(a.PublicKey) {
				writable = append(writable, a.PublicKey)
			}
		}
	}
	if len(writable) > 128 { // the RPC method's limit
		writable = writable[:128]
	}
	fees, err := s.cfg.RPC.GetRecentPrioritizationFees(ctx, writable)
	if err != nil {
		// Not every RPC provider serves this method; a transaction without
		// a priority fee still lands, only later when the cluster is busy.
		s.cfg.Logger.Warn("recent prioritization fees unavailable; no priority fee", "err", err)
		return 0
	}
	return min(feePercentile(fees, s.cfg.FeePercentile), s.cfg.MaxComputeUnitPrice)
}

// feePercentile is the p-th percentile (nearest rank) of the observed fees; 0 when none.
func feePercentile(fees []rpc.PriorizationFeeResult, p int) uint64 {
	if len(fees) == 0 {
		return 0
	}
	v := make([]uint64, len(fees))
	for i, f := range fees {
		v[i] = f.PrioritizationFee
	}
	slices.Sort(v)
	rank := (p*len(v) + 99) / 100 // nearest rank, 1-based
	rank = max(1, min(rank, len(v)))
	return v[rank-1]
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
