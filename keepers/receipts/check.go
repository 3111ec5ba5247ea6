package receipts

import (
	"context"
	"encoding/hex"
)

// BatchProof is where a keeper says a receipt sits in its settlement
// batch: the receipt's Merkle proof, the batch root the keeper computed
// (hex), and, once the batch is settled, the transaction that recorded it.
type BatchProof struct {
	RunID            string
	BatchSeq         uint64
	Proof            Proof
	Root             string
	Settled          bool
	SettledSignature string
}

// RootReader returns the receipts root that transaction sig recorded on
// chain for batch seq of keeper (SettledRoots reads it from a cluster).
type RootReader func(ctx context.Context, sig string, seq uint64, keeper [32]byte) (Hash, error)

// ProofCheck is a receipt verified against the root its batch recorded on chain.
type ProofCheck struct {
	RunID    string `json:"run_id"`
	BatchSeq uint64 `json:"batch_seq,omitempty"`
	// Status: "verified" (the receipt is a leaf of the root the settle
	// transaction recorded on chain), "pending" (not settled yet),
	// "unchecked" (no cluster to ask) or "failed" (see Error).
	Status      string `json:"status"`
	Proof       *Proof `json:"proof,omitempty"`
	Root        string `json:"root,omitempty"`
	OnChainRoot string `json:"on_chain_root,omitempty"`
	Signature   string `json:"settled_signature,omitempty"`
	Error       string `json:"error,omitempty"`
}

// CheckProofs verifies each receipt (already signature-checked) against
// its Merkle proof and the root its batch's settle transaction recorded on
// chain, read with read (nil: only the keeper's root is checked, and a
// settled receipt is "unchecked"). Receipts without a proof are "pending".
// The proof itself is checked with this package alone: SHA-256 leaves and
// nodes as RFC 6962.
func CheckProofs(ctx context.Context, read RootReader, signed []Signed, proofs []BatchProof) []ProofCheck {
	byRun := map[string]BatchProof{}
	for _, p := range proofs {
		byRun[p.RunID] = p
	}
	type onChain struct {
		root Hash
		err  error
	}
	roots := map[string]onChain{}
	out := make([]ProofCheck, 0, len(signed))
	for _, s := range signed {
		r := s.Receipt
		c := ProofCheck{RunID: r.RunID.String(), Status: "pending"}
		p, ok := byRun[c.RunID]
		if !ok {
			out = append(out, c)
			continue
		}
		proof := p.Proof
		c.BatchSeq, c.Proof, c.Root, c.Signature = p.BatchSeq, &proof, p.Root, p.SettledSignature
		leaf := LeafHash(s.Encoded)
		var keeperRoot Hash
		if b, err := hex.DecodeString(p.Root); err != nil || len(b) != 32 {
			c.Status, c.Error = "failed", "bad root"
			out = append(out, c)
			continue
		} else {
			copy(keeperRoot[:], b)
		}
		if err := VerifyProof(keeperRoot, leaf, proof); err != nil {
			c.Status, c.Error = "failed", "proof does not lead to the keeper's batch root: "+err.Error()
			out = append(out, c)
			continue
		}
		if p.SettledSignature == "" || !p.Settled {
			out = append(out, c)
			continue
		}
		if read == nil {
			c.Status = "unchecked"
			out = append(out, c)
			continue
		}
		oc, ok := roots[p.SettledSignature]
		if !ok {
			oc.root, oc.err = read(ctx, p.SettledSignature, p.BatchSeq, r.Keeper)
			roots[p.SettledSignature] = oc
		}
		if oc.err != nil {
			c.Status, c.Error = "failed", oc.err.Error()
			out = append(out, c)
			continue
		}
		c.OnChainRoot = hex.EncodeToString(oc.root[:])
		if err := VerifyProof(oc.root, leaf, proof); err != nil {
			c.Status, c.Error = "failed", "proof does not lead to the on-chain root: "+err.Error()
		} else {
			c.Status = "verified"
		}
		out = append(out, c)
	}
	return out
}
