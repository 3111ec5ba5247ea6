package keeper

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/gagliardetto/solana-go"

	im "github.com/modelcommons/modelcommons/clients/inference_meter"
)

// Proxy is a JSON-RPC proxy in front of a chain that injects the faults a
// keeper meets on a real cluster: the endpoint down, settle transactions
// dropped on the way to the leader, a settle whose answer is lost after
// the transaction went through. Other transactions (lookup tables) pass.
type Proxy struct {
	URL    string
	target string
	ln     net.Listener
	srv    *http.Server

	down       atomic.Bool
	dropSends  atomic.Bool
	loseAnswer atomic.Bool
	sends      atomic.Int64 // sendTransaction calls seen
	forwarded  atomic.Int64 // sendTransaction calls forwarded
	mu         sync.Mutex
	dropped    []*solana.Transaction
}

// NewProxy listens on 127.0.0.1 and forwards to target.
func NewProxy(target string) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Proxy{URL: "http://" + ln.Addr().String(), target: target, ln: ln}
	p.srv = &http.Server{Handler: p}
	go func() { _ = p.srv.Serve(ln) }()
	return p, nil
}

// Close stops the proxy.
func (p *Proxy) Close() error { return p.srv.Close() }

// SetDown makes every request fail (HTTP 503) while on.
func (p *Proxy) SetDown(on bool) { p.down.Store(on) }

// SetDropSends makes sendTransaction answer with the transaction's
// signature without forwarding it, as when a leader drops it.
func (p *Proxy) SetDropSends(on bool) { p.dropSends.Store(on) }

// SetLoseAnswers forwards sendTransaction but answers the client with an
// error, as when the connection times out after the node accepted it.
func (p *Proxy) SetLoseAnswers(on bool) { p.loseAnswer.Store(on) }

// Sends is how many settle transactions arrived; Forwarded how many reached the chain.
func (p *Proxy) Sends() int64     { return p.sends.Load() }
func (p *Proxy) Forwarded() int64 { return p.forwarded.Load() }

type rpcRequest struct {
	JSONRPC string            `json:"jsonrpc"`
	ID      json.RawMessage   `json:"id"`
	Method  string            `json:"method"`
	Params  []json.RawMessage `json:"params"`
}

func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if p.down.Load() {
		http.Error(w, "proxy: endpoint down", http.StatusServiceUnavailable)
		return
	}
	var req rpcRequest
	_ = json.Unmarshal(body, &req)
	settle := false
	if req.Method == "sendTransaction" {
		tx := transactionOf(req)
		if tx == nil {
			http.Error(w, "proxy: undecodable transaction", http.StatusBadRequest)
			return
		}
		settle = isSettle(tx)
	}
	if settle {
		p.sends.Add(1)
		if p.dropSends.Load() {
			tx := transactionOf(req)
			p.mu.Lock()
			p.dropped = append(p.dropped, tx)
			p.mu.Unlock()
			writeResult(w, req.ID, tx.Signatures[0].String())
			return
		}
	}
	resp, err := http.Post(p.target, "application/json", bytes.NewReader(body))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	if settle {
		p.forwarded.Add(1)
		if p.loseAnswer.Load() {
			http.Error(w, "proxy: gateway timeout", http.StatusGatewayTimeout)
			return
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(out)
}

// isSettle reports whether tx carries an inference_meter settle instruction.
func isSettle(tx *solana.Transaction) bool {
	for _, ix := range tx.Message.Instructions {
		if len(ix.Data) >= 8 && bytes.Equal(ix.Data[:8], im.Instruction_Settle[:]) {
			return true
		}
	}
	return false
}

// Dropped returns the transactions dropped so far.
func (p *Proxy) Dropped() []*solana.Transaction {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]*solana.Transaction(nil), p.dropped...)
}

// transactionOf decodes a sendTransaction request's transaction (base64).
func transactionOf(req rpcRequest) *solana.Transaction {
	if len(req.Params) == 0 {
		return nil
	}
	var encoded string
	if json.Unmarshal(req.Params[0], &encoded) != nil {
		return nil
	}
	raw, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil {
		return nil
	}
	tx, err := solana.TransactionFromBytes(raw)
	if err != nil || len(tx.Signatures) == 0 {
		return nil
	}
	return tx
}

func writeResult(w http.ResponseWriter, id json.RawMessage, result any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"jsonrpc": "2.0", "id": id, "result": result})
}
