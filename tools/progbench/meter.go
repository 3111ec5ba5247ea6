package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gagliardetto/solana-go"
	computebudget "github.com/gagliardetto/solana-go/programs/compute-budget"

	im "github.com/modelcommons/modelcommons/clients/inference_meter"
	"github.com/modelcommons/modelcommons/clients/ix"
	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
	"github.com/modelcommons/modelcommons/clients/pda"
	"github.com/modelcommons/modelcommons/clients/settlement"
	"github.com/modelcommons/modelcommons/clients/txsend"
	meterenv "github.com/modelcommons/modelcommons/tests/meter"
)

// mainnetAccountLocks is the most accounts a transaction may reference on
// mainnet today (the local chain, with every feature on, allows 128).
const mainnetAccountLocks = 64

// runMeter measures inference_meter on the protocol the mt_treasury suite
// created: every instruction as the CLI and the keeper send it, then how
// many settle entries fit in one transaction with and without an address
// lookup table, and what settling a thousand runs costs in fees. The
// capacity table is printed after the suite runs.
func runMeter(ctx context.Context, b *bench) ([]row, error) {
	if b.protocol == nil {
		return nil, errors.New("the mt_treasury suite must run first: it creates the protocol")
	}
	m := &meterBench{b: b, e: &meterenv.Env{Env: b.protocol, EventAuth: pda.EventAuthority(im.ProgramID)}}
	if err := m.run(ctx); err != nil {
		return nil, err
	}
	fmt.Print(m.capacityTable())
	return m.rows, nil
}

type meterBench struct {
	b        *bench
	e        *meterenv.Env
	rows     []row
	capacity []capacityRow
	// seq is the last settled batch; runs the last settled run number.
	seq, runs uint64
}

// capacityRow is the largest settle batch of one shape that fits.
type capacityRow struct {
	Shape    string
	Table    bool
	Entries  int
	Escrows  int
	Size     int
	Accounts int
	// Bound names the limit that stopped the batch from growing.
	Bound string
	Fee   uint64
}

func (m *meterBench) send(ctx context.Context, name string, payer solana.PrivateKey, extra []solana.PrivateKey, names map[solana.PublicKey]string, build func() (solana.Instruction, error)) error {
	ix, err := build()
	if err != nil {
		return fmt.Errorf("build %s: %w", name, err)
	}
	r, err := m.b.measure(ctx, "inference_meter", name, m.e.Tx(payer, extra, ix), names)
	if err != nil {
		return err
	}
	m.rows = append(m.rows, r)
	return nil
}

// Short periods so the bench does not wait on a real cluster either.
func benchParams() im.InitMeterArgs {
	p := meterenv.Params()
	p.UnbondingSecs, p.WithdrawalNoticeSecs = 1, 1
	return p
}

func (m *meterBench) run(ctx context.Context) error {
	e := m.e
	admin := e.Admin
	if err := m.send(ctx, "init_meter", admin, nil,
		map[solana.PublicKey]string{pda.Meter(): "MeterConfig", pda.EscrowVault(): "escrow vault", pda.StakeVault(): "stake vault"},
		func() (solana.Instruction, error) {
			return ix.InitMeter(admin.PublicKey(), ix.Native{Mint: e.NativeMint, Program: e.NativeProgram}, benchParams())
		}); err != nil {
		return err
	}
	if err := m.send(ctx, "update_meter", admin, nil, nil, func() (solana.Instruction, error) {
		return ix.UpdateMeter(admin.PublicKey(), benchParams())
	}); err != nil {
		return err
	}
	var models []solana.PublicKey
	var ids []uint64
	for _, price := range []mt.QueryPrice{{InputPer1k: 10, OutputPer1k: 30}, {InputPer1k: 3, OutputPer1k: 7}, {InputPer1k: 1, OutputPer1k: 2}} {
		model, err := e.ActiveModel(ctx, price)
		if err != nil {
			return err
		}
		mdl, err := e.Model(ctx, model)
		if err != nil {
			return err
		}
		models, ids = append(models, model), append(ids, mdl.Id)
	}
	if err := m.escrows(ctx, ids); err != nil {
		return err
	}
	if err := m.nodes(ctx); err != nil {
		return err
	}
	if err := m.settle(ctx, models); err != nil {
		return err
	}
	return m.domains(ctx, models)
}

