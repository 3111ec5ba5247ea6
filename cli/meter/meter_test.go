package meter

import (
	"testing"

	"github.com/gagliardetto/solana-go"

	"github.com/modelcommons/modelcommons/cli/clitest"
	im "github.com/modelcommons/modelcommons/clients/inference_meter"
	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
	"github.com/modelcommons/modelcommons/clients/pda"
)

// protocolBy puts an initialised protocol whose admin is admin, with a
// native mint of 6 decimals; with meter, an initialised meter too.
func protocolBy(admin solana.PublicKey, meter bool) func(*testing.T, *clitest.Chain) {
	return func(t *testing.T, c *clitest.Chain) {
		mint := solana.PublicKey{9}
		c.PutAnchor(t, pda.Protocol(), mt.ProgramID, mt.Account_Protocol, mt.Protocol{Admin: admin, NativeMint: mint, MinPeriodSecs: 60})
		c.PutMint(mint, 6)
		if meter {
			c.PutAnchor(t, pda.Meter(), im.ProgramID, im.Account_MeterConfig, im.MeterConfig{Protocol: pda.Protocol(), NativeMint: mint, UnbondingSecs: 600, WithdrawalNoticeSecs: 600})
		}
	}
}

func adminOf(t *testing.T, keypair string) solana.PublicKey {
	t.Helper()
	k, err := solana.PrivateKeyFromSolanaKeygenFile(keypair)
	if err != nil {
		t.Fatal(err)
	}
	return k.PublicKey()
}

// Bad command lines are refused before anything is read.
func TestMeterRefusesBadArguments(t *testing.T) {
	keypair := clitest.Home(t)
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
	keypair := clitest.Home(t)
	admin := adminOf(t, keypair)
	clitest.Refuses(t, Command, keypair, nil, []clitest.Refusal{
		{Args: []string{"meter", "init"}, Want: "the protocol is not initialised", Reads: true},
		{Args: []string{"meter", "update", "--settlement-fee-bps", "5"}, Want: "the protocol is not initialised", Reads: true},
	})
	clitest.Refuses(t, Command, keypair, protocolBy(admin, false), []clitest.Refusal{
		{Args: []string{"meter", "init", "--settlement-fee-bps", "10001"}, Want: "--settlement-fee-bps 10001 is above 10000", Reads: true},
		{Args: []string{"meter", "init", "--settlement-fee-bps", "9000", "--operator-share-bps", "2000"}, Want: "exceed 10000", Reads: true},
		{Args: []string{"meter", "init", "--unbonding", "soon"}, Want: "unbonding", Reads: true},
		{Args: []string{"meter", "init", "--unbonding", "10s"}, Want: "unbonding", Reads: true},
		{Args: []string{"meter", "init", "--min-node-stake", "1.0000001"}, Want: "min-node-stake", Reads: true},
		{Args: []string{"meter", "update", "--settlement-fee-bps", "5"}, Want: "the inference meter is not initialised", Reads: true},
	})
	clitest.Refuses(t, Command, keypair, protocolBy(solana.PublicKey{1}, false), []clitest.Refusal{
		{Args: []string{"meter", "init"}, Want: "only the protocol admin", Reads: true},
	})
	clitest.Refuses(t, Command, keypair, protocolBy(admin, true), []clitest.Refusal{
		{Args: []string{"meter", "init"}, Want: "already initialised", Reads: true},
		{Args: []string{"meter", "update", "--operator-share-bps", "10001"}, Want: "above 10000", Reads: true},
	})
}
