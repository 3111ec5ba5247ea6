package allowlist

import (
	"encoding/hex"
	"testing"

	"github.com/gagliardetto/solana-go"
)

func wallets(n int) []solana.PublicKey {
	out := make([]solana.PublicKey, n)
	for i := range out {
		for j := range out[i] {
			out[i][j] = byte(i + 1)
		}
	}
	return out
}

// The same vector is asserted by the program's Rust tests (allowlist.rs).
func TestMatchesTheProgram(t *testing.T) {
	ws := wallets(5)
	if got := hex.EncodeToString(func() []byte { l := Leaf(ws[0]); return l[:] }()); got != "dcffe786ded16d283c663846ad0c4ff26558fccde36ca9d30b2ea19eade9fc0e" {
		t.Errorf("leaf = %s", got)
	}
	tree, err := New(ws)
	if err != nil {
		t.Fatal(err)
	}
	root := tree.Root()
	if got := hex.EncodeToString(root[:]); got != "2ee61a0b2db2eeaf6a568ab9fe19d1863a002199970e9c5f09cd26bb252a2aa5" {
		t.Errorf("root = %s", got)
	}
}

func TestEveryMemberProvesAndOutsidersDoNot(t *testing.T) {
	for _, n := range []int{1, 2, 3, 4, 5, 7, 8, 9, 33, 100} {
		ws := wallets(n)
		tree, err := New(ws)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range ws {
			proof, err := tree.Proof(w)
			if err != nil {
				t.Fatal(err)
			}
			if len(proof) > MaxProofLen {
				t.Fatalf("n=%d: proof of %d hashes", n, len(proof))
			}
			if !Verify(tree.Root(), w, proof) {
				t.Fatalf("n=%d: %s does not verify", n, w)
			}
		}
		outsider := solana.PublicKey{0xee}
		if _, err := tree.Proof(outsider); err == nil {
			t.Fatal("proof for an outsider")
		}
		proof, _ := tree.Proof(ws[0])
		if Verify(tree.Root(), outsider, proof) {
			t.Fatalf("n=%d: outsider verifies with a member's proof", n)
		}
		if n > 1 {
			other, _ := tree.Proof(ws[1])
			if Verify(tree.Root(), ws[0], other) {
				t.Fatalf("n=%d: member verifies with another member's proof", n)
			}
		}
	}
}

func TestDuplicatesAndEmptyLists(t *testing.T) {
	ws := wallets(3)
	a, _ := New(ws)
	b, _ := New(append(ws, ws[0], ws[2]))
	if a.Root() != b.Root() || b.Len() != 3 {
		t.Error("duplicates change the tree")
	}
	if _, err := New(nil); err == nil {
		t.Error("empty list accepted")
	}
}
