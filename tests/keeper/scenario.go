// Package keeper drives the keeper's settlement against the local chain: a
// meter with active models, a registered node and funded escrows, receipts
// journaled as the gateway journals them, and an audit that reads the
// node's settle transactions back from the chain and checks that every
// settled receipt was charged exactly once, every balance moved as
// clients/settlement predicts, and the journal agrees with the chain.
// The tests in this directory (in-process settler, the keeper binary under
// SIGKILL, the cranks) share it.
package keeper

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/rpc"

	"github.com/modelcommons/modelcommons/clients/apikey"
	im "github.com/modelcommons/modelcommons/clients/inference_meter"
	"github.com/modelcommons/modelcommons/clients/ix"
	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
	"github.com/modelcommons/modelcommons/clients/pda"
	"github.com/modelcommons/modelcommons/clients/settlement"
	"github.com/modelcommons/modelcommons/clients/tokens"
	"github.com/modelcommons/modelcommons/keepers/journal"
	"github.com/modelcommons/modelcommons/keepers/receipts"
	"github.com/modelcommons/modelcommons/localnet/golocal"
	"github.com/modelcommons/modelcommons/tests/meter"
)

// NativeUnit is one whole native token in base units.
const NativeUnit = meter.NativeUnit

// Model is an active model.
type Model struct {
	Addr  solana.PublicKey
	ID    uint64
	Price mt.QueryPrice
}

// World is a chain with the meter, active models, a registered node and a
// funded escrow owner.
type World struct {
	*meter.Env
	Node     *meter.Node
	NodeAddr solana.PublicKey
	Models   []Model
	Owner    solana.PrivateKey
}

// NewWorld sets up the protocol and the meter, launches one active model
// per price, registers a node and funds an escrow owner.
func NewWorld(ctx context.Context, c *golocal.Chain, prices ...mt.QueryPrice) (*World, error) {
	e, err := meter.Setup(ctx, c, meter.NewSender(c))
	if err != nil {
		return nil, err
	}
	w := &World{Env: e}
	for _, p := range prices {
		addr, err := e.ActiveModel(ctx, p)
		if err != nil {
			return nil, err
		}
		m, err := e.Model(ctx, addr)
		if err != nil {
			return nil, err
		}
		w.Models = append(w.Models, Model{Addr: addr, ID: m.Id, Price: p})
	}
	if w.Node, err = e.RegisterNode(ctx, 1_000*NativeUnit); err != nil {
		return nil, err
	}
	w.NodeAddr = pda.Node(w.Node.Operator.PublicKey())
	if w.Owner, err = e.Wallet(ctx, 10_000_000*NativeUnit); err != nil {
		return nil, err
	}
	return w, nil
}

// NewAPIKey is a fresh random API key.
func NewAPIKey() string {
	var b [24]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return "mc-test-" + hex.EncodeToString(b[:])
}

// OpenEscrow opens the escrow of apiKey, owned by the world's owner, with
// the given rules, funded with amount, all of it in a lane to the world's
// node.
func (w *World) OpenEscrow(ctx context.Context, apiKey string, amount uint64, allowed []uint64, limit *uint64) (solana.PublicKey, error) {
	var lanes []LaneAmount
	if amount > 0 {
		// Lanes hold at most the spend limit (LanesExceedSpendLimit); the
		// rest of the deposit stays unallocated.
		lane := amount
		if limit != nil {
			lane = min(lane, *limit)
		}
		lanes = []LaneAmount{{Node: w.NodeAddr, Amount: lane}}
	}
	return w.OpenEscrowLanes(ctx, apiKey, amount, lanes, allowed, limit)
}

// LaneAmount is a lane to open: the node account and the amount.
type LaneAmount struct {
	Node   solana.PublicKey
	Amount uint64
}

