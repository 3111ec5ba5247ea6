// Package allowlist builds the Merkle allowlists of mt_treasury crowdfunds:
// the root a creator passes to launch_model and the proof each listed
// wallet passes to contribute.
//
// Hashing matches programs/mt-treasury/src/allowlist.rs exactly:
//
//	leaf   = sha256(0x00 ‖ wallet public key)
//	parent = sha256(0x01 ‖ min(a, b) ‖ max(a, b))   (children sorted bytewise)
//
// A level with an odd number of nodes promotes its last node unchanged.
// Because children are sorted, a proof is just the sibling hashes from the
// leaf up. Wallets are deduplicated and kept in the order given, so the same
// list always yields the same root. The program accepts proofs of at most
// MaxProofLen hashes (trees of up to 2^20 wallets); with up to 1 024 wallets
// (10-hash proofs) a contribute transaction stays within the 900-byte target
// (see README, Benchmarks).
package allowlist

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"

	"github.com/gagliardetto/solana-go"
)

// MaxProofLen is the longest proof the program accepts.
const MaxProofLen = 20

// MaxWallets is the largest list whose proofs all fit MaxProofLen.
const MaxWallets = 1 << MaxProofLen

// Hash is a node of the tree.
type Hash [32]byte

// ErrNotListed is returned by Proof for a wallet that is not in the tree.
var ErrNotListed = errors.New("wallet is not on the allowlist")

// Leaf is the leaf hash of wallet.
func Leaf(wallet solana.PublicKey) Hash {
	h := sha256.New()
	h.Write([]byte{0})
	h.Write(wallet[:])
	var out Hash
	h.Sum(out[:0])
	return out
}

// Parent is the hash of two children, independent of their order.
func Parent(a, b Hash) Hash {
	if bytes.Compare(a[:], b[:]) > 0 {
		a, b = b, a
	}
	h := sha256.New()
	h.Write([]byte{1})
	h.Write(a[:])
	h.Write(b[:])
	var out Hash
	h.Sum(out[:0])
	return out
}

// Verify reports whether proof shows wallet is in the tree with root.
func Verify(root Hash, wallet solana.PublicKey, proof []Hash) bool {
	node := Leaf(wallet)
	for _, sibling := range proof {
		node = Parent(node, sibling)
	}
	return node == root
}

// Tree is an allowlist with all its levels, ready to hand out proofs.
type Tree struct {
	index  map[solana.PublicKey]int
	levels [][]Hash // levels[0] are the leaves; the last level holds the root
}

// New builds the tree of wallets (duplicates ignored, order kept).
func New(wallets []solana.PublicKey) (*Tree, error) {
	t := &Tree{index: make(map[solana.PublicKey]int, len(wallets))}
	var leaves []Hash
	for _, w := range wallets {
		if _, dup := t.index[w]; dup {
			continue
		}
		t.index[w] = len(leaves)
		leaves = append(leaves, Leaf(w))
	}
	if len(leaves) == 0 {
		return nil, errors.New("allowlist: no wallets")
	}
	if len(leaves) > MaxWallets {
		return nil, fmt.Errorf("allowlist: %d wallets, at most %d fit the program's proof limit", len(leaves), MaxWallets)
	}
	t.levels = [][]Hash{leaves}
	for level := leaves; len(level) > 1; {
		next := make([]Hash, 0, (len(level)+1)/2)
		for i := 0; i < len(level); i += 2 {
			if i+1 < len(level) {
				next = append(next, Parent(level[i], level[i+1]))
			} else {
				next = append(next, level[i])
			}
		}
		t.levels = append(t.levels, next)
		level = next
	}
	return t, nil
}

// Root is the value to pass as the crowdfund's allowlist root.
func (t *Tree) Root() Hash { return t.levels[len(t.levels)-1][0] }

// Len is the number of distinct wallets.
func (t *Tree) Len() int { return len(t.levels[0]) }

// Contains reports whether wallet is listed.
func (t *Tree) Contains(wallet solana.PublicKey) bool {
	_, ok := t.index[wallet]
	return ok
}

// Proof is wallet's proof, to pass to contribute.
func (t *Tree) Proof(wallet solana.PublicKey) ([]Hash, error) {
	i, ok := t.index[wallet]
	if !ok {
		return nil, fmt.Errorf("%s: %w", wallet, ErrNotListed)
	}
	var proof []Hash
	for _, level := range t.levels[:len(t.levels)-1] {
		if sibling := i ^ 1; sibling < len(level) {
			proof = append(proof, level[sibling])
		}
		i /= 2
	}
	return proof, nil
}

// ProofBytes is Proof as the [][32]byte the generated client takes.
func (t *Tree) ProofBytes(wallet solana.PublicKey) ([][32]uint8, error) {
	proof, err := t.Proof(wallet)
	if err != nil {
		return nil, err
	}
	out := make([][32]uint8, len(proof))
	for i, h := range proof {
		out[i] = h
	}
	return out, nil
}
