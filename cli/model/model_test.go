package model

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/gagliardetto/solana-go"

	"github.com/modelcommons/modelcommons/cli/clitest"
	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
)

const now = 1_000_000

// chainWith is a protocol, the chain's clock and model m.
func chainWith(m mt.Model) clitest.World {
	return clitest.Worlds(clitest.Protocol(solana.PublicKey{1}), clitest.Clock(now), clitest.Model(m))
}

// Bad command lines are refused before anything is read.
func TestModelRefusesBadArguments(t *testing.T) {
	keypair, _ := clitest.Home(t)
	clitest.Refuses(t, Command, keypair, nil, []clitest.Refusal{
		{Args: []string{"model", "show"}, Want: "expected 1 argument(s) (model-id), got 0"},
		{Args: []string{"model", "show", "zero"}, Want: `model id "zero" is not a number`},
		{Args: []string{"model", "finalize", "-3"}, Want: `model id "-3" is not a number`},
		{Args: []string{"model", "claim-vested", "1", "2"}, Want: "expected 1 argument(s) (model-id), got 2"},
		{Args: []string{"model", "list", "all"}, Want: `unexpected argument(s) ["all"]`},
		{Args: []string{"model", "launch", "--resume", "first"}, Want: "resume"},
	})
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"model", "spec-template", "--format", "ini"}, "ini"},
		{[]string{"model", "spec-template", "extra"}, `unexpected argument(s) ["extra"]`},
	} {
		if _, e := clitest.Run(t, Command(), tc.args...); e == nil || !strings.Contains(e.What, tc.want) {
			t.Errorf("mt %v: %+v, want an error saying %q", tc.args, e, tc.want)
		}
	}
}

// A launch is checked in full before anything is sent: the spec file, every
// term, and on --resume the model's creator and stage.
func TestModelLaunchRefusesBadSpecs(t *testing.T) {
	keypair, me := clitest.Home(t)
	dir := t.TempDir()
	base := clitest.Worlds(clitest.Protocol(solana.PublicKey{1}), clitest.Clock(now))
	clitest.Refuses(t, Command, keypair, base, []clitest.Refusal{
		{Args: []string{"model", "launch", "--spec", filepath.Join(dir, "none.toml")}, Want: "cannot read the launch spec", Reads: true},
		{Args: []string{"model", "launch", "--spec", filepath.Join(dir, "spec.ini")}, Want: "ini", Reads: true},
		{Args: []string{"model", "launch"}, Want: "the launch spec has", Reads: true},
		{Args: []string{"model", "launch", "--resume", "3"}, Want: "there is no model 3", Reads: true},
	})
	clitest.Refuses(t, Command, keypair, chainWith(mt.Model{Id: 3, Creator: solana.PublicKey{5}, Stage: mt.Stage_Launching}), []clitest.Refusal{
		{Args: []string{"model", "launch", "--resume", "3"}, Want: "model 3 was launched by " + solana.PublicKey{5}.String() + ", not by you", Reads: true},
	})
	clitest.Refuses(t, Command, keypair, chainWith(mt.Model{Id: 3, Creator: me, Stage: mt.Stage_Active}), []clitest.Refusal{
		{Args: []string{"model", "launch", "--resume", "3"}, Want: "model 3 is already launched (active)", Reads: true},
	})
}

// Finalising and claiming vested MT are checked against the model's stage,
// its raise and its creator; nothing is sent.
func TestModelRefusesFinalizeAndClaimOutOfTurn(t *testing.T) {
	keypair, me := clitest.Home(t)
	open := mt.Crowdfund{SoftCap: 10, HardCap: 20, Price: 1, Start: now - 10, End: now + 10}
	for _, tc := range []struct {
		name string
		m    mt.Model
		args []string
		want string
	}{
		{"finalize a launch in progress", mt.Model{Id: 3, Stage: mt.Stage_Launching}, []string{"finalize", "3"}, "model 3's launch is not complete"},
		{"finalize twice", mt.Model{Id: 3, Stage: mt.Stage_Active}, []string{"finalize", "3"}, "model 3's raise was already finalised (active)"},
		{"finalize an open raise", mt.Model{Id: 3, Stage: mt.Stage_Funding, Crowdfund: open, Supply: mt.SupplySplit{Crowdfund: 1_000}}, []string{"finalize", "3"}, "model 3's crowdfund is still open until"},
		{"claim another's vesting", mt.Model{Id: 3, Creator: solana.PublicKey{5}, Stage: mt.Stage_Active}, []string{"claim-vested", "3"}, "only model 3's creator"},
		{"claim before success", mt.Model{Id: 3, Creator: me, Stage: mt.Stage_Funding}, []string{"claim-vested", "3"}, "model 3 is not active (funding)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clitest.Refuses(t, Command, keypair, chainWith(tc.m), []clitest.Refusal{{Args: append([]string{"model"}, tc.args...), Want: tc.want, Reads: true}})
		})
	}
}
