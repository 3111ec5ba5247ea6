package receipts

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"testing"
)

func testKey(t testing.TB) ed25519.PrivateKey {
	t.Helper()
	seed := sha256.Sum256([]byte("receipts test key"))
	return ed25519.NewKeyFromSeed(seed[:])
}

func sample() Receipt {
	r := Receipt{
		Version:       Version,
		RunID:         RunID{0, 0, 0, 0, 0, 0, 0, 1, 9, 9, 9, 9, 9, 9, 9, 9},
		Models:        []ModelShare{{ModelID: 3, WeightBps: 7000, InputPer1k: 10, OutputPer1k: 20}, {ModelID: 8, WeightBps: 3000, InputPer1k: 1, OutputPer1k: 2}},
		Kind:          KindChat,
		InputTokens:   120,
		OutputTokens:  34,
		Cost:          5,
		ServedAtMs:    1_700_000_000_000,
		CompletedAtMs: 1_700_000_000_250,
		Estimated:     true,
		Worker:        "gpu-a",
	}
	r.Escrow[0] = 0xEE
	return r
}

// The encoding is pinned byte for byte: the on-chain root and every user's
// verifier depend on it.
func TestEncodingLayoutIsPinned(t *testing.T) {
	r := sample()
	r.Keeper[31] = 0xAA
	b, err := r.Encode()
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	want.WriteByte(1)
	want.Write(r.RunID[:])
	want.Write(r.Keeper[:])
	want.Write(r.Escrow[:])
	le := func(v any) { _ = binary.Write(&want, binary.LittleEndian, v) }
	le(uint32(2))
	for _, m := range r.Models {
		le(m.ModelID)
		le(m.WeightBps)
		le(m.InputPer1k)
		le(m.OutputPer1k)
	}
	want.WriteByte(0)
	le(uint64(120))
	le(uint64(34))
	le(uint64(5))
	le(int64(1_700_000_000_000))
	le(int64(1_700_000_000_250))
	want.WriteByte(1)
	le(uint32(5))
	want.WriteString("gpu-a")
	if !bytes.Equal(b, want.Bytes()) {
		t.Fatalf("encoding changed:\n got %x\nwant %x", b, want.Bytes())
	}
	back, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(back) != fmt.Sprint(r) {
		t.Fatalf("round trip: %+v != %+v", back, r)
	}
}

// A partial run is version 2: the version 1 layout, then the partial flag.
// Complete runs stay version 1, byte for byte, so old journals read.
func TestPartialReceiptLayout(t *testing.T) {
	v1 := sample()
	old, err := v1.Encode()
	if err != nil {
		t.Fatal(err)
	}
	p := sample()
	p.Version, p.Partial = NewVersion(true), true
	b, err := p.Encode()
	if err != nil {
		t.Fatal(err)
	}
	want := append([]byte{VersionPartial}, old[1:]...)
	want = append(want, 1)
	if !bytes.Equal(b, want) {
		t.Fatalf("partial encoding:\n got %x\nwant %x", b, want)
	}
	back, err := Decode(b)
	if err != nil || !back.Partial || back.Version != VersionPartial {
		t.Fatalf("decode partial: %+v %v", back, err)
	}
	if back, err := Decode(old); err != nil || back.Partial {
		t.Fatalf("decode version 1: %+v %v", back, err)
	}
	e, c, err := Peek(b)
	if err != nil || e != p.Escrow || c != p.Cost {
		t.Fatalf("peek of a partial receipt: %v", err)
	}
	for name, bad := range map[string][]byte{
		"flag 2":             append(append([]byte(nil), b[:len(b)-1]...), 2),
		"version 2 no flag":  b[:len(b)-1],
		"version 1 and flag": append(append([]byte(nil), old...), 1),
	} {
		if _, err := Decode(bad); !errors.Is(err, ErrInvalid) {
			t.Fatalf("%s: want ErrInvalid, got %v", name, err)
		}
	}
	key := testKey(t)
	s, err := Sign(p, key)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := UnmarshalSigned(s.Marshal()); err != nil || !got.Receipt.Partial {
		t.Fatalf("signed partial round trip: %v", err)
	}
}

