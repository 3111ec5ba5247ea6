package keeper_test

import (
	"testing"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/rpc"
	"github.com/prometheus/client_golang/prometheus"

	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
	"github.com/modelcommons/modelcommons/keepers/receipts"
	"github.com/modelcommons/modelcommons/keepers/settler"
)

// With a limit of one live lookup table, filling the first one (256
// addresses: 250 escrows plus the batch's fixed accounts) retires it —
// deactivated on chain — and settlement goes on through a new table. The
// retired table is closed, its rent returned to the keeper, only once the
// chain has let its deactivation run (513 slots), and escrows it held
// settle again through the live table.
func TestLookupTablesRetiredAndClosed(t *testing.T) {
	e := newEnv(t, mt.QueryPrice{InputPer1k: 10, OutputPer1k: 30})
	escrows := e.escrows(250, 10*native)
	before := e.snapshot(escrows...)
	recordEach := func(escrows []solana.PublicKey) []receipts.RunID {
		var ids []receipts.RunID
		for _, esc := range escrows {
			r, err := e.w.Receipt(esc, e.w.Models[0].Single(), 1_000, 200, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			if err := e.j.Record(e.ctx, r); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, r.Receipt.RunID)
		}
		e.clockPast(time.Now())
		return ids
	}
	ids := recordEach(escrows)
	reg := prometheus.NewRegistry()
	s := e.settler(e.w.Chain.URL, func(c *settler.Config) { c.MaxLookupTables = 1; c.Registry = reg })
	e.drain(s)

	st := s.Status()
	if len(st.LookupTables) != 1 || len(st.RetiredLookupTables) != 1 {
		t.Fatalf("live tables %v, retired %v; want one of each", st.LookupTables, st.RetiredLookupTables)
	}
	if n := counterValue(t, reg, "keeper_settlement_lookup_tables_retired_total", "", ""); n != 1 {
		t.Fatalf("retired_total %v", n)
	}
	retired := solana.MustPublicKeyFromBase58(st.RetiredLookupTables[0])
	rent := e.balance(retired)
	if rent == 0 {
		t.Fatal("the retired table is not on chain")
	}

	// Still deactivating: a round leaves it.
	e.round(s)
	if e.balance(retired) != rent || len(s.Status().RetiredLookupTables) != 1 {
		t.Fatal("a deactivating table was closed")
	}
	// Real blocks, one slot each, so the deactivation slot leaves SlotHashes.
	for i := 0; i < 520; i++ {
		if err := e.w.Chain.WarpSlots(e.ctx, 1); err != nil {
			t.Fatal(err)
		}
	}
	keeperBefore := e.balance(e.w.Node.Keeper.PublicKey())
	e.round(s)
	if b := e.balance(retired); b != 0 {
		t.Fatalf("retired table still holds %d lamports after its deactivation ran", b)
	}
	if st := s.Status(); len(st.RetiredLookupTables) != 0 || len(st.LookupTables) != 1 {
		t.Fatalf("after the close: live %v, retired %v", st.LookupTables, st.RetiredLookupTables)
	}
	if n := counterValue(t, reg, "keeper_settlement_lookup_tables_closed_total", "", ""); n != 1 {
		t.Fatalf("closed_total %v", n)
	}
	const fee = 5_000 // the close transaction's signature fee
	if got := e.balance(e.w.Node.Keeper.PublicKey()); got != keeperBefore+rent-fee {
		t.Fatalf("keeper balance %d → %d; want the table's rent %d back less the fee %d", keeperBefore, got, rent, fee)
	}

	// Escrows the retired table held settle again, through the live table.
	ids = append(ids, recordEach(escrows[:30])...)
	e.drain(s)
	res := e.audit(before)
	e.settledAll(res, ids)
	if res.Runs != uint64(len(ids)) {
		t.Fatalf("%d runs settled, %d recorded", res.Runs, len(ids))
	}
}

// balance is an account's lamports (0 when it does not exist).
func (e *env) balance(addr solana.PublicKey) uint64 {
	e.t.Helper()
	res, err := e.w.Chain.RPC.GetBalance(e.ctx, addr, rpc.CommitmentConfirmed)
	if err != nil {
		e.t.Fatal(err)
	}
	return res.Value
}
