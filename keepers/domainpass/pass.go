// Package domainpass is the front door's signed pass on a request it
// routes to a member of its domain. A member keeper configured with the
// front door's key serves its domain's lane only for requests carrying a
// valid pass: the front door is the one place that reserves against the
// domain lane, so a user who went to a member directly could otherwise be
// served beyond what the front door reserved.
//
// A pass binds the escrow, the exact request body and a time; it is valid
// for MaxAge around the member's clock and only once (Verifier remembers
// the nonces it accepted for MaxAge), so it cannot be replayed or moved to
// another body or key. It proves nothing about money: the member still
// authenticates the API key and admits against its own view of the lane.
package domainpass

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Header carries the pass.
const Header = "X-Domain-Pass"

// MaxAge bounds how far a pass's time may be from the member's clock.
const MaxAge = time.Minute

const (
	version = "v1"
	domain  = "modelcommons-domain-pass-v1\n"
)

// Named reasons a pass is refused.
var (
	ErrMissing   = errors.New("no domain pass")
	ErrMalformed = errors.New("malformed domain pass")
	ErrSignature = errors.New("domain pass not signed by the front door")
	ErrExpired   = errors.New("domain pass outside its time window")
	ErrReplayed  = errors.New("domain pass already used")
)

func message(escrow [32]byte, ms int64, nonce []byte, body []byte) []byte {
	h := sha256.Sum256(body)
	m := make([]byte, 0, len(domain)+32+8+len(nonce)+32)
	m = append(m, domain...)
	m = append(m, escrow[:]...)
	m = binary.BigEndian.AppendUint64(m, uint64(ms))
	m = append(m, nonce...)
	return append(m, h[:]...)
}

// Sign returns the header value for a request on escrow with body.
func Sign(key ed25519.PrivateKey, escrow [32]byte, body []byte, now time.Time) string {
	nonce := make([]byte, 16)
	_, _ = rand.Read(nonce)
	ms := now.UnixMilli()
	sig := ed25519.Sign(key, message(escrow, ms, nonce, body))
	return strings.Join([]string{version, strconv.FormatInt(ms, 10), hex.EncodeToString(nonce), base64.RawURLEncoding.EncodeToString(sig)}, ".")
}

// Verifier checks passes signed by one front door key.
type Verifier struct {
	key ed25519.PublicKey
	now func() time.Time

	mu   sync.Mutex
	seen map[[16]byte]time.Time
}

// NewVerifier accepts passes signed by key; now defaults to time.Now.
func NewVerifier(key ed25519.PublicKey, now func() time.Time) *Verifier {
	if now == nil {
		now = time.Now
	}
	return &Verifier{key: key, now: now, seen: map[[16]byte]time.Time{}}
}

// Verify checks the header value against the request's escrow and body and
// uses up its nonce.
func (v *Verifier) Verify(value string, escrow [32]byte, body []byte) error {
	if value == "" {
		return ErrMissing
	}
	parts := strings.Split(value, ".")
	if len(parts) != 4 || parts[0] != version {
		return ErrMalformed
	}
	ms, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil {
		return ErrMalformed
	}
	nonce, err := hex.DecodeString(parts[2])
	if err != nil || len(nonce) != 16 {
		return ErrMalformed
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[3])
	if err != nil || len(sig) != ed25519.SignatureSize {
		return ErrMalformed
	}
	if !ed25519.Verify(v.key, message(escrow, ms, nonce, body), sig) {
		return ErrSignature
	}
	now := v.now()
	at := time.UnixMilli(ms)
	if d := now.Sub(at); d > MaxAge || d < -MaxAge {
		return fmt.Errorf("%w: signed at %s, member clock %s", ErrExpired, at.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	var n [16]byte
	copy(n[:], nonce)
	v.mu.Lock()
	defer v.mu.Unlock()
	if _, dup := v.seen[n]; dup {
		return ErrReplayed
	}
	// Nonces older than twice the window can no longer pass the time check.
	if len(v.seen) > 4096 {
		for k, t := range v.seen {
			if now.Sub(t) > 2*MaxAge {
				delete(v.seen, k)
			}
		}
	}
	v.seen[n] = now
	return nil
}