func TestRunIDPrev(t *testing.T) {
	cases := map[RunID]RunID{
		{15: 1}:                  {},
		{14: 1}:                  {15: 0xff},
		{0, 0, 0, 0, 0, 0, 0, 9}: {0, 0, 0, 0, 0, 0, 0, 8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
		{}:                       {},
	}
	for id, want := range cases {
		if got := id.Prev(); got != want {
			t.Fatalf("%s.Prev() = %s, want %s", id, got, want)
		}
	}
}

func TestPeek(t *testing.T) {
	r := sample()
	r.Cost = 123456789
	b, err := r.Encode()
	if err != nil {
		t.Fatal(err)
	}
	e, c, err := Peek(b)
	if err != nil || e != r.Escrow || c != 123456789 {
		t.Fatalf("peek: %x %d %v", e[:2], c, err)
	}
	if _, _, err := Peek(b[:90]); err == nil {
		t.Fatal("peek of a truncated receipt")
	}
}

func TestValidateRejects(t *testing.T) {
	cases := []struct {
		name string
		mut  func(*Receipt)
	}{
		{"version", func(r *Receipt) { r.Version = 3 }},
		{"partial in version 1", func(r *Receipt) { r.Partial = true }},
		{"no models", func(r *Receipt) { r.Models = nil }},
		{"too many models", func(r *Receipt) {
			r.Models = nil
			for i := 0; i < MaxModels+1; i++ {
				r.Models = append(r.Models, ModelShare{ModelID: uint64(i), WeightBps: 1})
			}
		}},
		{"weights do not sum", func(r *Receipt) { r.Models[0].WeightBps = 6999 }},
		{"zero weight", func(r *Receipt) { r.Models = []ModelShare{{ModelID: 1, WeightBps: 10000}, {ModelID: 2}} }},
		{"unsorted models", func(r *Receipt) { r.Models[0].ModelID, r.Models[1].ModelID = 9, 3 }},
		{"duplicate model", func(r *Receipt) { r.Models[1].ModelID = r.Models[0].ModelID }},
		{"kind", func(r *Receipt) { r.Kind = 7 }},
		{"worker name", func(r *Receipt) { r.Worker = string(make([]byte, MaxWorkerName+1)) }},
		{"time order", func(r *Receipt) { r.CompletedAtMs = r.ServedAtMs - 1 }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := sample()
			c.mut(&r)
			if _, err := r.Encode(); !errors.Is(err, ErrInvalid) {
				t.Fatalf("want ErrInvalid, got %v", err)
			}
		})
	}
}

func TestDecodeRejectsHostileInput(t *testing.T) {
	r := sample()
	good, err := r.Encode()
	if err != nil {
		t.Fatal(err)
	}
	hugeModels := append([]byte(nil), good...)
	binary.LittleEndian.PutUint32(hugeModels[81:], 0xFFFFFFFF)
	hugeWorker := append([]byte(nil), good[:len(good)-5]...)
	binary.LittleEndian.PutUint32(hugeWorker[len(hugeWorker)-4:], 0x7FFFFFFF)
	badBool := append([]byte(nil), good...)
	badBool[len(good)-10] = 2
	cases := map[string][]byte{
		"empty":          nil,
		"truncated":      good[:len(good)-1],
		"trailing":       append(append([]byte(nil), good...), 0),
		"huge vec len":   hugeModels,
		"huge string":    hugeWorker,
		"non-bool":       badBool,
		"oversized":      make([]byte, MaxEncodedSize+1),
		"all zero short": make([]byte, 90),
	}
	for name, b := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := Decode(b); !errors.Is(err, ErrInvalid) {
				t.Fatalf("want ErrInvalid, got %v", err)
			}
		})
	}
}