// OpenEscrowLanes opens the escrow of apiKey (signed by its key id, as
// `mt escrow open` does), deposits deposit and opens the given lanes from
// it, in one transaction.
func (w *World) OpenEscrowLanes(ctx context.Context, apiKey string, deposit uint64, lanes []LaneAmount, allowed []uint64, limit *uint64) (solana.PublicKey, error) {
	args := im.OpenEscrowArgs{SpendLimit: limit}
	if allowed != nil {
		args.AllowedModels = &allowed
	}
	id := apikey.Signer(apiKey)
	escrow := pda.Escrow(id.PublicKey())
	open, err := w.OpenEscrowIx(w.Owner.PublicKey(), id.PublicKey(), args)
	if err != nil {
		return escrow, err
	}
	ixs := []solana.Instruction{open}
	if deposit > 0 {
		ix, err := w.DepositIx(w.Owner.PublicKey(), escrow, deposit, w.Owner.PublicKey())
		if err != nil {
			return escrow, err
		}
		ixs = append(ixs, ix)
	}
	for _, l := range lanes {
		ix, err := w.AllowIx(w.Owner.PublicKey(), escrow, l.Node, l.Amount)
		if err != nil {
			return escrow, err
		}
		ixs = append(ixs, ix)
	}
	if _, err := w.Send(ctx, w.Owner, []solana.PrivateKey{id}, ixs...); err != nil {
		return escrow, fmt.Errorf("open escrow: %w", err)
	}
	return escrow, nil
}

// RotateKey moves escrow's balance and lanes to the escrow of newKey
// (signed by the new key's id).
func (w *World) RotateKey(ctx context.Context, escrow solana.PublicKey, newKey string) (solana.PublicKey, error) {
	id := apikey.Signer(newKey)
	to := pda.Escrow(id.PublicKey())
	ix, err := ix.RotateKey(w.Owner.PublicKey(), escrow, id.PublicKey())
	if err != nil {
		return to, err
	}
	_, err = w.Send(ctx, w.Owner, []solana.PrivateKey{id}, ix)
	return to, err
}

// CloseEscrow revokes every lane and withdraws escrow's whole balance
// (requesting both and moving the clock past the notice period), then
// closes it.
func (w *World) CloseEscrow(ctx context.Context, escrow solana.PublicKey) error {
	es, err := w.Escrows(ctx, []solana.PublicKey{escrow})
	if err != nil {
		return err
	}
	total := es[0].Balance
	var requests, revokes []solana.Instruction
	for _, l := range es[0].Lanes {
		total += l.Balance
		req, err := w.RequestRevokeIx(w.Owner.PublicKey(), escrow, l.Node)
		if err != nil {
			return err
		}
		rev, err := w.RevokeIx(w.Owner.PublicKey(), escrow, l.Node)
		if err != nil {
			return err
		}
		requests, revokes = append(requests, req), append(revokes, rev)
	}
	if total > 0 {
		req, err := w.RequestWithdrawalIx(w.Owner.PublicKey(), escrow, total)
		if err != nil {
			return err
		}
		requests = append(requests, req)
		wd, err := w.WithdrawEscrowIx(w.Owner.PublicKey(), escrow)
		if err != nil {
			return err
		}
		revokes = append(revokes, wd)
	}
	if len(requests) > 0 {
		if _, err := w.Send(ctx, w.Owner, nil, requests...); err != nil {
			return fmt.Errorf("request revocations and withdrawal: %w", err)
		}
		now, err := w.Chain.Now(ctx)
		if err != nil {
			return err
		}
		if err := w.WaitUntil(ctx, now.Add(time.Duration(meter.Params().WithdrawalNoticeSecs+1)*time.Second)); err != nil {
			return err
		}
		if _, err := w.Send(ctx, w.Owner, nil, revokes...); err != nil {
			return fmt.Errorf("revoke lanes and withdraw: %w", err)
		}
	}
	ix, err := ix.CloseEscrow(w.Owner.PublicKey(), escrow)
	if err != nil {
		return err
	}
	if _, err := w.Send(ctx, w.Owner, nil, ix); err != nil {
		return fmt.Errorf("close escrow: %w", err)
	}
	return nil
}

// Single is a one-model share at the model's price.
func (m Model) Single() []receipts.ModelShare {
	return []receipts.ModelShare{{ModelID: m.ID, WeightBps: settlement.BPS, InputPer1k: m.Price.InputPer1k, OutputPer1k: m.Price.OutputPer1k}}
}

// Mixture is shares of several models with the given weights (ascending ids).
func Mixture(models []Model, weights []uint16) []receipts.ModelShare {
	var out []receipts.ModelShare
	for i, m := range models {
		out = append(out, receipts.ModelShare{ModelID: m.ID, WeightBps: weights[i], InputPer1k: m.Price.InputPer1k, OutputPer1k: m.Price.OutputPer1k})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ModelID < out[j].ModelID })
	return out
}

