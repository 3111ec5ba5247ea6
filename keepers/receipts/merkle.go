package receipts

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"math/bits"
)

// Hash is a SHA-256 digest.
type Hash [32]byte

// Domain-separation prefixes (RFC 6962 §2.1).
const (
	leafPrefix = 0x00
	nodePrefix = 0x01
)

// ErrBadProof is returned when a proof does not lead to the expected root.
var ErrBadProof = errors.New("merkle proof does not verify")

// LeafHash is the hash of one encoded receipt as a Merkle leaf.
func LeafHash(encoded []byte) Hash {
	h := sha256.New()
	h.Write([]byte{leafPrefix})
	h.Write(encoded)
	var out Hash
	h.Sum(out[:0])
	return out
}

// NodeHash combines two subtree hashes.
func NodeHash(left, right Hash) Hash {
	var buf [65]byte
	buf[0] = nodePrefix
	copy(buf[1:], left[:])
	copy(buf[33:], right[:])
	return sha256.Sum256(buf[:])
}

// Root is the Merkle root over leaf hashes in order. The root of no leaves
// is SHA-256 of the empty string, as in RFC 6962; batches are never empty.
func Root(leaves []Hash) Hash {
	switch len(leaves) {
	case 0:
		return sha256.Sum256(nil)
	case 1:
		return leaves[0]
	}
	k := splitPoint(len(leaves))
	return NodeHash(Root(leaves[:k]), Root(leaves[k:]))
}

// RootOf hashes encoded receipts as leaves and returns their root.
func RootOf(encoded [][]byte) Hash {
	leaves := make([]Hash, len(encoded))
	for i, e := range encoded {
		leaves[i] = LeafHash(e)
	}
	return Root(leaves)
}

// splitPoint is the largest power of two strictly smaller than n (n >= 2).
func splitPoint(n int) int {
	return 1 << (bits.Len(uint(n-1)) - 1)
}

// Proof is the audit path of leaf Index in a tree of Count leaves, ordered
// from the leaf's sibling up to the root's child.
type Proof struct {
	Index uint64 `json:"index"`
	Count uint64 `json:"count"`
	Path  []Hash `json:"path"`
}

// Prove returns the audit path of leaves[index].
func Prove(leaves []Hash, index int) (Proof, error) {
	if index < 0 || index >= len(leaves) {
		return Proof{}, fmt.Errorf("prove leaf %d of %d: out of range", index, len(leaves))
	}
	p := Proof{Index: uint64(index), Count: uint64(len(leaves))}
	p.Path = path(leaves, index, nil)
	return p, nil
}

// path follows RFC 6962 §2.1.1 PATH(m, D[n]); siblings are appended
// bottom-up, so recursion descends first.
func path(leaves []Hash, m int, acc []Hash) []Hash {
	if len(leaves) <= 1 {
		return acc
	}
	k := splitPoint(len(leaves))
	if m < k {
		acc = path(leaves[:k], m, acc)
		return append(acc, Root(leaves[k:]))
	}
	acc = path(leaves[k:], m-k, acc)
	return append(acc, Root(leaves[:k]))
}

// VerifyProof checks that leaf is at p.Index in the tree with root. It
// follows RFC 9162 §2.1.3.2.
func VerifyProof(root, leaf Hash, p Proof) error {
	if p.Count == 0 || p.Index >= p.Count {
		return fmt.Errorf("%w: index %d of %d", ErrBadProof, p.Index, p.Count)
	}
	fn, sn := p.Index, p.Count-1
	r := leaf
	for _, sib := range p.Path {
		if sn == 0 {
			return fmt.Errorf("%w: path too long", ErrBadProof)
		}
		if fn&1 == 1 || fn == sn {
			r = NodeHash(sib, r)
			if fn&1 == 0 {
				for fn&1 == 0 && fn != 0 {
					fn >>= 1
					sn >>= 1
				}
			}
		} else {
			r = NodeHash(r, sib)
		}
		fn >>= 1
		sn >>= 1
	}
	if sn != 0 {
		return fmt.Errorf("%w: path too short", ErrBadProof)
	}
	if r != root {
		return ErrBadProof
	}
	return nil
}
