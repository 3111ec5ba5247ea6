// Package receipts defines the signed run receipt: the keeper's record of
// one completed, chargeable run, its canonical byte encoding, the keeper's
// ed25519 signature over it, and the Merkle tree that commits a settlement
// batch of receipts to a single 32-byte root.
//
// # Encoding
//
// A receipt is encoded with Borsh (little-endian integers, u32-length
// prefixed vectors and strings, fixed arrays without a length), field by
// field in the order of [Receipt]:
//
//	version        u8        1, or 2 for a partial run
//	run_id         [u8; 16]  unique per keeper, time-ordered (see NewRunID)
//	keeper         [u8; 32]  the keeper's ed25519 public key (its hot key)
//	escrow         [u8; 32]  the escrow PDA that pays
//	models         Vec<ModelShare>, 1..=8 entries, ascending model_id, weights sum to 10 000:
//	    model_id       u64   mt_treasury model id
//	    weight_bps     u16   share of the run's model revenue
//	    input_per_1k   u64   price applied, native base units per 1 000 input tokens
//	    output_per_1k  u64   price applied, per 1 000 output tokens
//	kind           u8        0 chat completion, 1 completion, 2 embedding
//	input_tokens   u64
//	output_tokens  u64
//	cost           u64       native base units, as quoted by the keeper's cost function
//	served_at_ms   i64       unix milliseconds, request admitted
//	completed_at_ms i64      unix milliseconds, response complete
//	estimated      bool      token counts are the keeper's estimate, not the worker's
//	worker         String    the worker's configured name, at most 64 bytes
//	partial        bool      version 2 only: the client went away mid-stream and
//	                         the tokens are those generated until the keeper saw it
//
// Version 1 receipts (every complete run) are byte for byte what keepers
// wrote before version 2 existed; only partial runs are written as
// version 2, so journals and verifiers from before read unchanged.
//
// The encoding is canonical: [Decode] rejects trailing bytes and any input
// that does not re-encode to the same bytes.
//
// # Signature
//
// The keeper signs SignDomain || encoding with ed25519, where SignDomain is
// the 24-byte ASCII string "modelcommons/receipt/v1\x00". The domain keeps a
// receipt signature from ever being valid as a Solana transaction signature
// or any other message signed by the same key.
//
// # Merkle tree
//
// A batch's receipts, in run-id order (byte order of run_id, which is
// time-ordered), are the leaves of an RFC 6962
// (Certificate Transparency) Merkle tree over SHA-256:
//
//	leaf hash  = SHA-256(0x00 || encoding)
//	node hash  = SHA-256(0x01 || left || right)
//	root(n)    = for n > 1: node(root(first k leaves), root(remaining n-k)),
//	             k the largest power of two smaller than n; root(1) = leaf hash.
//
// The distinct 0x00/0x01 prefixes make a leaf impossible to pass off as an
// inner node (second-preimage resistance). A [Proof] is the RFC 6962 audit
// path of one leaf; [VerifyProof] recomputes the root from it. The root of a
// settled batch is what the settle transaction records on chain.
package receipts
