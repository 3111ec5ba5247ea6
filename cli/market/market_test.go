package market

import (
	"encoding/json"
	"testing"

	"github.com/gagliardetto/solana-go"

	"github.com/modelcommons/modelcommons/cli/clitest"
	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
)

// active is model 3, active, with an open market of 1 000 000 MT against
// 1 000 native tokens, under a protocol with a 1% swap fee.
func active(paused bool) clitest.World {
	p := clitest.Protocol(solana.PublicKey{1})
	if paused {
		p = clitest.PausedProtocol(solana.PublicKey{1})
	}
	return clitest.Worlds(p, clitest.Model(mt.Model{Id: 3, Stage: mt.Stage_Active,
		Market: mt.Market{OpenedAt: 1, ReserveMt: 1_000_000_000_000_000, ReserveNative: 1_000_000_000}}))
}

// Bad command lines are refused before anything is read.
func TestMarketRefusesBadArguments(t *testing.T) {
	keypair, _ := clitest.Home(t)
	clitest.Refuses(t, Command, keypair, nil, []clitest.Refusal{
		{Args: []string{"market", "quote", "3", "buy"}, Want: "expected 3 argument(s) (model-id, buy|sell, amount), got 2"},
		{Args: []string{"market", "buy", "3"}, Want: "expected 2 argument(s) (model-id, amount), got 1"},
		{Args: []string{"market", "sell", "x", "1"}, Want: "x"},
		{Args: []string{"market", "open"}, Want: "expected 1 argument(s) (model-id), got 0"},
		{Args: []string{"market", "buy", "3", "1", "--slippage-bps", "many"}, Want: "slippage-bps"},
	})
}

// Swaps are checked against the model, the pool and the protocol before
// anything is sent.
func TestMarketRefusesSwapsThePoolDoesNotAllow(t *testing.T) {
	keypair, _ := clitest.Home(t)
	funding := clitest.Worlds(clitest.Protocol(solana.PublicKey{1}), clitest.Model(mt.Model{Id: 3, Stage: mt.Stage_Funding}))
	clitest.Refuses(t, Command, keypair, funding, []clitest.Refusal{
		{Args: []string{"market", "quote", "3", "buy", "1"}, Want: "model 3 has no market: it is not active (funding)", Reads: true},
		{Args: []string{"market", "buy", "3", "1"}, Want: "model 3 has no market", Reads: true},
	})
	clitest.Refuses(t, Command, keypair, active(false), []clitest.Refusal{
		{Args: []string{"market", "quote", "3", "hold", "1"}, Want: `"hold" is not a side`, Reads: true},
		{Args: []string{"market", "quote", "3", "buy", "1.0000001"}, Want: "amount", Reads: true},
		{Args: []string{"market", "quote", "3", "buy", "0"}, Want: "the amount must be greater than zero", Reads: true},
		{Args: []string{"market", "quote", "3", "sell", "1", "--slippage-bps", "10001"}, Want: "--slippage-bps 10001 is above 10000", Reads: true},
		{Args: []string{"market", "buy", "3", "1", "--min-out", "1000000000"}, Want: "less than --min-out 1000000000", Reads: true},
		{Args: []string{"market", "open", "3"}, Want: "model 3's market is already open", Reads: true},
	})
	clitest.Refuses(t, Command, keypair, active(true), []clitest.Refusal{
		{Args: []string{"market", "buy", "3", "1"}, Want: "the protocol is paused: swaps are stopped", Reads: true},
	})
}

// A quote is read-only: it prints the swap and sends nothing.
func TestMarketQuoteSendsNothing(t *testing.T) {
	keypair, _ := clitest.Home(t)
	chain := clitest.NewChain(t)
	active(false)(t, chain)
	out, e := clitest.Run(t, Command(), "market", "quote", "3", "buy", "10", "--url", chain.URL, "--keypair", keypair, "--output", "json")
	if e != nil {
		t.Fatal(e.What)
	}
	var q QuoteView
	if err := json.Unmarshal([]byte(out), &q); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if q.Side != "buy" || q.Pay.Base != 10_000_000 || q.Receive.Base == 0 || q.MinReceive.Base > q.Receive.Base {
		t.Errorf("quote %+v", q)
	}
	if chain.Sent() {
		t.Errorf("a quote sent a transaction: %v", chain.Methods())
	}
}