// Receipt is a run receipt signed with the node's keeper key, priced as
// the gateway prices it (clients/settlement's cost of each share).
func (w *World) Receipt(escrow solana.PublicKey, shares []receipts.ModelShare, in, out uint64, servedAt time.Time) (receipts.Signed, error) {
	var cost uint64
	for _, s := range shares {
		c, err := settlement.ShareCost(in, out, s.InputPer1k, s.OutputPer1k, s.WeightBps)
		if err != nil {
			return receipts.Signed{}, err
		}
		cost += c
	}
	r := receipts.Receipt{
		Version: receipts.Version, RunID: receipts.NewRunID(), Escrow: escrow, Models: shares, Kind: receipts.KindChat,
		InputTokens: in, OutputTokens: out, Cost: cost, ServedAtMs: servedAt.UnixMilli(), CompletedAtMs: servedAt.UnixMilli() + 5, Worker: "sim",
	}
	return receipts.Sign(r, []byte(w.Node.Keeper))
}

// Snapshot is the state settlement changes: escrows and token balances.
type Snapshot struct {
	Escrows map[solana.PublicKey]settlement.Escrow
	Tokens  map[solana.PublicKey]uint64
}

// tokenAccounts settlement pays into.
func (w *World) tokenAccounts() []solana.PublicKey {
	out := []solana.PublicKey{pda.FeeVault(), pda.EscrowVault(), w.Node.Settle.OperatorAccount}
	for _, m := range w.Models {
		out = append(out, pda.RevenueVault(m.Addr), pda.TreasuryVault(m.Addr))
	}
	return out
}

