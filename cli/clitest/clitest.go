// Package clitest runs an `mt` command group in process for its tests,
// against a recording fake JSON-RPC endpoint, and checks the CLI's promise
// for bad input: the command fails with one line that says what is wrong
// and what to do, prints nothing on stdout, and sends nothing. Only tests
// import it.
package clitest

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/gagliardetto/solana-go"
	"github.com/urfave/cli/v2"

	"github.com/modelcommons/modelcommons/cli/argv"
	"github.com/modelcommons/modelcommons/cli/session"
	"github.com/modelcommons/modelcommons/clients/cluster"
	"github.com/modelcommons/modelcommons/clients/explain"
)

// Chain is a JSON-RPC endpoint that serves the accounts Put on it through
// getAccountInfo and getMultipleAccounts (any other account does not
// exist) and answers every other method with an error. It records the
// methods it was asked.
type Chain struct {
	URL      string
	mu       sync.Mutex
	methods  []string
	accounts map[solana.PublicKey]account
}

type account struct {
	owner solana.PublicKey
	data  []byte
}

// NewChain starts a Chain for the test.
func NewChain(t *testing.T) *Chain {
	t.Helper()
	c := &Chain{accounts: map[solana.PublicKey]account{}}
	srv := httptest.NewServer(http.HandlerFunc(c.serve))
	t.Cleanup(srv.Close)
	c.URL = srv.URL
	return c
}