func TestSignVerify(t *testing.T) {
	key := testKey(t)
	s, err := Sign(sample(), key)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(s.Receipt.Keeper[:], key.Public().(ed25519.PublicKey)) {
		t.Fatal("keeper key not set")
	}
	back, err := UnmarshalSigned(s.Marshal())
	if err != nil {
		t.Fatal(err)
	}
	if back.Receipt.Cost != 5 {
		t.Fatal("lost fields")
	}
	// Any flipped bit in the body or the signature fails verification.
	for _, i := range []int{0, 63, 64 + 1, 64 + 130, len(s.Marshal()) - 1} {
		m := s.Marshal()
		m[i] ^= 1
		if _, err := UnmarshalSigned(m); err == nil {
			t.Fatalf("flipped byte %d still verified", i)
		}
	}
	// The signature is over the domain-separated message, not the raw encoding.
	if ed25519.Verify(key.Public().(ed25519.PublicKey), s.Encoded, s.Signature[:]) {
		t.Fatal("signature verifies without the domain prefix")
	}
}

func TestRunIDsAreOrderedAndUnique(t *testing.T) {
	prev := NewRunID()
	seen := map[RunID]bool{prev: true}
	for i := 0; i < 10000; i++ {
		id := NewRunID()
		if bytes.Compare(id[:8], prev[:8]) <= 0 || seen[id] {
			t.Fatalf("run id %s not after %s", id, prev)
		}
		seen[id] = true
		prev = id
	}
	back, err := ParseRunID(prev.String())
	if err != nil || back != prev {
		t.Fatalf("parse: %v", err)
	}
}

func leavesN(n int) []Hash {
	out := make([]Hash, n)
	for i := range out {
		out[i] = LeafHash([]byte(fmt.Sprintf("leaf %d", i)))
	}
	return out
}

// Reference roots from the RFC 6962 definition, written independently of Root.
func refRoot(leaves []Hash) Hash {
	if len(leaves) == 1 {
		return leaves[0]
	}
	k := 1
	for k*2 < len(leaves) {
		k *= 2
	}
	l, r := refRoot(leaves[:k]), refRoot(leaves[k:])
	return sha256.Sum256(append(append([]byte{1}, l[:]...), r[:]...))
}

func TestMerkleRootAndProofs(t *testing.T) {
	if Root(nil) != sha256.Sum256(nil) {
		t.Fatal("empty root")
	}
	if LeafHash([]byte("x")) != sha256.Sum256([]byte{0, 'x'}) {
		t.Fatal("leaf hash is not domain separated as documented")
	}
	for n := 1; n <= 33; n++ {
		leaves := leavesN(n)
		root := Root(leaves)
		if root != refRoot(leaves) {
			t.Fatalf("n=%d: root differs from the RFC 6962 definition", n)
		}
		for i := 0; i < n; i++ {
			p, err := Prove(leaves, i)
			if err != nil {
				t.Fatal(err)
			}
			if err := VerifyProof(root, leaves[i], p); err != nil {
				t.Fatalf("n=%d i=%d: %v", n, i, err)
			}
			if n > 1 {
				other := leaves[(i+1)%n]
				if VerifyProof(root, other, p) == nil {
					t.Fatalf("n=%d i=%d: proof accepted another leaf", n, i)
				}
				bad := p
				bad.Index = (p.Index + 1) % p.Count
				if VerifyProof(root, leaves[i], bad) == nil {
					t.Fatalf("n=%d i=%d: proof accepted at the wrong index", n, i)
				}
				short := p
				short.Path = p.Path[:len(p.Path)-1]
				if VerifyProof(root, leaves[i], short) == nil {
					t.Fatalf("n=%d i=%d: truncated proof accepted", n, i)
				}
			}
		}
	}
	// A leaf cannot masquerade as an inner node: the two-leaf root is not the
	// leaf hash of the concatenated children.
	l := leavesN(2)
	if Root(l) == LeafHash(append(l[0][:], l[1][:]...)) {
		t.Fatal("no domain separation between leaves and nodes")
	}
}
