package actions

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/rpc"

	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
	chainrules "github.com/modelcommons/modelcommons/clients/rules"
)

// The review salt is the server's secret applied to one (submission,
// reviewer): each pair has its own, another secret gives another, and the
// reveal finds the committed choice from it.
func TestReviewSalt(t *testing.T) {
	s := &Server{cfg: Config{ReviewSecret: bytes.Repeat([]byte{1}, MinReviewSecret)}}
	other := &Server{cfg: Config{ReviewSecret: bytes.Repeat([]byte{2}, MinReviewSecret)}}
	sub, sub2 := solana.NewWallet().PublicKey(), solana.NewWallet().PublicKey()
	rev, rev2 := solana.NewWallet().PublicKey(), solana.NewWallet().PublicKey()
	salt := s.reviewSalt(sub, rev)
	if salt != s.reviewSalt(sub, rev) {
		t.Fatal("the salt is not deterministic: the server could not reveal")
	}
	for name, o := range map[string][32]byte{"submission": s.reviewSalt(sub2, rev), "reviewer": s.reviewSalt(sub, rev2), "secret": other.reviewSalt(sub, rev)} {
		if o == salt {
			t.Errorf("another %s gives the same salt", name)
		}
	}
	commitment := chainrules.ReviewCommitment(mt.ReviewChoice_Spam, salt, sub, rev)
	for _, ch := range []mt.ReviewChoice{mt.ReviewChoice_Approve, mt.ReviewChoice_Reject} {
		if chainrules.ReviewCommitment(ch, salt, sub, rev) == commitment {
			t.Errorf("%s matches a spam commitment", ch)
		}
	}
}

func TestReviewSecretConfig(t *testing.T) {
	_, err := New(context.Background(), Config{RPC: rpc.New("http://127.0.0.1:1"), BaseURL: "https://x.org", ChainID: "solana:x", ReviewSecret: []byte("short")})
	if err == nil || !strings.Contains(err.Error(), "review secret") {
		t.Errorf("a 5-byte review secret: %v", err)
	}
	s := offlineServer(t, 0)
	if why := s.reviewsTaken(); !strings.Contains(why, "--review-secret-file") {
		t.Errorf("a server without a secret takes reviews: %q", why)
	}
}

func TestWorkParameters(t *testing.T) {
	hash := strings.Repeat("aB", 32)
	for _, tc := range []struct {
		name   string
		params map[string]string
		says   string
	}{
		{"short hash", map[string]string{"content_hash": "abcd", "uri": "https://x"}, "64 hexadecimal digits"},
		{"not hex", map[string]string{"content_hash": strings.Repeat("zz", 32), "uri": "https://x"}, "64 hexadecimal digits"},
		{"zero hash", map[string]string{"content_hash": strings.Repeat("0", 64), "uri": "https://x"}, "all zeros"},
		{"no uri", map[string]string{"content_hash": hash}, "Enter the uri"},
		{"long uri", map[string]string{"content_hash": hash, "uri": "https://x/" + strings.Repeat("a", int(mt.MAX_SUBMISSION_URI_LEN))}, "at most"},
		{"control characters", map[string]string{"content_hash": hash, "uri": "https://x/\x1b[2J"}, "cannot be shown"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &call{params: tc.params}
			_, err := c.contentHash()
			if err == nil {
				_, err = c.uri()
			}
			if e := asError(err); err == nil || e.Status != http.StatusBadRequest || !strings.Contains(e.Message, tc.says) {
				t.Errorf("got %v, want a 400 saying %q", err, tc.says)
			}
		})
	}
	c := &call{params: map[string]string{"content_hash": " " + hash + " ", "uri": " https://example.org/w "}}
	if h, err := c.contentHash(); err != nil || h[0] != 0xab {
		t.Errorf("content_hash: %x, %v", h, err)
	}
	if u, err := c.uri(); err != nil || u != "https://example.org/w" {
		t.Errorf("uri: %q, %v", u, err)
	}
}

// The bounty URLs are routed (the offline cluster answers 502, not 404),
// with the right methods.
func TestBountyRoutes(t *testing.T) {
	h := offline(t)
	wallet := solana.NewWallet().PublicKey().String()
	sub := "/api/actions/models/0/bounties/0/submissions/" + wallet
	body := []byte(`{"account":"` + wallet + `"}`)
	for _, tc := range []struct {
		name, method, path string
		status             int
		says               string
	}{
		{"bounty", http.MethodGet, "/api/actions/models/0/bounties/0", http.StatusBadGateway, "could not be reached"},
		{"POST to the bounty", http.MethodPost, "/api/actions/models/0/bounties/0", http.StatusMethodNotAllowed, "GET only"},
		{"submit", http.MethodPost, "/api/actions/models/0/bounties/0/submit", http.StatusBadGateway, "could not be reached"},
		{"review", http.MethodPost, sub + "/review/approve", http.StatusBadGateway, "could not be reached"},
		{"reveal", http.MethodPost, sub + "/reveal", http.StatusBadGateway, "could not be reached"},
		{"reveal callback", http.MethodGet, sub + "/reveal/next", http.StatusMethodNotAllowed, "POST only"},
		{"PUT a review", http.MethodPut, sub + "/review/approve", http.StatusMethodNotAllowed, "GET, POST"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantErrorBody(t, serve(h, tc.method, tc.path, body, map[string]string{"Content-Type": "application/json"}), tc.status, tc.says)
		})
	}
}
