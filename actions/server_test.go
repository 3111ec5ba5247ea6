package actions

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/rpc"

	"github.com/modelcommons/modelcommons/clients/pda"
)

// offline is a server whose cluster cannot be reached: everything that
// does not read the chain still works; everything that does is a 502.
func offline(t *testing.T) http.Handler {
	t.Helper()
	return offlineServer(t, 0).Handler()
}

func offlineServer(t *testing.T, maxInFlight int) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	ln.Close()
	s, err := New(context.Background(), Config{
		RPC: rpc.New(dead), BaseURL: "https://actions.example.org", ChainID: "solana:test", MaxInFlight: maxInFlight,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Past MaxInFlight requests at once, the answer is a 503 in the spec's error shape.
func TestBusy(t *testing.T) {
	s := offlineServer(t, 1)
	s.inFlight <- struct{}{} // one request is being served
	rec := serve(s.Handler(), http.MethodGet, "/actions.json", nil, nil)
	wantErrorBody(t, rec, http.StatusServiceUnavailable, "busy")
	if rec.Header().Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}
	if rec := serve(s.Handler(), http.MethodOptions, "/actions.json", nil, nil); rec.Code != http.StatusNoContent {
		t.Errorf("a preflight was refused while busy: %d", rec.Code)
	}
	<-s.inFlight
	if rec := serve(s.Handler(), http.MethodGet, "/actions.json", nil, nil); rec.Code != http.StatusOK {
		t.Errorf("not served once free: %d", rec.Code)
	}
}

func serve(h http.Handler, method, path string, body []byte, header map[string]string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func wantHeaders(t *testing.T, rec *httptest.ResponseRecorder) {
	t.Helper()
	h := rec.Header()
	for name, want := range map[string]string{
		"Access-Control-Allow-Origin":   "*",
		"Access-Control-Allow-Methods":  "GET,POST,PUT,OPTIONS",
		"Access-Control-Expose-Headers": "X-Action-Version, X-Blockchain-Ids",
		"X-Action-Version":              SpecVersion,
		"X-Blockchain-Ids":              "solana:test",
	} {
		if got := h.Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	for _, allowed := range []string{"Content-Type", "Authorization", "Content-Encoding", "Accept-Encoding", "X-Action-Version", "X-Blockchain-Ids", "X-Accept-Action-Version", "X-Accept-Blockchain-Ids"} {
		if !strings.Contains(h.Get("Access-Control-Allow-Headers"), allowed) {
			t.Errorf("Access-Control-Allow-Headers lacks %s", allowed)
		}
	}
}

func wantErrorBody(t *testing.T, rec *httptest.ResponseRecorder, status int, says string) {
	t.Helper()
	wantHeaders(t, rec)
	if rec.Code != status {
		t.Fatalf("status %d, want %d: %s", rec.Code, status, rec.Body)
	}
	var body map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || len(body) != 1 {
		t.Fatalf("body %s is not an ActionError", rec.Body)
	}
	if msg, _ := body["message"].(string); !strings.Contains(msg, says) {
		t.Errorf("message %q does not say %q", msg, says)
	}
}

func TestActionsJSONAndPreflight(t *testing.T) {
	h := offline(t)
	rec := serve(h, http.MethodGet, "/actions.json", nil, nil)
	wantHeaders(t, rec)
	var rules ActionsJSON
	if err := json.Unmarshal(rec.Body.Bytes(), &rules); err != nil || len(rules.Rules) != 2 {
		t.Fatalf("actions.json: %s", rec.Body)
	}
	if rules.Rules[0] != (Rule{PathPattern: "/models/**", APIPath: "/api/actions/models/**"}) {
		t.Errorf("rule %+v", rules.Rules[0])
	}
	for _, path := range []string{"/actions.json", "/api/actions/models/0/contribute", "/api/actions/models/0/contribute/next", "/anything"} {
		rec := serve(h, http.MethodOptions, path, nil, map[string]string{
			"Origin": "https://wallet.example", "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type",
		})
		wantHeaders(t, rec)
		if rec.Code != http.StatusNoContent {
			t.Errorf("OPTIONS %s: %d", path, rec.Code)
		}
	}
}

func TestRequestErrors(t *testing.T) {
	h := offline(t)
	contribute := "/api/actions/models/0/contribute?amount=1"
	wallet := solana.NewWallet().PublicKey().String()
	for _, tc := range []struct {
		name, method, path string
		body               []byte
		status             int
		says               string
	}{
		{"unknown path", http.MethodGet, "/api/actions/nothing", nil, http.StatusNotFound, "no action"},
		{"PUT", http.MethodPut, contribute, []byte(`{}`), http.StatusMethodNotAllowed, "GET, POST"},
		{"POST to the overview", http.MethodPost, "/api/actions/models/0", []byte(`{}`), http.StatusMethodNotAllowed, "GET only"},
		{"GET a callback", http.MethodGet, "/api/actions/models/0/contribute/next", nil, http.StatusMethodNotAllowed, "POST only"},
		{"not JSON", http.MethodPost, contribute, []byte(`account=x`), http.StatusBadRequest, `{"account"`},
		{"no account", http.MethodPost, contribute, []byte(`{"data":{"amount":"1"}}`), http.StatusBadRequest, `no "account"`},
		{"not an address", http.MethodPost, contribute, []byte(`{"account":"0OIl"}`), http.StatusBadRequest, "not a Solana address"},
		{"a PDA cannot sign", http.MethodPost, contribute, []byte(`{"account":"` + pda.Model(0).String() + `"}`), http.StatusBadRequest, "not a wallet"},
		{"nested data", http.MethodPost, contribute, []byte(`{"account":"` + wallet + `","data":{"slippage":["1","2"]}}`), http.StatusBadRequest, "single value"},
		{"too large", http.MethodPost, contribute, []byte(`{"account":"` + strings.Repeat("x", 20<<10) + `"}`), http.StatusRequestEntityTooLarge, "larger than"},
		{"cluster down", http.MethodPost, contribute, []byte(`{"account":"` + wallet + `"}`), http.StatusBadGateway, "could not be reached"},
		{"cluster down (GET)", http.MethodGet, "/api/actions/models/0", nil, http.StatusBadGateway, "could not be reached"},
		{"bad model id", http.MethodGet, "/api/actions/models/x/claim", nil, http.StatusNotFound, "whole numbers"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := serve(h, tc.method, tc.path, tc.body, map[string]string{"Content-Type": "application/json"})
			wantErrorBody(t, rec, tc.status, tc.says)
			if tc.status == http.StatusMethodNotAllowed && rec.Header().Get("Allow") == "" {
				t.Error("405 without Allow")
			}
		})
	}
}

func TestGzip(t *testing.T) {
	h := offline(t)
	// A long error message is compressed like any JSON answer.
	long := "/api/actions/" + strings.Repeat("a", 700)
	rec := serve(h, http.MethodGet, long, nil, map[string]string{"Accept-Encoding": "br, gzip;q=0.8"})
	if rec.Header().Get("Content-Encoding") != "gzip" {
		t.Fatalf("Content-Encoding %q", rec.Header().Get("Content-Encoding"))
	}
	zr, err := gzip.NewReader(rec.Body)
	if err != nil {
		t.Fatal(err)
	}
	var e ActionError
	if err := json.NewDecoder(zr).Decode(&e); err != nil || !strings.Contains(e.Message, "no action") {
		t.Fatalf("decompressed: %+v, %v", e, err)
	}
	if rec := serve(h, http.MethodGet, long, nil, map[string]string{"Accept-Encoding": "gzip;q=0"}); rec.Header().Get("Content-Encoding") != "" {
		t.Error("compressed although the client refused gzip")
	}
}

func TestConfig(t *testing.T) {
	for _, base := range []string{"", "ftp://x.org", "https://", "https://x.org/prefix", "https://x.org/?a=1", "x.org"} {
		if _, err := origin(base); err == nil {
			t.Errorf("base URL %q accepted", base)
		}
	}
	for base, want := range map[string]string{"https://x.org": "https://x.org", "http://127.0.0.1:8080/": "http://127.0.0.1:8080"} {
		if got, err := origin(base); err != nil || got != want {
			t.Errorf("origin(%q) = %q, %v", base, got, err)
		}
	}
	_, err := New(context.Background(), Config{RPC: rpc.New("http://127.0.0.1:1"), BaseURL: "https://x.org", ChainID: "solana:x", IconURL: "icon.png"})
	if err == nil {
		t.Error("a relative icon URL was accepted")
	}
}

// The CAIP-2 ids agree with the ones @solana/actions ships for the public clusters.
func TestChainID(t *testing.T) {
	for genesis, want := range map[string]string{
		"5eykt4UsFv8P8NJdTREpY1vzqKqZKvdpKuc147dw2N9d": "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp",
		"EtWTRABZaYq6iMfeYKouRu166VU2xqa1wcaWoxPkrZBG": "solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1",
		"4uhcVJyU9pJkvQyS88uRDiswHXSCkY3zQawwpjk2NsNY": "solana:4uhcVJyU9pJkvQyS88uRDiswHXSCkY3z",
	} {
		if got := ChainID(solana.MustHashFromBase58(genesis)); got != want {
			t.Errorf("ChainID(%s) = %s, want %s", genesis, got, want)
		}
	}
}