func (m *meterBench) escrows(ctx context.Context, modelIDs []uint64) error {
	e := m.e
	owner, err := e.Wallet(ctx, 1_000*native)
	if err != nil {
		return err
	}
	o := owner.PublicKey()
	escrowName := func(k solana.PublicKey) map[solana.PublicKey]string {
		return map[solana.PublicKey]string{pda.Escrow(k): "Escrow"}
	}
	// The node the lanes are opened to.
	node, err := e.RegisterNode(ctx, benchParams().MinNodeStake)
	if err != nil {
		return err
	}
	n := node.Addr()

	// Every escrow is opened with its API key id's signature (no squatting).
	plainKey := meterenv.NewKey()
	if err := m.send(ctx, "open_escrow (any model, no limit)", owner, []solana.PrivateKey{plainKey}, escrowName(plainKey.PublicKey()), func() (solana.Instruction, error) {
		return e.OpenEscrowIx(o, plainKey.PublicKey(), im.OpenEscrowArgs{})
	}); err != nil {
		return err
	}
	ruledKey := meterenv.NewKey()
	allowed := make([]uint64, 8)
	copy(allowed, modelIDs)
	limit := uint64(500 * native)
	if err := m.send(ctx, "open_escrow (8 allowed models, spend limit)", owner, []solana.PrivateKey{ruledKey}, escrowName(ruledKey.PublicKey()), func() (solana.Instruction, error) {
		return e.OpenEscrowIx(o, ruledKey.PublicKey(), im.OpenEscrowArgs{AllowedModels: &allowed, SpendLimit: &limit})
	}); err != nil {
		return err
	}
	// `mt escrow open --deposit --node`: open, deposit and allow in one transaction.
	laneKey := meterenv.NewKey()
	ixs, err := e.OpenForIxs(o, laneKey.PublicKey(), n, 10*native, im.OpenEscrowArgs{AllowedModels: &allowed, SpendLimit: &limit})
	if err != nil {
		return err
	}
	r, err := m.b.measure(ctx, "inference_meter", "open_escrow + deposit_escrow + allow_node (mt escrow open --deposit --node; 8 models, limit)",
		e.Tx(owner, []solana.PrivateKey{laneKey}, ixs...), escrowName(laneKey.PublicKey()))
	if err != nil {
		return err
	}
	m.rows = append(m.rows, r)

	escrow := pda.Escrow(plainKey.PublicKey())
	steps := []struct {
		name string
		wait bool // for the withdrawal notice first
		ix   func() (solana.Instruction, error)
	}{
		{"deposit_escrow", false, func() (solana.Instruction, error) { return e.DepositIx(o, escrow, 100*native, o) }},
		{"allow_node (opens a lane)", false, func() (solana.Instruction, error) { return e.AllowIx(o, escrow, n, 50*native) }},
		{"allow_node (tops up a lane)", false, func() (solana.Instruction, error) { return e.AllowIx(o, escrow, n, 10*native) }},
		{"request_withdrawal", false, func() (solana.Instruction, error) { return e.RequestWithdrawalIx(o, escrow, 10*native) }},
		{"withdraw_escrow", true, func() (solana.Instruction, error) { return e.WithdrawEscrowIx(o, escrow) }},
		{"request_revoke", false, func() (solana.Instruction, error) { return e.RequestRevokeIx(o, escrow, n) }},
		{"revoke_node", true, func() (solana.Instruction, error) { return e.RevokeIx(o, escrow, n) }},
		// A lane again, so rotate_key carries one over.
		{"allow_node (reopens the lane)", false, func() (solana.Instruction, error) { return e.AllowIx(o, escrow, n, 5*native) }},
	}
	for _, st := range steps {
		if st.wait {
			if err := m.waitSecs(ctx, benchParams().WithdrawalNoticeSecs); err != nil {
				return err
			}
		}
		if err := m.send(ctx, st.name, owner, nil, nil, st.ix); err != nil {
			return err
		}
	}
	rotated := meterenv.NewKey()
	if err := m.send(ctx, "rotate_key (moves the lanes)", owner, []solana.PrivateKey{rotated}, escrowName(rotated.PublicKey()), func() (solana.Instruction, error) {
		return ix.RotateKey(o, escrow, rotated.PublicKey())
	}); err != nil {
		return err
	}
	if err := m.waitSecs(ctx, benchParams().WithdrawalNoticeSecs); err != nil {
		return err
	}
	return m.send(ctx, "close_escrow (the rotated one)", owner, nil, nil, func() (solana.Instruction, error) {
		return ix.CloseEscrow(o, escrow)
	})
}

