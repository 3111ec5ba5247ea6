// Package moneytrail follows the money of paid inference from the API
// user's escrow to the model's revenue (its depositors and its treasury),
// the node operator and the protocol, and checks it to the base unit.
//
// The prediction comes from clients/settlement (the program's cost and
// split, operation for operation) applied to each settle transaction the
// node landed, as the transaction itself lays the batch out, and from
// clients/market's revenue split; the verification reads the chain:
// each batch's BatchSettled event, every balance before and after, and the
// revenue accumulators and voter records that make each holder's
// claimable rewards. The signed receipts the user holds are matched
// against the batches (runs, tokens, Merkle roots). Audit never fails on a
// mismatch: it records a failed Check, so a caller prints the whole trail
// and then decides.
package moneytrail

import (
	"context"
	"encoding/base64"
	"fmt"
	"sort"

	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/rpc"

	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
	"github.com/modelcommons/modelcommons/clients/pda"
	"github.com/modelcommons/modelcommons/clients/rules"
	"github.com/modelcommons/modelcommons/clients/settlement"
	"github.com/modelcommons/modelcommons/keepers/gateway"
	"github.com/modelcommons/modelcommons/keepers/receipts"
)

// Check is one verified statement.
type Check struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
}

// Batch is one settle transaction.
type Batch struct {
	Seq        uint64 `json:"seq"`
	Signature  string `json:"signature"`
	Entries    uint16 `json:"entries"`
	Runs       uint64 `json:"runs"`
	Input      uint64 `json:"input_tokens"`
	Output     uint64 `json:"output_tokens"`
	Cost       uint64 `json:"cost"`
	Charged    uint64 `json:"charged"`
	Shortfall  uint64 `json:"shortfall"`
	ToProtocol uint64 `json:"to_protocol"`
	ToOperator uint64 `json:"to_operator"`
	ToDomain   uint64 `json:"to_domain,omitempty"`
	ToModels   uint64 `json:"to_models"`
}

// EscrowLine is what one escrow paid.
type EscrowLine struct {
	Address string `json:"address"`
	Before  uint64 `json:"balance_before"`
	After   uint64 `json:"balance_after"`
	Debited uint64 `json:"debited"`
	// Predicted is clients/settlement's debit for the node's batches.
	Predicted uint64 `json:"predicted"`
	Unpaid    uint64 `json:"unpaid_after"`
	// Quoted is the sum of the costs on the user's signed receipts (each
	// run priced alone; settlement prices each entry's aggregate once, so
	// the debit may be a few base units lower).
	Quoted   uint64 `json:"quoted_on_receipts"`
	Receipts int    `json:"receipts"`
}

// ModelLine is what one model earned.
type ModelLine struct {
	ID      uint64 `json:"id"`
	Address string `json:"address"`
	// Charged is the escrow money attributed to the model; Revenue its
	// part after the protocol fee and the operator share.
	Charged      uint64 `json:"charged"`
	Revenue      uint64 `json:"revenue"`
	ToDepositors uint64 `json:"to_depositors"`
	ToTreasury   uint64 `json:"to_treasury"`
	// Deltas of the model's vaults, read from the chain.
	RevenueVaultDelta  uint64 `json:"revenue_vault_delta"`
	TreasuryVaultDelta uint64 `json:"treasury_vault_delta"`
	// Dust is what the revenue vault holds beyond what the holders can
	// claim: the accumulator's roundings, kept by the protocol's rounding.
	Dust uint64 `json:"dust"`
}

// Share is a payee's total: predicted and received.
type Share struct {
	Account   string `json:"account"`
	Predicted uint64 `json:"predicted"`
	Received  uint64 `json:"received"`
}

// HolderLine is one depositor's claimable rewards.
type HolderLine struct {
	Name    string `json:"name"`
	Owner   string `json:"owner"`
	ModelID uint64 `json:"model_id"`
	// EarningMT is the deposit that earns (warmed up), in MT base units.
	EarningMT uint64 `json:"earning_mt"`
	Before    uint64 `json:"claimable_before"`
	After     uint64 `json:"claimable_after"`
	Predicted uint64 `json:"predicted_after"`
}

