package receipts

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/near/borsh-go"
)

// Encoding versions. Version is written for a complete run and stays
// byte-identical to every receipt written before partial runs existed;
// VersionPartial appends one byte, the partial flag, so old journals and
// verifiers read complete runs unchanged.
const (
	Version        uint8 = 1
	VersionPartial uint8 = 2
)

// Limits of a valid receipt.
const (
	MaxModels      = 8
	MaxWorkerName  = 64
	WeightTotalBps = 10_000
	// MaxEncodedSize bounds an encoded receipt; anything longer is rejected
	// before decoding.
	MaxEncodedSize = 1 + 16 + 32 + 32 + 4 + MaxModels*26 + 1 + 8*3 + 8*2 + 1 + 4 + MaxWorkerName + 1
)

// SignDomain prefixes every signed receipt message.
var SignDomain = []byte("modelcommons/receipt/v1\x00")

// Sentinel errors.
var (
	ErrInvalid      = errors.New("invalid receipt")
	ErrBadSignature = errors.New("receipt signature does not verify")
)

// Kind is the API a run was served through.
type Kind uint8

const (
	KindChat Kind = iota
	KindCompletion
	KindEmbedding
)

func (k Kind) String() string {
	switch k {
	case KindChat:
		return "chat"
	case KindCompletion:
		return "completion"
	case KindEmbedding:
		return "embedding"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// RunID identifies a run. The first 8 bytes are the big-endian unix
// nanosecond time it was issued (so IDs sort by time and insert at the end
// of the journal's B+tree); the last 8 are random.
type RunID [16]byte

// runIDClock keeps issued IDs strictly increasing within a process even when
// the wall clock stalls or steps back.
var runIDClock struct {
	sync.Mutex
	last uint64
}

// NewRunID returns a fresh, time-ordered run id.
func NewRunID() RunID {
	var id RunID
	now := uint64(time.Now().UnixNano())
	runIDClock.Lock()
	if now <= runIDClock.last {
		now = runIDClock.last + 1
	}
	runIDClock.last = now
	runIDClock.Unlock()
	binary.BigEndian.PutUint64(id[:8], now)
	if _, err := rand.Read(id[8:]); err != nil {
		panic("receipts: crypto/rand failed: " + err.Error())
	}
	return id
}

func (id RunID) String() string { return hex.EncodeToString(id[:]) }

// ParseRunID parses the 32-hex-digit form produced by String.
func ParseRunID(s string) (RunID, error) {
	var id RunID
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != len(id) {
		return id, fmt.Errorf("run id %q: want 32 hex digits", s)
	}
	copy(id[:], b)
	return id, nil
}

// Prev is the id just before id in run-id order (the zero id stays zero):
// a listing "after id.Prev()" starts at id itself.
func (id RunID) Prev() RunID {
	for i := len(id) - 1; i >= 0; i-- {
		if id[i] != 0 {
			id[i]--
			return id
		}
		id[i] = 0xff
	}
	return RunID{}
}

// MarshalText implements encoding.TextMarshaler (hex).
func (id RunID) MarshalText() ([]byte, error) { return []byte(id.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (id *RunID) UnmarshalText(b []byte) error {
	v, err := ParseRunID(string(b))
	if err != nil {
		return err
	}
	*id = v
	return nil
}

// ModelShare is one model of a run (a mixture has several) with its weight
// and the price that applied to the run.
type ModelShare struct {
	ModelID     uint64 `json:"model_id"`
	WeightBps   uint16 `json:"weight_bps"`
	InputPer1k  uint64 `json:"input_per_1k"`
	OutputPer1k uint64 `json:"output_per_1k"`
}

// Receipt is one completed, chargeable run. Field order is the encoding
// order; see the package documentation.
type Receipt struct {
	Version       uint8        `json:"version"`
	RunID         RunID        `json:"run_id"`
	Keeper        [32]byte     `json:"-"`
	Escrow        [32]byte     `json:"-"`
	Models        []ModelShare `json:"models"`
	Kind          Kind         `json:"kind"`
	InputTokens   uint64       `json:"input_tokens"`
	OutputTokens  uint64       `json:"output_tokens"`
	Cost          uint64       `json:"cost"`
	ServedAtMs    int64        `json:"served_at_ms"`
	CompletedAtMs int64        `json:"completed_at_ms"`
	Estimated     bool         `json:"estimated"`
	Worker        string       `json:"worker"`
	// Partial: the client went away mid-stream; the tokens are those
	// generated until the keeper saw it go (see package gateway). Encoded
	// only by VersionPartial, after Worker.
	Partial bool `json:"partial" borsh_skip:"true"`
}

// NewVersion is the version a receipt with this partial flag is written
// with.
func NewVersion(partial bool) uint8 {
	if partial {
		return VersionPartial
	}
	return Version
}

// ServedAt is the time the run was admitted.
func (r *Receipt) ServedAt() time.Time { return time.UnixMilli(r.ServedAtMs) }

// CompletedAt is the time the run's response was complete.
func (r *Receipt) CompletedAt() time.Time { return time.UnixMilli(r.CompletedAtMs) }

// Validate checks the invariants Decode and Sign rely on.
func (r *Receipt) Validate() error {
	switch {
	case r.Version != Version && r.Version != VersionPartial:
		return fmt.Errorf("%w: version %d", ErrInvalid, r.Version)
	case r.Partial && r.Version == Version:
		return fmt.Errorf("%w: a partial run needs version %d", ErrInvalid, VersionPartial)
	}
	if len(r.Models) == 0 || len(r.Models) > MaxModels {
		return fmt.Errorf("%w: %d models (want 1..%d)", ErrInvalid, len(r.Models), MaxModels)
	}
	var total uint32
	for i, m := range r.Models {
		if i > 0 && m.ModelID <= r.Models[i-1].ModelID {
			return fmt.Errorf("%w: models not in strictly ascending id order", ErrInvalid)
		}
		if m.WeightBps == 0 {
			return fmt.Errorf("%w: model %d has weight 0", ErrInvalid, m.ModelID)
		}
		total += uint32(m.WeightBps)
	}
	if total != WeightTotalBps {
		return fmt.Errorf("%w: weights sum to %d bps, want %d", ErrInvalid, total, WeightTotalBps)
	}
	if r.Kind > KindEmbedding {
		return fmt.Errorf("%w: kind %d", ErrInvalid, r.Kind)
	}
	if len(r.Worker) > MaxWorkerName {
		return fmt.Errorf("%w: worker name longer than %d bytes", ErrInvalid, MaxWorkerName)
	}
	if r.CompletedAtMs < r.ServedAtMs {
		return fmt.Errorf("%w: completed before served", ErrInvalid)
	}
	return nil
}

// Encode returns the canonical Borsh encoding.
func (r *Receipt) Encode() ([]byte, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	b, err := borsh.Serialize(*r)
	if err != nil {
		return nil, fmt.Errorf("encode receipt: %w", err)
	}
	if r.Version == VersionPartial {
		b = append(b, boolByte(r.Partial))
	}
	return b, nil
}

func boolByte(v bool) byte {
	if v {
		return 1
	}
	return 0
}

// Decode parses a canonical encoding produced by Encode.
func Decode(b []byte) (Receipt, error) {
	var r Receipt
	if err := precheck(b); err != nil {
		return r, err
	}
	body, flag := b, byte(0)
	if b[0] == VersionPartial {
		body, flag = b[:len(b)-1], b[len(b)-1]
		if flag > 1 {
			return r, fmt.Errorf("%w: partial flag %d", ErrInvalid, flag)
		}
	}
	if err := borsh.Deserialize(&r, body); err != nil {
		return r, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	r.Partial = flag == 1
	if err := r.Validate(); err != nil {
		return r, err
	}
	again, err := r.Encode()
	if err != nil || !bytes.Equal(again, b) {
		return r, fmt.Errorf("%w: not canonical (trailing or non-canonical bytes)", ErrInvalid)
	}
	return r, nil
}

// precheck walks the layout and checks every length prefix against the
// remaining input before the reflective decoder allocates anything.
func precheck(b []byte) error {
	if len(b) > MaxEncodedSize {
		return fmt.Errorf("%w: %d bytes (max %d)", ErrInvalid, len(b), MaxEncodedSize)
	}
	const head = 1 + 16 + 32 + 32
	if len(b) < head+4 {
		return fmt.Errorf("%w: truncated", ErrInvalid)
	}
	n := binary.LittleEndian.Uint32(b[head:])
	if n == 0 || n > MaxModels {
		return fmt.Errorf("%w: %d models", ErrInvalid, n)
	}
	off := head + 4 + int(n)*26 + 1 + 8*3 + 8*2 + 1
	if len(b) < off+4 {
		return fmt.Errorf("%w: truncated", ErrInvalid)
	}
	w := binary.LittleEndian.Uint32(b[off:])
	tail := 0
	if b[0] == VersionPartial {
		tail = 1
	}
	if w > MaxWorkerName || len(b) != off+4+int(w)+tail {
		return fmt.Errorf("%w: bad worker name length or trailing bytes", ErrInvalid)
	}
	return nil
}

// Signed is a receipt with the keeper's signature over its encoding.
type Signed struct {
	Receipt   Receipt
	Encoded   []byte
	Signature [64]byte
}

// SignMessage is the exact byte string the keeper signs for an encoding.
func SignMessage(encoded []byte) []byte {
	msg := make([]byte, 0, len(SignDomain)+len(encoded))
	msg = append(msg, SignDomain...)
	return append(msg, encoded...)
}

// Sign encodes r and signs it with key. r.Keeper is set to key's public key.
func Sign(r Receipt, key ed25519.PrivateKey) (Signed, error) {
	if len(key) != ed25519.PrivateKeySize {
		return Signed{}, errors.New("sign receipt: bad ed25519 private key")
	}
	copy(r.Keeper[:], key.Public().(ed25519.PublicKey))
	enc, err := r.Encode()
	if err != nil {
		return Signed{}, err
	}
	s := Signed{Receipt: r, Encoded: enc}
	copy(s.Signature[:], ed25519.Sign(key, SignMessage(enc)))
	return s, nil
}

// Verify checks the signature against the keeper key named in the receipt.
// Callers that trust one specific keeper must also compare Receipt.Keeper.
func (s *Signed) Verify() error {
	if !ed25519.Verify(ed25519.PublicKey(s.Receipt.Keeper[:]), SignMessage(s.Encoded), s.Signature[:]) {
		return ErrBadSignature
	}
	return nil
}

// Marshal is the storage form: the 64-byte signature followed by the encoding.
func (s *Signed) Marshal() []byte {
	out := make([]byte, 0, 64+len(s.Encoded))
	out = append(out, s.Signature[:]...)
	return append(out, s.Encoded...)
}

// UnmarshalSigned parses Marshal's output and verifies the signature.
func UnmarshalSigned(b []byte) (Signed, error) {
	var s Signed
	if len(b) < 64 {
		return s, fmt.Errorf("%w: signed receipt shorter than a signature", ErrInvalid)
	}
	copy(s.Signature[:], b[:64])
	r, err := Decode(b[64:])
	if err != nil {
		return s, err
	}
	s.Receipt = r
	s.Encoded = append([]byte(nil), b[64:]...)
	if err := s.Verify(); err != nil {
		return s, err
	}
	return s, nil
}

// Peek reads the escrow and cost of an encoded receipt without decoding or
// verifying it (for indexes rebuilt from stored receipts that were
// verified when written). It fails on input too short for the layout.
func Peek(encoded []byte) (escrow [32]byte, cost uint64, err error) {
	const head = 1 + 16 + 32
	if len(encoded) < head+32+4 {
		return escrow, 0, fmt.Errorf("%w: truncated", ErrInvalid)
	}
	copy(escrow[:], encoded[head:head+32])
	n := int(binary.LittleEndian.Uint32(encoded[head+32:]))
	if n > MaxModels {
		return escrow, 0, fmt.Errorf("%w: %d models", ErrInvalid, n)
	}
	off := head + 32 + 4 + n*26 + 1 + 16
	if len(encoded) < off+8 {
		return escrow, 0, fmt.Errorf("%w: truncated", ErrInvalid)
	}
	return escrow, binary.LittleEndian.Uint64(encoded[off:]), nil
}