func (c *Chain) serve(w http.ResponseWriter, r *http.Request) {
	var req struct {
		ID     any               `json:"id"`
		Method string            `json:"method"`
		Params []json.RawMessage `json:"params"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	c.mu.Lock()
	c.methods = append(c.methods, req.Method)
	c.mu.Unlock()
	answer := map[string]any{"jsonrpc": "2.0", "id": req.ID}
	switch req.Method {
	case "getAccountInfo":
		var addr solana.PublicKey
		if len(req.Params) > 0 {
			_ = json.Unmarshal(req.Params[0], &addr)
		}
		answer["result"] = map[string]any{"context": map[string]any{"slot": 1}, "value": c.encode(addr)}
	case "getMultipleAccounts":
		var addrs []solana.PublicKey
		if len(req.Params) > 0 {
			_ = json.Unmarshal(req.Params[0], &addrs)
		}
		values := make([]any, len(addrs))
		for i, a := range addrs {
			values[i] = c.encode(a)
		}
		answer["result"] = map[string]any{"context": map[string]any{"slot": 1}, "value": values}
	default:
		answer["error"] = map[string]any{"code": -32601, "message": "method not served by the test chain"}
	}
	_ = json.NewEncoder(w).Encode(answer)
}

// encode is the account at addr as getAccountInfo shows it (nil: none).
func (c *Chain) encode(addr solana.PublicKey) any {
	c.mu.Lock()
	a, ok := c.accounts[addr]
	c.mu.Unlock()
	if !ok {
		return nil
	}
	return map[string]any{
		"lamports": 1_000_000, "owner": a.owner.String(), "executable": false, "rentEpoch": 0,
		"data": []string{base64.StdEncoding.EncodeToString(a.data), "base64"},
	}
}

// Put makes the chain serve data, owned by owner, at addr.
func (c *Chain) Put(addr, owner solana.PublicKey, data []byte) {
	c.mu.Lock()
	c.accounts[addr] = account{owner: owner, data: slices.Clone(data)}
	c.mu.Unlock()
}

// PutAnchor puts an Anchor account: its discriminator, then v in Borsh.
func (c *Chain) PutAnchor(t *testing.T, addr, program solana.PublicKey, disc [8]byte, v interface{ Marshal() ([]byte, error) }) {
	t.Helper()
	body, err := v.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	c.Put(addr, program, append(disc[:], body...))
}

// PutMint puts an initialised SPL token mint with the given decimals and
// no mint or freeze authority.
func (c *Chain) PutMint(addr solana.PublicKey, decimals uint8) {
	data := make([]byte, 82) // the SPL mint layout
	data[44], data[45] = decimals, 1
	c.Put(addr, solana.TokenProgramID, data)
}

// Methods are the JSON-RPC methods the chain was asked, in order.
func (c *Chain) Methods() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.methods)
}

// Sent reports whether a transaction was sent or simulated.
func (c *Chain) Sent() bool {
	for _, m := range c.Methods() {
		if m == "sendTransaction" || m == "simulateTransaction" {
			return true
		}
	}
	return false
}

// Run runs `mt <args>` with only cmd's group and the common flags, as
// cmd/mt does (flags may follow arguments; usage mistakes are errors, not
// help text). On failure it returns the error as the CLI explains it and
// fails the test if stdout is not empty or the explanation is not one line
// (a list of problems: one line each).
func Run(t *testing.T, cmd *cli.Command, args ...string) (stdout string, e *explain.Explanation) {
	t.Helper()
	var out, errOut bytes.Buffer
	app := &cli.App{
		Name: "mt", Flags: session.CommonFlags(), Commands: []*cli.Command{cmd},
		Writer: &out, ErrWriter: &errOut, ExitErrHandler: func(*cli.Context, error) {},
		OnUsageError: func(_ *cli.Context, err error, _ bool) error { return err },
	}
	quiet(app.Commands)
	err := app.RunContext(context.Background(), argv.Reorder(app, append([]string{"mt"}, args...)))
	if err == nil {
		return out.String(), nil
	}
	line := strings.Join(args, " ")
	if out.Len() != 0 {
		t.Errorf("mt %s failed but printed %q", line, out.String())
	}
	ex := explain.Explain(err, explain.Context{})
	if !oneLineEach(ex.What) {
		t.Errorf("mt %s: the error is not one line (or a list of one-line problems): %q", line, ex.What)
	}
	return out.String(), &ex
}

// oneLineEach reports whether what is one line, or a heading followed by
// one line per problem (explain.Problems: "invalid arguments:\n  - …").
func oneLineEach(what string) bool {
	lines := strings.Split(what, "\n")
	if what == "" || len(lines) > 1 && !strings.HasSuffix(lines[0], ":") {
		return false
	}
	for _, l := range lines[1:] {
		if !strings.HasPrefix(l, "  - ") {
			return false
		}
	}
	return true
}

func quiet(cmds []*cli.Command) {
	for _, c := range cmds {
		c.OnUsageError = func(_ *cli.Context, err error, _ bool) error { return err }
		quiet(c.Subcommands)
	}
}

// Refusal is a bad command line and what its error must say.
type Refusal struct {
	Args []string
	Want string
	// Reads: the command may read the chain before it refuses (the input
	// is checked against an account); it must still send nothing.
	Reads bool
}

// Refuses runs each refusal against a fresh Chain holding what world puts
// on it (nil: nothing), given as --url, with keypair as --keypair. Each
// must fail with one line containing Want and ask the chain nothing (with
// Reads: send it nothing).
func Refuses(t *testing.T, cmd func() *cli.Command, keypair string, world World, cases []Refusal) {
	t.Helper()
	for _, tc := range cases {
		chain := NewChain(t)
		if world != nil {
			world(t, chain)
		}
		args := append(slices.Clone(tc.Args), "--url", chain.URL, "--keypair", keypair)
		_, e := Run(t, cmd(), args...)
		line := "mt " + strings.Join(tc.Args, " ")
		switch {
		case e == nil:
			t.Errorf("%s succeeded; want an error saying %q", line, tc.Want)
			continue
		case !strings.Contains(e.What, tc.Want):
			t.Errorf("%s: error %q, want one saying %q", line, e.What, tc.Want)
		}
		if tc.Reads {
			if chain.Sent() {
				t.Errorf("%s sent a transaction: %v", line, chain.Methods())
			}
		} else if m := chain.Methods(); len(m) != 0 {
			t.Errorf("%s asked the chain %v before refusing", line, m)
		}
	}
}

// Home gives the test an empty home directory (no Solana CLI config, no
// default keypair) and a fresh keypair file in it: its path and address.
func Home(t *testing.T) (keypair string, address solana.PublicKey) {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("HOME", dir)
	k := solana.NewWallet().PrivateKey
	keypair = filepath.Join(dir, "id.json")
	if err := cluster.WriteKeypair(keypair, k); err != nil {
		t.Fatal(err)
	}
	return keypair, k.PublicKey()
}