// Trail is the money trail of the node's batches settled after a snapshot.
type Trail struct {
	FirstBatch uint64       `json:"first_batch"`
	LastBatch  uint64       `json:"last_batch"`
	Batches    []Batch      `json:"batches"`
	Escrows    []EscrowLine `json:"escrows"`
	Models     []ModelLine  `json:"models"`
	Operator   Share        `json:"operator"`
	Protocol   Share        `json:"protocol"`
	// Domain is the domain operator's fee (a member's batches only).
	Domain  *Share       `json:"domain,omitempty"`
	Holders []HolderLine `json:"holders"`
	// Debited = ToModels + ToOperator + ToDomain + ToProtocol, to the base unit.
	Debited    uint64  `json:"debited"`
	ToModels   uint64  `json:"to_models"`
	ToOperator uint64  `json:"to_operator"`
	ToDomain   uint64  `json:"to_domain,omitempty"`
	ToProtocol uint64  `json:"to_protocol"`
	Checks     []Check `json:"checks"`
}

// OK reports whether every check passed.
func (t *Trail) OK() bool {
	for _, c := range t.Checks {
		if !c.OK {
			return false
		}
	}
	return true
}

// Failed lists the failed checks.
func (t *Trail) Failed() []Check {
	var out []Check
	for _, c := range t.Checks {
		if !c.OK {
			out = append(out, c)
		}
	}
	return out
}

func (t *Trail) check(name string, ok bool, format string, args ...any) {
	t.Checks = append(t.Checks, Check{Name: name, OK: ok, Detail: fmt.Sprintf(format, args...)})
}