func (m *meterBench) nodes(ctx context.Context) error {
	e := m.e
	stake := benchParams().MinNodeStake
	operator, err := e.Wallet(ctx, 2*stake)
	if err != nil {
		return err
	}
	op := operator.PublicKey()
	node := pda.Node(op)
	longest := "https://" + strings.Repeat("n", 128-len("https://"))
	if err := m.send(ctx, "register_node (128-byte endpoint)", operator, nil, map[solana.PublicKey]string{node: "Node"}, func() (solana.Instruction, error) {
		return e.RegisterNodeIx(op, im.RegisterNodeArgs{Keeper: solana.NewWallet().PublicKey(), Endpoint: longest, Stake: stake})
	}); err != nil {
		return err
	}
	steps := []struct {
		name  string
		payer solana.PrivateKey
		build func() (solana.Instruction, error)
	}{
		{"add_stake", operator, func() (solana.Instruction, error) {
			return ix.AddStake(op, e.NativeATA(op), ix.Native{Mint: e.NativeMint, Program: e.NativeProgram}, stake/2)
		}},
		{"set_keeper_key", operator, func() (solana.Instruction, error) {
			return ix.SetKeeperKey(op, solana.NewWallet().PublicKey())
		}},
		{"set_endpoint (128 bytes)", operator, func() (solana.Instruction, error) {
			return ix.SetEndpoint(op, longest)
		}},
		{"deactivate_node", operator, func() (solana.Instruction, error) {
			return ix.DeactivateNode(op)
		}},
		{"activate_node", operator, func() (solana.Instruction, error) {
			return ix.ActivateNode(op)
		}},
		{"slash_node", e.Admin, func() (solana.Instruction, error) {
			return ix.SlashNode(e.Admin.PublicKey(), op, ix.Native{Mint: e.NativeMint, Program: e.NativeProgram}, 1, 7)
		}},
		{"begin_unbonding", operator, func() (solana.Instruction, error) {
			return ix.BeginUnbonding(op)
		}},
	}
	for _, s := range steps {
		if err := m.send(ctx, s.name, s.payer, nil, nil, s.build); err != nil {
			return err
		}
	}
	if err := m.waitSecs(ctx, benchParams().UnbondingSecs); err != nil {
		return err
	}
	return m.send(ctx, "withdraw_stake", operator, nil, nil, func() (solana.Instruction, error) {
		return ix.WithdrawStake(op, e.NativeATA(op), ix.Native{Mint: e.NativeMint, Program: e.NativeProgram})
	})
}

func (m *meterBench) waitSecs(ctx context.Context, secs int64) error {
	now, err := m.e.Chain.Now(ctx)
	if err != nil {
		return err
	}
	return m.e.WaitUntil(ctx, now.Add(time.Duration(secs+1)*time.Second))
}

// shape lays out n entries over the escrow pool.
type shape struct {
	name string
	// escrowOf is the escrow (pool index) of entry i.
	escrowOf func(i int) int
	// shares of entry i among models.
	shares func(i int, models []solana.PublicKey) []settlement.Share
}

// runsPerEntry and tokens per run of the measured batches: ten runs of a
// typical chat request (1 500 input and 400 output tokens) aggregated per entry.
const runsPerEntry = 10

func shapes() []shape {
	single := func(i int, models []solana.PublicKey) []settlement.Share {
		return []settlement.Share{{Model: models[i%2], WeightBps: 10_000}}
	}
	return []shape{
		{"one entry per escrow, one model", func(i int) int { return i }, single},
		{"two entries per escrow (two models), one model each", func(i int) int { return i / 2 }, single},
		{"one entry per escrow, mixture of three models", func(i int) int { return i }, func(_ int, models []solana.PublicKey) []settlement.Share {
			return []settlement.Share{{Model: models[0], WeightBps: 3_334}, {Model: models[1], WeightBps: 3_333}, {Model: models[2], WeightBps: 3_333}}
		}},
	}
}

