package cli_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/rpc"
)

type airdropView struct {
	Address   string `json:"address"`
	Amount    tokens `json:"amount"`
	Balance   tokens `json:"balance"`
	Signature string `json:"signature"`
}

// A newcomer's first two commands: a keypair, then SOL for its fees.
func TestKeygenThenAirdrop(t *testing.T) {
	e := newEnv(t)
	path := filepath.Join(e.dir, "newcomer.json")
	var made struct{ Address, Path string }
	e.ok(&made, nil, "keygen", "-o", path)
	me := wallet{Path: path}

	var got airdropView
	e.ok(&got, &me, "airdrop", "2.5")
	if got.Address != made.Address || got.Amount.BaseUnits != 2_500_000_000 || got.Balance.BaseUnits != 2_500_000_000 {
		t.Fatalf("airdrop: %+v", got)
	}
	bal, err := e.chain.RPC.GetBalance(e.ctx, solana.MustPublicKeyFromBase58(made.Address), rpc.CommitmentConfirmed)
	if err != nil || bal.Value != 2_500_000_000 {
		t.Fatalf("balance on chain: %v, %v", bal, err)
	}

	// To another address, as text.
	other := solana.NewWallet().PublicKey()
	if out := e.text(nil, "airdrop", "1", other.String()); !strings.Contains(out, "airdropped 1 SOL to "+other.String()) {
		t.Errorf("text output: %q", out)
	}

	// Bad input: one clear error, nothing sent (mainnet's refusal is
	// tested in cli/wallet: the harness always gives the local chain's --url).
	for _, args := range [][]string{
		{"airdrop", "0"},
		{"airdrop", "-1"},
		{"airdrop", "0.0000000001"},
		{"airdrop", "1", "nobody"},
	} {
		e.fails(&me, args...)
	}
	bal, err = e.chain.RPC.GetBalance(e.ctx, solana.MustPublicKeyFromBase58(made.Address), rpc.CommitmentConfirmed)
	if err != nil || bal.Value != 2_500_000_000 {
		t.Errorf("a refused airdrop changed the balance: %v, %v", bal, err)
	}
}
