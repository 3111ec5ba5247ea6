// Package actions_test drives the Solana Actions endpoint (package actions)
// against the local chain the way a wallet does: fetch an action's
// metadata, POST the wallet's address, check the returned transaction,
// sign it with the wallet's key, send it and check what changed on chain.
package actions_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gagliardetto/solana-go"
	computebudget "github.com/gagliardetto/solana-go/programs/compute-budget"
	"github.com/gagliardetto/solana-go/rpc"

	"github.com/modelcommons/modelcommons/actions"
	meter "github.com/modelcommons/modelcommons/clients/inference_meter"
	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
	"github.com/modelcommons/modelcommons/clients/tokens"
	"github.com/modelcommons/modelcommons/clients/txsend"
	"github.com/modelcommons/modelcommons/localnet/golocal"
	"github.com/modelcommons/modelcommons/tests/treasury"
)

const (
	native = treasury.NativeUnit
	mtUnit = treasury.MtUnit
)

// harness is a local chain with the protocol initialised and an actions
// server in front of it.
type harness struct {
	t    *testing.T
	ctx  context.Context
	env  *treasury.Env
	srv  *actions.Server
	base string
	http *http.Client
}

// newHarness starts a chain and a server configured by cfg (RPC and BaseURL are filled in).
func newHarness(t *testing.T, configure func(*actions.Config)) *harness {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	t.Cleanup(cancel)
	chain := golocal.Start(t)
	sender := txsend.New(txsend.Config{
		RPC:          chain.RPC,
		Errors:       txsend.Tables{mt.ProgramID: mt.Errors, meter.ProgramID: meter.Errors},
		PollInterval: 50 * time.Millisecond,
	})
	env, err := treasury.Setup(ctx, chain, sender, solana.TokenProgramID)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, ctx: ctx, env: env, http: &http.Client{Timeout: 30 * time.Second}}
	h.srv, h.base = h.serve(configure)
	return h
}

// serve starts another actions server on the harness's chain.
func (h *harness) serve(configure func(*actions.Config)) (*actions.Server, string) {
	h.t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		h.t.Fatal(err)
	}
	cfg := actions.Config{
		RPC:     h.env.Chain.RPC,
		BaseURL: "http://" + ln.Addr().String(),
		Logger:  slog.New(slog.NewTextHandler(testWriter{h.t}, &slog.HandlerOptions{Level: slog.LevelWarn})),
	}
	if configure != nil {
		configure(&cfg)
	}
	srv, err := actions.New(h.ctx, cfg)
	if err != nil {
		h.t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	h.t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			h.t.Errorf("actions server: %v", err)
		}
	})
	return srv, cfg.BaseURL
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// launch launches a model with args and returns its id and address.
func (h *harness) launch(args mt.LaunchModelArgs) (uint64, solana.PublicKey) {
	h.t.Helper()
	p, err := h.env.Protocol(h.ctx)
	if err != nil {
		h.t.Fatal(err)
	}
	creator := h.wallet(10 * native)
	model, err := h.env.Launch(h.ctx, creator, args)
	if err != nil {
		h.t.Fatal(err)
	}
	return p.ModelCount, model
}

// wallet is a new key with 10 SOL and native base units.
func (h *harness) wallet(nativeAmount uint64) solana.PrivateKey {
	h.t.Helper()
	w, err := h.env.Wallet(h.ctx, nativeAmount)
	if err != nil {
		h.t.Fatal(err)
	}
	return w
}

func (h *harness) now() time.Time {
	h.t.Helper()
	now, err := h.env.Chain.Now(h.ctx)
	if err != nil {
		h.t.Fatal(err)
	}
	return now
}

func (h *harness) travel(to time.Time) {
	h.t.Helper()
	if err := h.env.WaitUntil(h.ctx, to); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) balance(account solana.PublicKey) uint64 {
	h.t.Helper()
	b, err := tokens.Balance(h.ctx, h.env.Chain.RPC, account)
	if err != nil {
		h.t.Fatalf("balance of %s: %v", account, err)
	}
	return b
}

// response is an HTTP answer.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