// Audit follows the money of every batch the node settled after before
// was taken, up to its current last batch; receipts are the user's signed
// receipts (keeper receipts --output json), matched against the batches.
func Audit(ctx context.Context, client *rpc.Client, a Accounts, before *Snapshot, userReceipts []gateway.ReceiptView) (*Trail, error) {
	after, err := Take(ctx, client, a)
	if err != nil {
		return nil, err
	}
	meterCfg, err := readMeter(ctx, client)
	if err != nil {
		return nil, err
	}
	all, err := settlement.SettledBatches(ctx, client, a.Node)
	if err != nil {
		return nil, err
	}
	t := &Trail{FirstBatch: before.LastBatchSeq + 1, LastBatch: after.LastBatchSeq}

	// Every batch after the snapshot, predicted from the escrows as the
	// previous batches left them, compared with the program's event.
	escrows := map[solana.PublicKey]settlement.Escrow{}
	for k, v := range before.Escrows {
		escrows[k] = v
	}
	debits := map[solana.PublicKey]uint64{}
	modelCharged := map[solana.PublicKey]uint64{}
	var credits []settlement.ModelCredit // in order: the revenue deposits
	var toProtocol, toOperator, toDomain, charged uint64
	lastRun := before.LastRunSeq // the node's run mark before each batch
	for seq := before.LastBatchSeq + 1; seq <= after.LastBatchSeq; seq++ {
		st, ok := all[seq]
		if !ok {
			t.check(fmt.Sprintf("batch %d on chain", seq), false, "missing from the node's transaction history")
			continue
		}
		state := settlement.State{
			SettlementFeeBps: meterCfg.SettlementFeeBps, OperatorShareBps: meterCfg.OperatorShareBps,
			Models: map[solana.PublicKey]settlement.Model{}, Escrows: map[solana.PublicKey]settlement.Escrow{},
			Now: st.Time, RegisteredAt: after.RegisteredAt, LastRunSeq: lastRun, Domain: after.Domain,
		}
		for k, md := range after.Models {
			state.Models[k] = settlement.Model{ID: md.Id, Active: md.Stage == mt.Stage_Active, Pricing: settlement.PricingOf(md)}
		}
		complete := true
		for _, m := range st.Layout.Models {
			if _, ok := state.Models[m]; !ok {
				complete = false
			}
		}
		for _, e := range st.Layout.Escrows {
			v, ok := escrows[e]
			if !ok {
				complete = false
			}
			state.Escrows[e] = v
		}
		ev := st.Event
		t.check(fmt.Sprintf("batch %d: runs above those settled before", seq), ev.FirstRunSeq > lastRun && ev.LastRunSeq >= ev.FirstRunSeq,
			"runs %d..%d, node settled up to %d before", ev.FirstRunSeq, ev.LastRunSeq, lastRun)
		lastRun = max(lastRun, ev.LastRunSeq)
		t.Batches = append(t.Batches, Batch{Seq: seq, Signature: st.Sig.String(), Entries: ev.Entries, Runs: ev.Runs, Input: ev.InputTokens,
			Output: ev.OutputTokens, Cost: ev.Cost, Charged: ev.Charged, Shortfall: ev.Shortfall, ToProtocol: ev.ToProtocol, ToOperator: ev.ToOperator, ToDomain: ev.ToDomain, ToModels: ev.ToModels})
		if !complete {
			t.check(fmt.Sprintf("batch %d predicted", seq), false, "it charges an escrow or a model this trail does not follow")
			continue
		}
		predicted, err := settlement.Settle(state, st.Layout)
		if err != nil {
			t.check(fmt.Sprintf("batch %d predicted", seq), false, "clients/settlement refuses it: %v", err)
			continue
		}
		if err := settlement.CheckOutcome(predicted, ev); err != nil {
			t.check(fmt.Sprintf("batch %d: program = prediction", seq), false, "%v", err)
		} else {
			t.check(fmt.Sprintf("batch %d: program = prediction", seq), true, "%d runs, charged %d = %d protocol + %d operator + %d domain + %d models",
				ev.Runs, ev.Charged, ev.ToProtocol, ev.ToOperator, ev.ToDomain, ev.ToModels)
		}
		for k, v := range predicted.After {
			escrows[k] = v
		}
		for _, d := range predicted.Escrows {
			debits[d.Escrow] += d.Charged
		}
		for _, c := range predicted.Models {
			modelCharged[c.Model] += c.Charged
			credits = append(credits, c)
		}
		toProtocol += predicted.ToProtocol
		toOperator += predicted.ToOperator
		toDomain += predicted.ToDomain
		charged += predicted.Charged
	}

	// Escrows.
	byEscrow := map[string][]gateway.ReceiptView{}
	for _, r := range userReceipts {
		byEscrow[r.Escrow] = append(byEscrow[r.Escrow], r)
	}
	for _, e := range a.Escrows {
		b, f := before.Escrows[e], after.Escrows[e]
		line := EscrowLine{Address: e.String(), Before: b.Balance, After: f.Balance, Debited: b.Balance - f.Balance, Predicted: debits[e], Unpaid: f.Unpaid}
		for _, r := range byEscrow[e.String()] {
			if r.BatchSeq > before.LastBatchSeq && r.BatchSeq <= after.LastBatchSeq {
				line.Quoted += r.Receipt.Cost
				line.Receipts++
			}
		}
		t.Escrows = append(t.Escrows, line)
		t.check("escrow "+short(e)+" debited as predicted", f.Balance <= b.Balance && line.Debited == line.Predicted && f.Unpaid == b.Unpaid,
			"balance %d → %d: debited %d, predicted %d; unpaid %d → %d", b.Balance, f.Balance, line.Debited, line.Predicted, b.Unpaid, f.Unpaid)
		want := escrows[e]
		t.check("escrow "+short(e)+" state as predicted", f.Balance == want.Balance && f.Spent == want.Spent && f.Unpaid == want.Unpaid,
			"balance/spent/unpaid %d/%d/%d, predicted %d/%d/%d", f.Balance, f.Spent, f.Unpaid, want.Balance, want.Spent, want.Unpaid)
		t.Debited += line.Debited
	}

	// Models: the revenue deposits, split as deposit_revenue splits them,
	// and the accumulator they raise.
	rev := map[solana.PublicKey]mt.RevenueState{}
	lines := map[solana.PublicKey]*ModelLine{}
	for _, m := range a.Models {
		md := before.Models[m]
		rev[m] = md.Revenue
		lines[m] = &ModelLine{ID: md.Id, Address: m.String(), Charged: modelCharged[m]}
	}
	for _, c := range credits {
		l, ok := lines[c.Model]
		if !ok {
			continue
		}
		r := rev[c.Model]
		credit, err := rules.CreditOf(r, c.Revenue)
		if err != nil {
			t.check(fmt.Sprintf("model %d revenue credit", l.ID), false, "revenue %d: %v", c.Revenue, err)
			continue
		}
		r.AccPerShare = credit.AccPerShare
		rev[c.Model] = r
		l.Revenue += c.Revenue
		l.ToDepositors += credit.ToDepositors
		l.ToTreasury += credit.ToTreasury
	}
	for _, m := range a.Models {
		l := lines[m]
		l.RevenueVaultDelta = after.Tokens[pda.RevenueVault(m)] - before.Tokens[pda.RevenueVault(m)]
		l.TreasuryVaultDelta = after.Tokens[pda.TreasuryVault(m)] - before.Tokens[pda.TreasuryVault(m)]
		t.check(fmt.Sprintf("model %d revenue vaults", l.ID), l.RevenueVaultDelta == l.ToDepositors && l.TreasuryVaultDelta == l.ToTreasury,
			"revenue %d: depositors' vault +%d (predicted %d), treasury +%d (predicted %d)", l.Revenue, l.RevenueVaultDelta, l.ToDepositors, l.TreasuryVaultDelta, l.ToTreasury)
		got, want := after.Models[m].Revenue.AccPerShare.BigInt(), rev[m].AccPerShare.BigInt()
		t.check(fmt.Sprintf("model %d reward accumulator", l.ID), got.Cmp(want) == 0, "acc_per_share %s, predicted %s", got, want)
		t.ToModels += l.Revenue
	}

	// Holders: what each can claim now, against the predicted accumulator.
	// The safety check is on totals: everything the holders can claim must
	// be in the revenue vault. Over one stretch of batches a holder may gain
	// one base unit more than its exact share (its checkpoint was rounded
	// down earlier), so per-stretch gains are not bounded by the stretch's
	// depositors' share; what is claimable in total always is.
	claimableSum := map[solana.PublicKey]uint64{}
	for _, h := range a.Holders {
		vb, va := before.Voters[h.Voter], after.Voters[h.Voter]
		if vb == nil || va == nil {
			continue
		}
		line := HolderLine{Name: h.Name, Owner: h.Owner.String(), ModelID: before.Models[h.Model].Id, EarningMT: vb.Deposited - vb.Warming,
			Before: claimable(vb, before.Models[h.Model]), After: claimable(va, after.Models[h.Model])}
		line.Predicted = vb.RewardsOwed + rules.Pending(rev[h.Model], vb)
		t.Holders = append(t.Holders, line)
		t.check("holder "+h.Name+" claimable as predicted", line.After == line.Predicted, "claimable %d → %d, predicted %d", line.Before, line.After, line.Predicted)
		claimableSum[h.Model] += line.After
	}
	for _, m := range a.Models {
		l := lines[m]
		vault := after.Tokens[pda.RevenueVault(m)]
		if vault < claimableSum[m] {
			t.check(fmt.Sprintf("model %d holders' rewards covered by the revenue vault", l.ID), false, "holders can claim %d, the revenue vault holds %d", claimableSum[m], vault)
			continue
		}
		l.Dust = vault - claimableSum[m]
		t.Models = append(t.Models, *l)
	}

	// Operator and protocol.
	t.Operator = Share{Account: a.OperatorAccount.String(), Predicted: toOperator, Received: after.Tokens[a.OperatorAccount] - before.Tokens[a.OperatorAccount]}
	t.Protocol = Share{Account: pda.FeeVault().String(), Predicted: toProtocol, Received: after.Tokens[pda.FeeVault()] - before.Tokens[pda.FeeVault()]}
	t.ToOperator, t.ToProtocol = t.Operator.Received, t.Protocol.Received
	t.check("operator share", t.Operator.Received == t.Operator.Predicted, "received %d, predicted %d", t.Operator.Received, t.Operator.Predicted)
	if a.Domain != nil {
		fee := a.Domain.FeeAccount
		t.Domain = &Share{Account: fee.String(), Predicted: toDomain, Received: after.Tokens[fee] - before.Tokens[fee]}
		t.ToDomain = t.Domain.Received
		t.check("domain fee", t.Domain.Received == t.Domain.Predicted && t.Domain.Received > 0, "domain operator +%d, predicted %d", t.Domain.Received, t.Domain.Predicted)
	}
	t.check("protocol fee", t.Protocol.Received == t.Protocol.Predicted, "fee vault +%d, predicted %d", t.Protocol.Received, t.Protocol.Predicted)
	vaultPaid := before.Tokens[pda.EscrowVault()] - after.Tokens[pda.EscrowVault()]
	t.check("escrow vault paid out what was charged", vaultPaid == charged, "escrow vault −%d, batches charged %d", vaultPaid, charged)
	t.check("debits = models + operator + domain + protocol", t.Debited == t.ToModels+t.ToOperator+t.ToDomain+t.ToProtocol,
		"%d = %d + %d + %d + %d", t.Debited, t.ToModels, t.ToOperator, t.ToDomain, t.ToProtocol)

	// Receipts against batches: every receipt of a settled batch is the
	// user's; runs, tokens and the Merkle root agree.
	bySeq := map[uint64][]gateway.ReceiptView{}
	for _, r := range userReceipts {
		bySeq[r.BatchSeq] = append(bySeq[r.BatchSeq], r)
	}
	for _, b := range t.Batches {
		rs := bySeq[b.Seq]
		sort.Slice(rs, func(i, j int) bool { return rs[i].RunID < rs[j].RunID })
		var in, out uint64
		var enc [][]byte
		for _, r := range rs {
			in += r.Receipt.InputTokens
			out += r.Receipt.OutputTokens
			data, err := base64.StdEncoding.DecodeString(r.Encoded)
			if err != nil {
				return nil, fmt.Errorf("receipt %s: %w", r.RunID, err)
			}
			enc = append(enc, data)
		}
		if uint64(len(rs)) != b.Runs {
			t.check(fmt.Sprintf("batch %d: receipts", b.Seq), len(rs) > 0 && uint64(len(rs)) < b.Runs,
				"%d of its %d runs are the user's (others: other escrows)", len(rs), b.Runs)
			continue
		}
		root := receipts.RootOf(enc)
		t.check(fmt.Sprintf("batch %d: receipts", b.Seq), in == b.Input && out == b.Output && root == receipts.Hash(all[b.Seq].Event.ReceiptsRoot),
			"%d receipts, %d/%d tokens (batch %d/%d), Merkle root %s", len(rs), in, out, b.Input, b.Output, rootMatch(root, all[b.Seq].Event.ReceiptsRoot))
	}
	return t, nil
}

func rootMatch(root receipts.Hash, onChain [32]uint8) string {
	if root == receipts.Hash(onChain) {
		return "matches the chain's"
	}
	return fmt.Sprintf("%x ≠ chain's %x", root[:6], onChain[:6])
}

// claimable is what a voter could claim now: owed plus pending.
func claimable(v *mt.Voter, m *mt.Model) uint64 {
	return v.RewardsOwed + rules.Pending(m.Revenue, v)
}

func short(k solana.PublicKey) string {
	s := k.String()
	return s[:6] + "…"
}
