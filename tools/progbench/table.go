package main

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/rpc"

	"github.com/modelcommons/modelcommons/clients/txsend"
	"github.com/modelcommons/modelcommons/localnet/golocal"
	"github.com/modelcommons/modelcommons/tests/treasury"
)

const (
	txLimit  = 1232
	txTarget = 900
)

// bench measures transactions on one chain.
type bench struct {
	chain           *golocal.Chain
	sender          *txsend.Sender
	unitsMeaningful bool
	// protocol is the environment the mt_treasury suite set up (its admin,
	// native mint); later suites build on it.
	protocol *treasury.Env
}

// created is an account a measured transaction brought into existence.
type created struct {
	Name     string
	Bytes    int
	Lamports uint64
}

// row is one measured instruction.
type row struct {
	Program     string
	Instruction string
	// Size of the signed, serialized transaction in bytes.
	Size int
	// Accounts the transaction references (keys in its message).
	Accounts int
	Created  []created
	Units    uint64
}

func (r row) rent() uint64 {
	var total uint64
	for _, c := range r.Created {
		total += c.Lamports
	}
	return total
}

// measure simulates tx (for size and units), sends it, and records the
// accounts among names' keys that did not exist before and do after.
func (b *bench) measure(ctx context.Context, program, instruction string, tx txsend.Tx, names map[solana.PublicKey]string) (row, error) {
	var keys []solana.PublicKey
	for k := range names {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return names[keys[i]] < names[keys[j]] })
	before, err := b.existing(ctx, keys)
	if err != nil {
		return row{}, err
	}
	sim, err := b.sender.Simulate(ctx, tx)
	if err != nil {
		return row{}, fmt.Errorf("simulate %s: %w", instruction, err)
	}
	if _, err := b.sender.Send(ctx, tx); err != nil {
		return row{}, fmt.Errorf("send %s: %w", instruction, err)
	}
	r := row{Program: program, Instruction: instruction, Size: sim.Size, Accounts: len(sim.Tx.Message.AccountKeys), Units: sim.UnitsConsumed}
	after, err := b.accounts(ctx, keys)
	if err != nil {
		return row{}, err
	}
	for i, k := range keys {
		if !before[i] && after[i] != nil {
			r.Created = append(r.Created, created{Name: names[k], Bytes: len(after[i].Data.GetBinary()), Lamports: after[i].Lamports})
		}
	}
	return r, nil
}

func (b *bench) accounts(ctx context.Context, keys []solana.PublicKey) ([]*rpc.Account, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	res, err := b.chain.RPC.GetMultipleAccountsWithOpts(ctx, keys, &rpc.GetMultipleAccountsOpts{Commitment: rpc.CommitmentConfirmed})
	if err != nil {
		return nil, fmt.Errorf("get accounts: %w", err)
	}
	return res.Value, nil
}

func (b *bench) existing(ctx context.Context, keys []solana.PublicKey) ([]bool, error) {
	accs, err := b.accounts(ctx, keys)
	if err != nil {
		return nil, err
	}
	out := make([]bool, len(keys))
	for i, a := range accs {
		out[i] = a != nil
	}
	return out, nil
}

// markdown renders rows as the README's table.
func markdown(rows []row, unitsMeaningful bool, url string) string {
	var sb strings.Builder
	units := "CU (simulated)"
	if !unitsMeaningful {
		units = "CU (local chain: not meaningful)"
	}
	fmt.Fprintf(&sb, "| program | instruction | tx bytes (limit %d, target ≤ %d) | accounts | new accounts: bytes → rent-exempt lamports | rent total (lamports) | %s |\n", txLimit, txTarget, units)
	sb.WriteString("|---|---|--:|--:|---|--:|--:|\n")
	for _, r := range rows {
		size := fmt.Sprint(r.Size)
		switch {
		case r.Size > txLimit:
			size += " ✗ over limit"
		case r.Size > txTarget:
			size += " ⚠ over target"
		}
		var made []string
		for _, c := range r.Created {
			made = append(made, fmt.Sprintf("%s: %d → %d", c.Name, c.Bytes, c.Lamports))
		}
		createdCol := strings.Join(made, "; ")
		if createdCol == "" {
			createdCol = "–"
		}
		fmt.Fprintf(&sb, "| %s | %s | %s | %d | %s | %d | %d |\n", r.Program, r.Instruction, size, r.Accounts, createdCol, r.rent(), r.Units)
	}
	fmt.Fprintf(&sb, "\nMeasured against %s. Sizes include the compute-unit limit and price instructions the CLI adds.\n", url)
	if !unitsMeaningful {
		sb.WriteString("Compute units: the local chain runs the programs natively and reports a token figure; run with MC_RPC_URL pointing at a validator that runs them as SBF for real numbers.\n")
	}
	return sb.String()
}
