package main

import (
	"context"
	"fmt"

	"github.com/gagliardetto/solana-go"

	im "github.com/modelcommons/modelcommons/clients/inference_meter"
	"github.com/modelcommons/modelcommons/clients/ix"
	"github.com/modelcommons/modelcommons/clients/pda"
	"github.com/modelcommons/modelcommons/clients/settlement"
	meterenv "github.com/modelcommons/modelcommons/tests/meter"
)

// domains measures the domain instructions (issue 18): the rent of a
// Domain and a Membership, every instruction's size, and settling against
// a domain lane — one entry, and the largest one-model batch that fits
// with a lookup table, which carries three more accounts than a node batch.
func (m *meterBench) domains(ctx context.Context, models []solana.PublicKey) error {
	e := m.e
	nat := ix.Native{Mint: e.NativeMint, Program: e.NativeProgram}
	stake := benchParams().MinNodeStake
	dop, err := e.Wallet(ctx, stake)
	if err != nil {
		return err
	}
	op := dop.PublicKey()
	name := "bench-domain-name-of-32-bytes-xx"
	domain := pda.Domain(op, name)
	if err := m.send(ctx, "create_domain (32-byte name)", dop, nil, map[solana.PublicKey]string{domain: "Domain"}, func() (solana.Instruction, error) {
		return ix.CreateDomain(op, e.NativeATA(op), nat, im.CreateDomainArgs{Name: name, Bond: stake, MinNodeStake: stake, FeeBps: 1_000, NoticeSecs: benchParams().WithdrawalNoticeSecs})
	}); err != nil {
		return err
	}
	member, err := e.RegisterNode(ctx, stake)
	if err != nil {
		return err
	}
	leaver, err := e.RegisterNode(ctx, stake)
	if err != nil {
		return err
	}
	mop := member.Operator.PublicKey()
	membership := pda.Membership(domain, pda.Node(mop))
	steps := []struct {
		name  string
		payer solana.PrivateKey
		names map[solana.PublicKey]string
		build func() (solana.Instruction, error)
	}{
		{"request_join", member.Operator, map[solana.PublicKey]string{membership: "Membership"}, func() (solana.Instruction, error) { return ix.RequestJoin(mop, domain) }},
		{"admit_member", dop, nil, func() (solana.Instruction, error) { return ix.AdmitMember(op, domain, pda.Node(mop)) }},
		{"update_domain (fee change)", dop, nil, func() (solana.Instruction, error) {
			return ix.UpdateDomain(op, domain, im.UpdateDomainArgs{MinNodeStake: stake, FeeBps: 1_000, NoticeSecs: benchParams().WithdrawalNoticeSecs + 1})
		}},
		{"request_join (second node)", leaver.Operator, nil, func() (solana.Instruction, error) { return ix.RequestJoin(leaver.Operator.PublicKey(), domain) }},
		{"leave_domain", leaver.Operator, nil, func() (solana.Instruction, error) { return ix.LeaveDomain(leaver.Operator.PublicKey(), domain) }},
		{"slash_domain", e.Admin, nil, func() (solana.Instruction, error) { return ix.SlashDomain(e.Admin.PublicKey(), domain, nat, 1, 7) }},
	}
	for _, s := range steps {
		if err := m.send(ctx, s.name, s.payer, nil, s.names, s.build); err != nil {
			return err
		}
	}

	// Escrows with a lane to the domain; the first lane is measured.
	owner, err := e.Wallet(ctx, 1_000_000*native)
	if err != nil {
		return err
	}
	o := owner.PublicKey()
	const pool = 70
	var escrows []solana.PublicKey
	for len(escrows) < pool {
		var ixs []solana.Instruction
		var keys []solana.PrivateKey
		for j := 0; j < 2 && len(escrows) < pool; j++ {
			k := meterenv.NewKey()
			escrow := pda.Escrow(k.PublicKey())
			opened, err := e.OpenEscrowIx(o, k.PublicKey(), im.OpenEscrowArgs{})
			if err != nil {
				return err
			}
			deposit, err := e.DepositIx(o, escrow, 1_000*native, o)
			if err != nil {
				return err
			}
			ixs, keys = append(ixs, opened, deposit), append(keys, k)
			if len(escrows) > 0 {
				allow, err := ix.AllowDomain(o, escrow, domain, 1_000*native)
				if err != nil {
					return err
				}
				ixs = append(ixs, allow)
			}
			escrows = append(escrows, escrow)
		}
		if _, err := e.Send(ctx, owner, keys, ixs...); err != nil {
			return fmt.Errorf("open the escrow pool: %w", err)
		}
		if len(escrows) <= 2 {
			if err := m.send(ctx, "allow_domain (opens a lane)", owner, nil, nil, func() (solana.Instruction, error) {
				return ix.AllowDomain(o, escrows[0], domain, 1_000*native)
			}); err != nil {
				return err
			}
		}
	}

	lane := &settlement.DomainLane{Domain: domain, OperatorAccount: e.NativeATA(op)}
	addresses := append(settlement.FixedTableAddresses(member.Settle), membership, domain, lane.OperatorAccount)
	for _, mdl := range models {
		addresses = append(addresses, settlement.ModelTableAddresses(mdl)...)
	}
	addresses = append(addresses, escrows...)
	table, err := e.LookupTable(ctx, member.Keeper, addresses)
	if err != nil {
		return err
	}
	tables := map[solana.PublicKey]solana.PublicKeySlice{table: addresses}
	if err := m.waitSecs(ctx, 2); err != nil {
		return err
	}
	var seq, runs uint64
	batch := func(n int) (*settlement.Layout, error) {
		now, err := e.Chain.Now(ctx)
		if err != nil {
			return nil, err
		}
		var entries []settlement.Entry
		for i := 0; i < n; i++ {
			entries = append(entries, settlement.Entry{Escrow: escrows[i], Shares: []settlement.Share{{Model: models[i%2], WeightBps: 10_000}},
				Runs: runsPerEntry, InputTokens: runsPerEntry * 1_500, OutputTokens: runsPerEntry * 400, ServedAt: now.Unix()})
		}
		l, err := settlement.Build(seq+1, [32]byte{1}, settlement.Runs{First: runs + 1, Last: runs + uint64(n*runsPerEntry)}, entries)
		if err == nil {
			l.Domain = lane
		}
		return l, err
	}
	settle := func(label string, n int, tbl map[solana.PublicKey]solana.PublicKeySlice) error {
		l, err := batch(n)
		if err != nil {
			return err
		}
		tx, err := e.SettleTx(member, l, tbl)
		if err != nil {
			return err
		}
		r, err := m.b.measure(ctx, "inference_meter", label, tx, nil)
		if err != nil {
			return err
		}
		if _, r.Accounts, err = measureTx(tx); err != nil {
			return err
		}
		m.rows = append(m.rows, r)
		seq, runs = seq+1, runs+uint64(n*runsPerEntry)
		return nil
	}
	if err := settle("settle against a domain lane (1 entry)", 1, nil); err != nil {
		return err
	}
	// The largest one-model batch with the lookup table.
	n := 1
	for ; n < pool; n++ {
		l, err := batch(n + 1)
		if err != nil {
			return err
		}
		tx, err := e.SettleTx(member, l, tables)
		if err != nil {
			return err
		}
		size, accounts, err := measureTx(tx)
		if err != nil {
			return err
		}
		if size > txLimit || accounts > mainnetAccountLocks {
			break
		}
	}
	if err := settle(fmt.Sprintf("settle against a domain lane (one entry per escrow, one model, v0 + lookup table: %d entries)", n), n, tables); err != nil {
		return err
	}

	if err := m.send(ctx, "remove_member", dop, nil, nil, func() (solana.Instruction, error) { return ix.RemoveMember(op, domain, pda.Node(mop)) }); err != nil {
		return err
	}
	if err := m.waitSecs(ctx, benchParams().WithdrawalNoticeSecs+1); err != nil {
		return err
	}
	for _, n := range []*meterenv.Node{member, leaver} {
		nop := n.Operator.PublicKey()
		if err := m.send(ctx, "close_membership", dop, nil, nil, func() (solana.Instruction, error) { return ix.CloseMembership(op, nop, domain) }); err != nil {
			return err
		}
	}
	return m.send(ctx, "close_domain", dop, nil, nil, func() (solana.Instruction, error) { return ix.CloseDomain(op, domain, e.NativeATA(op), nat) })
}