// Snapshot reads escrows (those that exist) and the token balances.
func (w *World) Snapshot(ctx context.Context, escrows []solana.PublicKey) (*Snapshot, error) {
	s := &Snapshot{Escrows: map[solana.PublicKey]settlement.Escrow{}, Tokens: map[solana.PublicKey]uint64{}}
	for _, e := range escrows {
		info, err := w.Chain.RPC.GetAccountInfoWithOpts(ctx, e, &rpc.GetAccountInfoOpts{Commitment: rpc.CommitmentConfirmed})
		if errors.Is(err, rpc.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		esc, err := im.ParseAccount_Escrow(info.Value.Data.GetBinary())
		if err != nil {
			return nil, fmt.Errorf("escrow %s: %w", e, err)
		}
		s.Escrows[e] = settlement.EscrowOf(esc, w.NodeAddr)
	}
	for _, a := range w.tokenAccounts() {
		b, err := tokens.Balance(ctx, w.Chain.RPC, a)
		if err != nil {
			return nil, fmt.Errorf("balance of %s: %w", a, err)
		}
		s.Tokens[a] = b
	}
	return s, nil
}

// SettledBatches reads every BatchSettled of the node from its
// transaction history, by sequence number; a sequence settled twice is an
// error.
func (w *World) SettledBatches(ctx context.Context) (map[uint64]settlement.Settled, error) {
	return settlement.SettledBatches(ctx, w.Chain.RPC, w.NodeAddr)
}

// AuditResult sums up what the chain settled.
type AuditResult struct {
	LastBatchSeq uint64
	Batches      int
	Runs         uint64
	Cost         uint64
	Charged      uint64
	Shortfall    uint64
	// Settled is every receipt of a settled batch, by run id.
	Settled map[receipts.RunID]journal.Entry
	// Debits is what each escrow paid, by escrow.
	Debits map[solana.PublicKey]uint64
}

// Audit checks the chain against the journal and the prediction:
//   - the node's last_batch_seq equals the journal's last settled batch,
//     and every sequence 1..last was settled on chain exactly once;
//   - each settle transaction's outcome is what clients/settlement
//     predicts for its layout, from the escrows' state before (in before)
//     as the earlier batches left them;
//   - each batch's on-chain root is the journal batch's root and the
//     Merkle root of its receipts, its runs and tokens are its receipts';
//   - no receipt is in two batches, and every receipt of a settled batch
//     is settled in the journal;
//   - every escrow and every token account moved exactly as predicted.
func (w *World) Audit(ctx context.Context, j *journal.Journal, before *Snapshot) (*AuditResult, error) {
	node, err := w.readNode(ctx)
	if err != nil {
		return nil, err
	}
	batches, err := w.SettledBatches(ctx)
	if err != nil {
		return nil, err
	}
	res := &AuditResult{LastBatchSeq: node.LastBatchSeq, Settled: map[receipts.RunID]journal.Entry{}, Debits: map[solana.PublicKey]uint64{}}
	if uint64(len(batches)) != node.LastBatchSeq {
		return nil, fmt.Errorf("node last_batch_seq %d but %d batches in its history", node.LastBatchSeq, len(batches))
	}
	meterCfg, err := w.meterConfig(ctx)
	if err != nil {
		return nil, err
	}
	escrows := map[solana.PublicKey]settlement.Escrow{}
	for k, v := range before.Escrows {
		escrows[k] = v
	}
	tokenDelta := map[solana.PublicKey]uint64{}
	var lastRun uint64 // the node's run mark before each batch
	for seq := uint64(1); seq <= node.LastBatchSeq; seq++ {
		st, ok := batches[seq]
		if !ok {
			return nil, fmt.Errorf("batch %d missing from the node's history", seq)
		}
		state := settlement.State{
			SettlementFeeBps: meterCfg.SettlementFeeBps, OperatorShareBps: meterCfg.OperatorShareBps,
			Models: map[solana.PublicKey]settlement.Model{}, Escrows: escrows, Now: st.Time, RegisteredAt: node.RegisteredAt,
			LastRunSeq: lastRun,
		}
		// Run-level exactly-once: each batch's range starts above the
		// previous one's.
		if st.Event.FirstRunSeq <= lastRun || st.Event.LastRunSeq < st.Event.FirstRunSeq {
			return nil, fmt.Errorf("batch %d covers runs %d..%d after runs up to %d were settled", seq, st.Event.FirstRunSeq, st.Event.LastRunSeq, lastRun)
		}
		for _, m := range w.Models {
			md, err := w.Model(ctx, m.Addr)
			if err != nil {
				return nil, err
			}
			state.Models[m.Addr] = settlement.Model{ID: md.Id, Active: md.Stage == mt.Stage_Active, Pricing: settlement.PricingOf(md)}
		}
		for _, e := range st.Layout.Escrows {
			if _, ok := escrows[e]; !ok {
				return nil, fmt.Errorf("batch %d charges escrow %s, which the snapshot before does not have", seq, e)
			}
		}
		predicted, err := settlement.Settle(state, st.Layout)
		if err != nil {
			return nil, fmt.Errorf("batch %d: prediction: %w", seq, err)
		}
		if err := settlement.CheckOutcome(predicted, st.Event); err != nil {
			return nil, fmt.Errorf("batch %d: %w", seq, err)
		}
		for k, v := range predicted.After {
			escrows[k] = v
		}
		for _, d := range predicted.Escrows {
			res.Debits[d.Escrow] += d.Charged
		}
		tokenDelta[pda.FeeVault()] += predicted.ToProtocol
		tokenDelta[w.Node.Settle.OperatorAccount] += predicted.ToOperator
		res.Batches++
		res.Runs += st.Event.Runs
		res.Cost += st.Event.Cost
		res.Charged += st.Event.Charged
		res.Shortfall += st.Event.Shortfall

		// The journal's batch: same root, same receipts.
		b, err := j.Batch(seq)
		if err != nil {
			return nil, fmt.Errorf("journal batch %d: %w", seq, err)
		}
		if b.State != journal.BatchSettled {
			return nil, fmt.Errorf("journal batch %d is %s but settled on chain", seq, b.State)
		}
		if b.Root != receipts.Hash(st.Event.ReceiptsRoot) {
			return nil, fmt.Errorf("batch %d: chain root %x, journal root %x", seq, st.Event.ReceiptsRoot, b.Root)
		}
		var encoded [][]byte
		var runs, in, out uint64
		for _, id := range b.RunIDs {
			e, err := j.Get(id)
			if err != nil {
				return nil, err
			}
			if e.State != journal.StateSettled || e.BatchSeq != seq {
				return nil, fmt.Errorf("run %s of batch %d is %s in batch %d", id, seq, e.State, e.BatchSeq)
			}
			if _, dup := res.Settled[id]; dup {
				return nil, fmt.Errorf("run %s is in two batches", id)
			}
			if e.RunSeq < st.Event.FirstRunSeq || e.RunSeq > st.Event.LastRunSeq {
				return nil, fmt.Errorf("run %s numbered %d is in batch %d, which covers runs %d..%d", id, e.RunSeq, seq, st.Event.FirstRunSeq, st.Event.LastRunSeq)
			}
			res.Settled[id] = e
			encoded = append(encoded, e.Signed.Encoded)
			runs++
			in += e.Signed.Receipt.InputTokens
			out += e.Signed.Receipt.OutputTokens
		}
		if receipts.RootOf(encoded) != receipts.Hash(st.Event.ReceiptsRoot) {
			return nil, fmt.Errorf("batch %d: the chain's root is not the Merkle root of its receipts", seq)
		}
		if runs != st.Event.Runs || in != st.Event.InputTokens || out != st.Event.OutputTokens {
			return nil, fmt.Errorf("batch %d: chain settled %d runs (%d in, %d out), its receipts are %d runs (%d in, %d out)",
				seq, st.Event.Runs, st.Event.InputTokens, st.Event.OutputTokens, runs, in, out)
		}
		for _, c := range predicted.Models {
			tokenDelta[c.Model] += c.Revenue // revenue + treasury vault, compared below
		}
		lastRun = st.Event.LastRunSeq
	}
	if node.LastRunSeq != lastRun {
		return nil, fmt.Errorf("node last_run_seq %d, its last batch covered runs up to %d", node.LastRunSeq, lastRun)
	}
	after, err := w.Snapshot(ctx, keysOf(before.Escrows))
	if err != nil {
		return nil, err
	}
	for k, want := range escrows {
		got, ok := after.Escrows[k]
		if !ok {
			continue // closed since
		}
		if got.Balance != want.Balance || got.Spent != want.Spent || got.Unpaid != want.Unpaid {
			return nil, fmt.Errorf("escrow %s: balance/spent/unpaid %d/%d/%d, predicted %d/%d/%d", k, got.Balance, got.Spent, got.Unpaid, want.Balance, want.Spent, want.Unpaid)
		}
	}
	for _, a := range []solana.PublicKey{pda.FeeVault(), w.Node.Settle.OperatorAccount} {
		if d := after.Tokens[a] - before.Tokens[a]; d != tokenDelta[a] {
			return nil, fmt.Errorf("token account %s received %d, predicted %d", a, d, tokenDelta[a])
		}
	}
	for _, m := range w.Models {
		got := after.Tokens[pda.RevenueVault(m.Addr)] + after.Tokens[pda.TreasuryVault(m.Addr)] -
			before.Tokens[pda.RevenueVault(m.Addr)] - before.Tokens[pda.TreasuryVault(m.Addr)]
		if got != tokenDelta[m.Addr] {
			return nil, fmt.Errorf("model %d received %d revenue, predicted %d", m.ID, got, tokenDelta[m.Addr])
		}
	}
	if d := before.Tokens[pda.EscrowVault()] - after.Tokens[pda.EscrowVault()]; d != res.Charged {
		return nil, fmt.Errorf("escrow vault paid out %d, batches charged %d", d, res.Charged)
	}
	if last, err := lastSettled(j); err != nil || last != node.LastBatchSeq {
		return nil, fmt.Errorf("journal's last settled batch %d (%v), chain's %d", last, err, node.LastBatchSeq)
	}
	return res, nil
}

func keysOf[V any](m map[solana.PublicKey]V) []solana.PublicKey {
	out := make([]solana.PublicKey, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func lastSettled(j *journal.Journal) (uint64, error) {
	b, ok, err := j.LastBatch()
	if err != nil || !ok {
		return 0, err
	}
	for seq := b.Seq; seq > 0; seq-- {
		b, err := j.Batch(seq)
		if err != nil {
			return 0, err
		}
		if b.State == journal.BatchSettled {
			return seq, nil
		}
	}
	return 0, nil
}

func (w *World) readNode(ctx context.Context) (*im.Node, error) {
	info, err := w.Chain.RPC.GetAccountInfoWithOpts(ctx, w.NodeAddr, &rpc.GetAccountInfoOpts{Commitment: rpc.CommitmentConfirmed})
	if err != nil {
		return nil, fmt.Errorf("read node: %w", err)
	}
	return im.ParseAccount_Node(info.Value.Data.GetBinary())
}

// LastBatchSeq is the node's last settled sequence number.
func (w *World) LastBatchSeq(ctx context.Context) (uint64, error) {
	n, err := w.readNode(ctx)
	if err != nil {
		return 0, err
	}
	return n.LastBatchSeq, nil
}

func (w *World) meterConfig(ctx context.Context) (*im.MeterConfig, error) {
	info, err := w.Chain.RPC.GetAccountInfoWithOpts(ctx, pda.Meter(), &rpc.GetAccountInfoOpts{Commitment: rpc.CommitmentConfirmed})
	if err != nil {
		return nil, fmt.Errorf("read meter: %w", err)
	}
	return im.ParseAccount_MeterConfig(info.Value.Data.GetBinary())
}

func ptr[T any](v T) *T { return &v }
