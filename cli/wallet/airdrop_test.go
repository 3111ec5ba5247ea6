package wallet

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/gagliardetto/solana-go"

	"github.com/modelcommons/modelcommons/clients/cluster"
)

// fakeRPC answers the calls airdrop makes and records their methods.
type fakeRPC struct {
	genesis string
	mu      sync.Mutex
	methods []string
}

func (f *fakeRPC) called() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.methods...)
}

func (f *fakeRPC) serve(t *testing.T) string {
	sig := solana.Signature{1, 2, 3}.String()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			ID     any    `json:"id"`
			Method string `json:"method"`
		}
		json.NewDecoder(r.Body).Decode(&req)
		f.mu.Lock()
		f.methods = append(f.methods, req.Method)
		f.mu.Unlock()
		var result any
		switch req.Method {
		case "getGenesisHash":
			result = f.genesis
		case "requestAirdrop":
			result = sig
		case "getSignatureStatuses":
			result = map[string]any{"context": map[string]any{"slot": 5}, "value": []any{map[string]any{
				"slot": 5, "confirmations": nil, "err": nil, "confirmationStatus": "finalized"}}}
		case "getBalance":
			result = map[string]any{"context": map[string]any{"slot": 5}, "value": 2_500_000_000}
		}
		json.NewEncoder(w).Encode(map[string]any{"jsonrpc": "2.0", "id": req.ID, "result": result})
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

const otherGenesis = "EtWTRABZaYq6iMfeYKouRu166VU2xqa1wcaWoxPkrZBG" // devnet's

func TestAirdropAsksThenConfirms(t *testing.T) {
	home(t)
	f := &fakeRPC{genesis: otherGenesis}
	url := f.serve(t)
	to := solana.NewWallet().PublicKey()
	out, e := run(t, "airdrop", "2.5", to.String(), "--url", url, "--output", "json")
	if e != nil {
		t.Fatal(e.What)
	}
	var a Airdrop
	if err := json.Unmarshal([]byte(out), &a); err != nil {
		t.Fatal(err)
	}
	if a.Address != to.String() || a.Amount.Base != 2_500_000_000 || a.Balance.Base != 2_500_000_000 {
		t.Errorf("airdrop printed %+v", a)
	}
	if got := strings.Join(f.called(), " "); got != "getGenesisHash requestAirdrop getSignatureStatuses getBalance" {
		t.Errorf("calls: %s", got)
	}
}

func TestAirdropDefaultsToTheKeypairsAddress(t *testing.T) {
	dir := home(t)
	path := filepath.Join(dir, "me.json")
	if _, e := run(t, "keygen", "-o", path); e != nil {
		t.Fatal(e.What)
	}
	key, _ := cluster.LoadKeypair(path)
	f := &fakeRPC{genesis: otherGenesis}
	out, e := run(t, "airdrop", "1", "-k", path, "--url", f.serve(t))
	if e != nil {
		t.Fatal(e.What)
	}
	if !strings.Contains(out, "airdropped 1 SOL to "+key.PublicKey().String()) {
		t.Errorf("printed %q", out)
	}
}

func TestAirdropRefusesBadInputAndMainnetSendingNothing(t *testing.T) {
	dir := home(t)
	to := solana.NewWallet().PublicKey().String()
	mainnet := &fakeRPC{genesis: cluster.MainnetGenesisHash}
	mainnetURL := mainnet.serve(t)
	for _, tc := range []struct {
		args  []string
		want  string
		calls string // what the fake chain was asked, if the test used it
	}{
		{[]string{"airdrop"}, "expected 1 or 2 arguments", ""},
		{[]string{"airdrop", "1", to, "extra"}, "expected 1 or 2 arguments", ""},
		{[]string{"airdrop", "abc", to}, "amount", ""},
		{[]string{"airdrop", "0", to}, "greater than zero", ""},
		{[]string{"airdrop", "-1", to}, "amount", ""},
		{[]string{"airdrop", "0.0000000001", to}, "amount", ""},
		{[]string{"airdrop", "1", "not-an-address"}, "is not an address", ""},
		{[]string{"airdrop", "1", "-k", filepath.Join(dir, "none.json")}, "no keypair file", ""},
		{[]string{"airdrop", "1", to, "--url", "mainnet-beta"}, "is mainnet-beta", ""},
		{[]string{"airdrop", "1", to, "-u", "m"}, "is mainnet-beta", ""},
		{[]string{"airdrop", "1", to, "--url", mainnetURL}, "its genesis hash is mainnet's", "getGenesisHash"},
	} {
		f := &fakeRPC{genesis: otherGenesis}
		args := tc.args
		if tc.calls == "" && !strings.Contains(strings.Join(args, " "), "-u") {
			args = append(args, "--url", f.serve(t))
		}
		_, e := run(t, args...)
		if e == nil || !strings.Contains(e.What, tc.want) || e.Fix == "" {
			t.Errorf("mt %s: %+v, want an error with %q and a fix", strings.Join(tc.args, " "), e, tc.want)
		}
		if got := f.called(); len(got) != 0 {
			t.Errorf("mt %s asked the chain %v", strings.Join(tc.args, " "), got)
		}
	}
	if got := strings.Join(mainnet.called(), " "); got != "getGenesisHash" {
		t.Errorf("mainnet was asked: %s", got)
	}
}
