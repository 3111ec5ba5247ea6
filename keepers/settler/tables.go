package settler

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/gagliardetto/solana-go"
	alt "github.com/gagliardetto/solana-go/programs/address-lookup-table"
	"github.com/gagliardetto/solana-go/rpc"

	"github.com/modelcommons/modelcommons/clients/txsend"
)

// extendChunk is how many addresses one extend transaction adds.
const extendChunk = 20

// lookupTables are the address lookup tables the keeper created for its
// node, with their contents as last read from the chain.
type lookupTables struct {
	s       *Settler
	recs    []TableRecord
	content map[solana.PublicKey]solana.PublicKeySlice
	// lastExtended is each table's last extension slot: it resolves from the slot after.
	lastExtended map[solana.PublicKey]uint64
	loaded       bool
}

func newLookupTables(s *Settler) *lookupTables {
	return &lookupTables{s: s, content: map[solana.PublicKey]solana.PublicKeySlice{}, lastExtended: map[solana.PublicKey]uint64{}}
}

// load reads every recorded table from the chain; tables that do not
// exist (a create that never landed) are forgotten.
func (t *lookupTables) load(ctx context.Context) error {
	recs := t.s.store.tables()
	var keep []TableRecord
	for _, r := range recs {
		st, exists, err := t.read(ctx, r.Address)
		if err != nil {
			return err
		}
		if !exists {
			t.s.log.Warn("lookup table not found on chain; forgetting it", "table", r.Address, "created", r.Created)
			continue
		}
		if st.Authority == nil || !st.Authority.Equals(t.s.keeper) {
			t.s.log.Warn("lookup table is not this keeper's (other authority or frozen); forgetting it", "table", r.Address)
			continue
		}
		if st.DeactivationSlot != ^uint64(0) && !r.retired() {
			// Deactivated by a retirement whose outcome was not seen
			// (crash, timeout): retired, to be closed.
			r.DeactivatedSlot = max(st.DeactivationSlot, 1)
		}
		r.Created = true
		keep = append(keep, r)
		t.content[r.Address] = st.Addresses
		t.lastExtended[r.Address] = st.LastExtendedSlot
	}
	if !slices.Equal(keep, recs) {
		if err := t.s.store.setTables(keep); err != nil {
			return err
		}
	}
	t.recs = keep
	t.loaded = true
	return nil
}

func (t *lookupTables) read(ctx context.Context, addr solana.PublicKey) (*alt.AddressLookupTableState, bool, error) {
	res, err := t.s.rpc.GetAccountInfoWithOpts(ctx, addr, &rpc.GetAccountInfoOpts{Commitment: t.s.cfg.Commitment})
	if err == rpc.ErrNotFound || (err == nil && (res == nil || res.Value == nil)) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("lookup table %s: %w", addr, err)
	}
	st, err := alt.DecodeAddressLookupTableState(res.Value.Data.GetBinary())
	if err != nil {
		return nil, false, fmt.Errorf("lookup table %s: %w", addr, err)
	}
	return st, true, nil
}

// has reports whether some live (not retired) table holds addr.
func (t *lookupTables) has(addr solana.PublicKey) bool {
	for _, r := range t.recs {
		if !r.retired() && slices.Contains(t.content[r.Address], addr) {
			return true
		}
	}
	return false
}

// liveContent is the contents of the tables new batches may use.
func (t *lookupTables) liveContent() map[solana.PublicKey]solana.PublicKeySlice {
	out := make(map[solana.PublicKey]solana.PublicKeySlice, len(t.recs))
	for _, r := range t.recs {
		if !r.retired() {
			out[r.Address] = t.content[r.Address]
		}
	}
	return out
}

// liveCount is the number of tables not retired.
func (t *lookupTables) liveCount() int {
	n := 0
	for _, r := range t.recs {
		if !r.retired() {
			n++
		}
	}
	return n
}

// virtual is the tables as they would be once addrs are added: missing
// addresses appended to the last table with room, or to new ones. For
// measuring a transaction before the tables are extended.
func (t *lookupTables) virtual(addrs []solana.PublicKey) map[solana.PublicKey]solana.PublicKeySlice {
	out := make(map[solana.PublicKey]solana.PublicKeySlice, len(t.content)+1)
	var last solana.PublicKey
	for _, r := range t.recs {
		if r.retired() {
			continue
		}
		out[r.Address] = slices.Clone(t.content[r.Address])
		last = r.Address
	}
	next := byte(1)
	for _, a := range addrs {
		if t.has(a) {
			continue
		}
		if last.IsZero() || len(out[last]) >= alt.LOOKUP_TABLE_MAX_ADDRESSES {
			last = solana.PublicKey{0xff, 0xfe, next} // a stand-in address for a table not created yet
			next++
		}
		if !slices.Contains(out[last], a) {
			out[last] = append(out[last], a)
		}
	}
	return used(out, addrs)
}

