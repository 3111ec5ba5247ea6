package domainpass

import (
	"crypto/ed25519"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestPass(t *testing.T) {
	pub, key, _ := ed25519.GenerateKey(nil)
	_, other, _ := ed25519.GenerateKey(nil)
	now := time.Unix(1_800_000_000, 0)
	escrow := [32]byte{7}
	body := []byte(`{"model":"tiny"}`)
	clock := func() time.Time { return now }

	cases := []struct {
		name   string
		value  string
		escrow [32]byte
		body   []byte
		want   error
	}{
		{"valid", Sign(key, escrow, body, now), escrow, body, nil},
		{"missing", "", escrow, body, ErrMissing},
		{"garbage", "v1.x.y.z", escrow, body, ErrMalformed},
		{"other key", Sign(other, escrow, body, now), escrow, body, ErrSignature},
		{"other escrow", Sign(key, escrow, body, now), [32]byte{8}, body, ErrSignature},
		{"other body", Sign(key, escrow, body, now), escrow, []byte(`{"model":"big"}`), ErrSignature},
		{"too old", Sign(key, escrow, body, now.Add(-2*MaxAge)), escrow, body, ErrExpired},
		{"from the future", Sign(key, escrow, body, now.Add(2*MaxAge)), escrow, body, ErrExpired},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := NewVerifier(pub, clock).Verify(c.value, c.escrow, c.body)
			if !errors.Is(err, c.want) {
				t.Fatalf("Verify = %v, want %v", err, c.want)
			}
		})
	}
}

func TestPassIsSingleUse(t *testing.T) {
	pub, key, _ := ed25519.GenerateKey(nil)
	v := NewVerifier(pub, nil)
	p := Sign(key, [32]byte{1}, []byte("b"), time.Now())
	if err := v.Verify(p, [32]byte{1}, []byte("b")); err != nil {
		t.Fatal(err)
	}
	if err := v.Verify(p, [32]byte{1}, []byte("b")); !errors.Is(err, ErrReplayed) {
		t.Fatalf("second use = %v, want ErrReplayed", err)
	}
	// A tampered signature is a bad signature, not a malformed pass.
	q := Sign(key, [32]byte{1}, []byte("b"), time.Now())
	q = q[:len(q)-2] + strings.Repeat("A", 2)
	if err := v.Verify(q, [32]byte{1}, []byte("b")); !errors.Is(err, ErrSignature) && !errors.Is(err, ErrMalformed) {
		t.Fatalf("tampered = %v", err)
	}
}