func (m *meterBench) settle(ctx context.Context, models []solana.PublicKey) error {
	e := m.e
	node, err := e.RegisterNode(ctx, benchParams().MinNodeStake)
	if err != nil {
		return err
	}
	// A pool of escrows, each with a lane to the node (as `mt escrow open
	// --deposit --node` opens them), two per transaction: each key signs.
	owner, err := e.Wallet(ctx, 1_000_000*native)
	if err != nil {
		return err
	}
	const pool = 130
	var escrows []solana.PublicKey
	for len(escrows) < pool {
		var ixs []solana.Instruction
		var keys []solana.PrivateKey
		for j := 0; j < 2 && len(escrows) < pool; j++ {
			k := meterenv.NewKey()
			opened, err := e.OpenForIxs(owner.PublicKey(), k.PublicKey(), node.Addr(), 1_000*native, im.OpenEscrowArgs{})
			if err != nil {
				return err
			}
			ixs, keys = append(ixs, opened...), append(keys, k)
			escrows = append(escrows, pda.Escrow(k.PublicKey()))
		}
		if _, err := e.Send(ctx, owner, keys, ixs...); err != nil {
			return fmt.Errorf("open escrow pool: %w", err)
		}
	}
	addresses := settlement.FixedTableAddresses(node.Settle)
	for _, mdl := range models {
		addresses = append(addresses, settlement.ModelTableAddresses(mdl)...)
	}
	addresses = append(addresses, escrows...)
	table, err := e.LookupTable(ctx, node.Keeper, addresses)
	if err != nil {
		return err
	}
	tables := map[solana.PublicKey]solana.PublicKeySlice{table: addresses}
	if err := m.waitSecs(ctx, 2); err != nil {
		return err
	}

	// The smallest batch, then the largest of each shape.
	if _, err := m.settleRow(ctx, node, "settle (1 entry)", shapes()[0], 1, escrows, models, nil); err != nil {
		return err
	}
	for _, s := range shapes() {
		for _, tbl := range []map[solana.PublicKey]solana.PublicKeySlice{nil, tables} {
			c, err := m.largest(ctx, node, s, escrows, models, tbl)
			if err != nil {
				return err
			}
			mode := "legacy"
			if tbl != nil {
				mode = "v0 + lookup table"
			}
			name := fmt.Sprintf("settle (%s, %s: %d entries)", s.name, mode, c.Entries)
			if c.Fee, err = m.settleRow(ctx, node, name, s, c.Entries, escrows, models, tbl); err != nil {
				return err
			}
			m.capacity = append(m.capacity, c)
		}
	}
	return nil
}

// batch is n entries of shape s over the pool, as batch m.seq+1.
func (m *meterBench) batch(ctx context.Context, s shape, n int, escrows, models []solana.PublicKey) (*settlement.Layout, error) {
	now, err := m.e.Chain.Now(ctx)
	if err != nil {
		return nil, err
	}
	var entries []settlement.Entry
	for i := 0; i < n; i++ {
		entries = append(entries, settlement.Entry{
			Escrow: escrows[s.escrowOf(i)], Shares: s.shares(i, models), Runs: runsPerEntry,
			InputTokens: runsPerEntry*1_500 + uint64(i), OutputTokens: runsPerEntry * 400, ServedAt: now.Unix() - int64(i%2),
		})
	}
	// Each batch covers the next n × runsPerEntry run numbers (run-level exactly-once).
	return settlement.Build(m.seq+1, [32]byte{1}, settlement.Runs{First: m.runs + 1, Last: m.runs + uint64(n*runsPerEntry)}, entries)
}

// largest grows a batch of shape s until one more entry would exceed the
// transaction size or mainnet's account-lock limit.
func (m *meterBench) largest(ctx context.Context, node *meterenv.Node, s shape, escrows, models []solana.PublicKey, tables map[solana.PublicKey]solana.PublicKeySlice) (capacityRow, error) {
	var best capacityRow
	for n := 1; s.escrowOf(n-1) < len(escrows); n++ {
		l, err := m.batch(ctx, s, n, escrows, models)
		if err != nil {
			return best, err
		}
		tx, err := m.e.SettleTx(node, l, tables)
		if err != nil {
			return best, err
		}
		size, accounts, err := measureTx(tx)
		if err != nil {
			return best, err
		}
		switch {
		case size > txLimit:
			best.Bound = fmt.Sprintf("%d bytes with %d entries", size, n)
		case accounts > mainnetAccountLocks:
			best.Bound = fmt.Sprintf("%d accounts with %d entries", accounts, n)
		default:
			best = capacityRow{Shape: s.name, Table: tables != nil, Entries: n, Escrows: len(l.Escrows), Size: size, Accounts: accounts}
			continue
		}
		return best, nil
	}
	best.Bound = "escrow pool exhausted"
	return best, nil
}

