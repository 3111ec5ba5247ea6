package ix

import (
	"testing"

	"github.com/gagliardetto/solana-go"
)

// built is a builder's result, for the tables below.
type built struct {
	name    string
	ix      solana.Instruction
	err     error
	signers []solana.PublicKey // exactly these sign
	want    []solana.PublicKey // accounts the builder must have derived
}

// checkBuilt checks that each instruction calls program, is signed by
// exactly its signers and holds the accounts it must derive.
func checkBuilt(t *testing.T, program solana.PublicKey, cases []built) {
	t.Helper()
	for _, c := range cases {
		if c.err != nil {
			t.Errorf("%s: %v", c.name, c.err)
			continue
		}
		if !c.ix.ProgramID().Equals(program) {
			t.Errorf("%s: program %s, want %s", c.name, c.ix.ProgramID(), program)
		}
		has, signs := map[solana.PublicKey]bool{}, map[solana.PublicKey]bool{}
		for _, a := range c.ix.Accounts() {
			has[a.PublicKey] = true
			if a.IsSigner {
				signs[a.PublicKey] = true
			}
		}
		for _, s := range c.signers {
			if !signs[s] {
				t.Errorf("%s: %s does not sign", c.name, s)
			}
		}
		if len(signs) != len(c.signers) {
			t.Errorf("%s: %d signers, want %d", c.name, len(signs), len(c.signers))
		}
		for _, w := range c.want {
			if !has[w] {
				t.Errorf("%s: account %s missing", c.name, w)
			}
		}
	}
}
