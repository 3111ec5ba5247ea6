package meter

import (
	"testing"

	"github.com/gagliardetto/solana-go"

	"github.com/modelcommons/modelcommons/cli/clitest"
)

// Bad command lines are refused before anything is read.
func TestMeterRefusesBadArguments(t *testing.T) {
	keypair, _ := clitest.Home(t)
	clitest.Refuses(t, Command, keypair, nil, []clitest.Refusal{
		{Args: []string{"meter", "show", "extra"}, Want: `unexpected argument(s) ["extra"]`},
		{Args: []string{"meter", "init", "extra"}, Want: `unexpected argument(s) ["extra"]`},
		{Args: []string{"meter", "show", "--output", "yaml"}, Want: "yaml"},
		{Args: []string{"meter", "init", "--settlement-fee-bps", "ten"}, Want: "settlement-fee-bps"},
		{Args: []string{"meter", "frobnicate"}, Want: "frobnicate"},
	})
}

// init and update check every setting against the chain before sending:
// each mistake is named, and nothing is sent.
func TestMeterInitAndUpdateRefuseBadSettings(t *testing.T) {
	keypair, admin := clitest.Home(t)
	clitest.Refuses(t, Command, keypair, nil, []clitest.Refusal{
		{Args: []string{"meter", "init"}, Want: "the protocol is not initialised", Reads: true},
		{Args: []string{"meter", "update", "--settlement-fee-bps", "5"}, Want: "the protocol is not initialised", Reads: true},
	})
	clitest.Refuses(t, Command, keypair, clitest.Protocol(admin), []clitest.Refusal{
		{Args: []string{"meter", "init", "--settlement-fee-bps", "10001"}, Want: "--settlement-fee-bps 10001 is above 10000", Reads: true},
		{Args: []string{"meter", "init", "--settlement-fee-bps", "9000", "--operator-share-bps", "2000"}, Want: "exceed 10000", Reads: true},
		{Args: []string{"meter", "init", "--unbonding", "soon"}, Want: "unbonding", Reads: true},
		{Args: []string{"meter", "init", "--unbonding", "10s"}, Want: "unbonding", Reads: true},
		{Args: []string{"meter", "init", "--min-node-stake", "1.0000001"}, Want: "min-node-stake", Reads: true},
		{Args: []string{"meter", "update", "--settlement-fee-bps", "5"}, Want: "the inference meter is not initialised", Reads: true},
	})
	clitest.Refuses(t, Command, keypair, clitest.Protocol(solana.PublicKey{1}), []clitest.Refusal{
		{Args: []string{"meter", "init"}, Want: "only the protocol admin", Reads: true},
	})
	clitest.Refuses(t, Command, keypair, clitest.Worlds(clitest.Protocol(admin), clitest.Meter()), []clitest.Refusal{
		{Args: []string{"meter", "init"}, Want: "already initialised", Reads: true},
		{Args: []string{"meter", "update", "--operator-share-bps", "10001"}, Want: "above 10000", Reads: true},
	})
}
