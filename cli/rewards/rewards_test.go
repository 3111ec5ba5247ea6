package rewards

import (
	"testing"

	"github.com/gagliardetto/solana-go"

	"github.com/modelcommons/modelcommons/cli/clitest"
	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
	"github.com/modelcommons/modelcommons/clients/pda"
)

// modelIn is model 3 in stage st under a protocol.
func modelIn(st mt.Stage) clitest.World {
	return clitest.Worlds(clitest.Protocol(solana.PublicKey{1}), clitest.Model(mt.Model{Id: 3, Stage: st}))
}

// Bad command lines are refused before anything is read.
func TestRewardsRefusesBadArguments(t *testing.T) {
	keypair, _ := clitest.Home(t)
	clitest.Refuses(t, Command, keypair, nil, []clitest.Refusal{
		{Args: []string{"rewards", "show"}, Want: "expected 1 argument(s) (model-id), got 0"},
		{Args: []string{"rewards", "claim", "3", "4"}, Want: "expected 1 argument(s) (model-id), got 2"},
		{Args: []string{"rewards", "deposit-revenue", "3"}, Want: "expected 2 argument(s) (model-id, amount), got 1"},
		{Args: []string{"rewards", "claim", "model-3"}, Want: "model-3"},
	})
}

// Claims and revenue deposits are checked against the model and the
// holder's voter record; nothing is sent.
func TestRewardsRefusesWhatTheModelDoesNotAllow(t *testing.T) {
	keypair, holder := clitest.Home(t)
	clitest.Refuses(t, Command, keypair, clitest.Protocol(solana.PublicKey{1}), []clitest.Refusal{
		{Args: []string{"rewards", "claim", "3"}, Want: "there is no model 3", Reads: true},
	})
	clitest.Refuses(t, Command, keypair, modelIn(mt.Stage_Funding), []clitest.Refusal{
		{Args: []string{"rewards", "claim", "3"}, Want: "model 3 is not active (funding)", Reads: true},
		{Args: []string{"rewards", "deposit-revenue", "3", "5"}, Want: "model 3 is not active (funding): only a model whose raise succeeded earns revenue", Reads: true},
	})
	clitest.Refuses(t, Command, keypair, modelIn(mt.Stage_Active), []clitest.Refusal{
		{Args: []string{"rewards", "claim", "3"}, Want: "you have no voter record in model 3, so no rewards", Reads: true},
		{Args: []string{"rewards", "deposit-revenue", "3", "0"}, Want: "the amount must be greater than zero", Reads: true},
		{Args: []string{"rewards", "deposit-revenue", "3", "lots"}, Want: "amount", Reads: true},
		{Args: []string{"rewards", "show", "3", "--wallet", "nobody"}, Want: `--wallet "nobody" is not an address`, Reads: true},
	})
	voter := func(t *testing.T, c *clitest.Chain) {
		c.PutAnchor(t, pda.Voter(pda.Model(3), holder), mt.ProgramID, mt.Account_Voter, mt.Voter{Model: pda.Model(3), Owner: holder})
	}
	clitest.Refuses(t, Command, keypair, clitest.Worlds(modelIn(mt.Stage_Active), voter), []clitest.Refusal{
		{Args: []string{"rewards", "claim", "3"}, Want: "nothing to claim from model 3 yet", Reads: true},
	})
}
