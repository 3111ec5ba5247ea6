package protocol

import (
	"testing"

	"github.com/gagliardetto/solana-go"

	"github.com/modelcommons/modelcommons/cli/clitest"
)

// Bad command lines are refused before anything is read.
func TestProtocolRefusesBadArguments(t *testing.T) {
	keypair, _ := clitest.Home(t)
	clitest.Refuses(t, Command, keypair, nil, []clitest.Refusal{
		{Args: []string{"protocol", "show", "extra"}, Want: `unexpected argument(s) ["extra"]`},
		{Args: []string{"protocol", "mint-native", "x"}, Want: "expected 2 argument(s) (wallet, amount), got 1"},
		{Args: []string{"protocol", "mint-native", "not-an-address", "5"}, Want: `wallet "not-an-address" is not an address`},
		{Args: []string{"protocol", "update", "--protocol-fee-bps", "-1"}, Want: "protocol-fee-bps"},
		{Args: []string{"protocol", "show", "--commitment", "eventual"}, Want: "eventual"},
	})
}

// The admin's commands check every setting against the protocol account
// before sending: each mistake is named, and nothing is sent.
func TestProtocolCommandsRefuseBadSettings(t *testing.T) {
	keypair, admin := clitest.Home(t)
	wallet := solana.PublicKey{4}.String()
	clitest.Refuses(t, Command, keypair, nil, []clitest.Refusal{
		{Args: []string{"protocol", "update", "--swap-fee-bps", "5"}, Want: "the protocol is not initialised", Reads: true},
		{Args: []string{"protocol", "mint-native", wallet, "5"}, Want: "the protocol is not initialised", Reads: true},
		{Args: []string{"protocol", "withdraw-fees", "--amount", "1"}, Want: "the protocol is not initialised", Reads: true},
	})
	clitest.Refuses(t, Command, keypair, clitest.Protocol(admin), []clitest.Refusal{
		{Args: []string{"protocol", "init", "--create-native-mint"}, Want: "already initialised", Reads: true},
		{Args: []string{"protocol", "update"}, Want: "nothing to change", Reads: true},
		{Args: []string{"protocol", "update", "--swap-fee-bps", "10001"}, Want: "--swap-fee-bps 10001 is above 10000", Reads: true},
		{Args: []string{"protocol", "update", "--pause", "--resume"}, Want: "give --pause or --resume, not both", Reads: true},
		{Args: []string{"protocol", "update", "--min-period", "0s"}, Want: "--min-period must be longer than 0s", Reads: true},
		{Args: []string{"protocol", "update", "--setup-fee", "1.0000001"}, Want: "setup-fee", Reads: true},
		{Args: []string{"protocol", "update", "--new-admin", "nobody"}, Want: `--new-admin "nobody" is not an address`, Reads: true},
		{Args: []string{"protocol", "mint-native", wallet, "5"}, Want: "has no mint authority", Reads: true},
	})
	clitest.Refuses(t, Command, keypair, clitest.Protocol(solana.PublicKey{1}), []clitest.Refusal{
		{Args: []string{"protocol", "update", "--swap-fee-bps", "5"}, Want: "only the protocol admin", Reads: true},
		{Args: []string{"protocol", "withdraw-fees", "--amount", "1"}, Want: "only the protocol admin", Reads: true},
	})
}