// used keeps the tables that hold any of addrs.
func used(tables map[solana.PublicKey]solana.PublicKeySlice, addrs []solana.PublicKey) map[solana.PublicKey]solana.PublicKeySlice {
	out := map[solana.PublicKey]solana.PublicKeySlice{}
	for k, c := range tables {
		for _, a := range addrs {
			if slices.Contains(c, a) {
				out[k] = c
				break
			}
		}
	}
	return out
}

// forPlan returns the current contents of the named tables.
func (t *lookupTables) forPlan(names []solana.PublicKey) (map[solana.PublicKey]solana.PublicKeySlice, error) {
	if len(names) == 0 {
		return nil, nil
	}
	out := make(map[solana.PublicKey]solana.PublicKeySlice, len(names))
	for _, n := range names {
		c, ok := t.content[n]
		if !ok {
			return nil, fmt.Errorf("lookup table %s of the batch is unknown (state file edited?)", n)
		}
		out[n] = c
	}
	return out, nil
}

// ensure adds the addresses no table holds yet (creating tables as needed),
// waits until the tables resolve them, and returns the tables that hold
// any of addrs.
func (t *lookupTables) ensure(ctx context.Context, addrs []solana.PublicKey) (map[solana.PublicKey]solana.PublicKeySlice, error) {
	if !t.loaded {
		if err := t.load(ctx); err != nil {
			return nil, err
		}
	}
	for {
		// Recomputed each time: making room may retire a table.
		var missing []solana.PublicKey
		for _, a := range addrs {
			if !t.has(a) && !slices.Contains(missing, a) {
				missing = append(missing, a)
			}
		}
		if len(missing) == 0 {
			break
		}
		table, room, err := t.tableWithRoom(ctx)
		if err != nil {
			return nil, err
		}
		chunk := missing[:min(len(missing), room, extendChunk)]
		ix := alt.NewExtendLookupTableInstruction(table, t.s.keeper, t.s.keeper, chunk).Build()
		if _, err := t.s.sender.Send(ctx, txsend.Tx{Instructions: []solana.Instruction{ix}, Payer: t.s.keeper, Signers: []solana.PrivateKey{t.s.cfg.Keeper}}); err != nil {
			return nil, fmt.Errorf("extend lookup table %s: %w", table, err)
		}
		st, exists, err := t.read(ctx, table)
		if err != nil {
			return nil, err
		}
		if !exists {
			return nil, fmt.Errorf("lookup table %s vanished", table)
		}
		t.content[table] = st.Addresses
		t.lastExtended[table] = st.LastExtendedSlot
		t.s.metrics.tableAddresses.Add(float64(len(chunk)))
	}
	out := used(t.liveContent(), addrs)
	// A table resolves addresses from the slot after its last extension.
	var need uint64
	for k := range out {
		need = max(need, t.lastExtended[k])
	}
	if err := t.waitSlotAfter(ctx, need); err != nil {
		return nil, err
	}
	return out, nil
}

// tableWithRoom returns the newest live table with free slots, creating
// one if there is none — after retiring the oldest live table when
// Config.MaxLookupTables are live. The batch being laid out may have had
// addresses in the retired table: ensure adds them to the new one.
func (t *lookupTables) tableWithRoom(ctx context.Context) (solana.PublicKey, int, error) {
	for i := len(t.recs) - 1; i >= 0; i-- {
		if r := t.recs[i]; !r.retired() {
			if room := alt.LOOKUP_TABLE_MAX_ADDRESSES - len(t.content[r.Address]); room > 0 {
				return r.Address, room, nil
			}
			break
		}
	}
	if t.liveCount() >= t.s.cfg.MaxLookupTables {
		if err := t.retireOne(ctx); err != nil {
			return solana.PublicKey{}, 0, err
		}
	}
	slot, err := t.s.rpc.GetSlot(ctx, rpc.CommitmentFinalized)
	if err != nil {
		return solana.PublicKey{}, 0, fmt.Errorf("create lookup table: %w", err)
	}
	create, table, err := alt.NewCreateLookupTableInstruction(t.s.keeper, t.s.keeper, slot)
	if err != nil {
		return solana.PublicKey{}, 0, fmt.Errorf("create lookup table: %w", err)
	}
	// Record the address first: a crash after the create landed must not orphan the table.
	recs := append(slices.Clone(t.recs), TableRecord{Address: table})
	if err := t.s.store.setTables(recs); err != nil {
		return solana.PublicKey{}, 0, err
	}
	t.recs = recs
	if _, err := t.s.sender.Send(ctx, txsend.Tx{Instructions: []solana.Instruction{create.Build()}, Payer: t.s.keeper, Signers: []solana.PrivateKey{t.s.cfg.Keeper}}); err != nil {
		var txErr *txsend.TxError
		if errors.As(err, &txErr) || errors.Is(err, txsend.ErrExpired) {
			// Known not to have created the table.
			t.recs = t.recs[:len(t.recs)-1]
			_ = t.s.store.setTables(t.recs)
		} else {
			t.loaded = false // unknown: the next load finds out
		}
		return solana.PublicKey{}, 0, fmt.Errorf("create lookup table: %w", err)
	}
	t.recs[len(t.recs)-1].Created = true
	if err := t.s.store.setTables(t.recs); err != nil {
		return solana.PublicKey{}, 0, err
	}
	t.content[table] = nil
	t.s.log.Info("created a lookup table for settlement", "table", table)
	return table, alt.LOOKUP_TABLE_MAX_ADDRESSES, nil
}

