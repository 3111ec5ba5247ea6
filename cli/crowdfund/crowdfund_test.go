package crowdfund

import (
	"testing"

	"github.com/gagliardetto/solana-go"

	"github.com/modelcommons/modelcommons/cli/clitest"
	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
)

// now is the chain's clock in these tests.
const now = 1_000_000

// raise is model 3 in stage st with a crowdfund open from start to end.
func raise(st mt.Stage, start, end int64, allowlist bool) clitest.World {
	m := mt.Model{Id: 3, Stage: st, Supply: mt.SupplySplit{Crowdfund: 1_000_000_000_000}, Crowdfund: mt.Crowdfund{Price: 1_000, SoftCap: 1_000_000, HardCap: 5_000_000, Start: start, End: end}}
	if allowlist {
		m.Crowdfund.AllowlistRoot = [32]uint8{1}
	}
	return clitest.Worlds(clitest.Protocol(solana.PublicKey{1}), clitest.Clock(now), clitest.Model(m))
}

// Bad command lines are refused before anything is read.
func TestCrowdfundRefusesBadArguments(t *testing.T) {
	keypair, _ := clitest.Home(t)
	clitest.Refuses(t, Command, keypair, nil, []clitest.Refusal{
		{Args: []string{"crowdfund", "contribute", "3"}, Want: "expected 2 argument(s) (model-id, amount), got 1"},
		{Args: []string{"crowdfund", "contribute", "three", "5"}, Want: "three"},
		{Args: []string{"crowdfund", "claim"}, Want: "expected 1 argument(s) (model-id), got 0"},
		{Args: []string{"crowdfund", "refund", "3", "4"}, Want: "expected 1 argument(s) (model-id), got 2"},
		{Args: []string{"crowdfund", "show", "-1"}, Want: "-1"},
		{Args: []string{"crowdfund", "close", "3", "--output", "csv"}, Want: "csv"},
	})
}

// Contributions, claims and refunds are checked against the model's stage,
// the raise window and the chain's clock; nothing is sent.
func TestCrowdfundRefusesWhatTheRaiseDoesNotAllow(t *testing.T) {
	keypair, _ := clitest.Home(t)
	clitest.Refuses(t, Command, keypair, clitest.Worlds(clitest.Protocol(solana.PublicKey{1}), clitest.Clock(now)), []clitest.Refusal{
		{Args: []string{"crowdfund", "contribute", "3", "5"}, Want: "there is no model 3", Reads: true},
	})
	clitest.Refuses(t, Command, keypair, raise(mt.Stage_Funding, now-10, now+10, false), []clitest.Refusal{
		{Args: []string{"crowdfund", "contribute", "3", "five"}, Want: "amount", Reads: true},
		{Args: []string{"crowdfund", "contribute", "3", "5", "--min-mt", "lots"}, Want: "--min-mt", Reads: true},
		{Args: []string{"crowdfund", "claim", "3"}, Want: "model 3's raise is still open until", Reads: true},
		{Args: []string{"crowdfund", "refund", "3"}, Want: "model 3's raise is still open until", Reads: true},
	})
	clitest.Refuses(t, Command, keypair, raise(mt.Stage_Funding, now-20, now-10, false), []clitest.Refusal{
		{Args: []string{"crowdfund", "claim", "3"}, Want: "model 3's raise is over but not finalised yet", Reads: true},
	})
	for _, tc := range []struct {
		name  string
		world clitest.World
		args  []string
		want  string
	}{
		{"launch incomplete", raise(mt.Stage_Launching, now-10, now+10, false), []string{"contribute", "3", "5"}, "crowdfund has not opened yet"},
		{"raise succeeded", raise(mt.Stage_Active, now-20, now-10, false), []string{"contribute", "3", "5"}, "raise is over: it succeeded"},
		{"raise failed", raise(mt.Stage_Failed, now-20, now-10, false), []string{"contribute", "3", "5"}, "raise is over: it failed"},
		{"not open yet", raise(mt.Stage_Funding, now+10, now+20, false), []string{"contribute", "3", "5"}, "crowdfund opens at"},
		{"window over", raise(mt.Stage_Funding, now-20, now-10, false), []string{"contribute", "3", "5"}, "raise ended at"},
		{"allowlist not given", raise(mt.Stage_Funding, now-10, now+10, true), []string{"contribute", "3", "5"}, "restricted to an allowlist"},
		{"refund after success", raise(mt.Stage_Active, now-20, now-10, false), []string{"refund", "3"}, "raise succeeded: there are no refunds"},
		{"claim after failure", raise(mt.Stage_Failed, now-20, now-10, false), []string{"claim", "3"}, "raise failed: there is no MT to claim"},
		{"claim without contributing", raise(mt.Stage_Active, now-20, now-10, false), []string{"claim", "3"}, "did not contribute to model 3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clitest.Refuses(t, Command, keypair, tc.world, []clitest.Refusal{{Args: append([]string{"crowdfund"}, tc.args...), Want: tc.want, Reads: true}})
		})
	}
}
