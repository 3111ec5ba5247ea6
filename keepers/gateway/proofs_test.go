package gateway

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/gagliardetto/solana-go"

	"github.com/modelcommons/modelcommons/keepers/receipts"
)

// GET /v1/receipts/proofs asks the proof source for the caller's escrow
// only (the escrow comes from the API key), with the page's cursor and
// limit; bad input and a failing source get OpenAI-style errors.
func TestReceiptProofsEndpoint(t *testing.T) {
	type call struct {
		escrow solana.PublicKey
		after  receipts.RunID
		limit  int
	}
	var calls []call
	fail := false
	h := newHarness(t, harnessOpts{mutate: func(c *Config) {
		c.ReceiptProofs = func(escrow solana.PublicKey, after receipts.RunID, limit int) (any, error) {
			calls = append(calls, call{escrow, after, limit})
			if fail {
				return nil, errors.New("disk on fire")
			}
			return []map[string]string{{"run_id": "r1", "escrow": escrow.String()}}, nil
		}
	}})
	after := receipts.NewRunID()
	resp := h.do("GET", "/v1/receipts/proofs?limit=7&after="+after.String(), keyRich, "")
	var got []map[string]string
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil || resp.StatusCode != 200 {
		t.Fatalf("status %d, %v", resp.StatusCode, err)
	}
	if len(calls) != 1 || calls[0] != (call{EscrowAddress(keyRich), after, 7}) || got[0]["escrow"] != EscrowAddress(keyRich).String() {
		t.Fatalf("calls %+v, body %+v", calls, got)
	}
	for _, c := range []struct {
		path, key string
		status    int
		code      string
	}{
		{"/v1/receipts/proofs", "", 401, ""},
		{"/v1/receipts/proofs", keyUnknown, 401, ""},
		{"/v1/receipts/proofs?limit=0", keyRich, 400, ""},
		{"/v1/receipts/proofs?limit=1001", keyRich, 400, ""},
		{"/v1/receipts/proofs?after=zz", keyRich, 400, ""},
	} {
		r := h.do("GET", c.path, c.key, "")
		if r.StatusCode != c.status {
			t.Errorf("%s with key %q: %d, want %d", c.path, c.key, r.StatusCode, c.status)
		}
		if e := apiErr(t, r); e.Message == "" {
			t.Errorf("%s: no OpenAI-style error message", c.path)
		}
	}
	if len(calls) != 1 {
		t.Fatalf("the proof source was asked for rejected requests: %+v", calls)
	}
	fail = true
	if r := h.do("GET", "/v1/receipts/proofs", keyRich, ""); r.StatusCode != 500 {
		t.Fatalf("failing source: %d", r.StatusCode)
	}

	// Without a proof source the endpoint does not exist.
	h2 := newHarness(t, harnessOpts{})
	if r := h2.do("GET", "/v1/receipts/proofs", keyRich, ""); r.StatusCode != 404 {
		t.Fatalf("no proof source: %d", r.StatusCode)
	}
}