// deactivationSlots is how long a deactivated table still resolves
// addresses: until its deactivation slot leaves the SlotHashes sysvar (512
// slots), plus one for the slot boundary.
const deactivationSlots = 513

// retireOne deactivates the oldest live table that no stored plan uses
// (a stored plan may be re-sent as is). A failed deactivation is logged
// and left: the keeper then has one table more than its limit until a
// later retirement.
func (t *lookupTables) retireOne(ctx context.Context) error {
	planned := t.s.store.plannedTables()
	i := slices.IndexFunc(t.recs, func(r TableRecord) bool {
		return !r.retired() && r.Created && !planned[r.Address]
	})
	if i < 0 {
		t.s.log.Warn("lookup table limit reached but every live table is in use; creating one more", "live", t.liveCount(), "limit", t.s.cfg.MaxLookupTables)
		return nil
	}
	table := t.recs[i].Address
	ix := alt.NewDeactivateLookupTableInstruction(table, t.s.keeper).Build()
	if _, err := t.s.sender.Send(ctx, txsend.Tx{Instructions: []solana.Instruction{ix}, Payer: t.s.keeper, Signers: []solana.PrivateKey{t.s.cfg.Keeper}}); err != nil {
		// If it landed after all, the next load sees it deactivated.
		t.s.log.Warn("could not retire a lookup table", "table", table, "err", err)
		return nil
	}
	st, exists, err := t.read(ctx, table)
	if err != nil {
		return err
	}
	if !exists || st.DeactivationSlot == ^uint64(0) {
		return fmt.Errorf("lookup table %s: deactivation landed but the table does not show it", table)
	}
	t.recs[i].DeactivatedSlot = max(st.DeactivationSlot, 1)
	if err := t.s.store.setTables(t.recs); err != nil {
		return err
	}
	t.s.metrics.tablesRetired.Inc()
	t.s.log.Info("retired a lookup table (closed, and its rent returned, once fully deactivated)", "table", table,
		"addresses", len(t.content[table]), "deactivated_slot", st.DeactivationSlot)
	return nil
}

// sweep closes the retired tables that no longer resolve at slot and that
// no stored plan uses, returning their rent to the keeper. A close the
// chain refuses (still deactivating by its count) is tried again later.
func (t *lookupTables) sweep(ctx context.Context, slot uint64) error {
	planned := t.s.store.plannedTables()
	for _, r := range slices.Clone(t.recs) {
		if !r.retired() || planned[r.Address] || slot <= r.DeactivatedSlot+deactivationSlots {
			continue
		}
		before, _ := t.s.rpc.GetBalance(ctx, r.Address, t.s.cfg.Commitment)
		ix := alt.NewCloseLookupTableInstruction(r.Address, t.s.keeper, t.s.keeper).Build()
		_, err := t.s.sender.Send(ctx, txsend.Tx{Instructions: []solana.Instruction{ix}, Payer: t.s.keeper, Signers: []solana.PrivateKey{t.s.cfg.Keeper}})
		if err != nil {
			if _, exists, rerr := t.read(ctx, r.Address); rerr != nil || exists {
				t.s.log.Debug("retired lookup table not closed yet", "table", r.Address, "err", err)
				continue
			}
			// Gone: an earlier close landed after all.
		}
		t.recs = slices.DeleteFunc(t.recs, func(x TableRecord) bool { return x.Address == r.Address })
		delete(t.content, r.Address)
		delete(t.lastExtended, r.Address)
		if err := t.s.store.setTables(t.recs); err != nil {
			return err
		}
		t.s.metrics.tablesClosed.Inc()
		var rent uint64
		if before != nil {
			rent = before.Value
		}
		t.s.log.Info("closed a retired lookup table", "table", r.Address, "rent_returned_lamports", rent)
	}
	return nil
}

// waitSlotAfter waits until the chain's slot is past slot.
func (t *lookupTables) waitSlotAfter(ctx context.Context, slot uint64) error {
	deadline := time.Now().Add(time.Minute)
	for {
		cur, err := t.s.rpc.GetSlot(ctx, t.s.cfg.Commitment)
		if err == nil && cur > slot {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("lookup table extended at slot %d: chain still at %d after a minute", slot, cur)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}
