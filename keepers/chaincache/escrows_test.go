package chaincache

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/rpc"

	"github.com/modelcommons/modelcommons/clients/apikey"
	"github.com/modelcommons/modelcommons/clients/inference_meter"
	"github.com/modelcommons/modelcommons/clients/pda"
)

// fakeRPC serves getMultipleAccounts from a map and counts calls.
type fakeRPC struct {
	mu       sync.Mutex
	accounts map[solana.PublicKey]*rpc.Account
	calls    atomic.Int64
	down     atomic.Bool
}

func (f *fakeRPC) GetMultipleAccountsWithOpts(_ context.Context, keys []solana.PublicKey, _ *rpc.GetMultipleAccountsOpts) (*rpc.GetMultipleAccountsResult, error) {
	f.calls.Add(1)
	if f.down.Load() {
		return nil, errors.New("connection refused")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	out := &rpc.GetMultipleAccountsResult{}
	for _, k := range keys {
		out.Value = append(out.Value, f.accounts[k])
	}
	return out, nil
}

func (f *fakeRPC) put(addr, owner solana.PublicKey, disc [8]byte, body []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	data := append(disc[:], body...)
	f.accounts[addr] = &rpc.Account{Owner: owner, Data: rpc.DataBytesOrJSONFromBytes(data), Lamports: 1}
}

var testNode, otherNode = solana.NewWallet().PublicKey(), solana.NewWallet().PublicKey()

// escrowAccount has a lane of half the balance to testNode (being revoked)
// and one of 7 to otherNode.
func escrowAccount(t *testing.T, balance uint64) []byte {
	t.Helper()
	b, err := inference_meter.Escrow{Owner: solana.NewWallet().PublicKey(), Balance: balance, AllowedModels: []uint64{1, 2},
		Lanes: []inference_meter.Lane{{Node: otherNode, Balance: 7}, {Node: testNode, Balance: balance / 2, RevokeRequestedAt: 9}}}.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestEscrows(t *testing.T) {
	f := &fakeRPC{accounts: map[solana.PublicKey]*rpc.Account{}}
	addr := escrowOf("sk-chain")
	f.put(addr, inference_meter.ProgramID, inference_meter.Account_Escrow, escrowAccount(t, 500))
	cosplay := escrowOf("sk-cosplay")
	f.put(cosplay, solana.NewWallet().PublicKey(), inference_meter.Account_Escrow, escrowAccount(t, 1<<60))
	c := NewEscrows(Config{RPC: f, Node: testNode, NegativeTTL: 50 * time.Millisecond, MissRate: 1000})
	ctx := context.Background()

	st, err := c.Escrow(ctx, addr)
	if err != nil || st.Balance != 500 || !st.Allows(2) || st.Allows(3) {
		t.Fatalf("escrow %+v %v", st, err)
	}
	// This node's lane is read, not another node's.
	if st.Lane == nil || st.Lane.Balance != 250 || st.Lane.RevokeRequestedAt != 9 || st.Available() != 250 {
		t.Fatalf("lane %+v", st.Lane)
	}
	if _, err := c.Escrow(ctx, addr); err != nil || f.calls.Load() != 1 {
		t.Fatalf("cached lookup made %d calls", f.calls.Load())
	}
	// An account of the right layout owned by another program is no escrow.
	if _, err := c.Escrow(ctx, cosplay); !errors.Is(err, ErrNoEscrow) {
		t.Fatalf("foreign-owned account: %v", err)
	}
	// Unknown keys are remembered for NegativeTTL.
	nobody := escrowOf("sk-nobody")
	calls := f.calls.Load()
	for i := 0; i < 5; i++ {
		if _, err := c.Escrow(ctx, nobody); !errors.Is(err, ErrNoEscrow) {
			t.Fatal(err)
		}
	}
	if f.calls.Load() != calls+1 {
		t.Fatalf("negative cache: %d calls for 5 lookups", f.calls.Load()-calls)
	}
	// Polling picks up a new balance and a closed escrow.
	f.put(addr, inference_meter.ProgramID, inference_meter.Account_Escrow, escrowAccount(t, 900))
	if err := c.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if st, _ := c.Escrow(ctx, addr); st.Balance != 900 {
		t.Fatalf("after refresh: %d", st.Balance)
	}
	f.put(addr, inference_meter.ProgramID, inference_meter.Account_Escrow, escrowAccount(t, 850))
	if err := c.RefreshEscrows(ctx, []solana.PublicKey{addr}); err != nil {
		t.Fatal(err)
	}
	if st, _ := c.Escrow(ctx, addr); st.Balance != 850 {
		t.Fatalf("after a targeted refresh: %d", st.Balance)
	}
	f.mu.Lock()
	delete(f.accounts, addr)
	f.mu.Unlock()
	_ = c.Refresh(ctx)
	time.Sleep(60 * time.Millisecond)
	if _, err := c.Escrow(ctx, addr); !errors.Is(err, ErrNoEscrow) {
		t.Fatalf("closed escrow: %v", err)
	}
	// RPC down: cached entries still answer, new lookups fail as unavailable.
	f.put(addr, inference_meter.ProgramID, inference_meter.Account_Escrow, escrowAccount(t, 1))
	time.Sleep(60 * time.Millisecond)
	if _, err := c.Escrow(ctx, addr); err != nil {
		t.Fatal(err)
	}
	f.down.Store(true)
	if err := c.Refresh(ctx); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("refresh with RPC down: %v", err)
	}
	if _, err := c.Escrow(ctx, addr); err != nil {
		t.Fatalf("cached escrow with RPC down: %v", err)
	}
	if _, err := c.Escrow(ctx, escrowOf("sk-new")); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("new key with RPC down: %v", err)
	}
}

func TestEscrowsBoundUnknownKeyLookups(t *testing.T) {
	f := &fakeRPC{accounts: map[solana.PublicKey]*rpc.Account{}}
	c := NewEscrows(Config{RPC: f, MissRate: 5})
	busy := 0
	for i := 0; i < 100; i++ {
		_, err := c.Escrow(context.Background(), escrowOf(string(rune('a'+i%26))+string(rune('a'+i/26))))
		if errors.Is(err, ErrSourceBusy) {
			busy++
		}
	}
	if f.calls.Load() > 12 || busy < 80 {
		t.Fatalf("%d RPC calls, %d refused for 100 unknown keys", f.calls.Load(), busy)
	}
}

// escrowOf is the escrow PDA of an API key, as the gateway derives it.
func escrowOf(apiKey string) solana.PublicKey { return pda.Escrow(apikey.ID(apiKey)) }