// settleRow sends a batch of n entries of shape s, records it as a row and
// returns its fee.
func (m *meterBench) settleRow(ctx context.Context, node *meterenv.Node, name string, s shape, n int, escrows, models []solana.PublicKey, tables map[solana.PublicKey]solana.PublicKeySlice) (uint64, error) {
	l, err := m.batch(ctx, s, n, escrows, models)
	if err != nil {
		return 0, err
	}
	tx, err := m.e.SettleTx(node, l, tables)
	if err != nil {
		return 0, err
	}
	sim, err := m.b.sender.Simulate(ctx, tx)
	if err != nil {
		return 0, fmt.Errorf("simulate %s: %w", name, err)
	}
	r, err := m.b.measure(ctx, "inference_meter", name, tx, nil)
	if err != nil {
		return 0, err
	}
	// Count lookup-table accounts too (measure counts the static keys only).
	if _, r.Accounts, err = measureTx(tx); err != nil {
		return 0, err
	}
	m.rows = append(m.rows, r)
	m.seq++
	m.runs += uint64(n * runsPerEntry)
	return sim.Fee, nil
}

// measureTx is the signed size of tx as txsend sends it (compute-unit limit
// and price instructions first) and the accounts it references, lookup
// table entries included.
func measureTx(tx txsend.Tx) (size, accounts int, err error) {
	ixs := []solana.Instruction{
		computebudget.NewSetComputeUnitLimitInstruction(txsend.MaxComputeUnits).Build(),
		computebudget.NewSetComputeUnitPriceInstruction(1).Build(),
	}
	ixs = append(ixs, tx.Instructions...)
	opts := []solana.TransactionOption{solana.TransactionPayer(tx.Payer)}
	if len(tx.AddressTables) > 0 {
		opts = append(opts, solana.TransactionAddressTables(tx.AddressTables))
	}
	built, err := solana.NewTransaction(ixs, solana.Hash{}, opts...)
	if err != nil {
		return 0, 0, err
	}
	msg, err := built.Message.MarshalBinary()
	if err != nil {
		return 0, 0, err
	}
	signatures := int(built.Message.Header.NumRequiredSignatures)
	accounts = len(built.Message.AccountKeys)
	for _, lookup := range built.Message.AddressTableLookups {
		accounts += len(lookup.WritableIndexes) + len(lookup.ReadonlyIndexes)
	}
	return 1 + 64*signatures + len(msg), accounts, nil
}

// capacityTable renders the settle limits and fees per thousand runs.
func (m *meterBench) capacityTable() string {
	var sb strings.Builder
	sb.WriteString("\n| settle batch shape | transaction | max entries | escrows | tx bytes | accounts | stopped by | fee (lamports) | lamports per 1 000 runs at 1 / 10 / 50 runs per entry |\n")
	sb.WriteString("|---|---|--:|--:|--:|--:|---|--:|---|\n")
	for _, c := range m.capacity {
		mode := "legacy"
		if c.Table {
			mode = "v0 + lookup table"
		}
		per := func(runs int) string {
			return fmt.Sprintf("%.0f", float64(c.Fee)*1_000/float64(c.Entries*runs))
		}
		fmt.Fprintf(&sb, "| %s | %s | %d | %d | %d | %d | %s | %d | %s / %s / %s |\n",
			c.Shape, mode, c.Entries, c.Escrows, c.Size, c.Accounts, c.Bound, c.Fee, per(1), per(10), per(50))
	}
	fmt.Fprintf(&sb, "\nLimits: %d bytes per transaction, %d accounts per transaction (mainnet's lock limit; the local chain allows 128). "+
		"Entries carry %d runs of 1 500 input and 400 output tokens each. Fees: 5 000 lamports per signature plus a 1 micro-lamport "+
		"compute-unit price on the simulated limit (real priority fees depend on compute units, which need an SBF validator).\n",
		txLimit, mainnetAccountLocks, runsPerEntry)
	return sb.String()
}
