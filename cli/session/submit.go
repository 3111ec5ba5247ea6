package session

import (
	"context"
	"fmt"
	"strings"

	"github.com/gagliardetto/solana-go"

	"github.com/modelcommons/modelcommons/cli/output"
	"github.com/modelcommons/modelcommons/clients/explain"
	meter "github.com/modelcommons/modelcommons/clients/inference_meter"
	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
	"github.com/modelcommons/modelcommons/clients/pda"
	"github.com/modelcommons/modelcommons/clients/txsend"
)

// MaxTxSize is the most a serialized transaction may be.
const MaxTxSize = 1232

// Tx is a transaction a command wants to send.
type Tx struct {
	// What names the action in dry-run output ("launch model 3").
	What         string
	Instructions []solana.Instruction
	// Signers besides the session's signer (the fee payer), e.g. a new mint.
	Signers []solana.PrivateKey
	// Labels name accounts in dry-run output.
	Labels map[solana.PublicKey]string
}

// DryRun is what --dry-run prints.
type DryRun struct {
	DryRun           bool          `json:"dry_run"`
	What             string        `json:"what"`
	FeePayer         string        `json:"fee_payer"`
	Accounts         []TxAccount   `json:"accounts"`
	Instructions     []Instruction `json:"instructions"`
	FeeLamports      uint64        `json:"fee_lamports"`
	SizeBytes        int           `json:"size_bytes"`
	SizeLimit        int           `json:"size_limit"`
	ComputeUnits     uint64        `json:"compute_units"`
	ComputeUnitLimit uint32        `json:"compute_unit_limit"`
	Logs             []string      `json:"logs"`
}

// TxAccount is one account of the transaction.
type TxAccount struct {
	Address  string `json:"address"`
	Label    string `json:"label,omitempty"`
	Signer   bool   `json:"signer"`
	Writable bool   `json:"writable"`
}

// Instruction is one instruction of the transaction.
type Instruction struct {
	Program  string `json:"program"`
	Label    string `json:"label,omitempty"`
	Accounts int    `json:"accounts"`
	DataSize int    `json:"data_bytes"`
}

// Text renders the dry run for people.
func (d DryRun) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Dry run: %s (simulated, nothing sent)\n\n", d.What)
	rows := make([][]string, len(d.Accounts))
	for i, a := range d.Accounts {
		flags := ""
		if a.Signer {
			flags += "signer "
		}
		if a.Writable {
			flags += "writable"
		}
		rows[i] = []string{fmt.Sprint(i), a.Address, strings.TrimSpace(flags), a.Label}
	}
	b.WriteString(output.Table([]string{"#", "account", "access", "what"}, rows))
	b.WriteByte('\n')
	for i, ix := range d.Instructions {
		name := ix.Label
		if name == "" {
			name = ix.Program
		}
		fmt.Fprintf(&b, "instruction %d: %s (%d accounts, %d bytes of data)\n", i, name, ix.Accounts, ix.DataSize)
	}
	b.WriteByte('\n')
	b.WriteString(output.Fields{
		{Label: "Fee payer", Value: d.FeePayer},
		{Label: "Fee", Value: fmt.Sprintf("%d lamports (%s SOL)", d.FeeLamports, lamports(d.FeeLamports))},
		{Label: "Size", Value: fmt.Sprintf("%d of %d bytes", d.SizeBytes, d.SizeLimit)},
		{Label: "Compute units", Value: fmt.Sprintf("%d consumed, limit %d", d.ComputeUnits, d.ComputeUnitLimit)},
	}.Text())
	return b.String()
}

func lamports(n uint64) string {
	return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%d.%09d", n/1e9, n%1e9), "0"), ".")
}

// Submit sends tx signed by the session's signer (who pays the fee) and
// prints result(signature); with --dry-run it simulates tx instead, prints
// the simulation and sends nothing. A simulation that fails is reported
// exactly as a failed send would be.
func (s *Session) Submit(ctx context.Context, tx Tx, result func(solana.Signature) (any, error)) error {
	if s.DryRun {
		return s.DryRunTx(ctx, tx)
	}
	sig, err := s.Send(ctx, tx)
	if err != nil {
		return err
	}
	v, err := result(sig)
	if err != nil {
		return explain.Wrap(err, fmt.Sprintf("%s landed (signature %s), but reading the result failed: %v", tx.What, sig, err),
			"the transaction succeeded; check the result with the matching `show` command")
	}
	return s.Out.Print(v)
}

func (s *Session) txsend(tx Tx) (txsend.Tx, error) {
	payer, err := s.Signer()
	if err != nil {
		return txsend.Tx{}, err
	}
	return txsend.Tx{
		Instructions: tx.Instructions,
		Payer:        payer.PublicKey(),
		Signers:      append([]solana.PrivateKey{payer}, tx.Signers...),
	}, nil
}

// Send sends tx and waits for the session's commitment, printing nothing.
// Commands that send several transactions use it and print once at the end.
func (s *Session) Send(ctx context.Context, tx Tx) (solana.Signature, error) {
	stx, err := s.txsend(tx)
	if err != nil {
		return solana.Signature{}, err
	}
	return s.Sender().Send(ctx, stx)
}

// DryRunTx simulates tx and prints what it would do.
func (s *Session) DryRunTx(ctx context.Context, tx Tx) error {
	stx, err := s.txsend(tx)
	if err != nil {
		return err
	}
	sim, err := s.Sender().Simulate(ctx, stx)
	if err != nil {
		return err
	}
	return s.Out.Print(describe(tx, sim, stx.Payer))
}

func describe(tx Tx, sim *txsend.Simulation, payer solana.PublicKey) DryRun {
	labels := knownLabels()
	for k, v := range tx.Labels {
		labels[k] = v
	}
	labels[payer] = "fee payer (your keypair)"
	msg := sim.Tx.Message
	d := DryRun{
		DryRun: true, What: tx.What, FeePayer: payer.String(),
		FeeLamports: sim.Fee, SizeBytes: sim.Size, SizeLimit: MaxTxSize,
		ComputeUnits: sim.UnitsConsumed, ComputeUnitLimit: sim.Limit, Logs: sim.Logs,
	}
	if d.Logs == nil {
		d.Logs = []string{}
	}
	for _, key := range msg.AccountKeys {
		w, _ := msg.IsWritable(key)
		d.Accounts = append(d.Accounts, TxAccount{
			Address: key.String(), Label: labels[key], Signer: msg.IsSigner(key), Writable: w,
		})
	}
	for _, ix := range msg.Instructions {
		prog, _ := msg.Program(ix.ProgramIDIndex)
		d.Instructions = append(d.Instructions, Instruction{
			Program: prog.String(), Label: labels[prog], Accounts: len(ix.Accounts), DataSize: len(ix.Data),
		})
	}
	return d
}

func knownLabels() map[solana.PublicKey]string {
	return map[solana.PublicKey]string{
		solana.SystemProgramID:                    "System program",
		solana.TokenProgramID:                     "SPL Token program",
		solana.Token2022ProgramID:                 "Token-2022 program",
		solana.SPLAssociatedTokenAccountProgramID: "Associated Token Account program",
		solana.ComputeBudget:                      "Compute Budget program",
		solana.SysVarRentPubkey:                   "Rent sysvar",
		solana.SysVarClockPubkey:                  "Clock sysvar",
		mt.ProgramID:                              "mt_treasury program",
		meter.ProgramID:                           "inference_meter program",
		pda.EventAuthority(mt.ProgramID):          "mt_treasury event authority",
		pda.EventAuthority(meter.ProgramID):       "inference_meter event authority",
	}
}