func (h *harness) do(method, url string, body any) response {
	h.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			h.t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(h.ctx, method, url, rd)
	if err != nil {
		h.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := h.http.Do(req)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	return response{Status: res.StatusCode, Header: res.Header, Body: data}
}

// url is base + path.
func (h *harness) url(path string) string { return h.base + path }

// exists reports whether an account is on chain.
func (h *harness) exists(addr solana.PublicKey) bool {
	h.t.Helper()
	res, err := h.env.Chain.RPC.GetBalance(h.ctx, addr, rpc.CommitmentConfirmed)
	if err != nil {
		h.t.Fatal(err)
	}
	return res.Value > 0
}

// getAction fetches an action's metadata and checks the spec's required fields.
func (h *harness) getAction(path string) actions.Action {
	h.t.Helper()
	res := h.do(http.MethodGet, h.url(path), nil)
	if res.Status != http.StatusOK {
		h.t.Fatalf("GET %s: status %d: %s", path, res.Status, res.Body)
	}
	wantActionHeaders(h.t, res.Header)
	var a actions.Action
	if err := json.Unmarshal(res.Body, &a); err != nil {
		h.t.Fatalf("GET %s: %v: %s", path, err, res.Body)
	}
	if a.Type != "action" || a.Icon == "" || a.Title == "" || a.Description == "" || a.Label == "" {
		h.t.Fatalf("GET %s: incomplete action metadata: %s", path, res.Body)
	}
	if !strings.HasPrefix(a.Icon, "http://") && !strings.HasPrefix(a.Icon, "https://") {
		h.t.Errorf("GET %s: icon %q is not an absolute URL", path, a.Icon)
	}
	if a.Links != nil {
		for _, l := range a.Links.Actions {
			if l.Type != "transaction" || l.Label == "" || !strings.HasPrefix(l.Href, h.base+"/api/actions/") {
				h.t.Errorf("GET %s: bad linked action %+v", path, l)
			}
		}
	}
	return a
}

// link finds the linked action labelled label.
func link(t *testing.T, a actions.Action, label string) actions.LinkedAction {
	t.Helper()
	if a.Links != nil {
		for _, l := range a.Links.Actions {
			if l.Label == label {
				return l
			}
		}
	}
	t.Fatalf("action %q has no linked action %q: %+v", a.Title, label, a.Links)
	return actions.LinkedAction{}
}

// fill replaces an href's {parameter} placeholders, as a client does.
func fill(href string, params map[string]string) string {
	for k, v := range params {
		href = strings.ReplaceAll(href, "{"+k+"}", v)
	}
	return href
}

// post POSTs {"account": wallet} (plus data) to an absolute action URL.
func (h *harness) post(url string, wallet solana.PublicKey, data map[string]any) response {
	h.t.Helper()
	body := map[string]any{"account": wallet.String()}
	if data != nil {
		body["data"] = data
	}
	return h.do(http.MethodPost, url, body)
}

// transaction POSTs as wallet and checks the answer is a well-formed,
// unsigned transaction that only wallet signs and pays for.
func (h *harness) transaction(url string, wallet solana.PublicKey, data map[string]any) (actions.TransactionResponse, *solana.Transaction) {
	h.t.Helper()
	res := h.post(url, wallet, data)
	if res.Status != http.StatusOK {
		h.t.Fatalf("POST %s: status %d: %s", url, res.Status, res.Body)
	}
	wantActionHeaders(h.t, res.Header)
	var tr actions.TransactionResponse
	if err := json.Unmarshal(res.Body, &tr); err != nil {
		h.t.Fatal(err)
	}
	if tr.Type != "transaction" || tr.Message == "" {
		h.t.Errorf("POST %s: response %s", url, res.Body)
	}
	raw, err := base64.StdEncoding.DecodeString(tr.Transaction)
	if err != nil {
		h.t.Fatalf("transaction is not base64: %v", err)
	}
	tx, err := solana.TransactionFromBytes(raw)
	if err != nil {
		h.t.Fatalf("transaction does not decode: %v", err)
	}
	msg := tx.Message
	if msg.Header.NumRequiredSignatures != 1 || len(tx.Signatures) != 1 || !tx.Signatures[0].IsZero() {
		h.t.Errorf("want one empty signature slot, got %d required, %d signatures", msg.Header.NumRequiredSignatures, len(tx.Signatures))
	}
	if !msg.AccountKeys[0].Equals(wallet) {
		h.t.Errorf("fee payer %s, want the wallet %s", msg.AccountKeys[0], wallet)
	}
	if msg.RecentBlockhash.IsZero() {
		h.t.Error("no blockhash")
	}
	wantComputeBudget(h.t, tx)
	return tr, tx
}

// wantComputeBudget checks the two compute-budget instructions in front:
// a unit limit below the maximum (taken from a simulation) and a price.
func wantComputeBudget(t *testing.T, tx *solana.Transaction) (unitLimit uint32, unitPrice uint64) {
	t.Helper()
	if len(tx.Message.Instructions) < 3 {
		t.Fatalf("only %d instructions", len(tx.Message.Instructions))
	}
	var limit, price bool
	for _, cix := range tx.Message.Instructions[:2] {
		prog, err := tx.Message.Program(cix.ProgramIDIndex)
		if err != nil || !prog.Equals(solana.ComputeBudget) {
			t.Fatalf("instruction for %s where a compute-budget instruction belongs", prog)
		}
		accounts, _ := cix.ResolveInstructionAccounts(&tx.Message)
		decoded, err := computebudget.DecodeInstruction(accounts, cix.Data)
		if err != nil {
			t.Fatal(err)
		}
		switch ix := decoded.Impl.(type) {
		case *computebudget.SetComputeUnitLimit:
			limit, unitLimit = true, ix.Units
			if ix.Units == 0 || ix.Units >= 1_400_000 {
				t.Errorf("unit limit %d is not taken from a simulation", ix.Units)
			}
		case *computebudget.SetComputeUnitPrice:
			price, unitPrice = true, ix.MicroLamports
		}
	}
	if !limit || !price {
		t.Errorf("compute-budget instructions: limit %v, price %v", limit, price)
	}
	return unitLimit, unitPrice
}

// sign signs tx with the wallet's key, sends it and waits until it landed.
func (h *harness) sign(tx *solana.Transaction, key solana.PrivateKey) solana.Signature {
	h.t.Helper()
	if _, err := tx.Sign(func(k solana.PublicKey) *solana.PrivateKey {
		if k.Equals(key.PublicKey()) {
			return &key
		}
		return nil
	}); err != nil {
		h.t.Fatalf("sign: %v", err)
	}
	rpcc := h.env.Chain.RPC
	sig, err := rpcc.SendTransactionWithOpts(h.ctx, tx, rpc.TransactionOpts{PreflightCommitment: rpc.CommitmentConfirmed})
	if err != nil {
		h.t.Fatalf("send: %v", err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		res, err := rpcc.GetSignatureStatuses(h.ctx, true, sig)
		if err == nil && len(res.Value) == 1 && res.Value[0] != nil {
			if res.Value[0].Err != nil {
				h.t.Fatalf("transaction %s failed: %v", sig, res.Value[0].Err)
			}
			return sig
		}
		time.Sleep(100 * time.Millisecond)
	}
	h.t.Fatalf("transaction %s did not land", sig)
	return sig
}

// act is what a wallet does for one button: POST, sign, send.
func (h *harness) act(url string, key solana.PrivateKey, data map[string]any) (actions.TransactionResponse, solana.Signature) {
	h.t.Helper()
	tr, tx := h.transaction(url, key.PublicKey(), data)
	return tr, h.sign(tx, key)
}

// next follows the chained action after a confirmed transaction.
func (h *harness) next(tr actions.TransactionResponse, wallet solana.PublicKey, sig solana.Signature) actions.Action {
	h.t.Helper()
	if tr.Links == nil || tr.Links.Next.Type != "post" || !strings.HasPrefix(tr.Links.Next.Href, h.base) {
		h.t.Fatalf("no same-origin links.next: %+v", tr.Links)
	}
	res := h.do(http.MethodPost, tr.Links.Next.Href, map[string]string{"account": wallet.String(), "signature": sig.String()})
	if res.Status != http.StatusOK {
		h.t.Fatalf("POST %s: %d %s", tr.Links.Next.Href, res.Status, res.Body)
	}
	var a actions.Action
	if err := json.Unmarshal(res.Body, &a); err != nil {
		h.t.Fatal(err)
	}
	if a.Type != "completed" || a.Links != nil {
		h.t.Errorf("next action: %s", res.Body)
	}
	return a
}

// refused POSTs and wants the spec's error shape with status want; it
// returns the message.
func (h *harness) refused(url string, wallet solana.PublicKey, data map[string]any, want int) string {
	h.t.Helper()
	return wantError(h.t, h.post(url, wallet, data), want)
}

func wantError(t *testing.T, res response, want int) string {
	t.Helper()
	if res.Status != want {
		t.Fatalf("status %d, want %d: %s", res.Status, want, res.Body)
	}
	wantActionHeaders(t, res.Header)
	var e map[string]any
	if err := json.Unmarshal(res.Body, &e); err != nil {
		t.Fatalf("error body is not JSON: %s", res.Body)
	}
	msg, ok := e["message"].(string)
	if !ok || msg == "" || len(e) != 1 {
		t.Fatalf(`error body %s is not {"message": "…"}`, res.Body)
	}
	return msg
}

// wantActionHeaders checks the CORS and protocol headers every response carries.
func wantActionHeaders(t *testing.T, h http.Header) {
	t.Helper()
	for name, want := range map[string]string{
		"Access-Control-Allow-Origin":  "*",
		"Access-Control-Allow-Methods": "GET,POST,PUT,OPTIONS",
	} {
		if got := h.Get(name); got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
	for name, parts := range map[string][]string{
		"Access-Control-Allow-Headers":  {"Content-Type", "Authorization", "Content-Encoding", "Accept-Encoding", "X-Action-Version", "X-Blockchain-Ids"},
		"Access-Control-Expose-Headers": {"X-Action-Version", "X-Blockchain-Ids"},
	} {
		for _, p := range parts {
			if !strings.Contains(h.Get(name), p) {
				t.Errorf("%s %q lacks %s", name, h.Get(name), p)
			}
		}
	}
	if h.Get("X-Action-Version") == "" || !strings.HasPrefix(h.Get("X-Blockchain-Ids"), "solana:") {
		t.Errorf("X-Action-Version %q, X-Blockchain-Ids %q", h.Get("X-Action-Version"), h.Get("X-Blockchain-Ids"))
	}
}

func wantContains(t *testing.T, what, got string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(got, p) {
			t.Errorf("%s %q does not mention %q", what, got, p)
		}
	}
}
